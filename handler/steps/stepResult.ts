/** What a step reports back to the pipeline when it returns (a thrown error means "interrupted, retry"). */
export interface StepResult {
  /** done: finished; failed: recorded and the response goes on; skipped: nothing to do; waiting: resume later. */
  readonly status: "done" | "failed" | "skipped" | "waiting";
  readonly outcome: string;
  readonly detail?: Readonly<Record<string, unknown>>;
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
export function waiting(outcome: string, detail?: Record<string, unknown>): StepResult {
  return { status: "waiting", outcome, detail };
}
