import { StepFailedError } from "../errors";
import type { InstanceFinding } from "../findingEvent";
import { type NetworkInterfaceFacts, type SecurityGroupPair, recordedInstance } from "../incidentRecord";
import { instanceFactsOf, requireInstance } from "../instanceDescription";
import { ec2Mutation, whileNotYetVisible, type ResponseContext } from "../responseContext";
import { ensureOnDemandGroup } from "../securityGroups";
import type { VpcSecurityGroups } from "../settings";
import { done, type StepResult } from "./stepResult";

/** The configured untrack + isolation pair of a VPC, or undefined when the handler must make one (pure). */
export function configuredPair(vpcId: string, groups: VpcSecurityGroups): SecurityGroupPair | undefined {
  const configured = groups[vpcId];
  if (configured?.untrack === undefined || configured.isolation === undefined) return undefined;
  return { untrack: configured.untrack, isolation: configured.isolation, createdOnDemand: false };
}

/**
 * The ENIs of the first wave (pure): the finding's list, as confirmed by the acceptance describe. An ENI the
 * finding names that is no longer attached to the instance is left alone: it may belong to another instance now.
 */
export function interfacesToIsolate(
  finding: InstanceFinding,
  described: readonly NetworkInterfaceFacts[],
): NetworkInterfaceFacts[] {
  if (described.length === 0) {
    return finding.networkInterfaces.flatMap((eni) =>
      eni.vpcId === undefined
        ? []
        : [
            {
              networkInterfaceId: eni.networkInterfaceId,
              vpcId: eni.vpcId,
              originalGroupIds: eni.securityGroupIds,
            },
          ],
    );
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
 * The groups an ENI had before the responder touched it (pure). A resumed response may see the ENI already
 * in the untrack or isolation group: those are ours, so the finding's record of the ENI is used instead.
 */
export function originalGroupsOf(
  liveGroupIds: readonly string[],
  findingGroupIds: readonly string[] | undefined,
  responderGroupIds: ReadonlySet<string>,
): string[] {
  if (liveGroupIds.some((id) => responderGroupIds.has(id))) return [...(findingGroupIds ?? [])];
  return [...liveGroupIds];
}

const MAX_FIX_UP_ROUNDS = 3;

/** ENIs of the instance that sit exactly in their VPC's isolation group now (for a resumed attempt). */
async function isolatedInterfaces(
  context: ResponseContext,
  pairs: Readonly<Record<string, SecurityGroupPair>>,
): Promise<Set<string>> {
  const live = instanceFactsOf(await requireInstance(context.aws, context.record.instanceId));
  const views = live.networkInterfaces.map((eni) => ({
    networkInterfaceId: eni.networkInterfaceId,
    vpcId: eni.vpcId,
    groupIds: eni.originalGroupIds,
  }));
  const pending = new Set(interfacesNeedingIsolation(views, pairs));
  return new Set(views.map((eni) => eni.networkInterfaceId).filter((id) => !pending.has(id)));
}

/**
 * Step 2: network containment, the critical path. Every ENI goes untrack -> isolation, all ENIs in parallel,
 * with no describe call before the first change (the ENIs come from the finding, confirmed at acceptance).
 * Then the instance is described and any ENI that is not isolated yet (attached meanwhile, or missed) is fixed.
 */
export async function isolateNetwork(context: ResponseContext): Promise<StepResult> {
  const { record, settings } = context;
  const instance = recordedInstance(record);
  const pairs: Record<string, SecurityGroupPair> = { ...(record.facts.isolationGroups ?? {}) };
  const wouldMove: string[] = [];

  // One lookup per VPC, shared by that VPC's ENIs (they are isolated in parallel).
  const pairLookups = new Map<string, Promise<SecurityGroupPair | undefined>>();
  const pairFor = (vpcId: string): Promise<SecurityGroupPair | undefined> => {
    let lookup = pairLookups.get(vpcId);
    if (lookup === undefined) {
      lookup = (async () => {
        const known = pairs[vpcId] ?? configuredPair(vpcId, settings.vpcSecurityGroups);
        if (known !== undefined) return (pairs[vpcId] = known);
        const [untrack, isolation] = await Promise.all([
          ensureOnDemandGroup(context, vpcId, "untrack"),
          ensureOnDemandGroup(context, vpcId, "isolation"),
        ]);
        if (untrack === undefined || isolation === undefined) return undefined; // dry run: groups not made
        return (pairs[vpcId] = { untrack, isolation, createdOnDemand: true });
      })();
      pairLookups.set(vpcId, lookup);
    }
    return lookup;
  };

  const move = (networkInterfaceId: string, groupId: string) =>
    ec2Mutation(context, `move ${networkInterfaceId} to ${groupId}`, (DryRun) =>
      // An on-demand group may not be visible yet right after its creation.
      whileNotYetVisible(["InvalidGroup.NotFound"], () =>
        context.aws.ec2.modifyNetworkInterfaceAttribute({
          DryRun,
          NetworkInterfaceId: networkInterfaceId,
          Groups: [groupId],
        }),
      ),
    );
  // ENIs that went through the untrack hop in this invocation: a later pass (a stale describe) only re-applies
  // the isolation group, never the untrack group again, which would re-open the ENI for a moment.
  const hopped = new Set<string>();
  const isolate = async (networkInterfaceId: string, vpcId: string): Promise<void> => {
    const pair = await pairFor(vpcId);
    if (pair === undefined) {
      wouldMove.push(networkInterfaceId);
      return;
    }
    if (!hopped.has(networkInterfaceId)) {
      await move(networkInterfaceId, pair.untrack);
      hopped.add(networkInterfaceId);
    }
    await move(networkInterfaceId, pair.isolation);
  };

  // First attempt: no describe before the first change (the critical path). A resumed attempt looks first, so
  // ENIs already isolated by the crashed attempt are not moved through the untrack group again.
  for (const eni of instance.networkInterfaces) {
    const configured = configuredPair(eni.vpcId, settings.vpcSecurityGroups);
    if (pairs[eni.vpcId] === undefined && configured !== undefined) pairs[eni.vpcId] = configured;
  }
  const alreadyIsolated = context.resumed ? await isolatedInterfaces(context, pairs) : new Set<string>();
  const firstWave = interfacesToIsolate(record.finding, instance.networkInterfaces).filter(
    (eni) => !alreadyIsolated.has(eni.networkInterfaceId),
  );
  await Promise.all(firstWave.map((eni) => isolate(eni.networkInterfaceId, eni.vpcId)));
  record.facts.isolationGroups = pairs;

  // Verify against the live instance and fix up what the finding did not list.
  const responderGroups = new Set(Object.values(pairs).flatMap((pair) => [pair.untrack, pair.isolation]));
  const findingGroups = new Map(
    record.finding.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.securityGroupIds]),
  );
  let fixedUp: string[] = [];
  for (let round = 0; !settings.dryRun; round += 1) {
    const live = instanceFactsOf(await requireInstance(context.aws, record.instanceId));
    const liveViews = live.networkInterfaces.map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId,
      vpcId: eni.vpcId,
      groupIds: eni.originalGroupIds,
    }));
    const pending = interfacesNeedingIsolation(liveViews, pairs);
    if (pending.length === 0) break;
    if (round === MAX_FIX_UP_ROUNDS) {
      throw new StepFailedError("isolateNetwork", {
        cause: new Error(`still not isolated: ${pending.join(", ")}`),
      });
    }
    const current = record.facts.instance ?? instance;
    const known = new Set(current.networkInterfaces.map((eni) => eni.networkInterfaceId));
    const added = live.networkInterfaces
      .filter((eni) => pending.includes(eni.networkInterfaceId) && !known.has(eni.networkInterfaceId))
      .map((eni) => ({
        ...eni,
        originalGroupIds: originalGroupsOf(
          eni.originalGroupIds,
          findingGroups.get(eni.networkInterfaceId),
          responderGroups,
        ),
      }));
    record.facts.instance = { ...current, networkInterfaces: [...current.networkInterfaces, ...added] };
    const byId = new Map(live.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.vpcId]));
    await Promise.all(pending.map((id) => isolate(id, byId.get(id) ?? instance.vpcId ?? "unknown")));
    fixedUp = [...fixedUp, ...pending];
  }

  const isolated = [...alreadyIsolated, ...firstWave.map((eni) => eni.networkInterfaceId)];
  const onDemand = Object.entries(pairs)
    .filter(([, pair]) => pair.createdOnDemand)
    .map(([vpcId]) => vpcId);
  const count = new Set([...isolated, ...fixedUp]).size;
  const verb = settings.dryRun ? "would isolate" : "isolated";
  return done(
    `${count} ENI${count === 1 ? "" : "s"} ${verb}${onDemand.length > 0 ? " (groups created on demand)" : ""}`,
    {
      networkInterfaces: isolated,
      fixedUp,
      groupsCreatedOnDemandIn: onDemand,
      ...(wouldMove.length > 0 ? { wouldMoveToOnDemandGroups: wouldMove } : {}),
    },
  );
}
