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
import { fork, type ChildProcess } from "child_process";
import * as path from "path";

import { administratorStepFunctions } from "../testkit/administrator";
import type { CallRecord, Simulator } from "../simulator";
import { stepFunctionsApiLimits } from "../simulator/services/stepFunctions";
import { instanceIdOfIncident } from "../handler/incidentRecord";
import type { Harness } from "../testkit/harness";
import { FUNCTION_NAME } from "../testkit/responderWorld";
import { LAMBDA_RETRY_DELAYS_MS } from "../testkit/lambdaDelivery";
import type { OrderMessage, WorkerDelivery, WorkerMessage, WorkerOrder } from "./burstWorker";
import { movesIntoIsolation } from "./callLog";
import { observingLoad, type LoadObservation } from "./machineLoad";
import {
  AWS_TYPICAL_DURATIONS,
  ENI_MOVE_BUCKET,
  INSTANCE_MOVE_BUCKET,
  TIME_SCALES,
  isolationSetting,
} from "./model";
import {
  LAMBDA_TIMEOUT_MS,
  referenceWorkload,
  startBench,
  webFleet,
  type ReferenceWorkload,
} from "./scenario";
import { median } from "./stats";
import { executionFigures, type ExecutionFigures } from "./workflowFigures";

/** Worker processes the responders are spread over. */
const WORKERS = 2;

let pool: ChildProcess[] | undefined;

/** Tasks sent to a worker and not answered yet, by id. */
const pendingTasks = new Map<
  number,
  { resolve: (result: unknown) => void; reject: (error: Error) => void }
>();
let nextTaskId = 0;

/** The worker processes, started once for all burst runs (each loads the handler and the SDK once). */
function workerPool(): ChildProcess[] {
  pool ??= Array.from({ length: WORKERS }, () => {
    const worker = fork(path.join(__dirname, "burstWorker.ts"), [], {
      execArgv: ["-r", "ts-node/register/transpile-only"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    worker.on("message", (message: WorkerMessage) => {
      if (message.kind !== "taskDone") return;
      const pending = pendingTasks.get(message.id);
      pendingTasks.delete(message.id);
      if (pending === undefined) return;
      if (message.error === undefined) pending.resolve(message.result);
      else {
        // Lambda reports the function's error to the state machine with this errorType (States.TaskFailed).
        const error = new Error(message.error.message);
        error.name = message.error.name;
        pending.reject(error);
      }
    });
    return worker;
  });
  return pool;
}

export function stopBurstWorkers(): void {
  for (const worker of pool ?? []) worker.disconnect();
  pool = undefined;
}

export interface BurstIsolation {
  readonly timeScale: number;
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
  readonly throttledCalls: number;
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
  readonly errorSamples: readonly string[];
  readonly startExecution: StartExecutionFigures;
  /** Executions still running when the window ended (stopped: the observation is over). */
  readonly executionsStopped: number;
  /** Task invocations the workers ran within the window. */
  readonly taskInvocations: number;
  /** Simulator process (this one). */
  readonly load: LoadObservation;
  /** CPU the responders used in the worker processes, ms. */
  readonly respondersCpuMs: number;
  /** The SDK's warnings in the workers that a request took over its 15 s timeout (wall): a starved loop. */
  readonly respondersRequestsOver15s: number;
}

/** StartExecution in a burst, against Step Functions' documented bucket for the Region. */
export interface StartExecutionFigures {
  /** Every StartExecution the responders sent (a retried finding sends it again: same name, same execution). */
  readonly calls: number;
  readonly succeeded: number;
  /** Answered ThrottlingException. */
  readonly throttled: number;
  /** The documented bucket (simulator/services/stepFunctions.ts stepFunctionsApiLimits). */
  readonly bucket: { readonly capacity: number; readonly refillPerSecond: number };
  /** The least time the bucket allows for N StartExecution calls: max(0, N - capacity) / refill. */
  readonly bucketFloorMs: number;
  /** From the findings' delivery to the last StartExecution answered, simulated ms. */
  readonly lastAnsweredMs?: number;
}

export interface BurstCompletion {
  readonly timeScale: number;
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
  readonly throttledCalls: number;
  readonly errorSamples: readonly string[];
  readonly startExecution: StartExecutionFigures;
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
  /** Simulator process (this one). */
  readonly load: LoadObservation;
  /** CPU the responders used in the worker processes, ms. */
  readonly respondersCpuMs: number;
  /** The SDK's warnings in the workers that a request took over its 15 s timeout (wall): a starved loop. */
  readonly respondersRequestsOver15s: number;
}

/** The executions of a completion run, per incident (medians) and in all. */
export interface BurstExecutions {
  readonly count: number;
  /** Executions by final status (SUCCEEDED, FAILED, ABORTED: stopped at the cap...). */
  readonly statuses: Readonly<Record<string, number>>;
  readonly transitionsMedian: number;
  readonly transitionsTotal: number;
  /** transitionCost per incident (median) and for the whole burst. */
  readonly usdMedian: number;
  readonly usdTotal: number;
  readonly taskPassesMedian: number;
  /** Tasks that failed (the state machine retried or caught each). */
  readonly failedTasks: number;
  /** Lambda billed seconds per incident (simulated): the finding's invocations + the Tasks' durations. */
  readonly billedSecondsMedian: number;
}

export interface BurstResult {
  readonly size: number;
  /** With the untrack hop (the default). */
  readonly isolation: BurstIsolation;
  readonly completion: BurstCompletion;
  /** Isolation only, direct (cutTrackedConnections false): the largest burst of the run. */
  readonly directIsolation?: BurstIsolation;
}

/**
 * The least time EC2's documented buckets allow for containing `size` instances of one ENI each (pure). Direct:
 * one ENI move each, from the ModifyNetworkInterfaceAttribute bucket. With the untrack hop: the untrack moves draw
 * from that bucket, and each isolation move from it or, as the handler does when it is throttled, from
 * ModifyInstanceAttribute's bucket (mutating actions). Nothing else precedes them on EC2 (the live
 * DescribeInstances goes out beside the isolation move), but the mutating bucket also serves the later steps of
 * responses already isolated: a lower bound.
 */
export function bucketLowerBoundMs(size: number, cutTrackedConnections: boolean): number {
  const eni = ENI_MOVE_BUCKET;
  if (!cutTrackedConnections) return (Math.max(0, size - eni.capacity) / eni.refillPerSecond) * 1000;
  const instance = INSTANCE_MOVE_BUCKET;
  const bothBuckets =
    (2 * size - eni.capacity - instance.capacity) / (eni.refillPerSecond + instance.refillPerSecond);
  const untrackMovesOnly = (size - eni.capacity) / eni.refillPerSecond;
  return Math.max(0, bothBuckets, untrackMovesOnly) * 1000;
}

function throttled(sim: Simulator, from: number): number {
  return sim.calls.slice(from).filter((call) => call.errorCode === "RequestLimitExceeded").length;
}

/**
 * A burst hits one service: N instances of one fleet, behind one target group, from one launch template (a
 * hundred target groups would also multiply the target-group scan every response makes: reported separately).
 */
function fleetOf(harness: Harness, size: number): ReferenceWorkload[] {
  const fleet = webFleet(harness, `fleet-${size}`, harness.world.kdumpImage);
  return Array.from({ length: size }, () => referenceWorkload(harness, { kdumpReady: true, fleet }));
}

/** Instance -> its primary ENI (the one ModifyInstanceAttribute Groups changes). */
function primaryOf(workloads: readonly ReferenceWorkload[]): Map<string, string> {
  return new Map(workloads.map(({ created }) => [created.instanceId, created.networkInterfaceIds[0]!]));
}

/** The ENI a successful group change moved: named, or the instance's primary (ModifyInstanceAttribute Groups). */
function movedInterface(call: CallRecord, primary: ReadonlyMap<string, string>): string | undefined {
  if (call.action === "ModifyNetworkInterfaceAttribute") return String(call.params.NetworkInterfaceId);
  if (call.action === "ModifyInstanceAttribute" && Array.isArray(call.params.Groups))
    return primary.get(String(call.params.InstanceId));
  return undefined;
}

/**
 * How long each ENI stayed in the allow-all untrack group (simulated ms): from its move into it to its next
 * successful group change (into isolation, or back out). An ENI still there at the end counts until then. Also
 * when each entered it (ms since start).
 */
function untrackStays(
  harness: Harness,
  workloads: readonly ReferenceWorkload[],
  start: number,
): { stays: number[]; entries: number[] } {
  const primary = primaryOf(workloads);
  const enteredAt = new Map<string, number>();
  const stays: number[] = [];
  const entries: number[] = [];
  const moves = harness.sim.calls
    .filter((call) => call.simStart >= start && call.status === 200)
    .sort((a, b) => a.simEnd - b.simEnd);
  for (const call of moves) {
    const eni = movedInterface(call, primary);
    if (eni === undefined) continue;
    const entered = enteredAt.get(eni);
    if (entered !== undefined) {
      stays.push(call.simEnd - entered);
      enteredAt.delete(eni);
    }
    const groups = call.params.Groups as unknown[];
    if (groups.length === 1 && groups[0] === harness.world.untrackGroup) {
      enteredAt.set(eni, call.simEnd);
      entries.push(call.simEnd - start);
    }
  }
  const end = harness.sim.now();
  for (const entered of enteredAt.values()) stays.push(end - entered);
  return { stays, entries };
}

/** When each instance had every ENI in the isolation group (simulated ms since start), by instance. */
function isolationTimes(
  harness: Harness,
  workloads: readonly ReferenceWorkload[],
  start: number,
): Map<string, number> {
  const isolating = movesIntoIsolation(new Set([harness.world.isolationGroup]));
  const doneAt = new Map<string, number>();
  for (const call of harness.sim.calls) {
    if (call.simStart < start || call.status !== 200 || !isolating(call)) continue;
    const eni = movedInterface(call, primaryOf(workloads));
    if (eni === undefined) continue;
    doneAt.set(eni, Math.max(doneAt.get(eni) ?? 0, call.simEnd - start));
  }
  const times = new Map<string, number>();
  for (const { created } of workloads) {
    const enis = created.networkInterfaceIds.map((eni) => doneAt.get(eni));
    if (enis.every((at) => at !== undefined)) times.set(created.instanceId, Math.max(...enis));
  }
  return times;
}

function awaitMessage(worker: ChildProcess, kind: WorkerMessage["kind"]): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if (message.kind !== kind) return;
      worker.off("exit", onExit);
      worker.off("message", onMessage);
      resolve(message);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`burst worker exited (code ${code}) before "${kind}"`));
    worker.on("message", onMessage);
    worker.once("exit", onExit);
  });
}

function sendTask(worker: ChildProcess, task: Omit<Extract<OrderMessage, { kind: "task" }>, "kind" | "id">) {
  const id = (nextTaskId += 1);
  return new Promise<unknown>((resolve, reject) => {
    pendingTasks.set(id, { resolve, reject });
    worker.send({ kind: "task", id, ...task } satisfies OrderMessage);
  });
}

/** Stops every execution still running, through Step Functions' API (StopExecution), as an operator would. */
async function stopRunningExecutions(sim: Simulator): Promise<number> {
  const running = sim.stepFunctions.executions.filter((execution) => execution.status === "RUNNING");
  if (running.length === 0) return 0;
  const client = administratorStepFunctions(sim);
  try {
    await Promise.all(
      running.map((execution) =>
        client.stopExecution({
          executionArn: execution.executionArn,
          cause: "the benchmark's observation ended",
        }),
      ),
    );
  } finally {
    client.destroy();
  }
  await sim.stepFunctions.settled();
  return running.length;
}

interface BurstTiming {
  readonly timeScale: number;
  /** Wall ms each finding's attempt gets. */
  readonly invocationMs: number;
  readonly retryDelaysMs: readonly number[];
  /** Simulated ms after the findings' delivery when the run ends: executions still running are stopped. */
  readonly capMs: number;
}

interface BurstRun {
  readonly deliveries: WorkerDelivery[];
  /** Simulated epoch ms of the findings' delivery, and the call log's length then. */
  readonly start: number;
  readonly from: number;
  readonly workerCpuMs: number;
  readonly slowRequests: number;
  readonly taskInvocations: number;
  readonly executionsStopped: number;
}

/**
 * Delivers every event to its own responder in the worker processes, all at the same moment; the executions the
 * responders start run in the simulator, their Tasks in the same workers, until all have ended or the cap.
 */
async function runBurst(
  harness: Harness,
  workloads: readonly ReferenceWorkload[],
  events: readonly unknown[],
  timing: BurstTiming,
): Promise<BurstRun> {
  const { sim } = harness;
  const environment: Record<string, string> = {
    // The responder's own credentials (harness.env) over the simulator's administrator ones: every call is
    // authorized against the synthesized policy; DynamoDB goes through the simulator's front.
    ...sim.env(),
    ...harness.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const shares = Array.from({ length: WORKERS }, (_, worker) =>
    events.map((event, index) => ({ event, index })).filter(({ index }) => index % WORKERS === worker),
  );
  const workers = workerPool();
  // Where each incident's environment lives: the worker and its position there.
  const homes = new Map<string, { worker: ChildProcess; responder: number }>();
  shares.forEach((share, worker) =>
    share.forEach(({ index }, responder) =>
      homes.set(workloads[index]!.created.instanceId, { worker: workers[worker]!, responder }),
    ),
  );
  let start = sim.now();
  // The state machine's Tasks (lambda:invoke): to the incident's environment, with Lambda's timeout, never past the cap.
  sim.lambda.register(FUNCTION_NAME, (payload) => {
    const step = (payload as { "ir:step"?: { incidentId?: unknown } } | null)?.["ir:step"];
    const instanceId =
      typeof step?.incidentId === "string" ? instanceIdOfIncident(step.incidentId) : undefined;
    const home = instanceId === undefined ? undefined : homes.get(instanceId);
    if (home === undefined)
      return Promise.reject(new Error(`no environment for the Task ${JSON.stringify(payload)}`));
    const remainingMs = timing.capMs - (sim.now() - start);
    return sendTask(home.worker, {
      responder: home.responder,
      payload,
      invocationMs: Math.max(0, Math.min(LAMBDA_TIMEOUT_MS, remainingMs)) / timing.timeScale,
    });
  });
  await Promise.all(
    workers.map((worker, index) => {
      const order: WorkerOrder = {
        environment,
        events: shares[index]!.map(({ event }) => event),
        functionName: FUNCTION_NAME,
        functionArn: `arn:aws:lambda:${sim.region}:${sim.accountId}:function:${FUNCTION_NAME}`,
        invocationMs: timing.invocationMs,
        retryDelaysMs: timing.retryDelaysMs,
        capMs: timing.capMs / timing.timeScale,
      };
      const prepared = awaitMessage(worker, "prepared");
      worker.send({ kind: "prepare", order } satisfies OrderMessage);
      return prepared;
    }),
  );
  const triggered = workers.map((worker) => awaitMessage(worker, "triggered"));
  const from = sim.calls.length;
  start = sim.now();
  for (const worker of workers) worker.send({ kind: "go" } satisfies OrderMessage);
  const results = await Promise.all(triggered);
  // Every execution to its end, or the cap.
  let timer: NodeJS.Timeout | undefined;
  const capReached = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, timing.capMs - (sim.now() - start)) / timing.timeScale);
  });
  await Promise.race([sim.stepFunctions.settled(), capReached]);
  clearTimeout(timer);
  const executionsStopped = await stopRunningExecutions(sim);
  const finished = await Promise.all(
    workers.map((worker) => {
      const done = awaitMessage(worker, "finished");
      worker.send({ kind: "finish" } satisfies OrderMessage);
      return done;
    }),
  );
  const deliveries: WorkerDelivery[] = new Array<WorkerDelivery>(events.length);
  results.forEach((message, worker) => {
    if (message.kind !== "triggered") return;
    message.deliveries.forEach(
      (delivery, position) => (deliveries[shares[worker]![position]!.index] = delivery),
    );
  });
  let workerCpuMs = 0;
  let slowRequests = 0;
  let taskInvocations = 0;
  for (const message of finished) {
    if (message.kind !== "finished") continue;
    workerCpuMs += message.cpuMs;
    slowRequests += message.requestsOver15s;
    taskInvocations += message.tasks;
  }
  return { deliveries, start, from, workerCpuMs, slowRequests, taskInvocations, executionsStopped };
}

/** The least time Step Functions' documented StartExecution bucket allows for `size` calls (pure). */
export function startExecutionFloorMs(
  size: number,
  bucket: { readonly capacity: number; readonly refillPerSecond: number },
): number {
  return (Math.max(0, size - bucket.capacity) / bucket.refillPerSecond) * 1000;
}

function startExecutionFigures(sim: Simulator, run: BurstRun, size: number): StartExecutionFigures {
  const calls = sim.calls
    .slice(run.from)
    .filter((call) => call.service === "states" && call.action === "StartExecution");
  const succeeded = calls.filter((call) => call.status === 200);
  const bucket = stepFunctionsApiLimits(sim.region).StartExecution!;
  return {
    calls: calls.length,
    succeeded: succeeded.length,
    throttled: calls.filter((call) => call.errorCode === "ThrottlingException").length,
    bucket: { capacity: bucket.capacity, refillPerSecond: bucket.refillPerSecond },
    bucketFloorMs: startExecutionFloorMs(size, bucket),
    ...(succeeded.length > 0
      ? { lastAnsweredMs: Math.max(...succeeded.map((call) => call.simEnd)) - run.start }
      : {}),
  };
}

export async function measureBurstIsolation(
  size: number,
  windowMs: number,
  cutTrackedConnections: boolean,
): Promise<BurstIsolation> {
  const timeScale = TIME_SCALES.burstIsolation;
  const harness = await startBench({
    timeScale,
    durations: AWS_TYPICAL_DURATIONS,
    settings: isolationSetting(cutTrackedConnections),
  });
  try {
    const { sim } = harness;
    const workloads = fleetOf(harness, size);
    const events = workloads.map(({ created }) =>
      sim.scenario.findingFor(created.instanceId, { severity: 8 }),
    );
    const { value: run, load } = await observingLoad(() =>
      runBurst(harness, workloads, events, {
        timeScale,
        invocationMs: windowMs / timeScale,
        retryDelaysMs: [],
        capMs: windowMs,
      }),
    );
    const { deliveries, start, from } = run;
    const times = isolationTimes(harness, workloads, start);
    const within = [...times.values()].filter((at) => at <= windowMs);
    const { stays, entries } = untrackStays(harness, workloads, start);
    return {
      timeScale,
      cutTrackedConnections,
      windowMs,
      allIsolatedMs: within.length === size ? Math.max(...within) : undefined,
      medianIsolatedMs: within.length > 0 ? median(within) : undefined,
      isolatedWithinWindow: within.length,
      bucketLowerBoundMs: bucketLowerBoundMs(size, cutTrackedConnections),
      throttledCalls: throttled(sim, from),
      ...(stays.length > 0
        ? {
            untrackStay: { medianMs: median(stays), maxMs: Math.max(...stays), count: stays.length },
            untrackEntry: { medianMs: median(entries), maxMs: Math.max(...entries) },
          }
        : {}),
      failedInvocations: deliveries.filter((delivery) => delivery.deadLettered).length,
      errorSamples: distinctErrors(deliveries),
      startExecution: startExecutionFigures(sim, run, size),
      executionsStopped: run.executionsStopped,
      taskInvocations: run.taskInvocations,
      load,
      respondersCpuMs: run.workerCpuMs,
      respondersRequestsOver15s: run.slowRequests,
    };
  } finally {
    await harness.stop();
  }
}

function burstExecutions(
  sim: Simulator,
  workloads: readonly ReferenceWorkload[],
  deliveries: readonly WorkerDelivery[],
  timeScale: number,
): BurstExecutions {
  const statuses: Record<string, number> = {};
  const figures: ExecutionFigures[] = [];
  const billed: number[] = [];
  workloads.forEach(({ created }, index) => {
    // The incident's execution (named by the incident id, which ends with the instance id).
    const execution = sim.stepFunctions.executions.find(
      (candidate) => instanceIdOfIncident(candidate.name) === created.instanceId,
    );
    const triggerSeconds = ((deliveries[index]?.wallMs ?? 0) * timeScale) / 1000;
    if (execution === undefined) {
      billed.push(triggerSeconds);
      return;
    }
    statuses[execution.status] = (statuses[execution.status] ?? 0) + 1;
    const figure = executionFigures(execution);
    figures.push(figure);
    billed.push(triggerSeconds + figure.taskSeconds);
  });
  const of = (value: (figure: ExecutionFigures) => number) => figures.map(value);
  const total = (values: number[]) => values.reduce((sum, value) => sum + value, 0);
  return {
    count: figures.length,
    statuses,
    transitionsMedian: median(of((figure) => figure.transitions)),
    transitionsTotal: total(of((figure) => figure.transitions)),
    usdMedian: median(of((figure) => figure.usd)),
    usdTotal: total(of((figure) => figure.usd)),
    taskPassesMedian: median(of((figure) => figure.taskPasses)),
    failedTasks: total(of((figure) => figure.failedTasks)),
    billedSecondsMedian: median(billed),
  };
}

export async function measureBurstCompletion(
  size: number,
  timeScale: number,
  capMs: number,
): Promise<BurstCompletion> {
  const harness = await startBench({ timeScale, durations: AWS_TYPICAL_DURATIONS });
  try {
    const { sim } = harness;
    const workloads = fleetOf(harness, size);
    const events = workloads.map(({ created }) =>
      sim.scenario.findingFor(created.instanceId, { severity: 8 }),
    );
    const { value: run, load } = await observingLoad(() =>
      runBurst(harness, workloads, events, {
        timeScale,
        // Lambda's 900 s, but never past the cap.
        invocationMs: Math.min(LAMBDA_TIMEOUT_MS, capMs) / timeScale,
        retryDelaysMs: LAMBDA_RETRY_DELAYS_MS.map((ms) => ms / timeScale),
        capMs,
      }),
    );
    const { deliveries, start, from } = run;
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
      timeScale,
      capMs,
      allDoneMs: doneTimes.length === size ? Math.max(...doneTimes) : undefined,
      medianDoneMs: doneTimes.length > 0 ? median(doneTimes) : undefined,
      completed: doneTimes.length,
      failures: size - doneTimes.length,
      deadLettered: deliveries.filter((delivery) => delivery.deadLettered).length,
      lambdaRetries: deliveries.reduce((sum, delivery) => sum + delivery.attempts - 1, 0),
      throttledCalls: throttled(sim, from),
      errorSamples: distinctErrors(deliveries),
      startExecution: startExecutionFigures(sim, run, size),
      executions: burstExecutions(sim, workloads, deliveries, timeScale),
      memoryDumped: workloads.filter(
        ({ created }) => (sim.state.instance(created.instanceId)?.memoryDumps.length ?? 0) > 0,
      ).length,
      withOtherProblems,
      problemSamples: [...problemSamples].slice(0, 5),
      load,
      respondersCpuMs: run.workerCpuMs,
      respondersRequestsOver15s: run.slowRequests,
    };
  } finally {
    await harness.stop();
  }
}

/** A few distinct errors the invocations threw (what made Lambda retry), for the report. */
function distinctErrors(deliveries: readonly WorkerDelivery[]): string[] {
  return [
    ...new Set(deliveries.flatMap((delivery) => delivery.errors).map((error) => error.slice(0, 160))),
  ].slice(0, 5);
}
