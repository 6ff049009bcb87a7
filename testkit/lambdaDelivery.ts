// Lambda's asynchronous invocation as EventBridge uses it for a finding: the event is delivered, and when the
// function throws (containment or the execution's start could not finish) it is delivered again with the same
// request id after about one and then two minutes (simulated here), then dead-lettered. The harness's own retry
// helper retries at once; these waits let AWS state move on between attempts as it would (an ENI move settles,
// an on-demand group becomes visible), which is what a real retry meets. Each attempt that starts the execution
// is followed to its end (harness.invoke): the Task passes after containment are the state machine's to retry.
import { randomUUID } from "crypto";

import type { Harness, ResponseOutcome } from "./harness";

/** Lambda's documented retry policy for asynchronous invocations: two retries, about 1 and 2 minutes apart. */
export const LAMBDA_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

export interface Delivery {
  /**
   * The last attempt's outcome (with the execution's end when it started one), or undefined when every attempt
   * threw (the event went to the DLQ).
   */
  readonly outcome?: ResponseOutcome;
  readonly attempts: number;
  readonly errors: readonly Error[];
  readonly deadLettered: boolean;
}

export interface DeliveryOptions {
  /** Simulated ms before each retry (default: Lambda's). */
  readonly retryDelaysMs?: readonly number[];
  /** Wall ms each attempt gets (Lambda's remaining time); default: the harness's. */
  readonly invocationMs?: number;
}

export async function deliverLikeLambda(
  harness: Harness,
  event: unknown,
  options: DeliveryOptions = {},
): Promise<Delivery> {
  const retryDelaysMs = options.retryDelaysMs ?? LAMBDA_RETRY_DELAYS_MS;
  const requestId = randomUUID();
  const errors: Error[] = [];
  for (let attempt = 0; ; attempt += 1) {
    try {
      const outcome = await harness.invoke(event, { requestId, invocationMs: options.invocationMs });
      return { outcome, attempts: attempt + 1, errors, deadLettered: false };
    } catch (error) {
      errors.push(error instanceof Error ? error : new Error(String(error)));
      const delay = retryDelaysMs[attempt];
      if (delay === undefined) return { attempts: attempt + 1, errors, deadLettered: true };
      await harness.sim.sleep(delay);
    }
  }
}
