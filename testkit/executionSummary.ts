// What a response's Step Functions execution did, read from its history as GetExecutionHistory answers it: the
// figures an operator (the drill) and the benchmarks report.
import type { SFN } from "@aws-sdk/client-sfn";

/** An execution's status and its whole history, as an operator reads them: DescribeExecution, every page. */
export async function readExecution(
  client: SFN,
  executionArn: string,
): Promise<{ status: string; events: HistoryEventLike[] }> {
  const described = await client.describeExecution({ executionArn });
  const events: HistoryEventLike[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.getExecutionHistory({ executionArn, maxResults: 1000, nextToken });
    events.push(...((page.events ?? []) as HistoryEventLike[]));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return { status: described.status ?? "UNKNOWN", events };
}

/** The part of a history event this summary reads (AWS's shape). */
export interface HistoryEventLike {
  readonly id: number;
  readonly previousEventId?: number;
  readonly type?: string;
  /** Epoch ms (the SDK answers a Date). */
  readonly timestamp?: number | Date;
  readonly stateEnteredEventDetails?: { readonly name?: string };
  readonly taskSucceededEventDetails?: { readonly output?: string };
}

export interface ExecutionSummary {
  /** State transitions as Step Functions bills them: one per state entered. */
  readonly transitions: number;
  /** Task passes per step (every lambda:invoke that answered, "waiting" passes included). */
  readonly passes: Readonly<Record<string, number>>;
  /** Wait states entered per step. */
  readonly waits: Readonly<Record<string, number>>;
  /** Tasks that failed (each is retried or caught). */
  readonly failedTasks: number;
  /** Sum of the Tasks' durations, scheduled to answered: what Lambda bills for the workflow. */
  readonly taskSeconds: number;
}

function epochMs(timestamp: number | Date | undefined): number {
  return timestamp instanceof Date ? timestamp.getTime() : (timestamp ?? 0);
}

/** Reads the figures from an execution's history (pure). */
export function summarizeExecution(history: readonly HistoryEventLike[]): ExecutionSummary {
  const byId = new Map(history.map((event) => [event.id, event]));
  const passes: Record<string, number> = {};
  const waits: Record<string, number> = {};
  let transitions = 0;
  let failedTasks = 0;
  let taskMs = 0;
  for (const event of history) {
    const type = event.type ?? "";
    if (type.endsWith("StateEntered")) transitions += 1;
    const entered = event.stateEnteredEventDetails?.name;
    if (type === "WaitStateEntered" && entered?.endsWith(": wait") === true) {
      const step = entered.slice(0, -": wait".length);
      waits[step] = (waits[step] ?? 0) + 1;
    }
    if (type === "TaskFailed") failedTasks += 1;
    if (type === "TaskSucceeded") {
      const output = event.taskSucceededEventDetails?.output;
      const step = output === undefined ? undefined : answeredStep(output);
      if (step !== undefined) passes[step] = (passes[step] ?? 0) + 1;
    }
    if (type === "TaskSucceeded" || type === "TaskFailed" || type === "TaskTimedOut") {
      const started = byId.get(event.previousEventId ?? -1);
      const scheduled = started === undefined ? undefined : byId.get(started.previousEventId ?? -1);
      if (scheduled?.type === "TaskScheduled")
        taskMs += epochMs(event.timestamp) - epochMs(scheduled.timestamp);
    }
  }
  return { transitions, passes, waits, failedTasks, taskSeconds: taskMs / 1000 };
}

/** The step a lambda:invoke result answers for (the responder's StepTaskResult in Payload). */
function answeredStep(output: string): string | undefined {
  try {
    const payload = (JSON.parse(output) as { Payload?: { step?: unknown } }).Payload;
    return typeof payload?.step === "string" ? payload.step : undefined;
  } catch {
    return undefined;
  }
}
