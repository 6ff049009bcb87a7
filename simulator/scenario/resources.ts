// The account's other resources a scenario names: instance profiles, images, launch templates, target and Auto
// Scaling groups, buckets, topics, parameters and the KMS stub.
import type {
  AutoScalingGroupSpec,
  CreatedInstanceProfile,
  ImageSpec,
  InstanceProfileSpec,
  LaunchTemplateSpec,
  TargetGroupSpec,
} from "../api";
import { KDUMP_READY_TAG } from "../lifecycle/instances";
import {
  createAutoScalingGroup,
  createInstanceProfile,
  createRole,
  createTargetGroup,
} from "../state/create";
import { tagsFrom, type World } from "../state/world";
import type { ScenarioState } from "./state";

export function instanceProfile({ world }: ScenarioState, spec: InstanceProfileSpec): CreatedInstanceProfile {
  const roleName = spec.roleName === null ? undefined : (spec.roleName ?? `${spec.name}-role`);
  const role = roleName
    ? (world.roles.get(roleName) ?? createRole(world, { roleName, roleId: spec.roleId }))
    : undefined;
  const profile = createInstanceProfile(world, {
    name: spec.name,
    instanceProfileId: spec.instanceProfileId,
    roleNames: role ? [role.roleName] : [],
  });
  return {
    name: spec.name,
    arn: profile.arn,
    instanceProfileId: profile.instanceProfileId,
    roleName: role?.roleName,
    roleArn: role?.arn,
  };
}

export function image({ world }: ScenarioState, spec: ImageSpec = {}): string {
  const imageId = spec.imageId ?? world.newId("ami");
  const tags = tagsFrom(spec.tags);
  if (spec.kdumpReady) tags.set(KDUMP_READY_TAG, "true");
  world.images.set(imageId, {
    imageId,
    name: spec.name ?? `image-${imageId}`,
    description: spec.description ?? "",
    architecture: spec.architecture ?? "x86_64",
    rootDeviceType: spec.rootDeviceType ?? "ebs",
    rootDeviceName: spec.rootDeviceType === "instance-store" ? "/dev/sda1" : "/dev/xvda",
    rootVolumeSizeGiB: spec.rootVolumeSizeGiB ?? 8,
    kmsKeyId: spec.kmsKeyId,
    productCodes: [...(spec.productCodes ?? [])],
    tags,
    creationDate: world.now(),
  });
  return imageId;
}

export function launchTemplate(
  { world }: ScenarioState,
  spec: LaunchTemplateSpec,
): { launchTemplateId: string; name: string } {
  const launchTemplateId = spec.launchTemplateId ?? world.newId("lt");
  world.launchTemplates.set(launchTemplateId, {
    launchTemplateId,
    launchTemplateName: spec.name,
    imageId: spec.imageId,
    instanceType: spec.instanceType,
    securityGroupIds: spec.securityGroupIds ?? [],
    subnetId: spec.subnetId,
    instanceProfileArn: spec.instanceProfileArn,
    networkInterfaces: spec.networkInterfaces?.map((eni, index) => ({
      deviceIndex: eni.deviceIndex ?? index,
      subnetId: eni.subnetId,
      groupIds: eni.securityGroupIds ?? [],
      associatePublicIpAddress: eni.associatePublicIpAddress,
      deleteOnTermination: eni.deleteOnTermination,
    })),
    tags: tagsFrom(spec.tags),
    createTime: world.now(),
  });
  return { launchTemplateId, name: spec.name };
}

export function targetGroup({ world }: ScenarioState, spec: TargetGroupSpec): string {
  return createTargetGroup(world, {
    name: spec.name,
    vpcId: spec.vpcId,
    arn: spec.arn,
    port: spec.port,
    protocol: spec.protocol,
    deregistrationDelayMs:
      spec.deregistrationDelaySeconds !== undefined ? spec.deregistrationDelaySeconds * 1000 : undefined,
  }).targetGroupArn;
}

export function autoScalingGroup({ world }: ScenarioState, spec: AutoScalingGroupSpec): string {
  const template = [...world.launchTemplates.values()].find(
    (t) => t.launchTemplateName === spec.launchTemplate || t.launchTemplateId === spec.launchTemplate,
  );
  if (!template) throw new Error(`scenario: launch template ${spec.launchTemplate} does not exist`);
  return createAutoScalingGroup(world, {
    name: spec.name,
    launchTemplateId: template.launchTemplateId,
    subnetIds: spec.subnetIds,
    minSize: spec.minSize ?? 1,
    maxSize: spec.maxSize ?? 10,
    desiredCapacity: spec.desiredCapacity ?? 0,
    targetGroupArns: spec.targetGroupArns,
    healthCheckType: spec.healthCheckType,
    healthCheckGracePeriodSeconds: spec.healthCheckGracePeriodSeconds,
  }).autoScalingGroupName;
}

export function bucket({ world }: ScenarioState, name: string): string {
  if (!world.buckets.has(name)) world.buckets.set(name, { name, createdAt: world.now(), objects: new Map() });
  return name;
}

export function topic({ world }: ScenarioState, name: string): string {
  const arn = `arn:aws:sns:${world.region}:${world.accountId}:${name}`;
  if (!world.topics.has(arn)) world.topics.set(arn, { topicArn: arn, messages: [] });
  return arn;
}

export function ssmParameter({ world }: ScenarioState, name: string, value: string): void {
  world.ssmParameters.set(name, value);
}

export function kmsAccess({ world }: ScenarioState, authorize: World["authorizeKms"]): void {
  world.authorizeKms = authorize;
}
