// Auto Scaling (awsQuery): the group and instance describes and DetachInstances.
import {
  DescribeAutoScalingGroups$,
  DescribeAutoScalingInstances$,
  DetachInstances$,
  type AutoScalingGroupNamesType,
  type AutoScalingGroupsType,
  type AutoScalingInstancesType,
  type DescribeAutoScalingInstancesType,
  type DetachInstancesAnswer,
  type DetachInstancesQuery,
} from "@aws-sdk/client-auto-scaling";
import { randomUUID } from "node:crypto";
import { AwsError } from "../errors";
import { detachMembers } from "../lifecycle/autoScaling";
import type { AsgMember, AutoScalingGroup } from "../state/model";
import { tagList, type World } from "../state/world";
import { defineOperation, QueryEndpoint } from "../wire/queryProtocol";

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
  return new QueryEndpoint({
    signingName: "autoscaling",
    flavor: "query",
    xmlNamespace: "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    missingParameter: (memberName) =>
      new AwsError(
        "ValidationError",
        `1 validation error detected: Value null at '${memberName.charAt(0).toLowerCase()}${memberName.slice(1)}' failed to satisfy constraint: Member must not be null`,
      ),
    throttlingError: () => new AwsError("Throttling", "Rate exceeded", 400),
    operations: {
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

      DescribeAutoScalingInstances: defineOperation<
        DescribeAutoScalingInstancesType,
        AutoScalingInstancesType
      >(DescribeAutoScalingInstances$, { mutating: false }, (input) => {
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
      }),

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
    },
  });
}
