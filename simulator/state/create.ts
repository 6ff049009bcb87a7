// Creation of IAM, ELBv2 and Auto Scaling resources, shared by the API actions and the scenario builders.
import { randomUUID } from "node:crypto";
import type { TargetGroupSpec } from "../api";
import type { AutoScalingGroup, InstanceProfile, Role, TargetGroup } from "./model";
import type { World } from "./world";

const EC2_TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

export function createRole(
  world: World,
  spec: { roleName: string; roleId?: string; path?: string; assumeRolePolicyDocument?: string },
): Role {
  const path = spec.path ?? "/";
  const role: Role = {
    roleName: spec.roleName,
    roleId: spec.roleId ?? `AROA${world.random.hex(16).toUpperCase()}`,
    arn: `arn:aws:iam::${world.accountId}:role${path}${spec.roleName}`,
    path,
    createDate: world.now(),
    assumeRolePolicyDocument: spec.assumeRolePolicyDocument ?? EC2_TRUST_POLICY,
    inlinePolicies: new Map(),
  };
  world.roles.set(role.roleName, role);
  return role;
}

export function createInstanceProfile(
  world: World,
  spec: { name: string; instanceProfileId?: string; path?: string; roleNames?: string[] },
): InstanceProfile {
  const path = spec.path ?? "/";
  const profile: InstanceProfile = {
    instanceProfileName: spec.name,
    instanceProfileId: spec.instanceProfileId ?? `AIPA${world.random.hex(16).toUpperCase()}`,
    arn: `arn:aws:iam::${world.accountId}:instance-profile${path}${spec.name}`,
    path,
    createDate: world.now(),
    roleNames: spec.roleNames ?? [],
  };
  world.instanceProfiles.set(spec.name, profile);
  return profile;
}

export function createTargetGroup(
  world: World,
  spec: Omit<TargetGroupSpec, "deregistrationDelaySeconds"> & { deregistrationDelayMs?: number },
): TargetGroup {
  const arn =
    spec.arn ??
    `arn:aws:elasticloadbalancing:${world.region}:${world.accountId}:targetgroup/${spec.name}/${world.random.hex(16)}`;
  const group: TargetGroup = {
    targetGroupArn: arn,
    targetGroupName: spec.name,
    protocol: spec.protocol ?? "HTTP",
    port: spec.port ?? 80,
    vpcId: spec.vpcId,
    targetType: "instance",
    deregistrationDelayMs: spec.deregistrationDelayMs ?? world.durations.defaultDeregistrationDelayMs,
    loadBalancerArns: [],
    targets: [],
  };
  world.targetGroups.set(arn, group);
  return group;
}

export function createAutoScalingGroup(
  world: World,
  spec: {
    name: string;
    launchTemplateId: string;
    subnetIds: string[];
    minSize: number;
    maxSize: number;
    desiredCapacity: number;
    targetGroupArns?: string[];
    healthCheckType?: "EC2" | "ELB";
    healthCheckGracePeriodSeconds?: number;
  },
): AutoScalingGroup {
  const group: AutoScalingGroup = {
    autoScalingGroupName: spec.name,
    arn: `arn:aws:autoscaling:${world.region}:${world.accountId}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${spec.name}`,
    launchTemplateId: spec.launchTemplateId,
    minSize: spec.minSize,
    maxSize: spec.maxSize,
    desiredCapacity: spec.desiredCapacity,
    subnetIds: spec.subnetIds,
    targetGroupArns: spec.targetGroupArns ?? [],
    healthCheckType: spec.healthCheckType ?? "EC2",
    healthCheckGracePeriodSeconds: spec.healthCheckGracePeriodSeconds ?? 300,
    members: [],
    createdTime: world.now(),
    tags: new Map(),
    activities: [],
  };
  world.autoScalingGroups.set(spec.name, group);
  return group;
}
