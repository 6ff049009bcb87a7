// VPCs with their subnets, and security groups.
import type { CreatedVpc, SecurityGroupSpec, VpcSpec } from "../api";
import { defaultEgressRule } from "../services/ec2/network";
import type { SecurityGroup, Subnet } from "../state/model";
import { tagsFrom } from "../state/world";
import { alreadyVisible, type ScenarioState } from "./state";

/** A stand-in zone id, distinct per zone letter (a, b, then any other). */
const zoneIdOf = (zone: string): string =>
  `${zone.slice(0, 3)}${zone.slice(-1) === "a" ? "1" : zone.slice(-1) === "b" ? "2" : "3"}-az`;

export function vpc(state: ScenarioState, spec: VpcSpec = {}): CreatedVpc {
  const { world } = state;
  const vpcId = spec.vpcId ?? world.newId("vpc");
  const cidrBlock = spec.cidrBlock ?? "10.20.0.0/16";
  world.vpcs.set(vpcId, { vpcId, cidrBlock, tags: tagsFrom(spec.tags), visibleAt: alreadyVisible(world) });
  const [a, b] = cidrBlock.split(".");
  const subnets = (spec.subnets ?? [{}]).map((s) => {
    const availabilityZone = s.availabilityZone ?? `${world.region}a`;
    const subnetId = s.subnetId ?? world.newId("subnet");
    world.subnets.set(subnetId, {
      subnetId,
      vpcId,
      availabilityZone,
      availabilityZoneId: zoneIdOf(availabilityZone),
      cidrBlock: s.cidrBlock ?? `${a}.${b}.${++state.subnetsNumbered * 8}.0/24`,
      tags: new Map(),
      nextHost: 0,
      visibleAt: alreadyVisible(world),
    });
    return { subnetId, availabilityZone };
  });
  defaultGroupOf(state, vpcId);
  return { vpcId, subnets };
}

export function securityGroup({ world }: ScenarioState, spec: SecurityGroupSpec): string {
  if (!world.vpcs.has(spec.vpcId)) throw new Error(`scenario: VPC ${spec.vpcId} does not exist`);
  const group: SecurityGroup = {
    groupId: spec.groupId ?? world.newId("sg"),
    groupName: spec.groupName,
    description: spec.description ?? spec.groupName,
    vpcId: spec.vpcId,
    ingress: (spec.ingress ?? []).map((rule) => ({
      ruleId: world.newId("sgr"),
      ipProtocol: rule.protocol ?? "tcp",
      fromPort: rule.fromPort,
      toPort: rule.toPort,
      cidrIpv4: rule.cidr,
    })),
    egress: [defaultEgressRule(world)],
    tags: tagsFrom(spec.tags),
    visibleAt: alreadyVisible(world),
  };
  world.securityGroups.set(group.groupId, group);
  return group.groupId;
}

/** The VPC's "default" group, made on first use. */
export function defaultGroupOf(state: ScenarioState, vpcId: string): string {
  const existing = [...state.world.securityGroups.values()].find(
    (g) => g.vpcId === vpcId && g.groupName === "default",
  );
  if (existing) return existing.groupId;
  return securityGroup(state, { vpcId, groupName: "default", description: "default VPC security group" });
}

export function subnetOf({ world }: ScenarioState, subnetId: string): Subnet {
  const found = world.subnets.get(subnetId);
  if (!found) throw new Error(`scenario: subnet ${subnetId} does not exist (create it with vpc())`);
  return found;
}
