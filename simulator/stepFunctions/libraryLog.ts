// The event log of aws-local-stepfunctions turned into the execution's history: states entered and exited, Map
// iterations, and which state runs in which line of work (a stop ends each running state with an Aborted event).
import type { StateMachine } from "aws-local-stepfunctions";
import type { StateInfo, StateJson } from "./definition";
import type { History } from "./history";
import type { Scope } from "./pauses";

type LibraryRun = ReturnType<StateMachine["run"]>;
type LibraryEvent = LibraryRun["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

/** States whose entry and exit the history names `<Type>StateEntered` / `<Type>StateExited`. */
const ABORTABLE = new Set(["Task", "Wait", "Parallel", "Map"]);

export class LibraryLog {
  private readonly threadOfState = new Map<string, string>();
  /** Per line of work, the state entered and not yet left (for the Aborted events of a stop). */
  private readonly current = new Map<string, { name: string; type: string }>();
  private readonly caught = new Set<string>();
  private readonly mapStarted = new Map<string, number>();
  /** The Fail state entered last: whether it names an Error and a Cause decides the execution's. */
  lastFailState: StateJson | undefined;

  constructor(
    private readonly index: Map<string, StateInfo>,
    private readonly history: History,
  ) {}

  async consume(events: LibraryRun["eventLogs"], scope: Scope): Promise<void> {
    for await (const event of events) this.log(event, scope);
  }

  /** The line of work a state the library hands to the runner was entered in. */
  threadOf(name: string, scope: Scope): string {
    return this.threadOfState.get(name) ?? scope.thread;
  }

  /** A Parallel state's branches are over: none of their states is still running. */
  branchesEnded(branchPrefix: string): void {
    for (const key of [...this.current.keys()]) {
      if (key.startsWith(branchPrefix)) this.current.delete(key);
    }
  }

  /** The stop ends every running state: innermost lines of work first (a branch's Task before its Parallel). */
  abortRunningStates(): void {
    const open = [...this.current.entries()].sort(([a], [b]) => b.length - a.length);
    for (const [thread, { type }] of open) {
      if (ABORTABLE.has(type)) this.history.add(thread, `${type}StateAborted`);
    }
  }

  private threadFor(name: string, index: number | undefined, scope: Scope): string {
    const map = this.index.get(name)?.map;
    return index === undefined || map === undefined ? scope.thread : `${scope.thread}/${map}#${index}`;
  }

  /** One event of the library's log, as the history shows it. */
  private log(event: LibraryEvent, scope: Scope): void {
    const history = this.history;
    switch (event.type) {
      case "StateEntered": {
        const { name } = event.state;
        const state = this.index.get(name)?.state;
        const type = state?.Type ?? event.state.type;
        const thread = this.threadFor(name, event.index, scope);
        this.threadOfState.set(name, thread);
        this.current.set(thread, { name, type });
        this.caught.delete(`${thread}\n${name}`);
        history.add(thread, `${type}StateEntered`, {
          stateEnteredEventDetails: {
            name,
            input: JSON.stringify(event.state.input ?? null),
            inputDetails: { truncated: false },
          },
        });
        if (type === "Map") this.mapStarted.set(name, history.add(thread, "MapStateStarted") ?? 0);
        if (type === "Fail") this.lastFailState = state;
        break;
      }
      case "StateExited": {
        const { name } = event.state;
        const type = this.index.get(name)?.state.Type ?? event.state.type;
        const thread = this.threadFor(name, event.index, scope);
        // A caught failure leaves the state without StateExited: the catcher's Next is entered.
        if (this.caught.delete(`${thread}\n${name}`)) break;
        if (type === "Map") history.add(thread, "MapStateSucceeded");
        history.add(thread, `${type}StateExited`, {
          stateExitedEventDetails: {
            name,
            output: JSON.stringify(event.state.output ?? null),
            outputDetails: { truncated: false },
          },
        });
        this.current.delete(thread);
        break;
      }
      case "StateFailed": {
        const { name } = event.state;
        if (this.index.get(name)?.state.Type === "Map") {
          history.add(this.threadFor(name, event.index, scope), "MapStateFailed");
        }
        break;
      }
      case "StateCaught": {
        const { name } = event.state;
        const thread = this.threadFor(name, event.index, scope);
        this.caught.add(`${thread}\n${name}`);
        this.current.delete(thread);
        break;
      }
      case "MapIterationStarted":
      case "MapIterationSucceeded":
      case "MapIterationFailed": {
        const map = event.parentState.name;
        const thread = `${scope.thread}/${map}#${event.index}`;
        if (event.type === "MapIterationStarted") history.fork(thread, this.mapStarted.get(map));
        const key = `mapIteration${event.type.slice("MapIteration".length)}EventDetails`;
        history.add(thread, event.type, { [key]: { name: map, index: event.index } });
        break;
      }
      default:
        // Execution*, ParallelBranch* (Parallel states are the runner's), StateRetried (a Map's retries).
        break;
    }
  }
}
