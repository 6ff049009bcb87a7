// Auto Scaling groups: a member that stops running is found unhealthy at the next health check, terminated and
// replaced (so a responder that forgets to detach loses the instance and its DeleteOnTermination volumes);
// DetachInstances without decrement launches a replacement at once.
import { AwsError } from "../errors";
import type { AsgMember, AutoScalingGroup, Instance } from "../state/model";
import type { World } from "../state/world";
import { beginTerminate, launchInstance, resolveImageId } from "./instances";
import { deregisterTarget, registerTarget } from "./targets";

export const ASG_NAME_TAG = "aws:autoscaling:groupName";

/** Launch one instance for the group from its launch template, in the next subnet round-robin. */
export function launchReplacement(world: World, group: AutoScalingGroup, reason: string): Instance {
  const template = world.launchTemplates.get(group.launchTemplateId);
  if (!template)
    throw new Error(`launch template ${group.launchTemplateId} of ${group.autoScalingGroupName} is gone`);
  const subnetId =
    group.subnetIds[group.activities.length % group.subnetIds.length] ?? group.subnetIds[0] ?? "";
  const tags = new Map(template.tags);
  tags.set(ASG_NAME_TAG, group.autoScalingGroupName);
  // A template that defines network interfaces holds the groups there, not at the top level.
  const primary = template.networkInterfaces?.find((eni) => eni.deviceIndex === 0);
  const instance = launchInstance(world, {
    imageId: resolveImageId(world, template.imageId),
    instanceType: template.instanceType,
    networkInterfaces: [{ subnetId, securityGroupIds: primary?.groupIds ?? template.securityGroupIds }],
    tags,
    instanceProfileArn: template.instanceProfileArn,
    launchTemplate: {
      launchTemplateId: template.launchTemplateId,
      launchTemplateName: template.launchTemplateName,
      version: "$Default",
    },
  });
  addMember(world, group, instance, "Pending");
  group.activities.push({
    at: world.now(),
    description: `Launching a new EC2 instance: ${instance.instanceId}. ${reason}`,
    instanceId: instance.instanceId,
  });
  return instance;
}

export function addMember(
  world: World,
  group: AutoScalingGroup,
  instance: Instance,
  state: AsgMember["lifecycleState"],
): void {
  group.members.push({
    instanceId: instance.instanceId,
    lifecycleState: state,
    healthStatus: "Healthy",
    availabilityZone: instance.availabilityZone,
    instanceType: instance.instanceType,
    protectedFromScaleIn: false,
  });
  for (const arn of group.targetGroupArns) {
    const targetGroup = world.targetGroups.get(arn);
    if (targetGroup) registerTarget(world, targetGroup, instance.instanceId, targetGroup.port);
  }
}

export function detachMembers(
  world: World,
  group: AutoScalingGroup,
  instanceIds: string[],
  decrementDesiredCapacity: boolean,
): AsgMember[] {
  const members = instanceIds.map((id) => {
    const member = group.members.find((m) => m.instanceId === id && m.lifecycleState !== "Detached");
    if (!member) {
      throw new AwsError(
        "ValidationError",
        `The instance ${id} is not part of Auto Scaling group ${group.autoScalingGroupName}.`,
      );
    }
    return member;
  });
  if (decrementDesiredCapacity && group.desiredCapacity - members.length < group.minSize) {
    throw new AwsError(
      "ValidationError",
      `Detaching ${members.length} instance(s) would result in desired capacity ${group.desiredCapacity - members.length}, below the group's minimum size ${group.minSize}.`,
    );
  }
  // A detached instance is no longer the group's: it leaves the member list (and its health checks).
  group.members = group.members.filter((m) => !members.includes(m));
  for (const member of members) {
    member.lifecycleState = "Detached";
    // Detaching deregisters the instance from the group's target groups (it drains).
    for (const arn of group.targetGroupArns) {
      const targetGroup = world.targetGroups.get(arn);
      if (targetGroup) deregisterTarget(world, targetGroup, member.instanceId);
    }
  }
  if (decrementDesiredCapacity) group.desiredCapacity -= members.length;
  else
    for (const member of members)
      launchReplacement(world, group, `Replacing detached instance ${member.instanceId}.`);
  return members;
}

/** Watch members: running -> InService; anything else -> unhealthy at the next check, then terminated and replaced. */
export function watchAutoScalingHealth(world: World): void {
  world.onInstanceChange((instance) => {
    const group = world.autoScalingGroupOf(instance.instanceId);
    const member = group?.members.find(
      (m) => m.instanceId === instance.instanceId && m.lifecycleState !== "Detached",
    );
    if (!group || !member) return;
    if (instance.state === "running") {
      if (member.lifecycleState === "Pending") member.lifecycleState = "InService";
      return;
    }
    if (instance.state === "terminated") {
      member.lifecycleState = "Terminated";
      group.members = group.members.filter((m) => m !== member);
      return;
    }
    if (member.lifecycleState !== "InService" || instance.state === "shutting-down") return;
    world.clock.schedule(world.durations.asgHealthCheckMs, () => {
      const stillMember = group.members.includes(member) && member.lifecycleState === "InService";
      if (!stillMember || instance.state === "running" || instance.state === "pending") return;
      member.healthStatus = "Unhealthy";
      member.lifecycleState = "Terminating";
      group.activities.push({
        at: world.now(),
        description: `Terminating EC2 instance: ${instance.instanceId}. The instance was taken out of service in response to an EC2 instance status check failure (state ${instance.state}).`,
        instanceId: instance.instanceId,
      });
      // Termination protection does not stop Auto Scaling from terminating its own unhealthy instances.
      beginTerminate(world, instance, "Service initiated: Auto Scaling health check");
      launchReplacement(world, group, `Replacing unhealthy instance ${instance.instanceId}.`);
    });
  });
}
