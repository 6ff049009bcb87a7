// Security groups and their rules: create, describe, authorize and revoke (rules kept atomic, shown grouped).
import {
  AuthorizeSecurityGroupEgress$,
  AuthorizeSecurityGroupIngress$,
  CreateSecurityGroup$,
  DescribeSecurityGroups$,
  RevokeSecurityGroupEgress$,
  RevokeSecurityGroupIngress$,
  type AuthorizeSecurityGroupEgressRequest,
  type AuthorizeSecurityGroupEgressResult,
  type AuthorizeSecurityGroupIngressRequest,
  type AuthorizeSecurityGroupIngressResult,
  type CreateSecurityGroupRequest,
  type CreateSecurityGroupResult,
  type DescribeSecurityGroupsRequest,
  type DescribeSecurityGroupsResult,
  type IpPermission,
  type RevokeSecurityGroupEgressRequest,
  type RevokeSecurityGroupEgressResult,
  type RevokeSecurityGroupIngressRequest,
  type RevokeSecurityGroupIngressResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { SecurityGroup, SecurityGroupRule } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { checkTagSpecifications, describePage, find, tagsFor, type FilterTable } from "./common";
import { defaultEgressRule } from "./network";
import { renderPermissions, renderRule, renderSecurityGroup } from "./render";

const PROTOCOL_NAMES: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", all: "-1" };

/** Split IpPermissions into atomic rules, validating protocol and ports like EC2. */
function atomicRules(world: World, permissions: IpPermission[]): SecurityGroupRule[] {
  const rules: SecurityGroupRule[] = [];
  for (const permission of permissions) {
    const rawProtocol = (permission.IpProtocol ?? "").toLowerCase();
    const ipProtocol = PROTOCOL_NAMES[rawProtocol] ?? rawProtocol;
    if (!ipProtocol)
      throw new AwsError("MissingParameter", "The request must contain the parameter ipProtocol");
    if (!["tcp", "udp", "icmp", "icmpv6", "-1"].includes(ipProtocol) && !/^\d+$/.test(ipProtocol)) {
      throw new AwsError(
        "InvalidParameterValue",
        `Invalid value '${rawProtocol}' for IP protocol. Unknown protocol.`,
      );
    }
    const ported = ipProtocol === "tcp" || ipProtocol === "udp";
    if (ported) {
      const { FromPort: from, ToPort: to } = permission;
      if (from === undefined || to === undefined) {
        throw new AwsError("MissingParameter", "The request must contain the parameter fromPort and toPort");
      }
      if (from < 0 || to > 65535 || from > to) {
        throw new AwsError("InvalidParameterValue", `Invalid port range ${from}-${to}`);
      }
    }
    const base = {
      ipProtocol,
      fromPort: ipProtocol === "-1" ? undefined : permission.FromPort,
      toPort: ipProtocol === "-1" ? undefined : permission.ToPort,
    };
    const add = (extra: Partial<SecurityGroupRule>): void => {
      rules.push({ ruleId: world.newId("sgr"), ...base, ...extra });
    };
    for (const range of permission.IpRanges ?? []) {
      if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(range.CidrIp ?? "")) {
        throw new AwsError("InvalidParameterValue", `CIDR block ${range.CidrIp ?? ""} is malformed`);
      }
      add({ cidrIpv4: range.CidrIp, description: range.Description });
    }
    for (const range of permission.Ipv6Ranges ?? [])
      add({ cidrIpv6: range.CidrIpv6, description: range.Description });
    for (const pair of permission.UserIdGroupPairs ?? []) {
      if (!pair.GroupId)
        throw new AwsError("MissingParameter", "The request must contain the parameter groupId");
      find(world, world.securityGroups, pair.GroupId);
      add({ referencedGroupId: pair.GroupId, description: pair.Description });
    }
    for (const prefix of permission.PrefixListIds ?? [])
      add({ prefixListId: prefix.PrefixListId, description: prefix.Description });
  }
  return rules;
}

const sameRule = (a: SecurityGroupRule, b: SecurityGroupRule): boolean =>
  a.ipProtocol === b.ipProtocol &&
  a.fromPort === b.fromPort &&
  a.toPort === b.toPort &&
  a.cidrIpv4 === b.cidrIpv4 &&
  a.cidrIpv6 === b.cidrIpv6 &&
  a.referencedGroupId === b.referencedGroupId &&
  a.prefixListId === b.prefixListId;

function describeRule(rule: SecurityGroupRule): string {
  const peer = rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.referencedGroupId ?? rule.prefixListId ?? "";
  const protocol = rule.ipProtocol === "-1" ? "ALL" : rule.ipProtocol.toUpperCase();
  return `peer: ${peer}, ${protocol}, from port: ${rule.fromPort ?? "-1"}, to port: ${rule.toPort ?? "-1"}, ALLOW`;
}

function authorize(
  world: World,
  group: SecurityGroup,
  direction: "ingress" | "egress",
  permissions: IpPermission[],
  gate: () => void,
): { Return: boolean; SecurityGroupRules: ReturnType<typeof renderRule>[] } {
  const rules = atomicRules(world, permissions);
  if (rules.length === 0)
    throw new AwsError("MissingParameter", "The request must contain the parameter ipPermissions");
  const existing = group[direction];
  for (const rule of rules) {
    if (existing.some((r) => sameRule(r, rule))) {
      throw new AwsError(
        "InvalidPermission.Duplicate",
        `the specified rule "${describeRule(rule)}" already exists`,
      );
    }
  }
  gate();
  existing.push(...rules);
  return {
    Return: true,
    SecurityGroupRules: rules.map((r) => renderRule(world, group, r, direction === "egress")),
  };
}

/**
 * Revoke: rules that do not exist are not an error for VPC groups; AWS returns them as UnknownIpPermissions
 * ("If the values you specify do not match the existing rule's values, no error is returned").
 */
function revoke(
  world: World,
  group: SecurityGroup,
  direction: "ingress" | "egress",
  permissions: IpPermission[] | undefined,
  ruleIds: string[] | undefined,
  gate: () => void,
): {
  Return: boolean;
  UnknownIpPermissions?: IpPermission[];
  RevokedSecurityGroupRules: ReturnType<typeof renderRule>[];
} {
  const existing = group[direction];
  const toRemove: SecurityGroupRule[] = [];
  const unknown: SecurityGroupRule[] = [];
  for (const ruleId of ruleIds ?? []) {
    const found = existing.find((r) => r.ruleId === ruleId);
    if (!found) {
      throw new AwsError(
        "InvalidSecurityGroupRuleId.NotFound",
        `The security group rule ID '${ruleId}' does not exist`,
      );
    }
    toRemove.push(found);
  }
  for (const rule of atomicRules(world, permissions ?? [])) {
    const found = existing.find((r) => sameRule(r, rule));
    if (found) toRemove.push(found);
    else unknown.push(rule);
  }
  if (toRemove.length === 0 && unknown.length === 0) {
    throw new AwsError(
      "MissingParameter",
      "The request must contain the parameter ipPermissions or securityGroupRuleIds",
    );
  }
  gate();
  group[direction] = existing.filter((r) => !toRemove.includes(r));
  return {
    Return: true,
    UnknownIpPermissions: unknown.length > 0 ? renderPermissions(world, unknown) : undefined,
    RevokedSecurityGroupRules: toRemove.map((r) => renderRule(world, group, r, direction === "egress")),
  };
}

/** The group an ingress rule change names: EC2 requires GroupId there (egress calls do not check it first). */
function requiredGroup(world: World, groupId: string | undefined): SecurityGroup {
  if (!groupId) throw new AwsError("MissingParameter", "The request must contain the parameter groupId");
  return find(world, world.securityGroups, groupId);
}

const GROUP_FILTERS: FilterTable<SecurityGroup> = {
  "vpc-id": (group) => [group.vpcId],
  "group-id": (group) => [group.groupId],
  "group-name": (group) => [group.groupName],
  description: (group) => [group.description],
};

export function securityGroupOperations(world: World): Record<string, QueryOperation> {
  return {
    DescribeSecurityGroups: defineOperation<DescribeSecurityGroupsRequest, DescribeSecurityGroupsResult>(
      DescribeSecurityGroups$,
      { mutating: false },
      (input) => {
        if (input.GroupNames?.length) {
          // Names only address groups of the default VPC, which the simulator does not have.
          throw new AwsError(
            "InvalidGroup.NotFound",
            `The security group '${input.GroupNames[0] ?? ""}' does not exist in default VPC 'none'`,
          );
        }
        const { page, nextToken } = describePage(
          world,
          world.securityGroups,
          input.GroupIds,
          input,
          GROUP_FILTERS,
        );
        return {
          SecurityGroups: page.map((group) => renderSecurityGroup(world, group)),
          NextToken: nextToken,
        };
      },
    ),

    CreateSecurityGroup: defineOperation<CreateSecurityGroupRequest, CreateSecurityGroupResult>(
      CreateSecurityGroup$,
      { mutating: true },
      (input, ctx) => {
        const groupName = input.GroupName ?? "";
        if (groupName.toLowerCase().startsWith("sg-")) {
          throw new AwsError("InvalidParameterValue", "Group names may not be in the format sg-*");
        }
        if (!input.VpcId) {
          throw new AwsError("VPCIdNotSpecified", "No default VPC for this user");
        }
        const vpc = find(world, world.vpcs, input.VpcId);
        if (
          [...world.securityGroups.values()].some((g) => g.vpcId === vpc.vpcId && g.groupName === groupName)
        ) {
          throw new AwsError(
            "InvalidGroup.Duplicate",
            `The security group '${groupName}' already exists for VPC '${vpc.vpcId}'`,
          );
        }
        checkTagSpecifications(input.TagSpecifications, ["security-group"]);
        ctx.dryRunGate();
        const group: SecurityGroup = {
          groupId: world.newId("sg"),
          groupName,
          description: input.Description ?? "",
          vpcId: vpc.vpcId,
          ingress: [],
          egress: [defaultEgressRule(world)],
          tags: tagsFor(input.TagSpecifications, "security-group"),
          visibleAt: world.visibleFrom(),
        };
        world.securityGroups.set(group.groupId, group);
        const rendered = renderSecurityGroup(world, group);
        return { GroupId: group.groupId, Tags: rendered.Tags, SecurityGroupArn: rendered.SecurityGroupArn };
      },
    ),

    AuthorizeSecurityGroupIngress: defineOperation<
      AuthorizeSecurityGroupIngressRequest,
      AuthorizeSecurityGroupIngressResult
    >(AuthorizeSecurityGroupIngress$, { mutating: true }, (input, ctx) => {
      const group = requiredGroup(world, input.GroupId);
      const permissions: IpPermission[] = input.IpPermissions ?? [];
      if (input.IpProtocol) {
        // The legacy flat form (CidrIp, IpProtocol, FromPort, ToPort).
        permissions.push({
          IpProtocol: input.IpProtocol,
          FromPort: input.FromPort,
          ToPort: input.ToPort,
          IpRanges: input.CidrIp ? [{ CidrIp: input.CidrIp }] : [],
        });
      }
      return authorize(world, group, "ingress", permissions, ctx.dryRunGate);
    }),

    AuthorizeSecurityGroupEgress: defineOperation<
      AuthorizeSecurityGroupEgressRequest,
      AuthorizeSecurityGroupEgressResult
    >(AuthorizeSecurityGroupEgress$, { mutating: true }, (input, ctx) => {
      const group = find(world, world.securityGroups, input.GroupId ?? "");
      return authorize(world, group, "egress", input.IpPermissions ?? [], ctx.dryRunGate);
    }),

    RevokeSecurityGroupIngress: defineOperation<
      RevokeSecurityGroupIngressRequest,
      RevokeSecurityGroupIngressResult
    >(RevokeSecurityGroupIngress$, { mutating: true }, (input, ctx) => {
      const group = requiredGroup(world, input.GroupId);
      return revoke(world, group, "ingress", input.IpPermissions, input.SecurityGroupRuleIds, ctx.dryRunGate);
    }),

    RevokeSecurityGroupEgress: defineOperation<
      RevokeSecurityGroupEgressRequest,
      RevokeSecurityGroupEgressResult
    >(RevokeSecurityGroupEgress$, { mutating: true }, (input, ctx) => {
      const group = find(world, world.securityGroups, input.GroupId ?? "");
      return revoke(world, group, "egress", input.IpPermissions, input.SecurityGroupRuleIds, ctx.dryRunGate);
    }),
  };
}
