// The state of one isolateNetwork pass: what it knows about the ENIs and what it has done to them. The functions
// of the step (isolateNetwork.ts, eniMoves.ts) share this one object instead of closures over loose variables.
import type { Instance } from "@aws-sdk/client-ec2";

import type { RestoredInterface } from "../errors";
import type { NetworkInterfaceFacts, SecurityGroupPair } from "../incidentRecord";
import type { ResponseContext } from "../responseContext";
import {
  configuredResponderGroupIds,
  ensureOnDemandGroup,
  responderGroupIdsNamedIn,
} from "../securityGroups";
import type { VpcSecurityGroups } from "../settings";
import { factsWithOriginalGroups, usableFindingGroups } from "./interfaces";

export interface Isolation {
  readonly context: ResponseContext;
  /** The untrack + isolation pair of each VPC: recorded, configured, or made on demand. */
  readonly pairs: Record<string, SecurityGroupPair>;
  /** One pair lookup per VPC, shared by that VPC's ENIs (they are isolated in parallel). */
  readonly pairLookups: Map<string, Promise<SecurityGroupPair | undefined>>;
  /** Groups a description names as the handler names its on-demand groups: the responder's too. */
  readonly namedOurs: Set<string>;
  /** The groups each ENI had before the response: the recorded description, else the finding (when it knows). */
  readonly originals: Map<string, readonly string[]>;
  /** The instance's ENIs per the latest live description (undefined until one is in). */
  attachedNow: readonly string[] | undefined;
  /** ENIs this pass changed (not in dry run): what a late rejection moves back. */
  readonly changed: Set<string>;
  /**
   * ENIs that went through the untrack hop in this pass: a later move (a stale describe) only re-applies the
   * isolation group, never the untrack group again, which would re-open the ENI for a moment.
   */
  readonly hopped: Set<string>;
  /** ENIs this pass put into the isolation group. */
  readonly isolatedNow: Set<string>;
  /** ENIs moved back to their original groups (a late rejection, a stray, a failed isolation), and how. */
  readonly restored: Map<string, RestoredInterface>;
  /** ENIs isolated through ModifyInstanceAttribute instead of their own move (eniMoves.ts). */
  readonly isolatedByInstanceCall: string[];
  /** Dry run: ENIs of VPCs whose on-demand groups were not made. */
  readonly wouldMove: string[];
}

/** The configured untrack + isolation pair of a VPC, or undefined when the handler must make one (pure). */
export function configuredPair(vpcId: string, groups: VpcSecurityGroups): SecurityGroupPair | undefined {
  const configured = groups[vpcId];
  if (configured?.untrack === undefined || configured.isolation === undefined) return undefined;
  return { untrack: configured.untrack, isolation: configured.isolation, createdOnDemand: false };
}

/** The state at the start of a pass: the pairs and original groups the record and the settings already know. */
export function startIsolation(context: ResponseContext): Isolation {
  const { record, settings } = context;
  const isolation: Isolation = {
    context,
    pairs: { ...(record.facts.isolationGroups ?? {}) },
    pairLookups: new Map(),
    namedOurs: new Set(),
    originals: new Map(),
    attachedNow: undefined,
    changed: new Set(),
    hopped: new Set(),
    isolatedNow: new Set(),
    restored: new Map(),
    isolatedByInstanceCall: [],
    wouldMove: [],
  };
  const known = [...record.finding.networkInterfaces, ...(record.facts.instance?.networkInterfaces ?? [])];
  for (const { vpcId } of known) {
    if (vpcId === undefined || isolation.pairs[vpcId] !== undefined) continue;
    const configured = configuredPair(vpcId, settings.vpcSecurityGroups);
    if (configured !== undefined) isolation.pairs[vpcId] = configured;
  }
  for (const eni of record.finding.networkInterfaces) {
    const usable = usableFindingGroups(eni.securityGroupIds, responderGroups(isolation));
    if (usable !== undefined) isolation.originals.set(eni.networkInterfaceId, usable);
  }
  learnOriginals(isolation, record.facts.instance?.networkInterfaces ?? []);
  return isolation;
}

/**
 * The responder's own groups: the stack's (untrack, isolation, forensic), the pairs in use, and any a description
 * names as the handler names its on-demand groups. Never an ENI's original group.
 */
export function responderGroups(isolation: Isolation): Set<string> {
  return new Set([
    ...configuredResponderGroupIds(isolation.context.settings.vpcSecurityGroups),
    ...Object.values(isolation.pairs).flatMap((pair) => [pair.untrack, pair.isolation]),
    ...isolation.namedOurs,
  ]);
}

export function learnOriginals(isolation: Isolation, interfaces: readonly NetworkInterfaceFacts[]): void {
  for (const eni of interfaces) isolation.originals.set(eni.networkInterfaceId, eni.originalGroupIds);
}

/** What a live description tells the pass: the ENIs attached now, and on-demand groups of ours it names. */
export function noteDescription(isolation: Isolation, instance: Instance | undefined): void {
  if (instance === undefined) return;
  isolation.attachedNow = (instance.NetworkInterfaces ?? []).flatMap((eni) =>
    eni.NetworkInterfaceId === undefined ? [] : [eni.NetworkInterfaceId],
  );
  for (const id of responderGroupIdsNamedIn(instance.NetworkInterfaces)) isolation.namedOurs.add(id);
}

/** The accepted live description becomes the record's instance facts, each ENI with its original groups. */
export function recordDescription(isolation: Isolation, instance: Instance): void {
  const { record } = isolation.context;
  const facts = factsWithOriginalGroups(instance, record.finding, responderGroups(isolation));
  record.facts.instance = facts;
  record.rawInstance = JSON.stringify(instance, null, 2);
  learnOriginals(isolation, facts.networkInterfaces);
}

/** The VPC's untrack + isolation pair, made on demand when none is known (undefined: dry run, not made). */
export function pairFor(isolation: Isolation, vpcId: string): Promise<SecurityGroupPair | undefined> {
  let lookup = isolation.pairLookups.get(vpcId);
  if (lookup === undefined) {
    lookup = (async () => {
      const { context, pairs } = isolation;
      const known = pairs[vpcId] ?? configuredPair(vpcId, context.settings.vpcSecurityGroups);
      if (known !== undefined) return (pairs[vpcId] = known);
      const [untrack, isolationGroup] = await Promise.all([
        ensureOnDemandGroup(context, vpcId, "untrack"),
        ensureOnDemandGroup(context, vpcId, "isolation"),
      ]);
      if (untrack === undefined || isolationGroup === undefined) return undefined;
      return (pairs[vpcId] = { untrack, isolation: isolationGroup, createdOnDemand: true });
    })();
    isolation.pairLookups.set(vpcId, lookup);
  }
  return lookup;
}
