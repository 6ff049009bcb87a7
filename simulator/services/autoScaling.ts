// Auto Scaling (awsQuery): the group and instance describes, DetachInstances and AttachInstances.
import {
  AttachInstances$,
  CreateAutoScalingGroup$,
  DescribeAutoScalingGroups$,
  DescribeAutoScalingInstances$,
  DetachInstances$,
  type AttachInstancesQuery,
  type AutoScalingGroupNamesType,
  type AutoScalingGroupsType,
  type AutoScalingInstancesType,
  type CreateAutoScalingGroupType,
  type DescribeAutoScalingInstancesType,
  type DetachInstancesAnswer,
  type DetachInstancesQuery,
} from "@aws-sdk/client-auto-scaling";
import { randomUUID } from "node:crypto";
import { AwsError } from "../errors";
import { addMember, ASG_NAME_TAG, detachMembers, launchReplacement } from "../lifecycle/autoScaling";
import { createAutoScalingGroup } from "../state/create";
import type { AsgMember, AutoScalingGroup } from "../state/model";
import { tagList, type World } from "../state/world";
import { awsQueryEndpoint, defineOperation, type QueryEndpoint } from "../wire/queryProtocol";

function launchTemplateOf(world: World, group: AutoScalingGroup) {
  const template = world.launchTemplates.get(group.launchTemplateId);
  return {
    LaunchTemplateId: group.launchTemplateId,
    LaunchTemplateName: template?.launchTemplateName,
    Version: "$Default",
  };
}

const visibleMembers = (group: AutoScalingGroup): AsgMember[] =>
  group.members.filter((m) => m.lifecycleState !== "Detached" && m.lifecycleState !== "Terminated");

export function autoScalingEndpoint(world: World): QueryEndpoint {
  const groupNamed = (name: string): AutoScalingGroup | undefined => world.autoScalingGroups.get(name);
  return awsQueryEndpoint("autoscaling", "http://autoscaling.amazonaws.com/doc/2011-01-01/", {
    CreateAutoScalingGroup: defineOperation<CreateAutoScalingGroupType, void>(
      CreateAutoScalingGroup$,
      { mutating: true },
      (input) => {
        const name = input.AutoScalingGroupName ?? "";
        if (world.autoScalingGroups.has(name)) {
          throw new AwsError(
            "AlreadyExists",
            `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
          );
        }
        const spec = input.LaunchTemplate;
        const template = [...world.launchTemplates.values()].find(
          (t) =>
            (spec?.LaunchTemplateId !== undefined && t.launchTemplateId === spec.LaunchTemplateId) ||
            (spec?.LaunchTemplateName !== undefined && t.launchTemplateName === spec.LaunchTemplateName),
        );
        if (!template) {
          throw new AwsError(
            "ValidationError",
            "You must use a valid fully-formed launch template. The specified launch template does not exist.",
          );
        }
        const subnetIds = (input.VPCZoneIdentifier ?? "")
          .split(",")
          .map((id) => id.trim())
          .filter(Boolean);
        if (subnetIds.length === 0) throw new AwsError("ValidationError", "No default VPC for this user");
        for (const subnetId of subnetIds) {
          if (!world.subnets.has(subnetId))
            throw new AwsError("ValidationError", `The subnet ID '${subnetId}' does not exist`);
        }
        const minSize = input.MinSize ?? 0;
        const maxSize = input.MaxSize ?? 0;
        const desired = input.DesiredCapacity ?? minSize;
        if (minSize > maxSize || desired < minSize || desired > maxSize) {
          throw new AwsError(
            "ValidationError",
            `Desired capacity:${desired} must be between the specified min size:${minSize} and max size:${maxSize}`,
          );
        }
        for (const arn of input.TargetGroupARNs ?? []) {
          if (!world.targetGroups.has(arn))
            throw new AwsError("ValidationError", `Target group ${arn} does not exist`);
        }
        const group = createAutoScalingGroup(world, {
          name,
          launchTemplateId: template.launchTemplateId,
          subnetIds,
          minSize,
          maxSize,
          desiredCapacity: desired,
          targetGroupArns: input.TargetGroupARNs,
          healthCheckType: input.HealthCheckType === "ELB" ? "ELB" : "EC2",
          healthCheckGracePeriodSeconds: input.HealthCheckGracePeriod,
        });
        for (let i = 0; i < desired; i++) {
          launchReplacement(
            world,
            group,
            "An instance was started in response to a difference between desired and actual capacity.",
          );
        }
      },
    ),

    DescribeAutoScalingGroups: defineOperation<AutoScalingGroupNamesType, AutoScalingGroupsType>(
      DescribeAutoScalingGroups$,
      { mutating: false },
      (input) => {
        const names = input.AutoScalingGroupNames ?? [];
        // Unknown names are silently left out, as AWS does.
        const groups = [...world.autoScalingGroups.values()].filter(
          (g) => names.length === 0 || names.includes(g.autoScalingGroupName),
        );
        return {
          AutoScalingGroups: groups.map((group) => ({
            AutoScalingGroupName: group.autoScalingGroupName,
            AutoScalingGroupARN: group.arn,
            LaunchTemplate: launchTemplateOf(world, group),
            MinSize: group.minSize,
            MaxSize: group.maxSize,
            DesiredCapacity: group.desiredCapacity,
            DefaultCooldown: 300,
            AvailabilityZones: [
              ...new Set(group.subnetIds.map((id) => world.subnets.get(id)?.availabilityZone ?? "")),
            ],
            VPCZoneIdentifier: group.subnetIds.join(","),
            TargetGroupARNs: group.targetGroupArns,
            LoadBalancerNames: [],
            HealthCheckType: group.healthCheckType,
            HealthCheckGracePeriod: group.healthCheckGracePeriodSeconds,
            CreatedTime: new Date(group.createdTime),
            Instances: visibleMembers(group).map((m) => ({
              InstanceId: m.instanceId,
              InstanceType: m.instanceType,
              AvailabilityZone: m.availabilityZone,
              LifecycleState: m.lifecycleState as never,
              HealthStatus: m.healthStatus,
              LaunchTemplate: launchTemplateOf(world, group),
              ProtectedFromScaleIn: m.protectedFromScaleIn,
            })),
            Tags: tagList(group.tags).map((t) => ({
              ...t,
              ResourceId: group.autoScalingGroupName,
              ResourceType: "auto-scaling-group",
              PropagateAtLaunch: true,
            })),
            NewInstancesProtectedFromScaleIn: false,
            ServiceLinkedRoleARN: `arn:aws:iam::${world.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
          })),
        };
      },
    ),

    DescribeAutoScalingInstances: defineOperation<DescribeAutoScalingInstancesType, AutoScalingInstancesType>(
      DescribeAutoScalingInstances$,
      { mutating: false },
      (input) => {
        const ids = input.InstanceIds ?? [];
        const rows = [...world.autoScalingGroups.values()].flatMap((group) =>
          visibleMembers(group)
            .filter((m) => ids.length === 0 || ids.includes(m.instanceId))
            .map((m) => ({
              InstanceId: m.instanceId,
              InstanceType: m.instanceType,
              AutoScalingGroupName: group.autoScalingGroupName,
              AvailabilityZone: m.availabilityZone,
              LifecycleState: m.lifecycleState,
              HealthStatus: m.healthStatus.toUpperCase(),
              LaunchTemplate: launchTemplateOf(world, group),
              ProtectedFromScaleIn: m.protectedFromScaleIn,
            })),
        );
        return { AutoScalingInstances: rows };
      },
    ),

    // Running instances of the group's Availability Zones join it InService; the desired capacity grows by as many
    // and may not pass the maximum size. The group registers them in its target groups.
    AttachInstances: defineOperation<AttachInstancesQuery, void>(
      AttachInstances$,
      { mutating: true },
      (input) => {
        const name = input.AutoScalingGroupName ?? "";
        const group = groupNamed(name);
        if (!group) throw new AwsError("ValidationError", `AutoScalingGroup name not found - ${name}`);
        const zones = group.subnetIds.map((id) => world.subnets.get(id)?.availabilityZone);
        const instances = (input.InstanceIds ?? []).map((id) => {
          const instance = world.instances.get(id);
          if (!instance || instance.state !== "running")
            throw new AwsError("ValidationError", `Instance ${id} is not in a running state.`);
          if (world.autoScalingGroupOf(id))
            throw new AwsError(
              "ValidationError",
              `The instance ${id} is already part of an Auto Scaling group.`,
            );
          if (!zones.includes(instance.availabilityZone))
            throw new AwsError("ValidationError", `Instance ${id} is not in the group's Availability Zones.`);
          return instance;
        });
        const desired = group.desiredCapacity + instances.length;
        if (desired > group.maxSize) {
          throw new AwsError(
            "ValidationError",
            `Attaching ${instances.length} instance(s) would make desired capacity ${desired}, above the group's maximum size ${group.maxSize}.`,
          );
        }
        group.desiredCapacity = desired;
        for (const instance of instances) {
          addMember(world, group, instance, "InService");
          instance.tags.set(ASG_NAME_TAG, name);
          group.activities.push({
            at: world.now(),
            description: `Attaching an existing EC2 instance: ${instance.instanceId}`,
            instanceId: instance.instanceId,
          });
        }
      },
    ),

    DetachInstances: defineOperation<DetachInstancesQuery, DetachInstancesAnswer>(
      DetachInstances$,
      { mutating: true },
      (input) => {
        const group = groupNamed(input.AutoScalingGroupName ?? "");
        if (!group) {
          throw new AwsError(
            "ValidationError",
            `AutoScalingGroup name not found - ${input.AutoScalingGroupName ?? ""}`,
          );
        }
        const decrement = input.ShouldDecrementDesiredCapacity ?? false;
        const detached = detachMembers(world, group, input.InstanceIds ?? [], decrement);
        const now = new Date(world.now());
        return {
          Activities: detached.map((member) => ({
            ActivityId: randomUUID(),
            AutoScalingGroupName: group.autoScalingGroupName,
            Description: `Detaching EC2 instance: ${member.instanceId}`,
            Cause: `At ${now.toISOString()} instance ${member.instanceId} was detached in response to a user request${decrement ? ", shrinking the capacity" : ", keeping the capacity"}.`,
            StartTime: now,
            StatusCode: "InProgress",
            Progress: 50,
            Details: JSON.stringify({ Subnet: "", "Availability Zone": member.availabilityZone }),
          })),
        };
      },
    ),
  });
}
