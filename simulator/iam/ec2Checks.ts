// What EC2 authorizes for each action the simulator serves: one check per resource a request names or creates.
// Tags given at creation also need ec2:CreateTags with ec2:CreateAction ("Grant permission to tag resources during
// creation", EC2 User Guide), and handing a role to an instance needs iam:PassRole with iam:PassedToService.
import { AwsError } from "../errors";
import { resolveImageId } from "../lifecycle/instances";
import type { World } from "../state/world";
import {
  list,
  record,
  requestTagContext,
  specifiedTags,
  tagPairs,
  text,
  texts,
  wildcard,
  type Builder,
  type Context,
  type Params,
  type RequestChecks,
} from "./checkBuilder";

const onInstances =
  (action: string): Builder =>
  (checks, params) => {
    for (const id of [...texts(params.InstanceIds), ...texts(params.InstanceId)])
      checks.ec2Resource(action, id);
  };

function runInstances(checks: RequestChecks, params: Params, world: World): void {
  const action = "ec2:RunInstances";
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

  checks.ec2Created(action, "instance", specifiedTags(params, "instance"));
  if (subnetId) checks.ec2Resource(action, subnetId);
  for (const groupId of groupIds) checks.ec2Resource(action, groupId);
  checks.ec2Created(action, "network-interface", specifiedTags(params, "network-interface"), where);
  checks.ec2Created(action, "volume", specifiedTags(params, "volume"));
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
  checks.ec2Created(action, "snapshot", specifiedTags(params, "snapshot"));
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
  checks.ec2Created(action, "volume", specifiedTags(params, "volume"));
  const snapshotId = text(params.SnapshotId);
  if (snapshotId) checks.ec2Resource(action, snapshotId);
}

function createSecurityGroup(checks: RequestChecks, params: Params): void {
  const action = "ec2:CreateSecurityGroup";
  checks.ec2Created(action, "security-group", specifiedTags(params, "security-group"));
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

export const EC2: Record<string, Builder> = {
  DescribeInstances: wildcard("ec2:DescribeInstances"),
  DescribeInstanceAttribute: onInstances("ec2:DescribeInstanceAttribute"),
  DescribeInstanceTypes: wildcard("ec2:DescribeInstanceTypes"),
  DescribeImages: wildcard("ec2:DescribeImages"),
  DescribeVolumes: wildcard("ec2:DescribeVolumes"),
  DescribeSnapshots: wildcard("ec2:DescribeSnapshots"),
  DescribeLockedSnapshots: wildcard("ec2:DescribeLockedSnapshots"),
  DescribeIamInstanceProfileAssociations: wildcard("ec2:DescribeIamInstanceProfileAssociations"),
  DescribeVpcs: wildcard("ec2:DescribeVpcs"),
  DescribeSubnets: wildcard("ec2:DescribeSubnets"),
  DescribeSecurityGroups: wildcard("ec2:DescribeSecurityGroups"),
  DescribeNetworkInterfaces: wildcard("ec2:DescribeNetworkInterfaces"),
  RunInstances: runInstances,
  StartInstances: onInstances("ec2:StartInstances"),
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
  DisassociateIamInstanceProfile: profileAssociation("ec2:DisassociateIamInstanceProfile"),
  CreateTags: createTags,
  CreateVpc: (checks, params) => void checks.ec2Created("ec2:CreateVpc", "vpc", specifiedTags(params, "vpc")),
  CreateSubnet: (checks, params) => {
    checks.ec2Created("ec2:CreateSubnet", "subnet", specifiedTags(params, "subnet"));
    const vpcId = text(params.VpcId);
    if (vpcId) checks.ec2Resource("ec2:CreateSubnet", vpcId);
  },
  CreateLaunchTemplate: (checks, params) =>
    void checks.ec2Created(
      "ec2:CreateLaunchTemplate",
      "launch-template",
      specifiedTags(params, "launch-template"),
    ),
  CreateSecurityGroup: createSecurityGroup,
  AuthorizeSecurityGroupIngress: onResourceIn("GroupId", "ec2:AuthorizeSecurityGroupIngress"),
  AuthorizeSecurityGroupEgress: onResourceIn("GroupId", "ec2:AuthorizeSecurityGroupEgress"),
  RevokeSecurityGroupIngress: onResourceIn("GroupId", "ec2:RevokeSecurityGroupIngress"),
  RevokeSecurityGroupEgress: onResourceIn("GroupId", "ec2:RevokeSecurityGroupEgress"),
  ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
};
