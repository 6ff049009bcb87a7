// The simulator's resource records. They hold what AWS keeps; the service files render them into the SDK's
// output shapes. Times are simulated epoch ms.

export type Tags = Map<string, string>;

/** Fields every created resource carries: when it becomes visible to callers (eventual consistency). */
export interface Visible {
  visibleAt: number;
}

export interface Vpc extends Visible {
  vpcId: string;
  cidrBlock: string;
  tags: Tags;
}

export interface Subnet extends Visible {
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  availabilityZoneId: string;
  cidrBlock: string;
  tags: Tags;
  /** Next host number handed out for private IPs. */
  nextHost: number;
}

/** One atomic security-group rule (one protocol/port range, one source or destination). */
export interface SecurityGroupRule {
  ruleId: string;
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
  prefixListId?: string;
  description?: string;
}

export interface SecurityGroup extends Visible {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  ingress: SecurityGroupRule[];
  egress: SecurityGroupRule[];
  tags: Tags;
}

export interface NetworkInterface extends Visible {
  networkInterfaceId: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  publicIp?: string;
  macAddress: string;
  description: string;
  groupIds: string[];
  status: "available" | "in-use";
  attachment?: {
    attachmentId: string;
    instanceId: string;
    deviceIndex: number;
    deleteOnTermination: boolean;
    attachTime: number;
  };
  tags: Tags;
}

export type InstanceStateName =
  "pending" | "running" | "stopping" | "stopped" | "shutting-down" | "terminated";

export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export type MarketType = "on-demand" | "spot-one-time" | "spot-persistent";

export interface BlockDeviceLink {
  deviceName: string;
  volumeId: string;
}

export interface Instance extends Visible {
  instanceId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  state: InstanceStateName;
  stateReason?: { code: string; message: string };
  stateTransitionReason: string;
  launchTime: number;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  /** ENIs in device-index order; [0] is the primary interface. */
  networkInterfaceIds: string[];
  rootDeviceType: "ebs" | "instance-store";
  rootDeviceName: string;
  blockDevices: BlockDeviceLink[];
  market: MarketType;
  spotInstanceRequestId?: string;
  hibernationConfigured: boolean;
  disableApiTermination: boolean;
  disableApiStop: boolean;
  shutdownBehavior: "stop" | "terminate";
  metadataOptions: {
    httpTokens: "optional" | "required";
    httpEndpoint: "enabled" | "disabled";
    httpPutResponseHopLimit: number;
    instanceMetadataTags: "enabled" | "disabled";
  };
  keyName?: string;
  clientToken?: string;
  launchTemplate?: { launchTemplateId: string; launchTemplateName: string; version: string };
  /** AWS Marketplace product codes, from the AMI (or copied from a volume attached to it). */
  productCodes: string[];
  consoleOutput: string;
  /** Set while a kdump triggered by SendDiagnosticInterrupt runs. */
  dumpInProgressUntil?: number;
  /** Memory dumps written by kdump (simulated: their time and size). */
  memoryDumps: { completedAt: number; sizeMiB: number }[];
  /** Hibernated at its last stop (RAM saved to the root volume). */
  hibernated: boolean;
  tags: Tags;
  /** Bumped on every state change: scheduled transitions check it so a stale timer does nothing. */
  generation: number;
}

export type VolumeState = "creating" | "available" | "in-use" | "deleting" | "deleted" | "error";
export type AttachmentState = "attaching" | "attached" | "detaching" | "detached";

export interface Volume extends Visible {
  volumeId: string;
  sizeGiB: number;
  availabilityZone: string;
  state: VolumeState;
  volumeType: string;
  iops?: number;
  encrypted: boolean;
  /** A customer-managed KMS key (ARN): using the volume needs the caller's KMS permissions (World.authorizeKms). */
  kmsKeyId?: string;
  /** AWS Marketplace product codes: the volume attaches only to a stopped instance. */
  productCodes: string[];
  snapshotId?: string;
  createTime: number;
  attachment?: {
    instanceId: string;
    device: string;
    state: AttachmentState;
    deleteOnTermination: boolean;
    attachTime: number;
  };
  tags: Tags;
  generation: number;
}

export type SnapshotLockMode = "governance" | "compliance";

export interface SnapshotLock {
  mode: SnapshotLockMode;
  createdOn: number;
  /** Lock duration in days, or an explicit expiry. */
  durationDays?: number;
  expiresOn: number;
  coolOffHours?: number;
  coolOffEndsOn?: number;
}

export interface Snapshot extends Visible {
  snapshotId: string;
  volumeId: string;
  volumeSizeGiB: number;
  state: "pending" | "completed" | "error";
  startTime: number;
  completesAt: number;
  description: string;
  encrypted: boolean;
  /** The source volume's customer-managed KMS key: volumes created from the snapshot use it too. */
  kmsKeyId?: string;
  /** "any AWS Marketplace product codes that are associated with the source volume are propagated to the snapshot" */
  productCodes: string[];
  tags: Tags;
  lock?: SnapshotLock;
  /** The instance whose volumes CreateSnapshots captured together (multi-volume, crash-consistent). */
  sourceInstanceId?: string;
}

export interface Image {
  imageId: string;
  name: string;
  description: string;
  architecture: "x86_64" | "arm64";
  rootDeviceType: "ebs" | "instance-store";
  rootDeviceName: string;
  /** Size of the root volume RunInstances creates from this image. */
  rootVolumeSizeGiB: number;
  /** Customer-managed KMS key of the image's root snapshot: a launch needs the caller's KMS permissions. */
  kmsKeyId?: string;
  /** AWS Marketplace product codes: instances and their root volumes carry them. */
  productCodes: string[];
  tags: Tags;
  creationDate: number;
}

/** A network interface a launch template defines (RunInstances then takes groups and subnet only from here). */
export interface LaunchTemplateNetworkInterface {
  deviceIndex: number;
  subnetId?: string;
  groupIds: string[];
  associatePublicIpAddress?: boolean;
  deleteOnTermination?: boolean;
  description?: string;
}

export interface LaunchTemplate {
  launchTemplateId: string;
  launchTemplateName: string;
  /** An AMI id, or a Systems Manager parameter ("resolve:ssm:name") that RunInstances resolves at launch. */
  imageId: string;
  instanceType: string;
  securityGroupIds: string[];
  subnetId?: string;
  instanceProfileArn?: string;
  networkInterfaces?: LaunchTemplateNetworkInterface[];
  tags: Tags;
  createTime: number;
}

export interface Role {
  roleName: string;
  roleId: string;
  arn: string;
  path: string;
  createDate: number;
  assumeRolePolicyDocument: string;
  inlinePolicies: Map<string, string>;
}

export interface InstanceProfile {
  instanceProfileName: string;
  instanceProfileId: string;
  arn: string;
  path: string;
  createDate: number;
  roleNames: string[];
}

export interface IamInstanceProfileAssociation {
  associationId: string;
  instanceId: string;
  instanceProfileArn: string;
  instanceProfileId: string;
  state: "associating" | "associated" | "disassociating" | "disassociated";
  timestamp: number;
}

export type AsgLifecycleState =
  "Pending" | "InService" | "Terminating" | "Terminated" | "Detaching" | "Detached";

export interface AsgMember {
  instanceId: string;
  lifecycleState: AsgLifecycleState;
  healthStatus: "Healthy" | "Unhealthy";
  availabilityZone: string;
  instanceType: string;
  protectedFromScaleIn: boolean;
}

export interface AutoScalingGroup {
  autoScalingGroupName: string;
  arn: string;
  launchTemplateId: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  subnetIds: string[];
  targetGroupArns: string[];
  healthCheckType: "EC2" | "ELB";
  healthCheckGracePeriodSeconds: number;
  members: AsgMember[];
  createdTime: number;
  tags: Tags;
  /** Instances the group launched or terminated, in order: what a test reads to see replacements. */
  activities: { at: number; description: string; instanceId: string }[];
}

export type TargetHealthState = "initial" | "healthy" | "unhealthy" | "unused" | "draining" | "unavailable";

export interface RegisteredTarget {
  id: string;
  port: number;
  state: TargetHealthState;
  /** When an initial target turns healthy, or a draining target is removed. */
  transitionAt: number;
}

export interface TargetGroup {
  targetGroupArn: string;
  targetGroupName: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: "instance";
  deregistrationDelayMs: number;
  loadBalancerArns: string[];
  targets: RegisteredTarget[];
}

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: number;
  metadata: Record<string, string>;
  /** Checksums the client sent (x-amz-checksum-*), returned on GET as AWS does. */
  checksums: Record<string, string>;
  serverSideEncryption?: string;
  versionId: string;
}

export interface Bucket {
  name: string;
  createdAt: number;
  objects: Map<string, StoredObject>;
}

export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
  publishedAt: number;
}

export interface Topic {
  topicArn: string;
  messages: PublishedMessage[];
}

/** A Step Functions logging configuration as CreateStateMachine takes it. */
export interface StateMachineLogging {
  level: "ALL" | "ERROR" | "FATAL" | "OFF";
  includeExecutionData: boolean;
  destinations: { cloudWatchLogsLogGroup?: { logGroupArn?: string } }[];
}

/** A Step Functions state machine (STANDARD: the only type the simulator runs). */
export interface StateMachine {
  stateMachineArn: string;
  name: string;
  /** The Amazon States Language definition as given (JSON text). */
  definition: string;
  roleArn: string;
  type: "STANDARD";
  creationDate: number;
  /** Set by UpdateStateMachine. */
  updateDate?: number;
  revisionId: string;
  loggingConfiguration: StateMachineLogging;
  tags: Tags;
}
