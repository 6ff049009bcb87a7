// Lambda's asynchronous invocation (how EventBridge delivers a finding), written once for both ways the tests run
// the responder: in process (harness.ts, fast) and from its deployment package in Node processes (localLambda.ts,
// the drill). The event is delivered with one request id kept across attempts; when an attempt fails (the function
// threw, timed out or its runtime crashed) it is delivered again after each retry delay (Lambda: about one and
// then two minutes), then dead-lettered. The waits let AWS state move on between attempts as it would (an ENI move
// settles, an on-demand group becomes visible), which is what a real retry meets.
import { randomUUID } from "crypto";

import type { Harness, ResponseOutcome } from "./harness";

/** Lambda's documented retry policy for asynchronous invocations: two retries, about 1 and 2 minutes apart. */
export const LAMBDA_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

export interface AsyncDelivery<T> {
  readonly requestId: string;
  /** What the attempt that succeeded answered; undefined when every attempt failed (the event went to the DLQ). */
  readonly outcome?: T;
  readonly attempts: number;
  readonly errors: readonly Error[];
  readonly deadLettered: boolean;
}

export interface RetryPolicy {
  /** Waits before each retry: one attempt more than there are delays. */
  readonly retryDelaysMs: readonly number[];
  /** How a retry waits: simulated time in process, the wall clock for the Node processes. */
  readonly wait: (ms: number) => Promise<void>;
  /** The request id every attempt carries (default: a fresh one). */
  readonly requestId?: string;
}

/** Delivers one event; an attempt fails by throwing. */
export async function deliverAsync<T>(
  attempt: (requestId: string) => Promise<T>,
  policy: RetryPolicy,
): Promise<AsyncDelivery<T>> {
  const requestId = policy.requestId ?? randomUUID();
  const errors: Error[] = [];
  for (let attempts = 1; ; attempts += 1) {
    try {
      return { requestId, outcome: await attempt(requestId), attempts, errors, deadLettered: false };
    } catch (error) {
      errors.push(error instanceof Error ? error : new Error(String(error)));
      const delay = policy.retryDelaysMs[attempts - 1];
      if (delay === undefined) return { requestId, attempts, errors, deadLettered: true };
      await policy.wait(delay);
    }
  }
}

/** A finding's delivery in process: the outcome carries the execution's end when the attempt started one. */
export type Delivery = AsyncDelivery<ResponseOutcome>;

export interface DeliveryOptions {
  /** Simulated ms before each retry (default: Lambda's). */
  readonly retryDelaysMs?: readonly number[];
  /** Wall ms each attempt gets (Lambda's remaining time); default: the harness's. */
  readonly invocationMs?: number;
}

/**
 * A finding delivered to the in-process responder, the waits in simulated time. Each attempt that starts the
 * execution is followed to its end (harness.invoke): the Task passes after containment are the state machine's to
 * retry.
 */
export function deliverLikeLambda(
  harness: Harness,
  event: unknown,
  options: DeliveryOptions = {},
): Promise<Delivery> {
  return deliverAsync(
    (requestId) => harness.invoke(event, { requestId, invocationMs: options.invocationMs }),
    {
      retryDelaysMs: options.retryDelaysMs ?? LAMBDA_RETRY_DELAYS_MS,
      wait: (ms) => harness.sim.sleep(ms),
    },
  );
}
