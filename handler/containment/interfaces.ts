// Which ENIs isolateNetwork moves, and the groups each goes back to (pure).
import type { Instance } from "@aws-sdk/client-ec2";

import type { InstanceFinding } from "../acceptance/finding";
import type { InstanceFacts, NetworkInterfaceFacts, SecurityGroupPair } from "../incidentRecord";
import { instanceFactsOf } from "../instanceDescription";
import { responderGroupIdsNamedIn } from "../securityGroups";

/**
 * An ENI's groups as the finding lists them, when they can be its original groups (pure): each once, and none
 * of the responder's own. Undefined when the finding lists none or one of ours: the finding then does not know
 * the ENI's own groups, and the ENI is not moved before the live description says what they are.
 */
export function usableFindingGroups(
  findingGroupIds: readonly string[] | undefined,
  responderGroupIds: ReadonlySet<string>,
): string[] | undefined {
  const groups = [...new Set(findingGroupIds ?? [])];
  if (groups.length === 0 || groups.some((id) => responderGroupIds.has(id))) return undefined;
  return groups;
}

/**
 * The ENIs of the first wave (pure): on a first attempt (nothing described yet) the finding's ENIs whose own
 * groups the finding knows, moved before any describe (the others wait for the describe: moving an ENI whose
 * original groups are unknown would leave nothing to restore it to); on a resumed attempt the ENIs the
 * recorded description holds.
 */
export function interfacesToIsolate(
  finding: InstanceFinding,
  described: readonly NetworkInterfaceFacts[],
  responderGroupIds: ReadonlySet<string> = new Set(),
): NetworkInterfaceFacts[] {
  if (described.length === 0) {
    return finding.networkInterfaces.flatMap((eni) => {
      const originalGroupIds = usableFindingGroups(eni.securityGroupIds, responderGroupIds);
      return eni.vpcId === undefined || originalGroupIds === undefined
        ? []
        : [{ networkInterfaceId: eni.networkInterfaceId, vpcId: eni.vpcId, originalGroupIds }];
    });
  }
  return [...described];
}

/** ENIs whose groups are not exactly their VPC's isolation group (pure): the fix-up list after the first wave. */
export function interfacesNeedingIsolation(
  live: readonly { networkInterfaceId: string; vpcId: string; groupIds: readonly string[] }[],
  pairs: Readonly<Record<string, SecurityGroupPair>>,
): string[] {
  return live
    .filter((eni) => {
      const isolation = pairs[eni.vpcId]?.isolation;
      return !(eni.groupIds.length === 1 && eni.groupIds[0] === isolation);
    })
    .map((eni) => eni.networkInterfaceId);
}

/**
 * The groups an ENI had before the responder touched it (pure): each once, never one of the responder's own.
 * The describe taken with the first change, or a resumed response's, may see the ENI already in the untrack or
 * isolation group: those are ours, so the finding's record of the ENI is used instead, when it has a usable
 * one. Empty when neither knows (the ENI was in our groups before GuardDuty looked).
 */
export function originalGroupsOf(
  liveGroupIds: readonly string[],
  findingGroupIds: readonly string[] | undefined,
  responderGroupIds: ReadonlySet<string>,
): string[] {
  return (
    usableFindingGroups(liveGroupIds, responderGroupIds) ??
    usableFindingGroups(findingGroupIds, responderGroupIds) ??
    []
  );
}

/** An ENI's facts with its original groups (originalGroupsOf), and why they are unknown when they are (pure). */
export function withOriginalGroups(
  eni: NetworkInterfaceFacts,
  findingGroupIds: readonly string[] | undefined,
  responderGroupIds: ReadonlySet<string>,
): NetworkInterfaceFacts {
  const rest: NetworkInterfaceFacts = { ...eni };
  delete (rest as { originalGroupsUnknown?: string }).originalGroupsUnknown;
  const originalGroupIds = originalGroupsOf(eni.originalGroupIds, findingGroupIds, responderGroupIds);
  if (originalGroupIds.length > 0) return { ...rest, originalGroupIds };
  return {
    ...rest,
    originalGroupIds,
    originalGroupsUnknown:
      "the live description shows the ENI in the responder's groups (or in none) and the finding lists none of its own",
  };
}

/** The instance's ENIs as a live view (groups as they are now), for interfacesNeedingIsolation. */
export function liveViewsOf(instance: Instance) {
  return instanceFactsOf(instance).networkInterfaces.map((eni) => ({
    networkInterfaceId: eni.networkInterfaceId,
    vpcId: eni.vpcId,
    groupIds: eni.originalGroupIds,
  }));
}

/**
 * The facts of a live description, each ENI with the groups it had before the responder touched it (pure).
 * The responder's groups are the ones given and the ones the description names as the handler names its
 * on-demand groups.
 */
export function factsWithOriginalGroups(
  instance: Instance,
  finding: InstanceFinding,
  responderGroupIds: ReadonlySet<string>,
): InstanceFacts {
  const facts = instanceFactsOf(instance);
  const ours = new Set([...responderGroupIds, ...responderGroupIdsNamedIn(instance.NetworkInterfaces)]);
  const fromFinding = new Map(
    finding.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.securityGroupIds]),
  );
  return {
    ...facts,
    networkInterfaces: facts.networkInterfaces.map((eni) =>
      withOriginalGroups(eni, fromFinding.get(eni.networkInterfaceId), ours),
    ),
  };
}

/** The description a claim recorded (record.rawInstance), or undefined when there is none or it is unreadable. */
export function recordedDescription(rawInstance: string | undefined): Instance | undefined {
  if (rawInstance === undefined) return undefined;
  try {
    const parsed = JSON.parse(rawInstance) as unknown;
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}
