// An execution's history as GetExecutionHistory answers it: events numbered from 1, each with the id of the event it
// follows in its own line of work (a Parallel branch, a Map iteration) and the time it happened on the simulator's
// clock, under Step Functions' quota of 25,000 events.

/** One history event: id, previousEventId, timestamp (simulated epoch ms), type and its `<kind>EventDetails`. */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/**
 * "Maximum execution history size: 25,000 events in a single state machine execution history. If the execution
 * history reaches this quota, the execution will fail" (Step Functions Developer Guide, "Step Functions service
 * quotas", quotas related to state machine executions). As AWS shows it, the 25,000th event is the failure itself:
 * ExecutionFailed, error States.Runtime, with the cause below (reported from AWS: floci-io/floci#2734; also quoted in
 * loads/ardere#86).
 */
const HISTORY_LIMIT = 25_000;
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${HISTORY_LIMIT}).`;

const CLOSING = new Set(["ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"]);

export class History {
  readonly events: HistoryEvent[] = [];
  private readonly last = new Map<string, number>();
  private readonly forks = new Map<string, number>();
  private isClosed = false;

  /**
   * @param now the simulator's clock
   * @param onLimit called once when the quota cut the execution (the failure is recorded already)
   */
  constructor(
    private readonly now: () => number,
    private readonly onLimit: () => void,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** A new line of work (a branch, an iteration) that starts after event `from`. */
  fork(thread: string, from: number | undefined): void {
    this.last.delete(thread);
    if (from === undefined) this.forks.delete(thread);
    else this.forks.set(thread, from);
  }

  /**
   * Records an event in a line of work; answers its id, or undefined once the history is closed (after the
   * execution's last event). An event that would be the 25,000th and not the execution's end closes the execution.
   */
  add(thread: string, type: string, details: Record<string, unknown> = {}): number | undefined {
    if (this.isClosed) return undefined;
    if (!CLOSING.has(type) && this.events.length >= HISTORY_LIMIT - 1) {
      this.push(
        thread,
        "ExecutionFailed",
        {
          executionFailedEventDetails: { error: "States.Runtime", cause: HISTORY_LIMIT_CAUSE },
        },
        this.events.length,
      );
      this.isClosed = true;
      this.onLimit();
      return undefined;
    }
    const id = this.push(thread, type, details);
    if (CLOSING.has(type)) this.isClosed = true;
    return id;
  }

  private push(thread: string, type: string, details: Record<string, unknown>, previous?: number): number {
    const id = this.events.length + 1;
    const previousEventId = previous ?? this.last.get(thread) ?? this.forks.get(thread) ?? 0;
    this.events.push({ timestamp: this.now(), type, id, previousEventId, ...details });
    this.last.set(thread, id);
    return id;
  }
}
