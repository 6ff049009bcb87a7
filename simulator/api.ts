// The simulator's public surface: what handler tests, the drill and the CLI code against.
import type { SecurityHubUpdate } from "./services/securityHub";
import type { AuthorizationStats, PolicyDocument } from "./iam/authorizer";
import type { CallRecord, FaultRule, StateDurations } from "./options";
import type { StepFunctionsExecution } from "./services/stepFunctions";
import type { SsmInvocation } from "./services/ssm";
import type { TriagePlant } from "./services/ssmPrograms";
import type {
  AutoScalingGroup,
  Bucket,
  IamInstanceProfileAssociation,
  Image,
  Instance,
  InstanceProfile,
  MarketType,
  NetworkInterface,
  PublishedMessage,
  Role,
  SecurityGroup,
  Snapshot,
  StoredObject,
  Subnet,
  TargetGroup,
  Volume,
  Vpc,
} from "./state/model";

export interface VpcSpec {
  vpcId?: string;
  cidrBlock?: string;
  /** Subnets to create; default one subnet in `${region}a`. */
  subnets?: { subnetId?: string; availabilityZone?: string; cidrBlock?: string }[];
  tags?: Record<string, string>;
}

export interface SecurityGroupSpec {
  groupId?: string;
  vpcId: string;
  groupName: string;
  description?: string;
  tags?: Record<string, string>;
  /** Ingress rules as CIDR + port; egress gets AWS's default allow-all rule. */
  ingress?: { protocol?: string; fromPort?: number; toPort?: number; cidr: string }[];
}

export interface InstanceProfileSpec {
  name: string;
  instanceProfileId?: string;
  /** Role inside the profile (default `${name}-role`); null for a profile without a role. */
  roleName?: string | null;
  roleId?: string;
}

export interface ImageSpec {
  imageId?: string;
  name?: string;
  description?: string;
  architecture?: "x86_64" | "arm64";
  /** Tag the AMI with ir:kdump-ready=true. */
  kdumpReady?: boolean;
  rootDeviceType?: "ebs" | "instance-store";
  rootVolumeSizeGiB?: number;
  tags?: Record<string, string>;
  /** AWS Marketplace product codes: instances launched from the image and their root volumes carry them. */
  productCodes?: string[];
  /** Customer-managed KMS key (ARN) of the image's root snapshot: a launch needs the caller's KMS permissions. */
  kmsKeyId?: string;
}

export interface LaunchTemplateSpec {
  launchTemplateId?: string;
  name: string;
  /** An AMI id, or "resolve:ssm:<parameter>" (see `ssmParameter`), resolved by RunInstances at launch. */
  imageId: string;
  instanceType: string;
  securityGroupIds?: string[];
  subnetId?: string;
  instanceProfileArn?: string;
  /** Network interfaces the template defines; RunInstances then refuses instance-level groups and subnet. */
  networkInterfaces?: {
    deviceIndex?: number;
    subnetId?: string;
    securityGroupIds?: string[];
    associatePublicIpAddress?: boolean;
    deleteOnTermination?: boolean;
  }[];
  tags?: Record<string, string>;
}

export interface TargetGroupSpec {
  name: string;
  vpcId: string;
  arn?: string;
  port?: number;
  protocol?: string;
  deregistrationDelaySeconds?: number;
}

export interface AutoScalingGroupSpec {
  name: string;
  launchTemplate: string;
  subnetIds: string[];
  minSize?: number;
  maxSize?: number;
  /** Default: the number of instances placed in the group with `instance({ autoScalingGroup })`. */
  desiredCapacity?: number;
  targetGroupArns?: string[];
  healthCheckType?: "EC2" | "ELB";
  healthCheckGracePeriodSeconds?: number;
}

export interface VolumeSpec {
  volumeId?: string;
  sizeGiB?: number;
  deviceName?: string;
  deleteOnTermination?: boolean;
  volumeType?: string;
  encrypted?: boolean;
  /** Customer-managed KMS key (ARN): attaching the volume, or a volume made from its snapshots, needs KMS access. */
  kmsKeyId?: string;
  /** AWS Marketplace product codes: the volume attaches only to a stopped instance. */
  productCodes?: string[];
  tags?: Record<string, string>;
}

export interface NetworkInterfaceSpec {
  networkInterfaceId?: string;
  subnetId?: string;
  securityGroupIds?: string[];
  privateIpAddress?: string;
  publicIp?: string;
}

export interface InstanceSpec {
  instanceId?: string;
  instanceType?: string;
  imageId?: string;
  subnetId: string;
  /** Groups of the primary ENI (default: the VPC's "default" group, created on demand). */
  securityGroupIds?: string[];
  primaryNetworkInterface?: Omit<NetworkInterfaceSpec, "subnetId" | "securityGroupIds">;
  /** Further ENIs (device index 1, 2 ...). */
  extraNetworkInterfaces?: NetworkInterfaceSpec[];
  /** Root volume (EBS root only). */
  rootVolume?: VolumeSpec;
  /** Data volumes attached at /dev/sdf, /dev/sdg ... unless deviceName says otherwise. */
  dataVolumes?: VolumeSpec[];
  rootDeviceType?: "ebs" | "instance-store";
  market?: MarketType;
  hibernation?: boolean;
  /** Tag the instance with ir:kdump-ready=true (otherwise readiness comes from the AMI's tag). */
  kdumpReady?: boolean;
  /** Instance profile name or ARN. */
  instanceProfile?: string;
  autoScalingGroup?: string;
  targetGroupArns?: string[];
  tags?: Record<string, string>;
  shutdownBehavior?: "stop" | "terminate";
  disableApiTermination?: boolean;
  state?: "running" | "stopped";
  consoleOutput?: string;
  launchTime?: number;
  keyName?: string;
}

export interface FindingOptions {
  type?: string;
  severity?: number;
  /** GuardDuty sample finding (detail.service.additionalInfo.sample = true). */
  sample?: boolean;
  /** EventBridge source: "aws.guardduty" (default) or "ir.drill". */
  source?: string;
  findingId?: string;
  /** Account and region written in the finding (default: the simulator's). */
  accountId?: string;
  region?: string;
}

/** A GuardDuty finding as EventBridge delivers it (same shape as test/fixtures/events). */
export interface GuardDutyEvent {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown> & {
    id: string;
    type: string;
    severity: number;
    accountId: string;
    region: string;
    resource: Record<string, unknown>;
    service: Record<string, unknown>;
  };
}

export interface CreatedVpc {
  vpcId: string;
  subnets: { subnetId: string; availabilityZone: string }[];
}

export interface CreatedInstanceProfile {
  name: string;
  arn: string;
  instanceProfileId: string;
  roleName?: string;
  roleArn?: string;
}

export interface CreatedInstance {
  instanceId: string;
  networkInterfaceIds: string[];
  /** Root first (EBS root only), then data volumes. */
  volumeIds: string[];
}

export interface ScenarioBuilder {
  vpc(spec?: VpcSpec): CreatedVpc;
  securityGroup(spec: SecurityGroupSpec): string;
  instanceProfile(spec: InstanceProfileSpec): CreatedInstanceProfile;
  image(spec?: ImageSpec): string;
  launchTemplate(spec: LaunchTemplateSpec): { launchTemplateId: string; name: string };
  targetGroup(spec: TargetGroupSpec): string;
  autoScalingGroup(spec: AutoScalingGroupSpec): string;
  instance(spec: InstanceSpec): CreatedInstance;
  bucket(name: string): string;
  topic(name: string): string;
  /** Build VPC, subnets, groups, ENIs, image, profile and instance (and ASG when tagged) matching a fixture event. */
  fromFinding(
    event: GuardDutyEvent,
    options?: { kdumpReady?: boolean; instanceType?: string },
  ): CreatedInstance;
  /** A GuardDuty EventBridge event for the instance, from its current state. */
  findingFor(instanceId: string, options?: FindingOptions): GuardDutyEvent;
  /** A Systems Manager parameter a launch template's `resolve:ssm:<name>` image id resolves to. */
  ssmParameter(name: string, value: string): void;
  /**
   * Who may use customer-managed KMS keys through EC2 (World.authorizeKms): a stub for scenarios; the IAM
   * evaluator sets its own. `() => false` makes every CMK-encrypted volume creation, attachment and launch fail.
   */
  kmsAccess(authorize: (keyArn: string, actions: readonly string[]) => boolean): void;
  /** EBS's "EBS Multi-Volume Snapshots Completion Status" event (succeeded) for an instance's snapshots. */
  snapshotsCompletedEvent(
    instanceId: string,
    snapshots: readonly { snapshotId: string; volumeId: string }[],
  ): Record<string, unknown>;
}

/** Read-only views of the simulated account for final-state assertions (copies: mutate freely). */
export interface StateReader {
  instance(instanceId: string): Instance | undefined;
  instances(): Instance[];
  volume(volumeId: string): Volume | undefined;
  volumes(): Volume[];
  snapshots(): Snapshot[];
  securityGroup(groupId: string): SecurityGroup | undefined;
  securityGroups(): SecurityGroup[];
  networkInterface(networkInterfaceId: string): NetworkInterface | undefined;
  vpcs(): Vpc[];
  subnets(): Subnet[];
  images(): Image[];
  instanceProfile(name: string): InstanceProfile | undefined;
  role(roleName: string): Role | undefined;
  /** Inline policies of a role: policy name -> document (as PutRolePolicy stored it, URL-decoded). */
  rolePolicies(roleName: string): Record<string, string>;
  iamInstanceProfileAssociations(): IamInstanceProfileAssociation[];
  autoScalingGroup(name: string): AutoScalingGroup | undefined;
  targetGroup(arnOrName: string): TargetGroup | undefined;
  bucket(name: string): Bucket | undefined;
  object(bucket: string, key: string): StoredObject | undefined;
  messages(topicArn?: string): PublishedMessage[];
  /** Lambda invocations the simulator delivered. */
  invocations(): LambdaInvocation[];
  /** GuardDuty finding ids archived (ArchiveFindings), across detectors. */
  archivedFindings(): string[];
  /** Security Hub finding updates (BatchUpdateFindings), in order. */
  securityHubUpdates(): SecurityHubUpdate[];
}

export type InvocationType = "RequestResponse" | "Event" | "DryRun";

export type LambdaTarget = (payload: unknown, invocationType: InvocationType) => Promise<unknown>;

export interface LambdaInvocation {
  functionName: string;
  /** The version or alias the caller named (`name:7`, a qualified ARN, or the Qualifier parameter). */
  qualifier?: string;
  invocationType: InvocationType;
  payload: unknown;
  at: number;
  outcome: "succeeded" | "failed" | "pending";
  error?: string;
}

/** Step Functions executions as the simulator ran them (copies: mutate freely). */
export interface StepFunctionsView {
  /** Every execution started, oldest first. */
  readonly executions: readonly StepFunctionsExecution[];
  /** By execution ARN, or the most recent execution with that name. */
  execution(arnOrName: string): StepFunctionsExecution | undefined;
  /** Resolves with the execution once it is over (SUCCEEDED, FAILED, TIMED_OUT or ABORTED) and its history complete. */
  waitForExecution(executionArn: string): Promise<StepFunctionsExecution>;
  /** Resolves once no execution is running (including executions started meanwhile). */
  settled(): Promise<void>;
}

export interface FaultController {
  add(rule: FaultRule): void;
  clear(): void;
}

export interface Simulator {
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly durations: StateDurations;
  /** Environment for an SDK client or a child process: endpoint, region, dummy credentials. */
  env(): Record<string, string>;
  /** Simulated epoch ms. */
  now(): number;
  /** Move simulated time forward at once (runs every transition that falls due). */
  advance(simMs: number): void;
  /** Resolve after `simMs` of simulated time (simMs / timeScale of wall time). */
  sleep(simMs: number): Promise<void>;
  readonly scenario: ScenarioBuilder;
  readonly state: StateReader;
  /** The call log, oldest first. */
  readonly calls: readonly CallRecord[];
  readonly faults: FaultController;
  readonly lambda: { register(functionName: string, target: LambdaTarget): void };
  /** EventBridge's default bus: PutEvents entries that match a rule go to its Lambda target (async). */
  readonly events: {
    rule(name: string, pattern: Record<string, unknown>, functionName: string): void;
    /** Events a rule matched, oldest first. */
    delivered(): { rule: string; event: Record<string, unknown> }[];
  };
  /** IAM evaluation: who may call, and what was evaluated and refused. */
  readonly iam: {
    /** Off only when the test asked for `iam: "off"`. */
    readonly enabled: boolean;
    /**
     * Adds an identity with its policies; sign with the returned credentials to act as it. An identity is also what a
     * service acts as for a role: Step Functions calls Lambda and SNS for a state machine as the principal whose
     * `roleArn` is the machine's roleArn, or else whose assumed-role `arn` (arn:aws:sts::ACCOUNT:assumed-role/ROLE/
     * SESSION) names the same role. A role nobody registered has no policy: its calls are denied.
     */
    addPrincipal(principal: { name: string; arn: string; policies: PolicyDocument[]; roleArn?: string }): {
      accessKeyId: string;
      secretAccessKey: string;
    };
    readonly stats: AuthorizationStats;
  };
  /** AWS Step Functions: executions, their histories and final states. */
  readonly stepFunctions: StepFunctionsView;
  /** Systems Manager Run Command (services/ssm.ts). */
  readonly ssm: {
    /** Instances of this image run the SSM Agent (managed once running and registered), with these programs. */
    agentImage(imageId: string, programs?: readonly string[]): void;
    /** What a triage finds on the evidence of this volume (or on copies of its snapshots). */
    plant(volumeId: string, plants: readonly TriagePlant[]): void;
    /** Every command invocation, oldest first (copies). */
    invocations(): SsmInvocation[];
  };
  /** Aborts running Step Functions executions, waits for background Lambda invocations, closes connections. */
  stop(): Promise<void>;
}
