/** What one pass of a step reports back (a thrown error means "interrupted": the state machine retries it). */
export interface StepResult {
  /** done: finished; failed: recorded and the response goes on; skipped: nothing to do; waiting: look again. */
  readonly status: "done" | "failed" | "skipped" | "waiting";
  readonly outcome: string;
  readonly detail?: Readonly<Record<string, unknown>>;
  /** With "waiting": when to run the next pass (epoch ms). */
  readonly until?: number;
}

export function done(outcome: string, detail?: Record<string, unknown>): StepResult {
  return { status: "done", outcome, detail };
}
export function failed(outcome: string, detail?: Record<string, unknown>): StepResult {
  return { status: "failed", outcome, detail };
}
export function skipped(outcome: string, detail?: Record<string, unknown>): StepResult {
  return { status: "skipped", outcome, detail };
}
/** Not finished: the next pass runs at `until` (epoch ms; see nextLook), with `detail` as the step left it. */
export function waiting(outcome: string, until: number, detail?: Record<string, unknown>): StepResult {
  return { status: "waiting", outcome, detail, until };
}
