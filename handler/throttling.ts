// Asking again while AWS throttles, for the calls of the containment. In a burst (hundreds of instances flagged at
// once) EC2's buckets run dry for minutes, and the SDK's attempts (ten, with a retry quota shared by the client's
// calls) give up well before: the invocation would throw and Lambda would retry it a minute or more later. A
// throttled request takes no token, so asking again costs nothing but the pause.
import { awsErrorCode, THROTTLING_CODES } from "./errors";
import { sleep } from "./retry";

/**
 * What a failed attempt of a call without SDK retries means (pure): "throttled" (ask again after a pause),
 * "transient" (a server error or a lost connection: ask again a few times, as the SDK would) or "final" (anything
 * else, including the responder's own control flow).
 */
export function attemptVerdict(error: unknown): "throttled" | "transient" | "final" {
  if (!(error instanceof Error)) return "final";
  if (THROTTLING_CODES.includes(awsErrorCode(error) ?? "")) return "throttled";
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (typeof status !== "number" || status >= 500) return "transient";
  return "final";
}

/**
 * How long a containment call (an ENI's first move, the live check's describe) is asked again while throttled: the
 * last of 500 first moves cannot land before about 80 s under EC2's documented buckets, and the invocation's own
 * timeout (infra/config.ts, at least 120 s) may end the wait first.
 */
export const CONTAINMENT_THROTTLED_WINDOW_MS = 300_000;

/**
 * A jittered pause (pure; `random` in [0, 1)): `minMs` plus up to `spreadMs`, so the responders of a burst do not
 * ask in lockstep.
 */
export function jitteredMs(minMs: number, spreadMs: number, random: number = Math.random()): number {
  return minMs + Math.floor(Math.min(Math.max(random, 0), 0.999) * spreadMs);
}

/** Server errors and lost connections asked again (the SDK's standard attempts, less the first). */
export const TRANSIENT_RETRIES = 3;

/**
 * Calls `ask` (a client without SDK retries) until it succeeds: again after `pauseMs()` while it is throttled, for
 * up to `windowMs`, and up to TRANSIENT_RETRIES times after a transient failure; anything else propagates at once.
 * The invocation's own timeout may end the wait first: Lambda's retry goes on from the record.
 */
export async function askWhileThrottled<T>(
  ask: () => Promise<T>,
  windowMs: number,
  pauseMs: () => number,
): Promise<T> {
  const askUntil = Date.now() + windowMs;
  let transientLeft = TRANSIENT_RETRIES;
  for (;;) {
    try {
      return await ask();
    } catch (error) {
      const verdict = attemptVerdict(error);
      if (verdict === "final" || (verdict === "transient" && (transientLeft -= 1) < 0)) throw error;
      if (Date.now() >= askUntil) throw error;
    }
    await sleep(pauseMs());
  }
}
