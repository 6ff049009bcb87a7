// The simulated account: every resource, id generation, eventual consistency, and the listeners that let one
// service react to another (an instance stopping matters to its Auto Scaling group).
import type { SecurityHubUpdate } from "../services/securityHub";
import type { SeededRandom, SimClock } from "../clock";
import { AwsError } from "../errors";
import type { StateDurations } from "../options";
import type {
  AutoScalingGroup,
  Bucket,
  IamInstanceProfileAssociation,
  Image,
  Instance,
  InstanceProfile,
  LaunchTemplate,
  NetworkInterface,
  Role,
  SecurityGroup,
  Snapshot,
  StateMachine,
  Subnet,
  Tags,
  TargetGroup,
  Topic,
  Visible,
  Volume,
  Vpc,
} from "./model";

export type InstanceListener = (instance: Instance) => void;

export class World {
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly networkInterfaces = new Map<string, NetworkInterface>();
  readonly instances = new Map<string, Instance>();
  readonly volumes = new Map<string, Volume>();
  readonly snapshots = new Map<string, Snapshot>();
  readonly images = new Map<string, Image>();
  readonly launchTemplates = new Map<string, LaunchTemplate>();
  readonly roles = new Map<string, Role>();
  readonly instanceProfiles = new Map<string, InstanceProfile>();
  readonly iamAssociations = new Map<string, IamInstanceProfileAssociation>();
  readonly autoScalingGroups = new Map<string, AutoScalingGroup>();
  readonly targetGroups = new Map<string, TargetGroup>();
  readonly buckets = new Map<string, Bucket>();
  readonly topics = new Map<string, Topic>();
  /** Step Functions state machines by ARN (their executions live in services/stepFunctions.ts). */
  readonly stateMachines = new Map<string, StateMachine>();
  /** Systems Manager parameters a launch template's `resolve:ssm:` image id can name (name -> value). */
  readonly ssmParameters = new Map<string, string>();
  /** GuardDuty findings archived (ArchiveFindings): finding ids by detector id. */
  readonly archivedFindings = new Map<string, Set<string>>();
  /** Security Hub finding updates (BatchUpdateFindings), in order. */
  readonly securityHubUpdates: SecurityHubUpdate[] = [];
  /**
   * Whether the caller of the request being served may use a customer-managed KMS key through EC2 (for EBS:
   * kms:CreateGrant, kms:Decrypt, kms:DescribeKey, kms:GenerateDataKeyWithoutPlaintext, kms:ReEncrypt*).
   * EC2 asks when a volume is created from such a snapshot, attached, or launched from such an AMI; refused,
   * the volume ends in `error`, the attachment fails, the instance terminates (Client.InternalError). Called
   * synchronously while the request is served; the IAM evaluator replaces the default (allow everything).
   */
  authorizeKms: (keyArn: string, actions: readonly string[]) => boolean = () => true;
  /** RunInstances ClientToken -> reservation, for idempotent retries. */
  readonly clientTokens = new Map<
    string,
    { reservationId: string; instanceIds: string[]; paramsDigest: string }
  >();

  private readonly instanceListeners: InstanceListener[] = [];

  constructor(
    readonly region: string,
    readonly accountId: string,
    readonly clock: SimClock,
    readonly random: SeededRandom,
    readonly durations: StateDurations,
    readonly consistencyDelayMs: number,
  ) {}

  now(): number {
    return this.clock.now();
  }

  /** An AWS-style id: prefix + 17 hex digits (e.g. i-0123456789abcdef0). */
  newId(prefix: string, hexDigits = 17): string {
    return `${prefix}-${this.random.hex(hexDigits)}`;
  }

  /** When a resource created now becomes visible to Describe calls (eventual consistency window). */
  visibleFrom(): number {
    return this.now() + this.consistencyDelayMs;
  }

  isVisible(resource: Visible): boolean {
    return resource.visibleAt <= this.now();
  }

  /** Look a resource up by id as an API call would: missing or not yet visible -> the service's NotFound. */
  lookup<T extends Visible>(map: Map<string, T>, id: string, notFound: () => AwsError): T {
    const found = map.get(id);
    if (!found || !this.isVisible(found)) throw notFound();
    return found;
  }

  onInstanceChange(listener: InstanceListener): void {
    this.instanceListeners.push(listener);
  }

  /** Change an instance's state and tell whoever cares (Auto Scaling, target groups). */
  setInstanceState(instance: Instance, state: Instance["state"], transitionReason = ""): void {
    instance.state = state;
    instance.generation++;
    if (transitionReason) instance.stateTransitionReason = transitionReason;
    for (const listener of this.instanceListeners) listener(instance);
  }

  /** Run `action` after `delayMs` unless the instance changed state in between (a newer transition won). */
  scheduleForInstance(instance: Instance, delayMs: number, action: () => void): void {
    const generation = instance.generation;
    this.clock.schedule(delayMs, () => {
      if (instance.generation === generation) action();
    });
  }

  instanceProfileByArnOrName(arnOrName: string): InstanceProfile | undefined {
    const name = arnOrName.startsWith("arn:") ? arnOrName.split("/").pop() : arnOrName;
    return name === undefined ? undefined : this.instanceProfiles.get(name);
  }

  iamAssociationFor(instanceId: string): IamInstanceProfileAssociation | undefined {
    return [...this.iamAssociations.values()].find(
      (a) => a.instanceId === instanceId && (a.state === "associated" || a.state === "associating"),
    );
  }

  /** The Auto Scaling group an instance currently belongs to (detached members do not count). */
  autoScalingGroupOf(instanceId: string): AutoScalingGroup | undefined {
    return [...this.autoScalingGroups.values()].find((g) =>
      g.members.some((m) => m.instanceId === instanceId && m.lifecycleState !== "Detached"),
    );
  }

  allocatePrivateIp(subnet: Subnet): string {
    const [a, b, c] = subnet.cidrBlock.split(/[./]/);
    const host = subnet.nextHost++;
    return `${a}.${b}.${Number(c) + Math.floor(host / 250)}.${(host % 250) + 4}`;
  }

  newMacAddress(): string {
    return `02:${this.random.hex(10).match(/../g)?.join(":") ?? "00:00:00:00:00"}`;
  }
}

export function tagsFrom(record: Record<string, string> | undefined): Tags {
  return new Map(Object.entries(record ?? {}));
}

export function tagList(tags: Tags): { Key: string; Value: string }[] {
  return [...tags.entries()].map(([Key, Value]) => ({ Key, Value }));
}
