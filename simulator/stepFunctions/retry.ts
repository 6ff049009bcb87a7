// Retry as Step Functions applies it to a Task or a Parallel state: IntervalSeconds, BackoffRate, MaxDelaySeconds and
// JitterStrategy, pausing on the simulator's clock.
import type { SeededRandom, SimClock } from "../clock";
import type { Retrier, StateJson } from "./definition";
import { Aborted } from "./failures";
import { simulatedPause, type Scope } from "./pauses";

/** AWS's order of retry decisions: the first retrier naming the error; its MaxAttempts; its pause. */
function retryPause(
  retriers: Retrier[],
  attempts: number[],
  error: unknown,
  random: SeededRandom,
): number | undefined {
  if (!(error instanceof Error) || error instanceof Aborted) return undefined;
  if ((error as { isRetryable?: boolean }).isRetryable === false) return undefined;
  const matches = (name: string) =>
    name === error.name ||
    name === "States.ALL" ||
    // "States.TaskFailed ... matches any known error name except for States.Timeout".
    (name === "States.TaskFailed" && error.name !== "States.Timeout");
  const index = retriers.findIndex((retrier) => retrier.ErrorEquals.some(matches));
  const retrier = retriers[index];
  if (!retrier) return undefined;
  const done = attempts[index] ?? 0;
  if (done >= (retrier.MaxAttempts ?? 3)) return undefined;
  attempts[index] = done + 1;
  let seconds = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** done;
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === "FULL") seconds *= random.next();
  return seconds * 1000;
}

/** Runs attempts until one succeeds or no retrier handles the failure; pauses on the simulator's clock. */
export async function withRetry<T>(
  deps: { clock: SimClock; random: SeededRandom },
  state: StateJson,
  scope: Scope,
  attempt: () => Promise<T>,
): Promise<T> {
  const retriers = Array.isArray(state.Retry) ? (state.Retry as unknown as Retrier[]) : [];
  const attempts = retriers.map(() => 0);
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const pause = retryPause(retriers, attempts, error, deps.random);
      if (pause === undefined) throw error;
      await simulatedPause(deps.clock, pause, scope.signal);
    }
  }
}
