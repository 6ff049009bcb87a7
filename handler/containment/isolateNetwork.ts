import type { Instance } from "@aws-sdk/client-ec2";

import {
  awsErrorCode,
  describeError,
  InstanceGoneError,
  LateRejectionError,
  StepFailedError,
  THROTTLING_CODES,
  type RestoredInterface,
} from "../errors";
import type { Acceptance, InstanceFinding } from "../findingEvent";
import {
  type InstanceFacts,
  type NetworkInterfaceFacts,
  type SecurityGroupPair,
  recordedInstance,
} from "../incidentRecord";
import { describeInstance, instanceFactsOf, requireInstance } from "../instanceDescription";
import { ec2Mutation, sleep, whileNotYetVisible, type ResponseContext } from "../responseContext";
import {
  configuredResponderGroupIds,
  ensureOnDemandGroup,
  responderGroupIdsNamedIn,
} from "../securityGroups";
import type { VpcSecurityGroups } from "../settings";
import { acceptLiveDescription } from "./acceptEvent";
import { done, type StepResult } from "./stepResult";

/** The configured untrack + isolation pair of a VPC, or undefined when the handler must make one (pure). */
export function configuredPair(vpcId: string, groups: VpcSecurityGroups): SecurityGroupPair | undefined {
  const configured = groups[vpcId];
  if (configured?.untrack === undefined || configured.isolation === undefined) return undefined;
  return { untrack: configured.untrack, isolation: configured.isolation, createdOnDemand: false };
}

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
function liveViewsOf(instance: Instance) {
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

/**
 * What a failed attempt of the isolation move after an untrack hop means (pure): "throttled" (ask again soon,
 * for up to THROTTLED_ISOLATION_WINDOW_MS), "transient" (a server error or a lost connection: ask again a few
 * times, as the SDK would) or "final" (anything else, including the responder's own control flow).
 */
export function isolationAttemptVerdict(error: unknown): "throttled" | "transient" | "final" {
  if (!(error instanceof Error)) return "final";
  if (THROTTLING_CODES.includes(awsErrorCode(error) ?? "")) return "throttled";
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (typeof status !== "number" || status >= 500) return "transient";
  return "final";
}

/**
 * How long a throttled isolation move after an untrack hop is asked again: EC2 refills its buckets every second,
 * so a minute outlasts any burst the documented buckets allow; the Lambda's timeout is longer (infra/config.ts).
 */
export const THROTTLED_ISOLATION_WINDOW_MS = 60_000;

/**
 * The pause between two rounds of a throttled isolation move (pure; `random` in [0, 1)): short, because the ENI
 * waits in the allow-all group meanwhile, and jittered, so the responders of a burst do not ask in lockstep.
 * EC2 refills a bucket every second; a throttled request takes no token, so asking often costs nothing.
 */
export function throttledIsolationPauseMs(random: number = Math.random()): number {
  return 100 + Math.floor(Math.min(Math.max(random, 0), 0.999) * 200);
}

/**
 * Whether ModifyInstanceAttribute Groups may stand in for moving this ENI (pure): only when the latest live
 * description shows it as the instance's one and only interface. That call changes the instance's primary
 * interface, so on any other instance it would change a different ENI (or EC2 refuses it: several interfaces).
 */
export function isSoleInterface(
  attached: readonly string[] | undefined,
  networkInterfaceId: string,
): boolean {
  return attached?.length === 1 && attached[0] === networkInterfaceId;
}

/** Server errors and lost connections the isolation move after an untrack hop retries itself. */
const TRANSIENT_RETRIES = 3;

type Rejection = Extract<Acceptance, { accepted: false }>;

const ENI_GONE = ["InvalidNetworkInterfaceID.NotFound", "InvalidNetworkInterfaceId.NotFound"];

const MAX_FIX_UP_ROUNDS = 3;

/**
 * Step 2: network containment, the critical path. Every ENI goes untrack -> isolation, all ENIs in parallel.
 * A first attempt starts with the ENIs the finding lists: no AWS call before the first change. The live
 * DescribeInstances runs beside the isolation hop (sent once the first change is answered, so nothing precedes
 * or delays that change), and its answer is the late half of acceptance: an instance that is gone, excluded or
 * responder-made since the finding has every ENI moved back to its original groups and the incident is released
 * (LateRejectionError). Otherwise that description becomes the record's facts, and any ENI not isolated yet
 * (not in the finding, attached meanwhile) is fixed up. A resumed attempt looks first instead, so an ENI already
 * isolated is never moved back through the untrack group.
 */
export async function isolateNetwork(context: ResponseContext): Promise<StepResult> {
  const { record, settings, aws, logger } = context;
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
  // The responder's own groups: the stack's (untrack, isolation, forensic), the pairs in use, and any a
  // description names as the handler names its on-demand groups. Never an ENI's original group.
  const namedOurs = new Set<string>();
  const responderGroups = (): Set<string> =>
    new Set([
      ...configuredResponderGroupIds(settings.vpcSecurityGroups),
      ...Object.values(pairs).flatMap((pair) => [pair.untrack, pair.isolation]),
      ...namedOurs,
    ]);

  const move = (networkInterfaceId: string, groupIds: readonly string[]) =>
    ec2Mutation(context, `move ${networkInterfaceId} to ${groupIds.join(",")}`, (DryRun) =>
      // An on-demand group may not be visible yet right after its creation.
      whileNotYetVisible(["InvalidGroup.NotFound"], () =>
        context.aws.ec2.modifyNetworkInterfaceAttribute({
          DryRun,
          NetworkInterfaceId: networkInterfaceId,
          Groups: [...groupIds],
        }),
      ),
    );

  // The groups each ENI had before the response: the recorded description, else the finding (when it knows).
  const originals = new Map<string, readonly string[]>();
  const learnOriginals = (interfaces: readonly NetworkInterfaceFacts[]) => {
    for (const eni of interfaces) originals.set(eni.networkInterfaceId, eni.originalGroupIds);
  };
  for (const eni of record.finding.networkInterfaces) {
    const usable = usableFindingGroups(eni.securityGroupIds, responderGroups());
    if (usable !== undefined) originals.set(eni.networkInterfaceId, usable);
  }
  learnOriginals(record.facts.instance?.networkInterfaces ?? []);

  // ENIs this invocation changed (not in dry run): what a late rejection moves back.
  const changed = new Set<string>();
  const restored = new Map<string, RestoredInterface>();
  const restore = async (networkInterfaceId: string): Promise<RestoredInterface> => {
    const earlier = restored.get(networkInterfaceId);
    if (earlier !== undefined && earlier.problem === undefined) return earlier;
    const groupIds = originals.get(networkInterfaceId) ?? [];
    let outcome: RestoredInterface;
    if (usableFindingGroups(groupIds, responderGroups()) === undefined) {
      // Never "restored" into nothing (EC2 would refuse) or into one of our groups (the untrack group is open
      // to everything).
      outcome = { networkInterfaceId, groupIds: [], problem: "original groups unknown" };
    } else {
      try {
        await move(networkInterfaceId, groupIds);
        outcome = { networkInterfaceId, groupIds };
      } catch (error) {
        outcome = { networkInterfaceId, groupIds, problem: describeError(error) };
      }
    }
    restored.set(networkInterfaceId, outcome);
    return outcome;
  };

  // The instance's interfaces per the latest live description (undefined until one is in): whether the
  // instance-level call may stand in for an ENI move.
  let attachedNow: readonly string[] | undefined;
  const noteDescription = (instance: Instance | undefined) => {
    if (instance !== undefined) {
      attachedNow = (instance.NetworkInterfaces ?? []).flatMap((eni) =>
        eni.NetworkInterfaceId === undefined ? [] : [eni.NetworkInterfaceId],
      );
      for (const id of responderGroupIdsNamedIn(instance.NetworkInterfaces)) namedOurs.add(id);
    }
  };
  const isolatedByInstanceCall: string[] = [];

  /**
   * The isolation move after an untrack hop. Until it lands the ENI is in the allow-all group, more open than
   * before the response, so it must not sit out the SDK's exponential back-off: in a burst the untrack moves take
   * the whole ModifyNetworkInterfaceAttribute bucket, and every isolation move after them is throttled. It goes
   * through the client without SDK retries, and a throttled attempt is asked again after a short jittered pause
   * for up to THROTTLED_ISOLATION_WINDOW_MS; then the last error goes to the caller's failure path (back to the original
   * groups). Where the ENI is the instance's only interface, each round also tries ModifyInstanceAttribute
   * Groups, which draws from another bucket (mutating actions) and sets the same interface's groups. The
   * attempts are strictly sequential: each is answered before the next is sent, so the first to succeed ends it
   * and no request of ours is still on its way when the caller moves on (a restore, a release). Both calls set
   * the isolation group, and the untrack move was answered before the first of them: nothing can put the ENI
   * back into the untrack group after it is isolated.
   */
  const isolateAfterHop = (networkInterfaceId: string, isolation: string): Promise<void> =>
    // An on-demand group may not be visible yet right after its creation.
    whileNotYetVisible(["InvalidGroup.NotFound"], async () => {
      const askUntil = Date.now() + THROTTLED_ISOLATION_WINDOW_MS;
      let instanceCallUsable = true;
      let transientLeft = TRANSIENT_RETRIES;
      for (;;) {
        let lastError: unknown;
        try {
          await aws.ec2Unretried.modifyNetworkInterfaceAttribute({
            NetworkInterfaceId: networkInterfaceId,
            Groups: [isolation],
          });
          return;
        } catch (error) {
          const verdict = isolationAttemptVerdict(error);
          if (verdict === "final" || (verdict === "transient" && (transientLeft -= 1) < 0)) throw error;
          lastError = error;
        }
        if (instanceCallUsable && isSoleInterface(attachedNow, networkInterfaceId)) {
          try {
            await aws.ec2Unretried.modifyInstanceAttribute({
              InstanceId: record.instanceId,
              Groups: [isolation],
            });
            isolatedByInstanceCall.push(networkInterfaceId);
            return;
          } catch (error) {
            // Anything but throttling (EC2 says the instance has several interfaces by now, the call is refused,
            // a lost answer) ends this route: the ENI's own move stays, and it is the one that reports.
            if (isolationAttemptVerdict(error) !== "throttled") {
              instanceCallUsable = false;
              logger.warn("isolation via ModifyInstanceAttribute refused: ENI moves only", {
                networkInterfaceId,
                error: describeError(error),
              });
            }
          }
        }
        if (Date.now() >= askUntil) throw lastError;
        await sleep(throttledIsolationPauseMs());
      }
    });

  // ENIs that went through the untrack hop in this invocation: a later pass (a stale describe) only re-applies
  // the isolation group, never the untrack group again, which would re-open the ENI for a moment.
  const hopped = new Set<string>();
  const isolatedNow = new Set<string>();
  const isolate = async (
    networkInterfaceId: string,
    vpcId: string,
    afterFirstChange: () => void = () => undefined,
  ): Promise<void> => {
    let pair: SecurityGroupPair | undefined;
    let untrackedNow = false;
    try {
      pair = await pairFor(vpcId);
      if (pair === undefined) {
        wouldMove.push(networkInterfaceId);
        afterFirstChange();
        return;
      }
      if (settings.cutTrackedConnections && !hopped.has(networkInterfaceId)) {
        // The untrack move keeps the SDK's retries and back-off: while it waits the ENI is still in its original
        // groups (no worse than before the response), and in a burst it gives way to the isolation moves, which
        // retry far more often (isolateAfterHop).
        const untracked = await move(networkInterfaceId, [pair.untrack]);
        hopped.add(networkInterfaceId);
        untrackedNow = untracked.made;
        if (untracked.made) changed.add(networkInterfaceId);
      }
    } catch (error) {
      afterFirstChange();
      throw error;
    }
    // The isolation move is sent first; whatever waits for the first change comes after it.
    const isolating = untrackedNow
      ? isolateAfterHop(networkInterfaceId, pair.isolation).then(() => ({ made: true }))
      : move(networkInterfaceId, [pair.isolation]);
    afterFirstChange();
    try {
      const isolated = await isolating;
      if (isolated.made) changed.add(networkInterfaceId);
      isolatedNow.add(networkInterfaceId);
    } catch (error) {
      // The allow-all untrack group is more open than anything before the response: an ENI whose isolation
      // cannot be made now leaves it at once, back to its original groups, and Lambda's retry isolates it.
      if (untrackedNow) {
        const exit = await restore(networkInterfaceId);
        (record.facts.untrackExits ??= []).push({ ...exit, at: new Date().toISOString() });
        logger.warn("isolation move failed: ENI moved out of the untrack group", {
          networkInterfaceId,
          error: describeError(error),
          exit,
        });
      }
      throw error;
    }
  };

  for (const eni of [
    ...record.finding.networkInterfaces,
    ...(record.facts.instance?.networkInterfaces ?? []),
  ]) {
    const vpcId = eni.vpcId;
    if (vpcId === undefined || pairs[vpcId] !== undefined) continue;
    const configured = configuredPair(vpcId, settings.vpcSecurityGroups);
    if (configured !== undefined) pairs[vpcId] = configured;
  }

  /**
   * The error that ends a late-rejected response: every ENI changed goes back to its original groups, then
   * LateRejectionError (the incident is released). An ENI that could not be moved back (and still exists) makes
   * it a StepFailedError instead: Lambda's retry looks first and moves it back.
   */
  const release = async (rejection: Rejection, toRestore: readonly string[]): Promise<Error> => {
    const results = await Promise.all(toRestore.map(restore));
    const stuck = results.filter(
      (result) => result.problem !== undefined && !ENI_GONE.some((code) => result.problem?.startsWith(code)),
    );
    if (stuck.length === 0) return new LateRejectionError(rejection.reason, rejection.detail, results);
    return new StepFailedError("isolateNetwork", {
      cause: new Error(
        `rejected on the live instance (${rejection.reason}) but not moved back: ${stuck
          .map((result) => `${result.networkInterfaceId} (${result.problem})`)
          .join(", ")}`,
      ),
    });
  };
  const liveVerdict = (instance: Instance | undefined): Rejection | undefined => {
    const verdict = acceptLiveDescription(record.finding, instance, settings);
    if (!verdict.accepted) return verdict;
    if (instance === undefined)
      return { accepted: false, reason: "instance-gone", detail: `instance ${record.instanceId} not found` };
    return undefined;
  };

  let firstWave: { networkInterfaceId: string; vpcId: string }[];
  let alreadyIsolated = new Set<string>();
  let described: Instance | undefined;
  const firstAttempt = !context.resumed && record.facts.instance === undefined;
  if (firstAttempt) {
    // The critical path: the finding's ENIs move at once; the describe goes out once the first change is
    // answered and runs beside the isolation hop. An ENI whose own groups the finding does not know (it lists
    // none, or one of ours) waits for the describe: the fix-up below isolates it with the groups it shows.
    firstWave = interfacesToIsolate(record.finding, [], responderGroups());
    let describing: Promise<Instance | undefined> | undefined;
    const describeOnce = (): Promise<Instance | undefined> => {
      if (describing === undefined) {
        describing = describeInstance(aws, record.instanceId);
        describing.then(noteDescription, () => undefined); // awaited below; not an unhandled rejection meanwhile
      }
      return describing;
    };
    if (firstWave.length === 0) void describeOnce();
    // setImmediate: the SDK's work for the describe starts after the isolation request is on its way.
    const afterFirstChange = () => void setImmediate(() => void describeOnce());
    const moves = await Promise.allSettled(
      firstWave.map((eni) => isolate(eni.networkInterfaceId, eni.vpcId, afterFirstChange)),
    );
    const instance = await describeOnce();
    const rejection = liveVerdict(instance);
    if (rejection !== undefined) throw await release(rejection, [...changed]);
    if (instance === undefined) throw new InstanceGoneError(record.instanceId); // liveVerdict rejected it
    record.facts.instance = factsWithOriginalGroups(instance, record.finding, responderGroups());
    record.rawInstance = JSON.stringify(instance, null, 2);
    learnOriginals(record.facts.instance.networkInterfaces);
    described = instance;
    // An ENI the finding named that is no longer attached may belong to another instance now: moved back.
    const attached = new Set(record.facts.instance.networkInterfaces.map((eni) => eni.networkInterfaceId));
    const strays = firstWave.map((eni) => eni.networkInterfaceId).filter((id) => !attached.has(id));
    await Promise.all(strays.filter((id) => changed.has(id)).map(restore));
    const failure = moves.find(
      (result, index): result is PromiseRejectedResult =>
        result.status === "rejected" && attached.has(firstWave[index]?.networkInterfaceId ?? ""),
    );
    firstWave = firstWave.filter((eni) => attached.has(eni.networkInterfaceId));
    if (failure !== undefined) {
      record.facts.isolationGroups = pairs;
      throw failure.reason;
    }
  } else {
    // A resumed attempt looks first, so ENIs already isolated by the crashed attempt are not moved through the
    // untrack group again. A first attempt here is an event AWS did not send (a drill): the invocation described
    // the instance and checked it before the claim, and the claim recorded that description.
    const live = context.resumed
      ? await describeInstance(aws, record.instanceId)
      : recordedDescription(record.rawInstance);
    noteDescription(live);
    if (record.facts.instance === undefined) {
      // Claimed, then interrupted before the live check was recorded: check now, before any change.
      const rejection = liveVerdict(live);
      if (rejection !== undefined) {
        const ours = responderGroups();
        const inOurGroups = (live === undefined ? [] : liveViewsOf(live))
          .filter((eni) => eni.groupIds.some((id) => ours.has(id)))
          .map((eni) => eni.networkInterfaceId);
        throw await release(rejection, inOurGroups);
      }
      if (live === undefined) throw new InstanceGoneError(record.instanceId); // liveVerdict rejected it
      record.facts.instance = factsWithOriginalGroups(live, record.finding, responderGroups());
      record.rawInstance = JSON.stringify(live, null, 2);
      learnOriginals(record.facts.instance.networkInterfaces);
    }
    if (context.resumed && live === undefined) throw new InstanceGoneError(record.instanceId);
    if (live !== undefined) {
      const pending = new Set(interfacesNeedingIsolation(liveViewsOf(live), pairs));
      alreadyIsolated = new Set(
        liveViewsOf(live)
          .map((eni) => eni.networkInterfaceId)
          .filter((id) => !pending.has(id)),
      );
    }
    firstWave = interfacesToIsolate(record.finding, recordedInstance(record).networkInterfaces).filter(
      (eni) => !alreadyIsolated.has(eni.networkInterfaceId),
    );
    await Promise.all(firstWave.map((eni) => isolate(eni.networkInterfaceId, eni.vpcId)));
  }
  record.facts.isolationGroups = pairs;

  // Verify against the live instance and fix up what the finding did not list. The first round may use the
  // description taken beside the first wave: it was sent before those isolation moves were answered, so the
  // ENIs they isolated are not pending because of it.
  const findingGroups = new Map(
    record.finding.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.securityGroupIds]),
  );
  let fixedUp: string[] = [];
  for (let round = 0; !settings.dryRun; round += 1) {
    const early = described;
    described = undefined;
    const live = early ?? (await requireInstance(aws, record.instanceId));
    noteDescription(live);
    const liveFacts = instanceFactsOf(live);
    const pending = interfacesNeedingIsolation(liveViewsOf(live), pairs).filter(
      (id) => early === undefined || !isolatedNow.has(id),
    );
    if (pending.length === 0) break;
    if (round === MAX_FIX_UP_ROUNDS) {
      throw new StepFailedError("isolateNetwork", {
        cause: new Error(`still not isolated: ${pending.join(", ")}`),
      });
    }
    const current = recordedInstance(record);
    const known = new Set(current.networkInterfaces.map((eni) => eni.networkInterfaceId));
    const added = liveFacts.networkInterfaces
      .filter((eni) => pending.includes(eni.networkInterfaceId) && !known.has(eni.networkInterfaceId))
      .map((eni) => withOriginalGroups(eni, findingGroups.get(eni.networkInterfaceId), responderGroups()));
    record.facts.instance = { ...current, networkInterfaces: [...current.networkInterfaces, ...added] };
    learnOriginals(added);
    const byId = new Map(liveFacts.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.vpcId]));
    await Promise.all(
      pending.map((id) => isolate(id, byId.get(id) ?? record.facts.instance?.vpcId ?? "unknown")),
    );
    fixedUp = [...fixedUp, ...pending];
  }

  const isolated = [...alreadyIsolated, ...firstWave.map((eni) => eni.networkInterfaceId)];
  const onDemand = Object.entries(pairs)
    .filter(([, pair]) => pair.createdOnDemand)
    .map(([vpcId]) => vpcId);
  const count = new Set([...isolated, ...fixedUp]).size;
  const verb = settings.dryRun ? "would isolate" : "isolated";
  const movedBack = [...restored.values()];
  return done(
    `${count} ENI${count === 1 ? "" : "s"} ${verb}${onDemand.length > 0 ? " (groups created on demand)" : ""}`,
    {
      networkInterfaces: isolated,
      fixedUp,
      groupsCreatedOnDemandIn: onDemand,
      ...(wouldMove.length > 0 ? { wouldMoveToOnDemandGroups: wouldMove } : {}),
      ...(movedBack.length > 0 ? { movedBackNotAttached: movedBack } : {}),
      ...(isolatedByInstanceCall.length > 0 ? { isolatedByInstanceAttribute: isolatedByInstanceCall } : {}),
    },
  );
}
