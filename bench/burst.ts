// Burst: N instances flagged at once, each finding answered by its own Lambda environment (a responder of its
// own, as concurrent Lambda invocations are), under EC2's and Step Functions' documented request throttling.
//
// The simulator (its Step Functions executions included) and the incident table run in this process; the
// responders run in worker processes (bench/burstWorker.ts), so a hundred responders' CPU does not starve the
// simulator's event loop (in AWS every invocation has a CPU of its own; here two cores are shared). The load is
// measured and printed beside each figure. Each finding's invocation contains its instance and starts the
// response's execution (StartExecution); the simulator runs the executions and invokes the function for every
// Task, and this process hands each Task to the worker that hosts the incident's environment.
//
// Two runs per size. Isolation at time scale 1 (at 1 local CPU counts as what it is instead of being multiplied):
// the executions run as they would, and when the observation window ends the ones still running are stopped
// (StopExecution). Completion at a higher time scale with AWS-typical durations, EventBridge's delivery of the
// findings (900 s per invocation, two retries about one and two minutes apart, then the dead-letter queue) and the
// state machine's own Task retries, until every execution has ended or a cap of simulated time. The isolation run
// takes the isolation mode (cutTrackedConnections): with the untrack hop (the default) or direct.
import type { Harness } from "../testkit/harness";
import { LAMBDA_RETRY_DELAYS_MS } from "../testkit/lambdaDelivery";
import {
  bucketLowerBoundMs,
  burstExecutions,
  distinctErrors,
  isolationTimes,
  startExecutionFigures,
  throttled,
  untrackStays,
  type BurstExecutions,
  type StartExecutionFigures,
} from "./burstFigures";
import { runBurst, type BurstRun, type BurstTiming } from "./burstRun";
import { observingLoad, type LoadObservation } from "./machineLoad";
import { AWS_TYPICAL_DURATIONS, TIME_SCALES, isolationSetting } from "./model";
import { LAMBDA_TIMEOUT_MS, withBench, type BenchOptions } from "./scenario";
import { median } from "./stats";

export { stopBurstWorkers } from "./burstRun";

/** What every burst run reports, the isolation run and the completion run alike. */
export interface BurstRunFigures {
  readonly timeScale: number;
  readonly throttledCalls: number;
  readonly errorSamples: readonly string[];
  readonly startExecution: StartExecutionFigures;
  /** Simulator process (this one). */
  readonly load: LoadObservation;
  /** CPU the responders used in the worker processes, ms. */
  readonly respondersCpuMs: number;
  /** The SDK's warnings in the workers that a request took over its 15 s timeout (wall): a starved loop. */
  readonly respondersRequestsOver15s: number;
}

export interface BurstIsolation extends BurstRunFigures {
  /** The isolation mode: through the untrack group (true, the default) or straight into isolation. */
  readonly cutTrackedConnections: boolean;
  /** Simulated ms the run watched (each invocation's Lambda deadline). */
  readonly windowMs: number;
  /** When the last instance was isolated, if all were within the window. */
  readonly allIsolatedMs?: number;
  readonly medianIsolatedMs?: number;
  readonly isolatedWithinWindow: number;
  /** The documented bucket allows no faster containment than this (bucketLowerBoundMs). */
  readonly bucketLowerBoundMs: number;
  /** Stays of ENIs in the allow-all untrack group (simulated ms), with the untrack hop. */
  readonly untrackStay?: { readonly medianMs: number; readonly maxMs: number; readonly count: number };
  /**
   * When the ENIs entered the untrack group (simulated ms since the findings' delivery: the untrack move answered):
   * a late entry is an untrack move sent late, or throttled and retried with the SDK's back-off; a long stay is an
   * isolation move that was throttled.
   */
  readonly untrackEntry?: { readonly medianMs: number; readonly maxMs: number };
  /** Invocations that threw within the window (Lambda would retry them a minute later). */
  readonly failedInvocations: number;
  /** Executions still running when the window ended (stopped: the observation is over). */
  readonly executionsStopped: number;
  /** Task invocations the workers ran within the window. */
  readonly taskInvocations: number;
}

export interface BurstCompletion extends BurstRunFigures {
  /** Simulated ms the run was allowed (a cap, so the benchmark ends). */
  readonly capMs: number;
  /** When the last response completed (its notification was answered), if all did within the cap. */
  readonly allDoneMs?: number;
  readonly medianDoneMs?: number;
  readonly completed: number;
  /** Responses that did not complete within the cap: dead-lettered after Lambda's two retries, or unfinished. */
  readonly failures: number;
  readonly deadLettered: number;
  /** Retries of the findings' invocations (EventBridge's asynchronous delivery). */
  readonly lambdaRetries: number;
  readonly executions: BurstExecutions;
  /** Instances whose memory dump was written (kdump-ready fleet). */
  readonly memoryDumped: number;
  /**
   * Responses whose record lists a problem other than the replacement's: the reference workload's instance profile
   * is not in the stack's replacementPassableRoleArns, so every response (before too) reports that one.
   */
  readonly withOtherProblems: number;
  /** A few of those problems, for the report. */
  readonly problemSamples: readonly string[];
}

export interface BurstResult {
  readonly size: number;
  /** With the untrack hop (the default). */
  readonly isolation: BurstIsolation;
  readonly completion: BurstCompletion;
  /** Isolation only, direct (cutTrackedConnections false): the largest burst of the run. */
  readonly directIsolation?: BurstIsolation;
}

/** A burst of `size` on a fresh bench, with the machine's load observed: the run's own figures and the shared ones. */
export async function measureBurst<T>(
  size: number,
  bench: BenchOptions,
  timing: BurstTiming,
  figures: (harness: Harness, run: BurstRun) => Promise<T> | T,
): Promise<T & BurstRunFigures> {
  return withBench(bench, async (harness) => {
    const { value: run, load } = await observingLoad(() => runBurst(harness, size, timing));
    return {
      ...(await figures(harness, run)),
      timeScale: timing.timeScale,
      throttledCalls: throttled(harness.sim, run.from),
      errorSamples: distinctErrors(run.deliveries),
      startExecution: startExecutionFigures(harness.sim, run, size),
      load,
      respondersCpuMs: run.workerCpuMs,
      respondersRequestsOver15s: run.slowRequests,
    };
  });
}

export function measureBurstIsolation(
  size: number,
  windowMs: number,
  cutTrackedConnections: boolean,
): Promise<BurstIsolation> {
  const timeScale = TIME_SCALES.burstIsolation;
  const bench = {
    timeScale,
    durations: AWS_TYPICAL_DURATIONS,
    settings: isolationSetting(cutTrackedConnections),
  };
  const timing = { timeScale, invocationMs: windowMs / timeScale, retryDelaysMs: [], capMs: windowMs };
  return measureBurst(size, bench, timing, (harness, run) => {
    const { workloads, start, deliveries } = run;
    const times = isolationTimes(harness, workloads, start);
    const within = [...times.values()].filter((at) => at <= windowMs);
    const { stays, entries } = untrackStays(harness, workloads, start);
    return {
      cutTrackedConnections,
      windowMs,
      allIsolatedMs: within.length === size ? Math.max(...within) : undefined,
      medianIsolatedMs: within.length > 0 ? median(within) : undefined,
      isolatedWithinWindow: within.length,
      bucketLowerBoundMs: bucketLowerBoundMs(size, cutTrackedConnections),
      ...(stays.length > 0
        ? {
            untrackStay: { medianMs: median(stays), maxMs: Math.max(...stays), count: stays.length },
            untrackEntry: { medianMs: median(entries), maxMs: Math.max(...entries) },
          }
        : {}),
      failedInvocations: deliveries.filter((delivery) => delivery.deadLettered).length,
      executionsStopped: run.executionsStopped,
      taskInvocations: run.taskInvocations,
    };
  });
}

export function measureBurstCompletion(
  size: number,
  timeScale: number,
  capMs: number,
): Promise<BurstCompletion> {
  const timing = {
    timeScale,
    // Lambda's 900 s, but never past the cap.
    invocationMs: Math.min(LAMBDA_TIMEOUT_MS, capMs) / timeScale,
    retryDelaysMs: LAMBDA_RETRY_DELAYS_MS.map((ms) => ms / timeScale),
    capMs,
  };
  return measureBurst(size, { timeScale, durations: AWS_TYPICAL_DURATIONS }, timing, async (harness, run) => {
    const { sim } = harness;
    const { workloads, start, deliveries } = run;
    const doneTimes: number[] = [];
    let withOtherProblems = 0;
    const problemSamples = new Set<string>();
    for (const { created } of workloads) {
      const record = await harness.record(created.instanceId);
      const problems = (record?.facts.problems ?? []).filter(
        (problem) => !problem.startsWith("replacement:"),
      );
      if (problems.length > 0) withOtherProblems += 1;
      for (const problem of problems) problemSamples.add(problem.slice(0, 160));
      if (record?.status !== "completed") continue;
      const notified = sim.calls.filter(
        (call) =>
          call.simStart >= start &&
          call.action === "Publish" &&
          call.status === 200 &&
          typeof call.params.Subject === "string" &&
          call.params.Subject.startsWith("[IR] Contained") &&
          JSON.stringify(call.params).includes(created.instanceId),
      );
      const doneAt = Math.max(...notified.map((call) => call.simEnd)) - start;
      if (notified.length > 0 && doneAt <= capMs) doneTimes.push(doneAt);
    }
    return {
      capMs,
      allDoneMs: doneTimes.length === size ? Math.max(...doneTimes) : undefined,
      medianDoneMs: doneTimes.length > 0 ? median(doneTimes) : undefined,
      completed: doneTimes.length,
      failures: size - doneTimes.length,
      deadLettered: deliveries.filter((delivery) => delivery.deadLettered).length,
      lambdaRetries: deliveries.reduce((sum, delivery) => sum + delivery.attempts - 1, 0),
      executions: burstExecutions(sim, workloads, deliveries, timeScale),
      memoryDumped: workloads.filter(
        ({ created }) => (sim.state.instance(created.instanceId)?.memoryDumps.length ?? 0) > 0,
      ).length,
      withOtherProblems,
      problemSamples: [...problemSamples].slice(0, 5),
    };
  });
}
