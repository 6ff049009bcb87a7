// A process that hosts some of a burst's Lambda environments: one responder (createResponder) per finding, each
// invoked as Lambda invokes asynchronously (a deadline per attempt, two retries after about one and two minutes,
// then the dead-letter queue). The burst spreads its responders over a few of these so their CPU is not the
// simulator's: in AWS every invocation has a CPU of its own, here they share one machine.
import { randomUUID } from "crypto";

import { createResponder, type InvocationOutcome } from "../handler";

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
  readonly attempts: number;
  readonly errors: readonly string[];
  readonly deadLettered: boolean;
}

/** Main -> worker: prepare the environments (cold starts, not timed), then go (the findings arrive). */
export type OrderMessage =
  { readonly kind: "prepare"; readonly order: WorkerOrder } | { readonly kind: "go" };
/** Worker -> main; `cpuMs`: this process's CPU from "go" to the last delivery. */
export type WorkerMessage =
  | { readonly kind: "prepared" }
  | {
      readonly kind: "done";
      readonly deliveries: readonly WorkerDelivery[];
      readonly cpuMs: number;
      /** The SDK's warnings that a request took over its 15 s timeout (counted, not printed). */
      readonly requestsOver15s: number;
    };

async function deliver(
  respond: ReturnType<typeof createResponder>,
  event: unknown,
  order: WorkerOrder,
  capAt: number,
): Promise<WorkerDelivery> {
  const requestId = randomUUID();
  const errors: string[] = [];
  for (let attempt = 0; ; attempt += 1) {
    const deadline = Math.min(Date.now() + order.invocationMs, capAt);
    try {
      const outcome: InvocationOutcome = await respond(event, {
        awsRequestId: requestId,
        functionName: order.functionName,
        invokedFunctionArn: order.functionArn,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      });
      return { outcome: outcome.outcome, attempts: attempt + 1, errors, deadLettered: false };
    } catch (error) {
      errors.push(error instanceof Error ? `${error.name}: ${error.message}` : JSON.stringify(error));
      const delay = order.retryDelaysMs[attempt];
      if (delay === undefined || Date.now() + delay >= capAt) {
        return { attempts: attempt + 1, errors, deadLettered: delay === undefined };
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
  let prepared: { order: WorkerOrder; responders: ReturnType<typeof createResponder>[] } | undefined;
  process.on("message", (message: OrderMessage) => {
    if (message.kind === "prepare") {
      Object.assign(process.env, message.order.environment);
      // One responder per event, made before the clock starts: its cold start is measured elsewhere.
      prepared = { order: message.order, responders: message.order.events.map(() => createResponder()) };
      send({ kind: "prepared" });
      return;
    }
    const { order, responders } = prepared!;
    const capAt = Date.now() + order.capMs;
    const cpu = process.cpuUsage();
    requestsOver15s = 0;
    // The worker stays for the next run (a pool): loading the handler and the SDK again would cost seconds.
    Promise.all(order.events.map((event, index) => deliver(responders[index]!, event, order, capAt))).then(
      (deliveries) => {
        const used = process.cpuUsage(cpu);
        prepared = undefined;
        send({ kind: "done", deliveries, cpuMs: (used.user + used.system) / 1000, requestsOver15s });
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
