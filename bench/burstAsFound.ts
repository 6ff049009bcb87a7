// Issue 14: an organisation-wide worm. ORG_WIDE_BURST instances of one fleet are flagged at once, each finding
// answered by its own Lambda environment (bench/burstRun.ts), with the untrack hop (the stack's default) and EC2's
// and Step Functions' documented throttling, at time scale 1 (containment again). The run watches until every
// instance's as-found set has been requested (its as-found CreateSnapshots answered), then stops the executions as
// the isolation runs do: what comes after (memory, stop, workstation) is the completion runs' business. Both
// milestones, all isolated and all as-found sets requested, are held against the floor the documented buckets allow
// for the calls the responses actually made (bench/bucketFloor.ts, bench/burstAsFoundFigures.ts).
import type { CallRecord, Simulator } from "../simulator";
import { stepFunctionsApiLimits } from "../simulator/services/stepFunctions";
import { bucketFloor, type BucketDemand, type DemandFloor } from "./bucketFloor";
import { measureBurst, type BurstRunFigures } from "./burst";
import { isolationTimes } from "./burstFigures";
import {
  asFoundRequestTimes,
  asFoundStepStarts,
  forWholeBurst,
  milestoneDemands,
  moveBucketShares,
  type BurstInstance,
} from "./burstAsFoundFigures";
import { snapshottedInstance, tagsAtCreation } from "./callLog";
import { AWS_TYPICAL_DURATIONS, TIME_SCALES, isolationSetting } from "./model";
import { median } from "./stats";
import { executionFigures } from "./workflowFigures";
import { instanceIdOfIncident } from "../handler/incidentRecord";
import { TAG_EVIDENCE_SET } from "../handler/tags";

interface Spread {
  readonly medianMs?: number;
  readonly maxMs?: number;
}

function spread(values: readonly number[]): Spread {
  return values.length === 0 ? {} : { medianMs: median(values), maxMs: Math.max(...values) };
}

/** One milestone of the burst against its floor. */
interface FlooredMilestone {
  /** When the last instance reached it (simulated ms since the findings' delivery), if all did in the window. */
  readonly allMs?: number;
  readonly medianMs?: number;
  readonly reached: number;
  readonly floorMs: number;
  /** The demands behind the floor: calls made (all instances), their buckets, each one's floor. */
  readonly demands: readonly DemandFloor[];
}

export interface BurstAsFound extends BurstRunFigures {
  readonly size: number;
  /** Simulated ms the run would watch at most. */
  readonly windowMs: number;
  readonly isolated: FlooredMilestone;
  readonly asFoundRequested: FlooredMilestone;
  /** Findings' invocations that threw (no retry in this run: Lambda would retry them a minute later). */
  readonly failedInvocations: number;
  /** Task invocations that failed within the run (the state machine retries or catches them). */
  readonly failedTasks: number;
  /** Instances not isolated or without an as-found set within the window, or whose finding's invocation threw. */
  readonly failures: number;
  /** Successful calls of the group moves' buckets until the last isolation (or the window's end), by purpose. */
  readonly moveBucketShares: Readonly<Record<string, number>>;
  /** EC2 calls answered RequestLimitExceeded in the run, by action. */
  readonly throttledByAction: Readonly<Record<string, number>>;
  readonly taskInvocations: number;
  readonly executionsStopped: number;
  /**
   * Where the time to each as-found set went (simulated ms, median and max over the instances): from the findings'
   * delivery until the instance was isolated, until its as-found step sent its first call (the execution's start,
   * the state machine, the Task's dispatch), and from there until its CreateSnapshots was answered (the step).
   */
  readonly asFoundPath: {
    readonly isolated: Spread;
    /** Isolated until the execution's StartExecution was answered (the finding's invocation sends it last). */
    readonly isolatedToStarted: Spread;
    /** Until the state machine handed the as-found Task to the incident's Lambda environment. */
    readonly startedToDispatched: Spread;
    /** Until the step's first AWS call arrived (the worker, the pass's record read and fence). */
    readonly dispatchedToStep: Spread;
    readonly stepToRequested: Spread;
  };
  /** Wall ms the whole measurement took on this machine (fleet, responders, run, teardown). */
  readonly benchWallMs: number;
}

/**
 * True once `size` instances have an as-found CreateSnapshots answered. Reads only the calls recorded since its last
 * look, and keeps the as-found requests still in flight (a record is logged on arrival, status 0) to look at again.
 */
function everyAsFoundRequested(size: number): (sim: Simulator) => boolean {
  const done = new Set<string>();
  let inFlight: CallRecord[] = [];
  let seen = 0;
  return (sim) => {
    const calls = sim.calls;
    for (; seen < calls.length; seen += 1) {
      const call = calls[seen]!;
      if (call.action === "CreateSnapshots" && tagsAtCreation(call, TAG_EVIDENCE_SET, "as-found"))
        inFlight.push(call);
    }
    inFlight = inFlight.filter((call) => {
      const instanceId = snapshottedInstance(call);
      if (call.status === 200 && instanceId !== undefined) done.add(instanceId);
      return call.status === 0;
    });
    return done.size >= size;
  };
}

function floored(
  times: ReadonlyMap<string, number>,
  size: number,
  windowMs: number,
  demands: readonly BucketDemand[],
): FlooredMilestone {
  const within = [...times.values()].filter((at) => at <= windowMs);
  const floor = bucketFloor(forWholeBurst(demands, times.size, size));
  return {
    ...(within.length === size ? { allMs: Math.max(...within) } : {}),
    ...(within.length > 0 ? { medianMs: median(within) } : {}),
    reached: within.length,
    floorMs: floor.floorMs,
    demands: floor.demands,
  };
}

export async function measureBurstAsFound(size: number, windowMs: number): Promise<BurstAsFound> {
  const started = performance.now();
  const timeScale = TIME_SCALES.burstIsolation;
  const bench = { timeScale, durations: AWS_TYPICAL_DURATIONS, settings: isolationSetting(true) };
  const timing = {
    timeScale,
    invocationMs: windowMs / timeScale,
    retryDelaysMs: [],
    capMs: windowMs,
    until: everyAsFoundRequested(size),
  };
  const figures = await measureBurst(size, bench, timing, (harness, run) => {
    const { sim, world } = harness;
    const calls = sim.calls.slice(run.from);
    const instances: BurstInstance[] = run.workloads.map(({ created }) => created);
    const isolatedAt = isolationTimes(harness, run.workloads, run.start);
    const asFoundAt = asFoundRequestTimes(calls, run.start, instances);
    const options = {
      untrackGroup: world.untrackGroup,
      startExecution: stepFunctionsApiLimits(sim.region).StartExecution!,
    };
    const isolationDemands = milestoneDemands(calls, run.start, instances, isolatedAt, {
      ...options,
      asFound: false,
    });
    const asFoundDemands = milestoneDemands(calls, run.start, instances, asFoundAt, {
      ...options,
      asFound: true,
    });
    const isolated = floored(isolatedAt, size, windowMs, isolationDemands);
    const asFoundRequested = floored(asFoundAt, size, windowMs, asFoundDemands);
    const stepStarts = asFoundStepStarts(calls, run.start, instances);
    const started = new Map<string, number>();
    for (const call of calls)
      if (call.action === "StartExecution" && call.status === 200 && typeof call.params.name === "string")
        started.set(instanceIdOfIncident(call.params.name) ?? "", call.simEnd - run.start);
    const dispatched = new Map<string, number>();
    for (const task of run.taskDispatches)
      if (task.step === "snapshotAsFound" && !dispatched.has(task.instanceId))
        dispatched.set(task.instanceId, task.atMs);
    const path = instances.flatMap(({ instanceId }) => {
      const times = [isolatedAt, started, dispatched, stepStarts, asFoundAt].map((map) =>
        map.get(instanceId),
      );
      return times.every((at) => at !== undefined) ? [times] : [];
    });
    const between = (from: number, to: number) => spread(path.map((times) => times[to]! - times[from]!));
    const asFoundPath = {
      isolated: spread(path.map((times) => times[0]!)),
      isolatedToStarted: between(0, 1),
      startedToDispatched: between(1, 2),
      dispatchedToStep: between(2, 3),
      stepToRequested: between(3, 4),
    };
    const throttledByAction: Record<string, number> = {};
    for (const call of calls)
      if (call.errorCode === "RequestLimitExceeded")
        throttledByAction[call.action] = (throttledByAction[call.action] ?? 0) + 1;
    const failedInvocations = run.deliveries.filter((delivery) => delivery.deadLettered).length;
    const reachedBoth = (instanceId: string) =>
      (isolatedAt.get(instanceId) ?? Infinity) <= windowMs &&
      (asFoundAt.get(instanceId) ?? Infinity) <= windowMs;
    const failing = run.workloads.filter(
      ({ created }, index) =>
        !reachedBoth(created.instanceId) || run.deliveries[index]?.deadLettered === true,
    );
    const failedTasks = sim.stepFunctions.executions.reduce(
      (sum, execution) => sum + executionFigures(execution).failedTasks,
      0,
    );
    return {
      size,
      windowMs,
      isolated,
      asFoundRequested,
      failedInvocations,
      failedTasks,
      failures: failing.length,
      throttledByAction,
      moveBucketShares: moveBucketShares(calls, run.start, isolated.allMs ?? windowMs, world.untrackGroup),
      asFoundPath,
      taskInvocations: run.taskInvocations,
      executionsStopped: run.executionsStopped,
    };
  });
  return { ...figures, benchWallMs: performance.now() - started };
}
