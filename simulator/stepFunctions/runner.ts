// One Step Functions execution, run by aws-local-stepfunctions (MIT) on the copy of its definition made in
// definition.ts, with the states the library would run differently from AWS handled here:
// - Task (taskState.ts): the integration call as the state machine's role, TimeoutSeconds on the simulator's clock
//   (States.Timeout), Retry (retry.ts) on the simulator's clock, and the Task events of the history.
// - Wait: Seconds/SecondsPath are AWS seconds, waited on the simulator's clock; Timestamp/TimestampPath name a time
//   on the wall clock (see runWait).
// - Parallel: each branch is its own library execution; a failed branch aborts the others; Retry as for a Task.
// The library still evaluates every path, payload template, intrinsic function and Choice rule, and applies Catch
// (the runner raises errors the way the library's own are shaped, failures.ts). Its event log becomes the history
// (libraryLog.ts).
import {
  ExecutionError,
  StateMachine,
  type RunOptions,
  type StateMachineDefinition,
} from "aws-local-stepfunctions";
import type { SeededRandom, SimClock } from "../clock";
import "./promiseWithResolvers";
import {
  libraryDefinition,
  RUNNER_STATES,
  stateIndex,
  type Definition,
  type Json,
  type JsonObject,
  type Retrier,
  type StateInfo,
  type StateJson,
} from "./definition";
import { Aborted, runtimeFailure, statesTimeoutClass } from "./failures";
import { History, HISTORY_LIMIT_CAUSE } from "./history";
import type { Integrations } from "./integrations";
import { LibraryLog } from "./libraryLog";
import type { Scope } from "./pauses";
import { withRetry } from "./retry";
import { runTask } from "./taskState";
import { runWait } from "./waitState";

type Overrides = NonNullable<RunOptions["overrides"]>;
type Handler = NonNullable<Overrides["taskResourceLocalHandlers"]>[string];
type HandlerInput = Parameters<Handler>[0];

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** An execution as the service keeps it. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  stateMachineName: string;
  name: string;
  roleArn: string;
  /** The input as given to StartExecution (JSON text). */
  input: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  history: History;
}

export interface RunnerDeps {
  clock: SimClock;
  random: SeededRandom;
  region: string;
  integrations: Integrations;
}

/**
 * Lets every event the library has logged so far reach the history before a handler records its own: the library
 * logs synchronously and its log is read through async generators, all on microtasks, which run before this.
 */
const eventsLogged = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Ending = { kind: "aborted"; error?: string; cause?: string } | { kind: "timedOut" } | { kind: "limit" };

export class ExecutionRun {
  /** Settles when the execution is over and its history complete. */
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private readonly index: Map<string, StateInfo>;
  private readonly log: LibraryLog;
  private readonly branches = new Map<string, StateMachine[]>();
  private ending: Ending | undefined;

  constructor(
    private readonly deps: RunnerDeps,
    readonly record: ExecutionRecord,
    private readonly definition: Definition,
  ) {
    this.index = stateIndex(definition);
    this.log = new LibraryLog(this.index, record.history);
    this.done = this.run();
  }

  /** StopExecution: the execution is ABORTED now; its history ends once the running states have stopped. */
  stop(error?: string, cause?: string): boolean {
    return this.end({
      kind: "aborted",
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** The history quota cut the execution (History calls this). */
  limitReached(): void {
    this.end({ kind: "limit" });
  }

  private end(ending: Ending): boolean {
    const { record } = this;
    if (this.ending || record.status !== "RUNNING") return false;
    this.ending = ending;
    record.stopDate = this.deps.clock.now();
    if (ending.kind === "aborted") {
      record.status = "ABORTED";
      if (ending.error !== undefined) record.error = ending.error;
      if (ending.cause !== undefined) record.cause = ending.cause;
    } else if (ending.kind === "timedOut") {
      record.status = "TIMED_OUT";
      record.error = "States.Timeout";
    } else {
      record.status = "FAILED";
      record.error = "States.Runtime";
      record.cause = HISTORY_LIMIT_CAUSE;
    }
    // Not synchronously: this may be called while the library is logging.
    queueMicrotask(() => this.controller.abort());
    return true;
  }

  private context(): JsonObject {
    const { record } = this;
    return {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        RoleArn: record.roleArn,
        StartTime: new Date(record.startDate).toISOString(),
        RedriveCount: 0,
      },
      StateMachine: { Id: record.stateMachineArn, Name: record.stateMachineName },
    };
  }

  private async run(): Promise<void> {
    const { record, deps } = this;
    const history = record.history;
    history.add("root", "ExecutionStarted", {
      executionStartedEventDetails: {
        input: record.input,
        inputDetails: { truncated: false },
        roleArn: record.roleArn,
      },
    });
    let cancelTimeout = (): void => undefined;
    if (this.definition.TimeoutSeconds !== undefined) {
      let live = true;
      deps.clock.schedule(this.definition.TimeoutSeconds * 1000, () => {
        if (live) this.end({ kind: "timedOut" });
      });
      cancelTimeout = () => (live = false);
    }
    let outcome: { ok: true; output: Json } | { ok: false; error: unknown } = { ok: true, output: null };
    try {
      await statesTimeoutClass();
      if (!this.controller.signal.aborted) {
        const machine = new StateMachine(
          libraryDefinition(this.definition) as unknown as StateMachineDefinition,
          {
            validationOptions: { noValidate: true },
          },
        );
        const scope: Scope = { thread: "root", signal: this.controller.signal };
        const run = machine.run(JSON.parse(record.input) as HandlerInput, this.runOptions(scope));
        this.controller.signal.addEventListener("abort", () => run.abort(), { once: true });
        const logged = this.log.consume(run.eventLogs, scope);
        try {
          outcome = { ok: true, output: await run.result };
        } catch (error) {
          outcome = { ok: false, error };
        }
        await logged;
      }
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      cancelTimeout();
    }
    this.finish(outcome);
  }

  private runOptions(scope: Scope): RunOptions {
    const handlers: Record<string, Handler> = {};
    const retryIntervalOverrides: Record<string, number[]> = {};
    for (const [name, { state }] of this.index) {
      if (RUNNER_STATES.has(state.Type)) {
        handlers[name] = (input) => this.runState(name, input, scope);
      }
      if (state.Type === "Map" && Array.isArray(state.Retry)) {
        // A Map's retries stay the library's, which pauses on the wall clock: IntervalSeconds is converted to the
        // simulator's time scale (without BackoffRate, and no pause on a manual clock). See README.
        retryIntervalOverrides[name] = (state.Retry as unknown as Retrier[]).map((retrier) =>
          this.deps.clock.toWallMs((retrier.IntervalSeconds ?? 1) * 1000),
        );
      }
    }
    return {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
      noThrowOnAbort: true,
      context: this.context(),
    };
  }

  /** A Task, Wait or Parallel state of the copy: the runner's. */
  private async runState(name: string, input: Json, scope: Scope): Promise<Json> {
    await eventsLogged();
    if (scope.signal.aborted) throw new Aborted();
    const state = this.index.get(name)?.state;
    if (!state) throw runtimeFailure(`State '${name}' is not in the definition`);
    const thread = this.log.threadOf(name, scope);
    switch (state.Type) {
      case "Wait":
        return runWait(this.deps.clock, input, scope);
      case "Parallel":
        return this.runParallel(name, state, input, scope, thread);
      default:
        return runTask(this.deps, this.record, state, input, scope, thread);
    }
  }

  private branchMachines(name: string, state: StateJson): StateMachine[] {
    let machines = this.branches.get(name);
    if (!machines) {
      const branches = (Array.isArray(state.Branches) ? state.Branches : []) as unknown as {
        StartAt: string;
        States: Record<string, StateJson>;
      }[];
      machines = branches.map(
        (branch) =>
          new StateMachine(libraryDefinition(branch) as unknown as StateMachineDefinition, {
            validationOptions: { noValidate: true },
          }),
      );
      this.branches.set(name, machines);
    }
    return machines;
  }

  private async runParallel(
    name: string,
    state: StateJson,
    input: Json,
    scope: Scope,
    thread: string,
  ): Promise<Json> {
    const history = this.record.history;
    return withRetry(this.deps, state, scope, async () => {
      const started = history.add(thread, "ParallelStateStarted");
      const controllers = this.branchMachines(name, state).map(() => new AbortController());
      const abortAll = () => controllers.forEach((controller) => controller.abort());
      scope.signal.addEventListener("abort", abortAll, { once: true });
      let failure: unknown;
      try {
        const runs = this.branchMachines(name, state).map((machine, branch) => {
          const controller = controllers[branch] ?? new AbortController();
          const branchScope: Scope = { thread: `${thread}/${name}[${branch}]`, signal: controller.signal };
          history.fork(branchScope.thread, started);
          const run = machine.run(input, this.runOptions(branchScope));
          controller.signal.addEventListener("abort", () => run.abort(), { once: true });
          const logged = this.log.consume(run.eventLogs, branchScope);
          const result = run.result.then(
            (output): Json => output,
            (error: unknown) => {
              failure ??= error instanceof ExecutionError ? error.cause : error;
              abortAll();
              return null;
            },
          );
          return { result, logged };
        });
        const outputs = await Promise.all(runs.map((run) => run.result));
        await Promise.all(runs.map((run) => run.logged));
        if (scope.signal.aborted) throw new Aborted();
        if (failure !== undefined) {
          history.add(thread, "ParallelStateFailed");
          throw failure instanceof Error
            ? failure
            : runtimeFailure(JSON.stringify(failure) ?? "unknown failure");
        }
        history.add(thread, "ParallelStateSucceeded");
        return outputs;
      } finally {
        scope.signal.removeEventListener("abort", abortAll);
        // The branches are over: none of their states is still running.
        this.log.branchesEnded(`${thread}/${name}[`);
      }
    });
  }

  /** The execution's last events and final status, once the library's run and every state have stopped. */
  private finish(outcome: { ok: true; output: Json } | { ok: false; error: unknown }): void {
    const { record } = this;
    const history = record.history;
    const ending = this.ending;
    if (ending?.kind === "limit") return;
    if (ending) {
      this.log.abortRunningStates();
      if (ending.kind === "aborted") {
        history.add("root", "ExecutionAborted", {
          executionAbortedEventDetails: {
            ...(ending.error === undefined ? {} : { error: ending.error }),
            ...(ending.cause === undefined ? {} : { cause: ending.cause }),
          },
        });
      } else {
        history.add("root", "ExecutionTimedOut", {
          executionTimedOutEventDetails: { error: "States.Timeout" },
        });
      }
      return;
    }
    record.stopDate = this.deps.clock.now();
    if (outcome.ok) {
      record.status = "SUCCEEDED";
      record.output = JSON.stringify(outcome.output);
      history.add("root", "ExecutionSucceeded", {
        executionSucceededEventDetails: { output: record.output, outputDetails: { truncated: false } },
      });
      return;
    }
    const failure = outcome.error instanceof ExecutionError ? outcome.error.cause : outcome.error;
    const fromFail = this.log.lastFailState;
    let error: string | undefined;
    let cause: string | undefined;
    if (failure instanceof Error) {
      error = failure.name;
      cause = failure.message;
      // A Fail state without Error (or Cause) fails the execution without one; the library names a default.
      if (
        fromFail &&
        failure.name === "FailStateError" &&
        !("Error" in fromFail) &&
        !("ErrorPath" in fromFail)
      ) {
        error = undefined;
      }
      if (
        fromFail &&
        !("Cause" in fromFail) &&
        !("CausePath" in fromFail) &&
        cause === "Execution failed because of a Fail state"
      ) {
        cause = undefined;
      }
    } else {
      error = "States.Runtime";
      cause = String(failure);
    }
    record.status = "FAILED";
    if (error !== undefined) record.error = error;
    if (cause !== undefined) record.cause = cause;
    history.add("root", "ExecutionFailed", {
      executionFailedEventDetails: {
        ...(error === undefined ? {} : { error }),
        ...(cause === undefined ? {} : { cause }),
      },
    });
  }
}
