import type { IpPermission, SecurityGroup } from "@aws-sdk/client-ec2";

import { parseCidr } from "./cidr";
import { awsErrorCode } from "./errors";
import { ec2Mutation, isAlreadyDone, type ResponseContext } from "./responseContext";
import type { VpcSecurityGroups } from "./settings";
import { MANAGED_BY_VALUE, TAG_MANAGED_BY, TAG_ROLE, type SecurityGroupRole } from "./tags";

/** One rule, flattened: protocol, port range and one CIDR. */
export interface FlatRule {
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidr: string;
}

export interface DesiredRules {
  readonly ingress: readonly FlatRule[];
  readonly egress: readonly FlatRule[];
}

const ALL_TRAFFIC_V4: FlatRule = { protocol: "-1", cidr: "0.0.0.0/0" };
const ALL_TRAFFIC_V6: FlatRule = { protocol: "-1", cidr: "::/0" };

/**
 * The rules each role needs (pure).
 * - untrack: allow everything both ways. A flow is untracked only when all-traffic rules exist in both
 *   directions; moving an ENI here first makes the switch to the isolation group cut existing connections,
 *   which a plain group change does not (tracked connections survive security-group changes).
 * - isolation: no egress at all; SSH only from the forensic sources.
 * - forensic: SSH from the forensic sources; default egress so the workstation reaches its tools.
 */
export function desiredRules(role: SecurityGroupRole, forensicSourceCidrs: readonly string[]): DesiredRules {
  const ssh = forensicSourceCidrs.map((cidr) => ({ protocol: "tcp", fromPort: 22, toPort: 22, cidr }));
  switch (role) {
    case "untrack":
      return { ingress: [ALL_TRAFFIC_V4, ALL_TRAFFIC_V6], egress: [ALL_TRAFFIC_V4, ALL_TRAFFIC_V6] };
    case "isolation":
      return { ingress: ssh, egress: [] };
    case "forensic":
      return { ingress: ssh, egress: [ALL_TRAFFIC_V4] };
  }
}

function ruleKey(rule: FlatRule): string {
  return rule.protocol === "-1"
    ? `-1|${rule.cidr}`
    : `${rule.protocol}|${rule.fromPort}|${rule.toPort}|${rule.cidr}`;
}

export function flattenPermissions(permissions: readonly IpPermission[] | undefined): FlatRule[] {
  return (permissions ?? []).flatMap((permission) => {
    const base = {
      protocol: permission.IpProtocol ?? "-1",
      fromPort: permission.FromPort,
      toPort: permission.ToPort,
    };
    return [
      ...(permission.IpRanges ?? []).flatMap((range) =>
        range.CidrIp ? [{ ...base, cidr: range.CidrIp }] : [],
      ),
      ...(permission.Ipv6Ranges ?? []).flatMap((range) =>
        range.CidrIpv6 ? [{ ...base, cidr: range.CidrIpv6 }] : [],
      ),
    ];
  });
}

export interface RuleChanges {
  readonly authorizeIngress: FlatRule[];
  readonly authorizeEgress: FlatRule[];
  readonly revokeEgress: FlatRule[];
}

/**
 * What to authorize and revoke so a group has the desired rules (pure). Extra ingress is not revoked: the
 * responder only creates these groups and never widens them, and RevokeSecurityGroupIngress is not granted.
 */
export function ruleChanges(current: DesiredRules, desired: DesiredRules): RuleChanges {
  const missing = (want: readonly FlatRule[], have: readonly FlatRule[]) => {
    const haveKeys = new Set(have.map(ruleKey));
    return want.filter((rule) => !haveKeys.has(ruleKey(rule)));
  };
  return {
    authorizeIngress: missing(desired.ingress, current.ingress),
    authorizeEgress: missing(desired.egress, current.egress),
    revokeEgress: missing(current.egress, desired.egress),
  };
}

export function toPermission(rule: FlatRule): IpPermission {
  // IPv6 sources (FORENSIC_SOURCE_CIDRS accepts them) go in Ipv6Ranges: EC2 refuses them in IpRanges.
  const ranges =
    parseCidr(rule.cidr)?.family === 6
      ? { Ipv6Ranges: [{ CidrIpv6: rule.cidr }] }
      : { IpRanges: [{ CidrIp: rule.cidr }] };
  return rule.protocol === "-1"
    ? { IpProtocol: "-1", ...ranges }
    : { IpProtocol: rule.protocol, FromPort: rule.fromPort, ToPort: rule.toPort, ...ranges };
}

function onDemandGroupName(role: SecurityGroupRole, vpcId: string): string {
  return `ir-${role}-${vpcId}`;
}

/** Whether a name is one onDemandGroupName gives, for any role and VPC (pure). */
function isOnDemandGroupName(name: string): boolean {
  return /^ir-(?:untrack|isolation|forensic)-vpc-[0-9a-f]+$/.test(name);
}

/** The groups the stack configured for the responder (untrack, isolation, forensic), in every VPC (pure). */
export function configuredResponderGroupIds(groups: VpcSecurityGroups): Set<string> {
  return new Set(
    Object.values(groups).flatMap((pair) =>
      [pair.untrack, pair.isolation, pair.forensic].filter((id): id is string => id !== undefined),
    ),
  );
}

/**
 * Whether a group is the responder's own (pure): configured by the stack, or named as the handler names the
 * groups it makes on demand. Never an ENI's "original" group: restoring an ENI to the untrack group would open
 * it to everything, and a replacement launched into the isolation group could not serve.
 */
export function isResponderGroup(
  groupId: string,
  groupName: string | undefined,
  configured: VpcSecurityGroups,
): boolean {
  return (
    configuredResponderGroupIds(configured).has(groupId) ||
    (groupName !== undefined && isOnDemandGroupName(groupName))
  );
}

/** The responder's groups an instance description shows by name (groups the handler made on demand; pure). */
export function responderGroupIdsNamedIn(
  interfaces: readonly { Groups?: readonly { GroupId?: string; GroupName?: string }[] }[] | undefined,
): string[] {
  return (interfaces ?? []).flatMap((eni) =>
    (eni.Groups ?? []).flatMap((group) =>
      group.GroupId !== undefined && group.GroupName !== undefined && isOnDemandGroupName(group.GroupName)
        ? [group.GroupId]
        : [],
    ),
  );
}

/** The responder's group of `role` in a VPC: by its tags first (made by the stack or the handler), else by name. */
async function findGroup(
  context: ResponseContext,
  vpcId: string,
  role: SecurityGroupRole,
): Promise<SecurityGroup | undefined> {
  const byTags = await context.aws.ec2.describeSecurityGroups({
    Filters: [
      { Name: "vpc-id", Values: [vpcId] },
      { Name: `tag:${TAG_ROLE}`, Values: [role] },
      { Name: `tag:${TAG_MANAGED_BY}`, Values: [MANAGED_BY_VALUE] },
    ],
  });
  if (byTags.SecurityGroups?.[0] !== undefined) return byTags.SecurityGroups[0];
  return findGroupByName(context, vpcId, role);
}

async function findGroupByName(
  context: ResponseContext,
  vpcId: string,
  role: SecurityGroupRole,
): Promise<SecurityGroup | undefined> {
  const answer = await context.aws.ec2.describeSecurityGroups({
    Filters: [
      { Name: "vpc-id", Values: [vpcId] },
      { Name: "group-name", Values: [onDemandGroupName(role, vpcId)] },
    ],
  });
  return answer.SecurityGroups?.[0];
}

/**
 * Finds or creates the responder's group of `role` in a VPC the stack does not configure, and converges its
 * rules. Deterministic names make concurrent responses in the same VPC meet on one group
 * (InvalidGroup.Duplicate) instead of creating two. Returns undefined in dry run when the group does not exist.
 */
export async function ensureOnDemandGroup(
  context: ResponseContext,
  vpcId: string,
  role: SecurityGroupRole,
): Promise<string | undefined> {
  const { ec2 } = context.aws;
  let group = await findGroup(context, vpcId, role);
  if (group === undefined) {
    const created = await ec2Mutation(context, `create ${role} security group in ${vpcId}`, (DryRun) =>
      ec2
        .createSecurityGroup({
          DryRun,
          VpcId: vpcId,
          GroupName: onDemandGroupName(role, vpcId),
          Description: `EC2 incident response: ${role} group created on demand`,
          TagSpecifications: [
            {
              ResourceType: "security-group",
              Tags: [
                { Key: TAG_ROLE, Value: role },
                { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
                { Key: "Name", Value: onDemandGroupName(role, vpcId) },
              ],
            },
          ],
        })
        .catch(async (error: unknown) => {
          if (awsErrorCode(error) !== "InvalidGroup.Duplicate") throw error;
          return { GroupId: (await findGroupByName(context, vpcId, role))?.GroupId };
        }),
    );
    if (!created.made) return undefined;
    // A group just created may not be visible to a describe yet (eventual consistency): assume what AWS gives
    // every new group, the allow-all IPv4 egress rule, so the isolation group never keeps it by accident.
    group = (await findGroup(context, vpcId, role)) ?? {
      GroupId: created.value.GroupId,
      IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    };
  }
  const groupId = group.GroupId;
  if (groupId === undefined) throw new Error(`security group ${onDemandGroupName(role, vpcId)} has no id`);
  const changes = ruleChanges(
    {
      ingress: flattenPermissions(group.IpPermissions),
      egress: flattenPermissions(group.IpPermissionsEgress),
    },
    desiredRules(role, context.settings.forensicSourceCidrs),
  );
  type RuleCall = (input: {
    DryRun?: boolean;
    GroupId: string;
    IpPermissions: IpPermission[];
  }) => Promise<unknown>;
  // Revoke egress first: a new group comes with allow-all egress, which the isolation group must not keep.
  const operations: { what: string; rules: FlatRule[]; call: RuleCall; alreadySo: string }[] = [
    {
      what: "revoke egress",
      rules: changes.revokeEgress,
      call: (input) => ec2.revokeSecurityGroupEgress(input),
      alreadySo: "InvalidPermission.NotFound",
    },
    {
      what: "authorize ingress",
      rules: changes.authorizeIngress,
      call: (input) => ec2.authorizeSecurityGroupIngress(input),
      alreadySo: "InvalidPermission.Duplicate",
    },
    {
      what: "authorize egress",
      rules: changes.authorizeEgress,
      call: (input) => ec2.authorizeSecurityGroupEgress(input),
      alreadySo: "InvalidPermission.Duplicate",
    },
  ];
  for (const { what, rules, call, alreadySo } of operations) {
    if (rules.length === 0) continue;
    await ec2Mutation(context, `${what} of ${groupId}`, (DryRun) =>
      call({ DryRun, GroupId: groupId, IpPermissions: rules.map(toPermission) }).catch(ignore([alreadySo])),
    );
  }
  return groupId;
}

function ignore(codes: readonly string[]) {
  return (error: unknown): undefined => {
    if (isAlreadyDone(error, codes)) return undefined;
    throw error;
  };
}
