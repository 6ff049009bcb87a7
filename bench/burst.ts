// Burst: N instances flagged at once, each finding answered by its own Lambda environment (a responder of its
// own, as concurrent Lambda invocations are), under EC2's documented request throttling.
//
// The simulator and the incident table run in this process; the responders run in worker processes
// (bench/burstWorker.ts), so a hundred responders' CPU does not starve the simulator's event loop (in AWS every
// invocation has a CPU of its own; here two cores are shared). The load is measured and printed beside each figure.
//
// Two runs per size. Isolation at time scale 1 (at 1 local CPU counts as what it is instead of being multiplied):
// every invocation's Lambda deadline ends at the observation window, so the responses stop there. Completion at a
// higher time scale with AWS-typical durations and Lambda's delivery (900 s per invocation, two retries about one
// and two minutes apart, then the dead-letter queue), within a cap of simulated time. The isolation run takes the
// isolation mode (cutTrackedConnections): with the untrack hop (the default) or direct.
import { fork, type ChildProcess } from "child_process";
import * as path from "path";

import type { CallRecord, Simulator } from "../drill/simulator";
import { FUNCTION_NAME, type Harness } from "../test/handler/harness";
import { deliverLikeLambda, LAMBDA_RETRY_DELAYS_MS } from "../test/reliability/support/lambdaDelivery";
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

/** Worker processes the responders are spread over. */
const WORKERS = 2;

let pool: ChildProcess[] | undefined;

/** The worker processes, started once for all burst runs (each loads the handler and the SDK once). */
function workerPool(): ChildProcess[] {
  pool ??= Array.from({ length: WORKERS }, () =>
    fork(path.join(__dirname, "burstWorker.ts"), [], {
      execArgv: ["-r", "ts-node/register/transpile-only"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    }),
  );
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
  /** Invocations that threw within the window (Lambda would retry them a minute later). */
  readonly failedInvocations: number;
  readonly errorSamples: readonly string[];
  /** Simulator process (this one). */
  readonly load: LoadObservation;
  /** CPU the responders used in the worker processes, ms. */
  readonly respondersCpuMs: number;
  /** The SDK's warnings in the workers that a request took over its 15 s timeout (wall): a starved loop. */
  readonly respondersRequestsOver15s: number;
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
  readonly lambdaRetries: number;
  readonly throttledCalls: number;
  readonly errorSamples: readonly string[];
  /** Simulator process (this one). */
  readonly load: LoadObservation;
  /** CPU the responders used in the worker processes, ms. */
  readonly respondersCpuMs: number;
  /** The SDK's warnings in the workers that a request took over its 15 s timeout (wall): a starved loop. */
  readonly respondersRequestsOver15s: number;
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
 * successful group change (into isolation, or back out). An ENI still there at the end counts until then.
 */
function untrackStays(harness: Harness, workloads: readonly ReferenceWorkload[], start: number): number[] {
  const primary = primaryOf(workloads);
  const enteredAt = new Map<string, number>();
  const stays: number[] = [];
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
    if (groups.length === 1 && groups[0] === harness.world.untrackGroup) enteredAt.set(eni, call.simEnd);
  }
  const end = harness.sim.now();
  for (const entered of enteredAt.values()) stays.push(end - entered);
  return stays;
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

/**
 * Delivers every event to its own responder in the worker processes, all at the same moment, and resolves with
 * each delivery's result (in event order). `onStart` runs when the findings go out.
 */
async function deliverFromWorkers(
  harness: Harness,
  events: readonly unknown[],
  timing: { invocationMs: number; retryDelaysMs: readonly number[]; capMs: number },
  onStart: () => void,
): Promise<{ deliveries: WorkerDelivery[]; workerCpuMs: number; slowRequests: number }> {
  const environment: Record<string, string> = {
    // The responder's own credentials (harness.env) over the simulator's administrator ones: every call is
    // authorized against the synthesized policy; DynamoDB goes through the simulator's front.
    ...harness.sim.env(),
    ...harness.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const shares = Array.from({ length: WORKERS }, (_, worker) =>
    events.map((event, index) => ({ event, index })).filter(({ index }) => index % WORKERS === worker),
  );
  const workers = workerPool();
  await Promise.all(
    workers.map((worker, index) => {
      const order: WorkerOrder = {
        environment,
        events: shares[index]!.map(({ event }) => event),
        functionName: FUNCTION_NAME,
        functionArn: `arn:aws:lambda:${harness.sim.region}:${harness.sim.accountId}:function:${FUNCTION_NAME}`,
        invocationMs: timing.invocationMs,
        retryDelaysMs: timing.retryDelaysMs,
        capMs: timing.capMs,
      };
      const prepared = awaitMessage(worker, "prepared");
      worker.send({ kind: "prepare", order } satisfies OrderMessage);
      return prepared;
    }),
  );
  const finished = workers.map((worker) => awaitMessage(worker, "done"));
  onStart();
  for (const worker of workers) worker.send({ kind: "go" } satisfies OrderMessage);
  const results = await Promise.all(finished);
  const deliveries: WorkerDelivery[] = new Array<WorkerDelivery>(events.length);
  let workerCpuMs = 0;
  let slowRequests = 0;
  results.forEach((message, worker) => {
    if (message.kind !== "done") return;
    workerCpuMs += message.cpuMs;
    slowRequests += message.requestsOver15s;
    message.deliveries.forEach(
      (delivery, position) => (deliveries[shares[worker]![position]!.index] = delivery),
    );
  });
  return { deliveries, workerCpuMs, slowRequests };
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
    // The invocation ends with the window; keep only a sliver of it in reserve.
    timingOverrides: { TIME_BUDGET_RESERVE_SECONDS: 1 },
  });
  try {
    const { sim } = harness;
    const workloads = fleetOf(harness, size);
    // The window ends the observation: continuations past it are not run.
    sim.lambda.register(FUNCTION_NAME, () => Promise.resolve({ dropped: true }));
    const events = workloads.map(({ created }) =>
      sim.scenario.findingFor(created.instanceId, { severity: 8 }),
    );
    let from = sim.calls.length;
    let start = sim.now();
    const { value: delivered, load } = await observingLoad(() =>
      deliverFromWorkers(
        harness,
        events,
        { invocationMs: windowMs / timeScale, retryDelaysMs: [], capMs: windowMs / timeScale },
        () => {
          from = sim.calls.length;
          start = sim.now();
        },
      ),
    );
    const { deliveries, workerCpuMs, slowRequests } = delivered;
    const times = isolationTimes(harness, workloads, start);
    const within = [...times.values()].filter((at) => at <= windowMs);
    const stays = untrackStays(harness, workloads, start);
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
        ? { untrackStay: { medianMs: median(stays), maxMs: Math.max(...stays), count: stays.length } }
        : {}),
      failedInvocations: deliveries.filter((delivery) => delivery.deadLettered).length,
      errorSamples: distinctErrors(deliveries),
      load,
      respondersCpuMs: workerCpuMs,
      respondersRequestsOver15s: slowRequests,
    };
  } finally {
    await harness.stop();
  }
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
    let from = sim.calls.length;
    let start = sim.now();
    // Continuations run here, delivered as Lambda delivers them, but none starts past the cap.
    const continuations = new Set<Promise<unknown>>();
    sim.lambda.register(FUNCTION_NAME, (payload) => {
      const remainingMs = capMs - (sim.now() - start);
      if (remainingMs <= 0) return Promise.resolve({ dropped: true });
      const delivery = deliverLikeLambda(harness, payload, {
        invocationMs: Math.min(LAMBDA_TIMEOUT_MS, remainingMs) / timeScale,
      });
      continuations.add(delivery);
      void delivery.finally(() => continuations.delete(delivery));
      return Promise.resolve({ accepted: true });
    });
    const { value: delivered, load } = await observingLoad(async () => {
      const fromWorkers = await deliverFromWorkers(
        harness,
        events,
        {
          // Lambda's 900 s, but never past the cap: the time budget then stops each response.
          invocationMs: Math.min(LAMBDA_TIMEOUT_MS, capMs) / timeScale,
          retryDelaysMs: LAMBDA_RETRY_DELAYS_MS.map((ms) => ms / timeScale),
          capMs: capMs / timeScale,
        },
        () => {
          from = sim.calls.length;
          start = sim.now();
        },
      );
      while (continuations.size > 0) await Promise.allSettled([...continuations]);
      return fromWorkers;
    });
    const { deliveries, workerCpuMs, slowRequests } = delivered;
    const doneTimes: number[] = [];
    for (const { created } of workloads) {
      const record = await harness.record(created.instanceId);
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
      load,
      respondersCpuMs: workerCpuMs,
      respondersRequestsOver15s: slowRequests,
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
