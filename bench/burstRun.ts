// A burst's delivery: every finding to its own responder in the worker processes (bench/burstWorker.ts), all at
// the same moment; the executions they start run in the simulator (this process), and their Tasks go back to the
// worker that hosts the incident's Lambda environment.
import { fork, type ChildProcess } from "child_process";
import * as path from "path";

import { administratorStepFunctions } from "../testkit/administrator";
import type { Simulator } from "../simulator";
import { instanceIdOfIncident } from "../handler/incidentRecord";
import type { Harness } from "../testkit/harness";
import { FUNCTION_NAME } from "../testkit/responderWorld";
import type { OrderMessage, WorkerDelivery, WorkerMessage, WorkerOrder } from "./burstWorker";
import { LAMBDA_TIMEOUT_MS, referenceWorkload, webFleet, type ReferenceWorkload } from "./scenario";

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

/** Ends the workers with the Tasks still running in them; their invocations fail as a crashed Lambda's would. */
function abandonTasks(): void {
  stopBurstWorkers();
  for (const [id, pending] of pendingTasks) {
    pendingTasks.delete(id);
    pending.reject(new Error("the benchmark's observation ended (Task abandoned)"));
  }
}

export function stopBurstWorkers(): void {
  for (const worker of pool ?? []) worker.disconnect();
  pool = undefined;
}

/**
 * A burst hits one service: N instances of one fleet, behind one target group, from one launch template (a
 * hundred target groups would also multiply the target-group scan every response makes: reported separately).
 */
function fleetOf(harness: Harness, size: number): ReferenceWorkload[] {
  const fleet = webFleet(harness, `fleet-${size}`, harness.world.kdumpImage);
  return Array.from({ length: size }, () => referenceWorkload(harness, { kdumpReady: true, fleet }));
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

export interface BurstTiming {
  readonly timeScale: number;
  /** Wall ms each finding's attempt gets. */
  readonly invocationMs: number;
  readonly retryDelaysMs: readonly number[];
  /** Simulated ms after the findings' delivery when the run ends: executions still running are stopped. */
  readonly capMs: number;
  /**
   * Ends the run earlier, as soon as this holds (looked at every UNTIL_LOOK_MS): executions still running are
   * stopped and the Tasks still running in the workers abandoned (the workers are restarted for the next run).
   */
  readonly until?: (sim: Simulator) => boolean;
}

/** Wall ms between two looks at a run's `until`. */
const UNTIL_LOOK_MS = 250;

export interface BurstRun {
  readonly workloads: ReferenceWorkload[];
  readonly deliveries: WorkerDelivery[];
  /** Simulated epoch ms of the findings' delivery, and the call log's length then. */
  readonly start: number;
  readonly from: number;
  readonly workerCpuMs: number;
  readonly slowRequests: number;
  readonly taskInvocations: number;
  readonly executionsStopped: number;
  /** Every Task handed to a worker: the incident's instance, the step, when (simulated ms since the delivery). */
  readonly taskDispatches: readonly TaskDispatch[];
}

interface TaskDispatch {
  readonly instanceId: string;
  readonly step: string;
  readonly atMs: number;
}

/**
 * A fleet of `size` flagged at once: every finding delivered to its own responder in the worker processes at the
 * same moment; the executions the responders start run in the simulator, their Tasks in the same workers, until
 * all have ended or the cap.
 */
export async function runBurst(harness: Harness, size: number, timing: BurstTiming): Promise<BurstRun> {
  const { sim } = harness;
  const workloads = fleetOf(harness, size);
  const events = workloads.map(({ created }) => sim.scenario.findingFor(created.instanceId, { severity: 8 }));
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
  const taskDispatches: TaskDispatch[] = [];
  // The state machine's Tasks (lambda:invoke): to the incident's environment, with Lambda's timeout, never past the cap.
  sim.lambda.register(FUNCTION_NAME, (payload) => {
    const step = (payload as { "ir:step"?: { incidentId?: unknown } } | null)?.["ir:step"];
    const instanceId =
      typeof step?.incidentId === "string" ? instanceIdOfIncident(step.incidentId) : undefined;
    const home = instanceId === undefined ? undefined : homes.get(instanceId);
    if (home === undefined)
      return Promise.reject(new Error(`no environment for the Task ${JSON.stringify(payload)}`));
    const remainingMs = timing.capMs - (sim.now() - start);
    const stepName = (step as { step?: unknown }).step;
    if (typeof stepName === "string")
      taskDispatches.push({ instanceId: instanceId!, step: stepName, atMs: sim.now() - start });
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
  let looking: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    const until = timing.until;
    if (until === undefined) return;
    looking = setInterval(() => {
      if (until(sim)) resolve();
    }, UNTIL_LOOK_MS);
  });
  await Promise.race([sim.stepFunctions.settled(), capReached, reached]);
  clearTimeout(timer);
  clearInterval(looking);
  const executionsStopped = await stopRunningExecutions(sim);
  const abandon = timing.until !== undefined;
  const finished = await Promise.all(
    workers.map((worker) => {
      const done = awaitMessage(worker, "finished");
      worker.send({ kind: "finish", abandon } satisfies OrderMessage);
      return done;
    }),
  );
  if (abandon) abandonTasks();
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
  return {
    workloads,
    deliveries,
    start,
    from,
    workerCpuMs,
    slowRequests,
    taskInvocations,
    executionsStopped,
    taskDispatches,
  };
}
