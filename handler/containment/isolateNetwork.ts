import type { Instance } from "@aws-sdk/client-ec2";

import { checkLiveInstance } from "../acceptance/liveCheck";
import { InstanceGoneError, StepFailedError } from "../errors";
import { recordedInstance } from "../incidentRecord";
import { describeInstance, instanceFactsOf, requireInstance } from "../instanceDescription";
import type { ResponseContext } from "../responseContext";
import { done, type StepResult } from "../steps/stepResult";
import { isolate, restore, undoForRejection } from "./eniMoves";
import {
  interfacesNeedingIsolation,
  interfacesToIsolate,
  liveViewsOf,
  recordedDescription,
  withOriginalGroups,
} from "./interfaces";
import {
  learnOriginals,
  noteDescription,
  recordDescription,
  responderGroups,
  startIsolation,
  type Isolation,
} from "./isolation";

/** The containment's describes ask again while throttled (handler/throttling.ts). */
const CONTAINMENT = { whileThrottled: true };

/** Rounds of describe-and-fix-up after the first wave before the step gives up (an ENI that will not stay put). */
const MAX_FIX_UP_ROUNDS = 3;

/** What the first wave isolated, and the live description taken beside it (the fix-up's first look). */
interface FirstWave {
  readonly isolated: readonly string[];
  readonly described?: Instance;
}

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
  const isolation = startIsolation(context);
  const firstAttempt = !context.resumed && context.record.facts.instance === undefined;
  const wave = firstAttempt ? await isolateFindingFirst(isolation) : await isolateDescribed(isolation);
  context.record.facts.isolationGroups = isolation.pairs;
  const fixedUp = await fixUp(isolation, wave.described);
  return resultOf(isolation, wave.isolated, fixedUp);
}

/**
 * The critical path of a first attempt: the finding's ENIs move at once; the describe goes out once the first
 * change is answered and runs beside the isolation hop. An ENI whose own groups the finding does not know (it
 * lists none, or one of ours) waits for the describe: the fix-up isolates it with the groups it shows.
 */
async function isolateFindingFirst(isolation: Isolation): Promise<FirstWave> {
  const { record, aws, settings } = isolation.context;
  const wave = interfacesToIsolate(record.finding, [], responderGroups(isolation));
  let describing: Promise<Instance | undefined> | undefined;
  const describeOnce = (): Promise<Instance | undefined> => {
    if (describing === undefined) {
      describing = describeInstance(aws, record.instanceId, CONTAINMENT);
      // Awaited below; not an unhandled rejection meanwhile.
      describing.then(
        (instance) => noteDescription(isolation, instance),
        () => undefined,
      );
    }
    return describing;
  };
  if (wave.length === 0) void describeOnce();
  // setImmediate: the SDK's work for the describe starts after the isolation request is on its way.
  const afterFirstChange = () => void setImmediate(() => void describeOnce());
  const moves = await Promise.allSettled(
    wave.map((eni) => isolate(isolation, eni.networkInterfaceId, eni.vpcId, afterFirstChange)),
  );
  const verdict = checkLiveInstance(record.finding, await describeOnce(), settings, record.trigger);
  if (!verdict.accepted) throw await undoForRejection(isolation, verdict, [...isolation.changed]);
  recordDescription(isolation, verdict.instance);
  // An ENI the finding named that is no longer attached may belong to another instance now: moved back.
  const attached = new Set(recordedInstance(record).networkInterfaces.map((eni) => eni.networkInterfaceId));
  const strays = wave.map((eni) => eni.networkInterfaceId).filter((id) => !attached.has(id));
  await Promise.all(strays.filter((id) => isolation.changed.has(id)).map((id) => restore(isolation, id)));
  const failure = moves.find(
    (result, index): result is PromiseRejectedResult =>
      result.status === "rejected" && attached.has(wave[index]?.networkInterfaceId ?? ""),
  );
  if (failure !== undefined) {
    record.facts.isolationGroups = isolation.pairs;
    throw failure.reason;
  }
  return {
    isolated: wave.map((eni) => eni.networkInterfaceId).filter((id) => attached.has(id)),
    described: verdict.instance,
  };
}

/**
 * A resumed attempt looks first, so ENIs already isolated by the crashed attempt are not moved through the
 * untrack group again. A first attempt here is an event AWS did not send (a drill): the invocation described the
 * instance and checked it before the claim, and the claim recorded that description.
 */
async function isolateDescribed(isolation: Isolation): Promise<FirstWave> {
  const { record, aws, settings, resumed } = isolation.context;
  const live = resumed
    ? await describeInstance(aws, record.instanceId, CONTAINMENT)
    : recordedDescription(record.rawInstance);
  noteDescription(isolation, live);
  if (record.facts.instance === undefined) {
    // Claimed, then interrupted before the live check was recorded: check now, before any change.
    const verdict = checkLiveInstance(record.finding, live, settings, record.trigger);
    if (!verdict.accepted) {
      const ours = responderGroups(isolation);
      const inOurGroups = (live === undefined ? [] : liveViewsOf(live))
        .filter((eni) => eni.groupIds.some((id) => ours.has(id)))
        .map((eni) => eni.networkInterfaceId);
      throw await undoForRejection(isolation, verdict, inOurGroups);
    }
    recordDescription(isolation, verdict.instance);
  }
  if (resumed && live === undefined) throw new InstanceGoneError(record.instanceId);
  let alreadyIsolated: string[] = [];
  if (live !== undefined) {
    const pending = new Set(interfacesNeedingIsolation(liveViewsOf(live), isolation.pairs));
    alreadyIsolated = liveViewsOf(live)
      .map((eni) => eni.networkInterfaceId)
      .filter((id) => !pending.has(id));
  }
  const wave = interfacesToIsolate(record.finding, recordedInstance(record).networkInterfaces).filter(
    (eni) => !alreadyIsolated.includes(eni.networkInterfaceId),
  );
  await Promise.all(wave.map((eni) => isolate(isolation, eni.networkInterfaceId, eni.vpcId)));
  return { isolated: [...alreadyIsolated, ...wave.map((eni) => eni.networkInterfaceId)] };
}

/**
 * Verifies against the live instance and fixes up what the first wave did not isolate (ENIs the finding did not
 * list, attached meanwhile, or waiting for their groups); returns the ENIs it moved. The first round may use the
 * description taken beside the first wave: it was sent before those isolation moves were answered, so the ENIs
 * they isolated are not pending because of it.
 */
async function fixUp(isolation: Isolation, describedBesideWave: Instance | undefined): Promise<string[]> {
  const { record, aws, settings } = isolation.context;
  const findingGroups = new Map(
    record.finding.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.securityGroupIds]),
  );
  let early = describedBesideWave;
  let fixedUp: string[] = [];
  for (let round = 0; !settings.dryRun; round += 1) {
    const live = early ?? (await requireInstance(aws, record.instanceId, CONTAINMENT));
    noteDescription(isolation, live);
    const liveFacts = instanceFactsOf(live);
    const pending = interfacesNeedingIsolation(liveViewsOf(live), isolation.pairs).filter(
      (id) => early === undefined || !isolation.isolatedNow.has(id),
    );
    early = undefined;
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
      .map((eni) =>
        withOriginalGroups(eni, findingGroups.get(eni.networkInterfaceId), responderGroups(isolation)),
      );
    record.facts.instance = { ...current, networkInterfaces: [...current.networkInterfaces, ...added] };
    learnOriginals(isolation, added);
    const vpcOf = new Map(liveFacts.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.vpcId]));
    await Promise.all(
      pending.map((id) => isolate(isolation, id, vpcOf.get(id) ?? record.facts.instance?.vpcId ?? "unknown")),
    );
    fixedUp = [...fixedUp, ...pending];
  }
  return fixedUp;
}

/** The step's outcome and detail (pure). */
function resultOf(isolation: Isolation, isolated: readonly string[], fixedUp: readonly string[]): StepResult {
  const { settings } = isolation.context;
  const onDemand = Object.entries(isolation.pairs)
    .filter(([, pair]) => pair.createdOnDemand)
    .map(([vpcId]) => vpcId);
  const count = new Set([...isolated, ...fixedUp]).size;
  const verb = settings.dryRun ? "would isolate" : "isolated";
  const movedBack = [...isolation.restored.values()];
  const { wouldMove, isolatedByInstanceCall } = isolation;
  return done(
    `${count} ENI${count === 1 ? "" : "s"} ${verb}${onDemand.length > 0 ? " (groups created on demand)" : ""}`,
    {
      networkInterfaces: [...isolated],
      fixedUp: [...fixedUp],
      groupsCreatedOnDemandIn: onDemand,
      ...(wouldMove.length > 0 ? { wouldMoveToOnDemandGroups: wouldMove } : {}),
      ...(movedBack.length > 0 ? { movedBackNotAttached: movedBack } : {}),
      ...(isolatedByInstanceCall.length > 0 ? { isolatedByInstanceAttribute: isolatedByInstanceCall } : {}),
    },
  );
}
