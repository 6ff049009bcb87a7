// Retrying a call with exponential back-off. No imports: the Lambda bundle stays small, and testkit/ and bench/
// may use it as it is. Closure serialization: functions only, nothing built at module scope (README.md).

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Which failures of a call are asked again, how often, and after what pause. */
export interface RetryPolicy {
  /** How many times a failed call is asked again (so at most retries + 1 calls). */
  readonly retries: number;
  /** Whether this failure is worth asking again; any other propagates at once. */
  readonly retryable: (error: unknown) => boolean;
  /** The pause before the first retry; each later one doubles it. */
  readonly firstDelayMs: number;
  /** Told before each pause (retry: 1 for the first retry). */
  readonly onRetry?: (error: unknown, retry: number) => void;
}

/** Calls `call` until it succeeds, its failure is not retryable, or the retries are used up (then that failure). */
export async function retrying<T>(call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let retry = 1; ; retry += 1) {
    try {
      return await call();
    } catch (error) {
      if (retry > policy.retries || !policy.retryable(error)) throw error;
      policy.onRetry?.(error, retry);
      await sleep(policy.firstDelayMs * 2 ** (retry - 1));
    }
  }
}
