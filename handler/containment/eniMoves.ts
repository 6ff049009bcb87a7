// The ENI moves of isolateNetwork: into the untrack group, into the isolation group, and back to the original
// groups. Each works on the pass's Isolation state.
import { describeError, LateRejectionError, StepFailedError, type RestoredInterface } from "../errors";
import type { Rejection } from "../acceptance/acceptance";
import type { SecurityGroupPair } from "../incidentRecord";
import { ec2Mutation, whileNotYetVisible, type Mutation, type ResponseContext } from "../responseContext";
import { sleep } from "../retry";
import {
  askWhileThrottled,
  attemptVerdict,
  CONTAINMENT_THROTTLED_WINDOW_MS,
  jitteredMs,
  TRANSIENT_RETRIES,
} from "../throttling";
import { usableFindingGroups } from "./interfaces";
import { pairFor, responderGroups, type Isolation } from "./isolation";

/**
 * How long a throttled isolation move after an untrack hop is asked again: EC2 refills its buckets every second,
 * so a minute outlasts any burst the documented buckets allow; the Lambda's timeout is longer (infra/config.ts).
 */
const THROTTLED_ISOLATION_WINDOW_MS = 60_000;

/**
 * The pause between two rounds of a throttled isolation move (pure; `random` in [0, 1)): short, because the ENI
 * waits in the allow-all group meanwhile, and jittered, so the responders of a burst do not ask in lockstep.
 * EC2 refills a bucket every second; a throttled request takes no token, so asking often costs nothing.
 */
export function throttledIsolationPauseMs(random: number = Math.random()): number {
  return jitteredMs(100, 200, random);
}

/**
 * The pause between two rounds of a throttled first move (pure; `random` in [0, 1)): three times the isolation
 * move's, so in a burst the ENIs already in the allow-all group get the bucket's tokens first (ten times was no
 * better: bench/README.md, "Evidence as found").
 */
export function throttledFirstMovePauseMs(random: number = Math.random()): number {
  return 3 * throttledIsolationPauseMs(random);
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

/**
 * Moves an ENI into exactly these groups (checked only, in dry run): through the SDK's retries, or, for an ENI's
 * first move (`firstMove`), through the client without them, asked again after jittered pauses while throttled
 * for up to CONTAINMENT_THROTTLED_WINDOW_MS (in a burst the ENIs of hundreds of instances share
 * ModifyNetworkInterfaceAttribute's bucket, and the SDK's retries give up long before it refills; while it waits the
 * ENI is in its original groups, no worse than before the response), a few times after a server error or a lost
 * answer (setting an ENI's groups twice is harmless), and given up on anything else.
 */
function move(
  context: ResponseContext,
  networkInterfaceId: string,
  groupIds: readonly string[],
  { firstMove = false } = {},
): Promise<Mutation<unknown>> {
  return ec2Mutation(context, `move ${networkInterfaceId} to ${groupIds.join(",")}`, (DryRun) =>
    // An on-demand group may not be visible yet right after its creation.
    whileNotYetVisible(["InvalidGroup.NotFound"], () => {
      const request = { DryRun, NetworkInterfaceId: networkInterfaceId, Groups: [...groupIds] };
      return firstMove
        ? askWhileThrottled(
            () => context.aws.ec2Unretried.modifyNetworkInterfaceAttribute(request),
            CONTAINMENT_THROTTLED_WINDOW_MS,
            throttledFirstMovePauseMs,
          )
        : context.aws.ec2.modifyNetworkInterfaceAttribute(request);
    }),
  );
}

/**
 * Moves an ENI back to the groups it had before the response, once (a repeat answers the first outcome unless
 * that one failed). Never "restored" into nothing (EC2 would refuse) or into one of our groups (the untrack group
 * is open to everything): such an ENI stays, with the problem said.
 */
export async function restore(isolation: Isolation, networkInterfaceId: string): Promise<RestoredInterface> {
  const earlier = isolation.restored.get(networkInterfaceId);
  if (earlier !== undefined && earlier.problem === undefined) return earlier;
  const groupIds = isolation.originals.get(networkInterfaceId) ?? [];
  let outcome: RestoredInterface;
  if (usableFindingGroups(groupIds, responderGroups(isolation)) === undefined) {
    outcome = { networkInterfaceId, groupIds: [], problem: "original groups unknown" };
  } else {
    try {
      await move(isolation.context, networkInterfaceId, groupIds);
      outcome = { networkInterfaceId, groupIds };
    } catch (error) {
      outcome = { networkInterfaceId, groupIds, problem: describeError(error) };
    }
  }
  isolation.restored.set(networkInterfaceId, outcome);
  return outcome;
}

/**
 * The isolation move after an untrack hop. Until it lands the ENI is in the allow-all group, more open than
 * before the response, so it must not sit out the SDK's exponential back-off: in a burst the untrack moves take
 * the whole ModifyNetworkInterfaceAttribute bucket, and every isolation move after them is throttled. It goes
 * through the client without SDK retries, and a throttled attempt is asked again after a short jittered pause
 * for up to THROTTLED_ISOLATION_WINDOW_MS; then the last error goes to the caller's failure path (back to the
 * original groups). Where the ENI is the instance's only interface, each round also tries ModifyInstanceAttribute
 * Groups, which draws from another bucket (mutating actions) and sets the same interface's groups. The attempts
 * are strictly sequential: each is answered before the next is sent, so the first to succeed ends it and no
 * request of ours is still on its way when the caller moves on (a restore, a release). Both calls set the
 * isolation group, and the untrack move was answered before the first of them: nothing can put the ENI back
 * into the untrack group after it is isolated.
 */
function isolateAfterHop(
  isolation: Isolation,
  networkInterfaceId: string,
  isolationGroup: string,
): Promise<void> {
  const { aws, record, logger } = isolation.context;
  // An on-demand group may not be visible yet right after its creation.
  return whileNotYetVisible(["InvalidGroup.NotFound"], async () => {
    const askUntil = Date.now() + THROTTLED_ISOLATION_WINDOW_MS;
    let instanceCallUsable = true;
    let transientLeft = TRANSIENT_RETRIES;
    for (;;) {
      let lastError: unknown;
      try {
        await aws.ec2Unretried.modifyNetworkInterfaceAttribute({
          NetworkInterfaceId: networkInterfaceId,
          Groups: [isolationGroup],
        });
        return;
      } catch (error) {
        const verdict = attemptVerdict(error);
        if (verdict === "final" || (verdict === "transient" && (transientLeft -= 1) < 0)) throw error;
        lastError = error;
      }
      if (instanceCallUsable && isSoleInterface(isolation.attachedNow, networkInterfaceId)) {
        try {
          await aws.ec2Unretried.modifyInstanceAttribute({
            InstanceId: record.instanceId,
            Groups: [isolationGroup],
          });
          isolation.isolatedByInstanceCall.push(networkInterfaceId);
          return;
        } catch (error) {
          // Anything but throttling (EC2 says the instance has several interfaces by now, the call is refused,
          // a lost answer) ends this route: the ENI's own move stays, and it is the one that reports.
          if (attemptVerdict(error) !== "throttled") {
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
}

/**
 * Isolates one ENI: through its VPC's untrack group, then into the isolation group (straight in with
 * CUT_TRACKED_CONNECTIONS=false, or when this pass already took it through the untrack group).
 * `afterFirstChange` runs once the first move is answered and the isolation move is on its way (or the ENI
 * failed before): the first wave sends its describe then. An ENI whose isolation move fails after its untrack
 * hop leaves the allow-all group at once, back to its original groups (recorded in facts.untrackExits), and the
 * error propagates: Lambda's retry isolates it.
 */
export async function isolate(
  isolation: Isolation,
  networkInterfaceId: string,
  vpcId: string,
  afterFirstChange: () => void = () => undefined,
): Promise<void> {
  const { context } = isolation;
  let pair: SecurityGroupPair | undefined;
  let untrackedNow = false;
  try {
    pair = await pairFor(isolation, vpcId);
    if (pair === undefined) {
      isolation.wouldMove.push(networkInterfaceId);
      afterFirstChange();
      return;
    }
    if (context.settings.cutTrackedConnections && !isolation.hopped.has(networkInterfaceId)) {
      // While it waits the ENI is still in its original groups (no worse than before the response); in a burst it
      // gives way to the isolation moves, which ask three times as often (isolateAfterHop).
      const untracked = await move(context, networkInterfaceId, [pair.untrack], { firstMove: true });
      isolation.hopped.add(networkInterfaceId);
      untrackedNow = untracked.made;
      if (untracked.made) isolation.changed.add(networkInterfaceId);
    }
  } catch (error) {
    afterFirstChange();
    throw error;
  }
  // The isolation move is sent first; whatever waits for the first change comes after it.
  const isolating = untrackedNow
    ? isolateAfterHop(isolation, networkInterfaceId, pair.isolation).then(() => ({ made: true }))
    : move(context, networkInterfaceId, [pair.isolation], { firstMove: true });
  afterFirstChange();
  try {
    const isolated = await isolating;
    if (isolated.made) isolation.changed.add(networkInterfaceId);
    isolation.isolatedNow.add(networkInterfaceId);
  } catch (error) {
    // The allow-all untrack group is more open than anything before the response: an ENI whose isolation
    // cannot be made now leaves it at once, back to its original groups, and Lambda's retry isolates it.
    if (untrackedNow) {
      const exit = await restore(isolation, networkInterfaceId);
      (context.record.facts.untrackExits ??= []).push({ ...exit, at: new Date().toISOString() });
      context.logger.warn("isolation move failed: ENI moved out of the untrack group", {
        networkInterfaceId,
        error: describeError(error),
        exit,
      });
    }
    throw error;
  }
}

/** What a move back answers when the ENI no longer exists: nothing is left to move back. */
const ENI_GONE = ["InvalidNetworkInterfaceID.NotFound", "InvalidNetworkInterfaceId.NotFound"];

/**
 * The error that ends a late-rejected response: these ENIs go back to their original groups, then
 * LateRejectionError (the incident is released). An ENI that could not be moved back (and still exists) makes
 * it a StepFailedError instead: Lambda's retry looks first and moves it back.
 */
export async function undoForRejection(
  isolation: Isolation,
  rejection: Rejection,
  toRestore: readonly string[],
): Promise<Error> {
  const results = await Promise.all(toRestore.map((id) => restore(isolation, id)));
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
}
