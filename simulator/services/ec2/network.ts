// EC2 networking actions: VPCs, subnets, security groups and their rules, network interfaces.
import {
  AuthorizeSecurityGroupEgress$,
  AuthorizeSecurityGroupIngress$,
  CreateSecurityGroup$,
  CreateSubnet$,
  CreateVpc$,
  DescribeNetworkInterfaces$,
  DescribeSecurityGroups$,
  DescribeSubnets$,
  DescribeVpcs$,
  ModifyNetworkInterfaceAttribute$,
  RevokeSecurityGroupEgress$,
  RevokeSecurityGroupIngress$,
  type AuthorizeSecurityGroupEgressRequest,
  type AuthorizeSecurityGroupEgressResult,
  type AuthorizeSecurityGroupIngressRequest,
  type AuthorizeSecurityGroupIngressResult,
  type CreateSecurityGroupRequest,
  type CreateSecurityGroupResult,
  type CreateSubnetRequest,
  type CreateSubnetResult,
  type CreateVpcRequest,
  type CreateVpcResult,
  type DescribeNetworkInterfacesRequest,
  type DescribeNetworkInterfacesResult,
  type DescribeSecurityGroupsRequest,
  type DescribeSecurityGroupsResult,
  type DescribeSubnetsRequest,
  type DescribeSubnetsResult,
  type DescribeVpcsRequest,
  type DescribeVpcsResult,
  type IpPermission,
  type ModifyNetworkInterfaceAttributeRequest,
  type RevokeSecurityGroupEgressRequest,
  type RevokeSecurityGroupEgressResult,
  type RevokeSecurityGroupIngressRequest,
  type RevokeSecurityGroupIngressResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import type { SecurityGroup, SecurityGroupRule } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import {
  checkTagSpecifications,
  find,
  matchesFilters,
  paginate,
  selectByIds,
  tagFilterValues,
  tagsFor,
} from "./common";
import {
  renderNetworkInterface,
  renderPermissions,
  renderRule,
  renderSecurityGroup,
  renderSubnet,
  renderVpc,
} from "./render";

/** The rule AWS adds to every new VPC security group: all traffic out to anywhere. */
export function defaultEgressRule(world: World): SecurityGroupRule {
  return { ruleId: world.newId("sgr"), ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" };
}

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

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** A VPC or subnet CIDR: AWS allows netmasks /16 to /28. */
function checkBlock(cidr: string | undefined, code: string): string {
  const match = CIDR.exec(cidr ?? "");
  const prefix = Number(match?.[5]);
  if (!match || prefix < 16 || prefix > 28 || match.slice(1, 5).some((octet) => Number(octet) > 255)) {
    throw new AwsError(code, `The CIDR '${cidr ?? ""}' is invalid.`);
  }
  return cidr ?? "";
}

export function networkOperations(world: World): Record<string, QueryOperation> {
  return {
    CreateVpc: defineOperation<CreateVpcRequest, CreateVpcResult>(
      CreateVpc$,
      { mutating: true },
      (input, ctx) => {
        const cidrBlock = checkBlock(input.CidrBlock, "InvalidVpc.Range");
        checkTagSpecifications(input.TagSpecifications, ["vpc"]);
        ctx.dryRunGate();
        const vpc = {
          vpcId: world.newId("vpc"),
          cidrBlock,
          tags: tagsFor(input.TagSpecifications, "vpc"),
          visibleAt: world.visibleFrom(),
        };
        world.vpcs.set(vpc.vpcId, vpc);
        // Every VPC comes with its "default" security group.
        const group: SecurityGroup = {
          groupId: world.newId("sg"),
          groupName: "default",
          description: "default VPC security group",
          vpcId: vpc.vpcId,
          ingress: [],
          egress: [defaultEgressRule(world)],
          tags: new Map(),
          visibleAt: vpc.visibleAt,
        };
        group.ingress.push({
          ruleId: world.newId("sgr"),
          ipProtocol: "-1",
          referencedGroupId: group.groupId,
        });
        world.securityGroups.set(group.groupId, group);
        return { Vpc: { ...renderVpc(world, vpc), State: "pending" } };
      },
    ),

    CreateSubnet: defineOperation<CreateSubnetRequest, CreateSubnetResult>(
      CreateSubnet$,
      { mutating: true },
      (input, ctx) => {
        const vpc = find(world, world.vpcs, input.VpcId ?? "");
        const cidrBlock = checkBlock(input.CidrBlock, "InvalidSubnet.Range");
        if ([...world.subnets.values()].some((s) => s.vpcId === vpc.vpcId && s.cidrBlock === cidrBlock)) {
          throw new AwsError(
            "InvalidSubnet.Conflict",
            `The CIDR '${cidrBlock}' conflicts with another subnet`,
          );
        }
        const availabilityZone = input.AvailabilityZone ?? `${world.region}a`;
        if (
          !/^[a-z]{2}-[a-z]+-\d[a-z]$/.test(availabilityZone) ||
          !availabilityZone.startsWith(world.region)
        ) {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${availabilityZone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${world.region}a, ${world.region}b, ${world.region}c.`,
          );
        }
        checkTagSpecifications(input.TagSpecifications, ["subnet"]);
        ctx.dryRunGate();
        const zoneLetter = availabilityZone.slice(-1);
        const subnet = {
          subnetId: world.newId("subnet"),
          vpcId: vpc.vpcId,
          availabilityZone,
          availabilityZoneId: `${world.region.slice(0, 3)}${"abcdef".indexOf(zoneLetter) + 1}-az`,
          cidrBlock,
          tags: tagsFor(input.TagSpecifications, "subnet"),
          nextHost: 0,
          visibleAt: world.visibleFrom(),
        };
        world.subnets.set(subnet.subnetId, subnet);
        return { Subnet: renderSubnet(world, subnet) };
      },
    ),

    DescribeVpcs: defineOperation<DescribeVpcsRequest, DescribeVpcsResult>(
      DescribeVpcs$,
      { mutating: false },
      (input) => ({
        Vpcs: selectByIds(world, world.vpcs, input.VpcIds)
          .filter((vpc) =>
            matchesFilters(input.Filters, (name) =>
              name === "vpc-id"
                ? [vpc.vpcId]
                : name === "cidr"
                  ? [vpc.cidrBlock]
                  : tagFilterValues(vpc.tags, name),
            ),
          )
          .map((vpc) => renderVpc(world, vpc)),
      }),
    ),

    DescribeSubnets: defineOperation<DescribeSubnetsRequest, DescribeSubnetsResult>(
      DescribeSubnets$,
      { mutating: false },
      (input) => {
        const subnets = selectByIds(world, world.subnets, input.SubnetIds).filter((subnet) =>
          matchesFilters(input.Filters, (name) => {
            if (name === "vpc-id") return [subnet.vpcId];
            if (name === "subnet-id") return [subnet.subnetId];
            if (name === "availability-zone") return [subnet.availabilityZone];
            if (name === "availability-zone-id") return [subnet.availabilityZoneId];
            if (name === "cidr-block") return [subnet.cidrBlock];
            return tagFilterValues(subnet.tags, name);
          }),
        );
        const { page, nextToken } = paginate(subnets, input.MaxResults, input.NextToken);
        return { Subnets: page.map((subnet) => renderSubnet(world, subnet)), NextToken: nextToken };
      },
    ),

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
        const groups = selectByIds(world, world.securityGroups, input.GroupIds).filter((group) =>
          matchesFilters(input.Filters, (name) => {
            if (name === "vpc-id") return [group.vpcId];
            if (name === "group-id") return [group.groupId];
            if (name === "group-name") return [group.groupName];
            if (name === "description") return [group.description];
            return tagFilterValues(group.tags, name);
          }),
        );
        const { page, nextToken } = paginate(groups, input.MaxResults, input.NextToken);
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
      if (!input.GroupId)
        throw new AwsError("MissingParameter", "The request must contain the parameter groupId");
      const group = find(world, world.securityGroups, input.GroupId);
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
      if (!input.GroupId)
        throw new AwsError("MissingParameter", "The request must contain the parameter groupId");
      const group = find(world, world.securityGroups, input.GroupId);
      return revoke(world, group, "ingress", input.IpPermissions, input.SecurityGroupRuleIds, ctx.dryRunGate);
    }),

    RevokeSecurityGroupEgress: defineOperation<
      RevokeSecurityGroupEgressRequest,
      RevokeSecurityGroupEgressResult
    >(RevokeSecurityGroupEgress$, { mutating: true }, (input, ctx) => {
      const group = find(world, world.securityGroups, input.GroupId ?? "");
      return revoke(world, group, "egress", input.IpPermissions, input.SecurityGroupRuleIds, ctx.dryRunGate);
    }),

    DescribeNetworkInterfaces: defineOperation<
      DescribeNetworkInterfacesRequest,
      DescribeNetworkInterfacesResult
    >(DescribeNetworkInterfaces$, { mutating: false }, (input) => {
      const enis = selectByIds(world, world.networkInterfaces, input.NetworkInterfaceIds).filter((eni) =>
        matchesFilters(input.Filters, (name) => {
          if (name === "network-interface-id") return [eni.networkInterfaceId];
          if (name === "attachment.instance-id") return [eni.attachment?.instanceId];
          if (name === "vpc-id") return [eni.vpcId];
          if (name === "subnet-id") return [eni.subnetId];
          if (name === "group-id") return eni.groupIds;
          if (name === "status") return [eni.status];
          if (name === "availability-zone") return [eni.availabilityZone];
          return tagFilterValues(eni.tags, name);
        }),
      );
      const { page, nextToken } = paginate(enis, input.MaxResults, input.NextToken);
      return {
        NetworkInterfaces: page.map((eni) => renderNetworkInterface(world, eni)),
        NextToken: nextToken,
      };
    }),

    ModifyNetworkInterfaceAttribute: defineOperation<ModifyNetworkInterfaceAttributeRequest, void>(
      ModifyNetworkInterfaceAttribute$,
      { mutating: true },
      (input, ctx) => {
        const eni = find(world, world.networkInterfaces, input.NetworkInterfaceId ?? "");
        const groups = input.Groups ?? [];
        const otherChange =
          input.Description !== undefined ||
          input.SourceDestCheck !== undefined ||
          input.Attachment !== undefined;
        if (groups.length === 0 && !otherChange) {
          throw new AwsError("MissingParameter", "The request must contain exactly one attribute to modify");
        }
        // Default quota: 5 security groups per network interface.
        if (new Set(groups).size > 5) {
          throw new AwsError(
            "SecurityGroupsPerInterfaceLimitExceeded",
            "The maximum number of security groups per interface has been reached.",
          );
        }
        for (const groupId of groups) {
          const group = find(world, world.securityGroups, groupId);
          if (group.vpcId !== eni.vpcId) {
            throw new AwsError(
              "InvalidParameterValue",
              `The security group '${groupId}' and the network interface '${eni.networkInterfaceId}' belong to different networks.`,
            );
          }
        }
        ctx.dryRunGate();
        if (groups.length > 0) eni.groupIds = [...new Set(groups)];
        if (input.Description?.Value !== undefined) eni.description = input.Description.Value;
        if (input.Attachment?.DeleteOnTermination !== undefined && eni.attachment) {
          eni.attachment.deleteOnTermination = input.Attachment.DeleteOnTermination;
        }
      },
    ),
  };
}
