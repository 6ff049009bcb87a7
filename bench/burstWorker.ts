// A process that hosts some of a burst's Lambda environments: one responder (createResponder) per finding. The
// finding is delivered as EventBridge invokes Lambda asynchronously (a deadline per attempt, two retries after
// about one and two minutes, then the dead-letter queue); the invocation contains the instance and starts the
// response's Step Functions execution. The state machine's Tasks (one step pass each) are sent here too, to the
// environment of their incident (a warm one, as Lambda would often give it). The burst spreads its responders
// over a few of these so their CPU is not the simulator's: in AWS every invocation has a CPU of its own, here
// they share one machine.
import { randomUUID } from "crypto";

import { createResponder, type InvocationOutcome, type LambdaContext } from "../handler";

export interface WorkerOrder {
  readonly environment: Record<string, string>;
  readonly events: readonly unknown[];
  readonly functionName: string;
  readonly functionArn: string;
  /** Wall ms each attempt gets (Lambda's timeout divided by the time scale). */
  readonly invocationMs: number;
  /** Wall ms before each retry; empty: no retries (the observation window ends the run). */
  readonly retryDelaysMs: readonly number[];
  /** Wall ms after "go" past which no attempt runs and every deadline ends (the run's cap). */
  readonly capMs: number;
}

export interface WorkerDelivery {
  readonly outcome?: string;
  /** The execution the finding's invocation started (outcome "started"). */
  readonly executionArn?: string;
  readonly attempts: number;
  readonly errors: readonly string[];
  readonly deadLettered: boolean;
  /** Wall ms the attempts ran, together (Lambda bills each). */
  readonly wallMs: number;
}

/**
 * Main -> worker: prepare the environments (cold starts, not timed), then go (the findings arrive); a Task of the
 * state machine for the environment at `responder` (an index into this worker's events); finish: answer once
 * every Task sent has ended.
 */
export type OrderMessage =
  | { readonly kind: "prepare"; readonly order: WorkerOrder }
  | { readonly kind: "go" }
  | {
      readonly kind: "task";
      readonly id: number;
      readonly responder: number;
      readonly payload: unknown;
      /** Wall ms the invocation gets. */
      readonly invocationMs: number;
    }
  /** `abandon`: answer at once, without waiting for the Tasks in flight (the process is ended next). */
  | { readonly kind: "finish"; readonly abandon?: boolean };

/** Worker -> main. */
export type WorkerMessage =
  | { readonly kind: "prepared" }
  /** Every finding delivered (or dead-lettered). */
  | { readonly kind: "triggered"; readonly deliveries: readonly WorkerDelivery[] }
  | {
      readonly kind: "taskDone";
      readonly id: number;
      readonly result?: InvocationOutcome;
      /** The handler threw: Lambda answers a function error with this errorType and errorMessage. */
      readonly error?: { readonly name: string; readonly message: string };
      readonly wallMs: number;
    }
  | {
      readonly kind: "finished";
      /** This process's CPU from "go" to the last Task's end, ms. */
      readonly cpuMs: number;
      /** The SDK's warnings that a request took over its 15 s timeout (counted, not printed). */
      readonly requestsOver15s: number;
      readonly tasks: number;
    };

type Responder = ReturnType<typeof createResponder>;

function context(order: WorkerOrder, requestId: string, deadline: number): LambdaContext {
  return {
    awsRequestId: requestId,
    functionName: order.functionName,
    invokedFunctionArn: order.functionArn,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function deliver(
  respond: Responder,
  event: unknown,
  order: WorkerOrder,
  capAt: number,
): Promise<WorkerDelivery> {
  const requestId = randomUUID();
  const errors: string[] = [];
  let wallMs = 0;
  for (let attempt = 0; ; attempt += 1) {
    const deadline = Math.min(Date.now() + order.invocationMs, capAt);
    const started = performance.now();
    try {
      const outcome = await respond(event, context(order, requestId, deadline));
      wallMs += performance.now() - started;
      return {
        outcome: "step" in outcome ? `answered like a step: ${outcome.step}` : outcome.outcome,
        ...("executionArn" in outcome ? { executionArn: outcome.executionArn } : {}),
        attempts: attempt + 1,
        errors,
        deadLettered: false,
        wallMs,
      };
    } catch (error) {
      wallMs += performance.now() - started;
      errors.push(error instanceof Error ? `${error.name}: ${error.message}` : JSON.stringify(error));
      const delay = order.retryDelaysMs[attempt];
      if (delay === undefined || Date.now() + delay >= capAt) {
        return { attempts: attempt + 1, errors, deadLettered: delay === undefined, wallMs };
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

if (require.main === module) {
  process.on("disconnect", () => process.exit(0));
  let requestsOver15s = 0;
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (args.some((arg) => String(arg).includes("exceeded the configured"))) requestsOver15s += 1;
    else warn(...args);
  };
  const send = (message: WorkerMessage) => process.send?.(message);
  let prepared: { order: WorkerOrder; responders: Responder[] } | undefined;
  let run: { capAt: number; cpu: NodeJS.CpuUsage; tasks: number } | undefined;
  const tasksInFlight = new Set<Promise<void>>();

  const runTask = async (message: Extract<OrderMessage, { kind: "task" }>) => {
    const { order, responders } = prepared!;
    const respond = responders[message.responder]!;
    const deadline = Math.min(Date.now() + message.invocationMs, run!.capAt);
    const started = performance.now();
    try {
      const result = await respond(message.payload, context(order, randomUUID(), deadline));
      send({ kind: "taskDone", id: message.id, result, wallMs: performance.now() - started });
    } catch (error) {
      const { name, message: text } =
        error instanceof Error ? error : { name: "Error", message: JSON.stringify(error) };
      send({
        kind: "taskDone",
        id: message.id,
        error: { name, message: text },
        wallMs: performance.now() - started,
      });
    }
  };

  process.on("message", (message: OrderMessage) => {
    switch (message.kind) {
      case "prepare": {
        Object.assign(process.env, message.order.environment);
        // One responder per event, made before the clock starts: its cold start is measured elsewhere.
        prepared = { order: message.order, responders: message.order.events.map(() => createResponder()) };
        send({ kind: "prepared" });
        return;
      }
      case "go": {
        const { order, responders } = prepared!;
        run = { capAt: Date.now() + order.capMs, cpu: process.cpuUsage(), tasks: 0 };
        requestsOver15s = 0;
        const capAt = run.capAt;
        Promise.all(
          order.events.map((event, index) => deliver(responders[index]!, event, order, capAt)),
        ).then(
          (deliveries) => send({ kind: "triggered", deliveries }),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
        return;
      }
      case "task": {
        if (run === undefined) {
          // After an abandoning finish: this process is about to end.
          send({ kind: "taskDone", id: message.id, error: { name: "Error", message: "no run" }, wallMs: 0 });
          return;
        }
        run.tasks += 1;
        const task = runTask(message);
        tasksInFlight.add(task);
        void task.finally(() => tasksInFlight.delete(task));
        return;
      }
      case "finish": {
        // The worker stays for the next run (a pool): loading the handler and the SDK again would cost seconds.
        void (async () => {
          while (tasksInFlight.size > 0 && message.abandon !== true)
            await Promise.allSettled([...tasksInFlight]);
          const used = process.cpuUsage(run!.cpu);
          const tasks = run!.tasks;
          prepared = undefined;
          run = undefined;
          send({ kind: "finished", cpuMs: (used.user + used.system) / 1000, requestsOver15s, tasks });
        })();
        return;
      }
    }
  });
}
