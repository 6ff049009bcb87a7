// An instance put in place whole: image, network interfaces, volumes, profile, Auto Scaling group and target
// groups, all visible and settled as if it had run since before the test.
import type { CreatedInstance, InstanceSpec, VolumeSpec } from "../api";
import { addMember, ASG_NAME_TAG } from "../lifecycle/autoScaling";
import { beginStop, KDUMP_READY_TAG, launchInstance, type VolumeRequest } from "../lifecycle/instances";
import { registerTarget } from "../lifecycle/targets";
import { instanceTypeInfo } from "../state/instanceTypes";
import type { Instance } from "../state/model";
import { tagsFrom, type World } from "../state/world";
import { defaultGroupOf, subnetOf } from "./network";
import { image } from "./resources";
import { alreadyVisible, type ScenarioState } from "./state";

const volumeRequest = (spec: VolumeSpec): VolumeRequest => ({
  ...spec,
  // A volume with a customer-managed key is encrypted.
  encrypted: spec.kmsKeyId !== undefined ? true : spec.encrypted,
  tags: tagsFrom(spec.tags),
});

export function instance(state: ScenarioState, spec: InstanceSpec): CreatedInstance {
  const { world } = state;
  const home = subnetOf(state, spec.subnetId);
  const instanceType = spec.instanceType ?? "m6i.large";
  const architecture = instanceTypeInfo(instanceType)?.architecture ?? "x86_64";
  const imageId =
    spec.imageId && world.images.has(spec.imageId)
      ? spec.imageId
      : image(state, { imageId: spec.imageId, architecture });
  const tags = tagsFrom(spec.tags);
  if (spec.kdumpReady) tags.set(KDUMP_READY_TAG, "true");
  if (spec.autoScalingGroup) tags.set(ASG_NAME_TAG, spec.autoScalingGroup);
  const launched = launchInstance(world, {
    instanceId: spec.instanceId,
    imageId,
    instanceType,
    networkInterfaces: [
      {
        subnetId: home.subnetId,
        securityGroupIds: spec.securityGroupIds ?? [defaultGroupOf(state, home.vpcId)],
        ...spec.primaryNetworkInterface,
      },
      ...(spec.extraNetworkInterfaces ?? []).map((eni) => ({
        networkInterfaceId: eni.networkInterfaceId,
        subnetId: eni.subnetId ?? home.subnetId,
        securityGroupIds: eni.securityGroupIds ?? [defaultGroupOf(state, home.vpcId)],
        privateIpAddress: eni.privateIpAddress,
        publicIp: eni.publicIp,
      })),
    ],
    rootDeviceType: spec.rootDeviceType,
    rootVolume: spec.rootVolume && volumeRequest(spec.rootVolume),
    dataVolumes: spec.dataVolumes?.map(volumeRequest),
    tags,
    instanceProfileArn: spec.instanceProfile,
    market: spec.market,
    hibernation: spec.hibernation,
    shutdownBehavior: spec.shutdownBehavior,
    disableApiTermination: spec.disableApiTermination,
    keyName: spec.keyName,
    initialState: "running",
    launchTime: spec.launchTime ?? world.now() - 3_600_000,
    consoleOutput: spec.consoleOutput,
  });
  const volumeIds = launched.blockDevices.map((b) => b.volumeId);
  makeVisible(world, launched);
  if (spec.autoScalingGroup) joinAutoScalingGroup(world, launched, spec.autoScalingGroup);
  registerWithTargetGroups(world, launched, spec.targetGroupArns ?? []);
  if (spec.state === "stopped") {
    beginStop(world, launched, { initiatedBy: "user", force: true });
    world.setInstanceState(launched, "stopped");
  }
  return {
    instanceId: launched.instanceId,
    networkInterfaceIds: [...launched.networkInterfaceIds],
    volumeIds,
  };
}

/** No consistency window for the instance, its network interfaces and its volumes. */
function makeVisible(world: World, launched: Instance): void {
  launched.visibleAt = alreadyVisible(world);
  for (const eniId of launched.networkInterfaceIds) {
    const eni = world.networkInterfaces.get(eniId);
    if (eni) eni.visibleAt = alreadyVisible(world);
  }
  for (const { volumeId } of launched.blockDevices) {
    const volume = world.volumes.get(volumeId);
    if (volume) volume.visibleAt = alreadyVisible(world);
  }
}

function joinAutoScalingGroup(world: World, launched: Instance, groupName: string): void {
  const group = world.autoScalingGroups.get(groupName);
  if (!group) throw new Error(`scenario: Auto Scaling group ${groupName} does not exist`);
  addMember(world, group, launched, "InService");
  group.desiredCapacity = Math.max(group.desiredCapacity, group.members.length);
}

/** Registers the instance with the named target groups; registered long ago, it is healthy now in every group. */
function registerWithTargetGroups(
  world: World,
  launched: Instance,
  targetGroupArns: readonly string[],
): void {
  for (const arn of targetGroupArns) {
    const targetGroup = world.targetGroups.get(arn);
    if (!targetGroup) throw new Error(`scenario: target group ${arn} does not exist`);
    if (!targetGroup.targets.some((t) => t.id === launched.instanceId)) {
      registerTarget(world, targetGroup, launched.instanceId, targetGroup.port);
    }
  }
  for (const targetGroup of world.targetGroups.values()) {
    for (const target of targetGroup.targets)
      if (target.id === launched.instanceId) target.transitionAt = alreadyVisible(world);
  }
}
