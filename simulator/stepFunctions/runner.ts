// One Step Functions execution, run by aws-local-stepfunctions (MIT) on the copy of its definition made in
// definition.ts, with the states the library would run differently from AWS handled here:
// - Task: the integration call as the state machine's role (integrations.ts), TimeoutSeconds on the simulator's
//   clock (States.Timeout), Retry with IntervalSeconds, BackoffRate, MaxDelaySeconds and JitterStrategy on the
//   simulator's clock, and the Task events of the history (TaskScheduled, TaskStarted, TaskSucceeded/Failed/TimedOut).
// - Wait: Seconds/SecondsPath are AWS seconds, waited on the simulator's clock; Timestamp/TimestampPath name a time
//   on the wall clock (see runWait).
// - Parallel: each branch is its own library execution; a failed branch aborts the others; Retry as for a Task.
// The library still evaluates every path, payload template, intrinsic function and Choice rule, and applies Catch
// (the runner raises errors the way the library's own are shaped). Its event log is turned into the history.
import {
  ExecutionError,
  StateMachine,
  type RunOptions,
  type StateMachineDefinition,
} from "aws-local-stepfunctions";
import "./promiseWithResolvers";
import type { SeededRandom, SimClock } from "../clock";
import {
  libraryDefinition,
  LAMBDA_INVOKE,
  RUNNER_STATES,
  SNS_PUBLISH,
  stateIndex,
  type Definition,
  type Json,
  type JsonObject,
  type Retrier,
  type StateInfo,
  type StateJson,
} from "./definition";
import { History, HISTORY_LIMIT_CAUSE } from "./history";
import type { Integrations, TaskOutcome } from "./integrations";

type Overrides = NonNullable<RunOptions["overrides"]>;
type Handler = NonNullable<Overrides["taskResourceLocalHandlers"]>[string];
type LibraryRun = ReturnType<StateMachine["run"]>;
type LibraryEvent = LibraryRun["eventLogs"] extends AsyncGenerator<infer E> ? E : never;
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
 * A state's failure as the library handles one: name = Error, message = Cause, and whether a Retry or Catch may
 * handle it (States.Runtime: neither).
 */
class StateFailure extends Error {
  constructor(
    name: string,
    cause: string,
    readonly isRetryable = true,
    readonly isCatchable = true,
  ) {
    super(cause);
    this.name = name;
  }
}

const runtimeFailure = (cause: string) => new StateFailure("States.Runtime", cause, false, false);

/** The execution (or the branch) stopped: nothing may handle it. */
class Aborted extends StateFailure {
  constructor() {
    super("Simulator.Aborted", "The execution was stopped", false, false);
  }
}

/**
 * The library exempts its own Task timeout from `States.TaskFailed` in Retry and Catch by class
 * (`instanceof StatesTimeoutError`) and does not export the class. A States.Timeout raised here must be of that
 * class, or a Catch on States.TaskFailed would take it, which AWS does not ("States.TaskFailed ... matches any
 * known error name except for States.Timeout"). The class is taken once from a probe: a Task that times out after
 * 1 ms.
 */
let timeoutClass: Promise<new () => Error> | undefined;
function statesTimeoutClass(): Promise<new () => Error> {
  timeoutClass ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: "Probe",
        States: {
          Probe: {
            Type: "Task",
            Resource: "arn:aws:lambda:us-east-1:000000000000:function:probe",
            TimeoutSeconds: 0.001,
            End: true,
          },
        },
      },
      { validationOptions: { noValidate: true } },
    );
    let release = (): void => undefined;
    const pending = new Promise<null>((resolve) => (release = () => resolve(null)));
    const run = probe.run(null, { overrides: { taskResourceLocalHandlers: { Probe: () => pending } } });
    try {
      await run.result;
    } catch (error) {
      const cause = error instanceof ExecutionError ? error.cause : undefined;
      if (cause instanceof Error && cause.name === "States.Timeout") {
        return cause.constructor as new () => Error;
      }
    } finally {
      release();
    }
    throw new Error("aws-local-stepfunctions did not time out its probe Task: cannot raise States.Timeout");
  })();
  return timeoutClass;
}

/** Waits `simMs` of simulated time as SimClock.sleep does (a manual clock is moved forward), or until aborted. */
function simulatedPause(clock: SimClock, simMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new Aborted());
  if (clock.manual) {
    clock.advance(Math.max(0, simMs));
    return Promise.resolve();
  }
  return wallPause(clock.toWallMs(simMs), signal);
}

/** Waits `ms` of wall time, or until aborted (the timer is cleared: nothing is left behind). */
function wallPause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Aborted());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Aborted());
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      // +1 ms: a timer can fire a hair before the wall-clock time it was computed from.
      Math.min(Math.max(0, ms) + 1, 2 ** 31 - 1),
    );
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Settles as `promise` does, or rejects with Aborted as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Aborted());
      return;
    }
    const onAbort = () => reject(new Aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Lets every event the library has logged so far reach the history before a handler records its own: the library
 * logs synchronously and its log is read through async generators, all on microtasks, which run before this.
 */
const eventsLogged = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** RFC 3339 as Step Functions takes a Wait's timestamp: uppercase T and Z, or a numeric offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** States whose entry and exit the history names `<Type>StateEntered` / `<Type>StateExited`. */
const ABORTABLE = new Set(["Task", "Wait", "Parallel", "Map"]);

interface Scope {
  /** The line of work in the history: the execution, a Parallel branch, a Map iteration. */
  thread: string;
  signal: AbortSignal;
}

type Ending = { kind: "aborted"; error?: string; cause?: string } | { kind: "timedOut" } | { kind: "limit" };

export class ExecutionRun {
  /** Settles when the execution is over and its history complete. */
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private readonly index: Map<string, StateInfo>;
  private readonly threadOfState = new Map<string, string>();
  /** Per line of work, the state entered and not yet left (for the Aborted events of a stop). */
  private readonly current = new Map<string, { name: string; type: string }>();
  private readonly caught = new Set<string>();
  private readonly mapStarted = new Map<string, number>();
  private readonly branches = new Map<string, StateMachine[]>();
  private lastFailState: StateJson | undefined;
  private ending: Ending | undefined;

  constructor(
    private readonly deps: RunnerDeps,
    readonly record: ExecutionRecord,
    private readonly definition: Definition,
  ) {
    this.index = stateIndex(definition);
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
        const logged = this.consume(run.eventLogs, scope);
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

  private async consume(events: AsyncGenerator<LibraryEvent>, scope: Scope): Promise<void> {
    for await (const event of events) this.log(event, scope);
  }

  private threadFor(name: string, index: number | undefined, scope: Scope): string {
    const map = this.index.get(name)?.map;
    return index === undefined || map === undefined ? scope.thread : `${scope.thread}/${map}#${index}`;
  }

  /** One event of the library's log, as the history shows it. */
  private log(event: LibraryEvent, scope: Scope): void {
    const history = this.record.history;
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

  /** A Task, Wait or Parallel state of the copy: the runner's. */
  private async runState(name: string, input: Json, scope: Scope): Promise<Json> {
    await eventsLogged();
    if (scope.signal.aborted) throw new Aborted();
    const state = this.index.get(name)?.state;
    if (!state) throw runtimeFailure(`State '${name}' is not in the definition`);
    const thread = this.threadOfState.get(name) ?? scope.thread;
    switch (state.Type) {
      case "Wait":
        return this.runWait(input, scope);
      case "Parallel":
        return this.runParallel(name, state, input, scope, thread);
      default:
        return this.runTask(state, input, scope, thread);
    }
  }

  /**
   * Seconds and SecondsPath are AWS seconds: waited on the simulator's clock (scaled; a manual clock is moved forward).
   * Timestamp and TimestampPath name an absolute time on the clock of whoever wrote it: the responder Lambda, which
   * runs on the wall clock (the simulator's durations are scaled to it). So the wait lasts until that wall-clock time,
   * and not at all when it is past. AWS truncates a timestamp to whole seconds; here time runs up to a hundred times
   * faster, a second of wall time can be minutes of simulated time, so the milliseconds are honoured. The library
   * would wait on the wall clock for Seconds too, hence the runner waits here.
   */
  private async runWait(input: Json, scope: Scope): Promise<Json> {
    const {
      input: passed = null,
      seconds,
      timestamp,
    } = (input ?? {}) as {
      input?: Json;
      seconds?: Json;
      timestamp?: Json;
    };
    if (seconds !== undefined) {
      if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0) {
        throw runtimeFailure(
          `The SecondsPath parameter does not reference a valid integer value: ${JSON.stringify(seconds)}`,
        );
      }
      await simulatedPause(this.deps.clock, seconds * 1000, scope.signal);
    } else {
      if (typeof timestamp !== "string" || !RFC3339.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
        throw runtimeFailure(
          `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${JSON.stringify(timestamp ?? null)}`,
        );
      }
      await wallPause(Date.parse(timestamp) - Date.now(), scope.signal);
    }
    return passed;
  }

  /** AWS's order of retry decisions: the first retrier naming the error; its MaxAttempts; its pause. */
  private retryPause(retriers: Retrier[], attempts: number[], error: unknown): number | undefined {
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
    if (retrier.JitterStrategy === "FULL") seconds *= this.deps.random.next();
    return seconds * 1000;
  }

  /** Runs attempts until one succeeds or no retrier handles the failure; pauses on the simulator's clock. */
  private async withRetry<T>(state: StateJson, scope: Scope, attempt: () => Promise<T>): Promise<T> {
    const retriers = Array.isArray(state.Retry) ? (state.Retry as unknown as Retrier[]) : [];
    const attempts = retriers.map(() => 0);
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        const pause = this.retryPause(retriers, attempts, error);
        if (pause === undefined) throw error;
        await simulatedPause(this.deps.clock, pause, scope.signal);
      }
    }
  }

  private async runTask(state: StateJson, input: Json, scope: Scope, thread: string): Promise<Json> {
    let parameters = input;
    let timeoutSeconds = typeof state.TimeoutSeconds === "number" ? state.TimeoutSeconds : undefined;
    if ("TimeoutSecondsPath" in state) {
      const wrapped = (input ?? {}) as { parameters?: Json; timeoutSeconds?: Json };
      parameters = wrapped.parameters ?? null;
      const seconds = wrapped.timeoutSeconds;
      if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1) {
        throw runtimeFailure(
          `The TimeoutSecondsPath parameter does not reference a positive integer: ${JSON.stringify(seconds ?? null)}`,
        );
      }
      timeoutSeconds = seconds;
    }
    const resource = typeof state.Resource === "string" ? state.Resource : "";
    const roleArn = this.record.roleArn;
    const { integrations } = this.deps;
    const call =
      resource === LAMBDA_INVOKE
        ? (signal: AbortSignal) => integrations.lambdaInvoke(roleArn, parameters, signal)
        : resource === SNS_PUBLISH
          ? (signal: AbortSignal) => integrations.snsPublish(roleArn, parameters, signal)
          : (signal: AbortSignal) =>
              integrations.invoke(roleArn, { FunctionName: resource, Payload: parameters }, false, signal);
    const legacy = resource !== LAMBDA_INVOKE && resource !== SNS_PUBLISH;
    const [resourceType = "", apiAction = ""] = legacy ? ["lambda", "invoke"] : resource.split(":").slice(-2);
    const kind = { resourceType, resource: apiAction };
    const history = this.record.history;
    const Timeout = await statesTimeoutClass();
    return this.withRetry(state, scope, async () => {
      if (legacy) {
        history.add(thread, "LambdaFunctionScheduled", {
          lambdaFunctionScheduledEventDetails: {
            resource,
            input: JSON.stringify(parameters),
            inputDetails: { truncated: false },
            ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
          },
        });
        history.add(thread, "LambdaFunctionStarted");
      } else {
        history.add(thread, "TaskScheduled", {
          taskScheduledEventDetails: {
            ...kind,
            region: this.deps.region,
            parameters: JSON.stringify(parameters),
            ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
          },
        });
        history.add(thread, "TaskStarted", { taskStartedEventDetails: kind });
      }
      const outcome = await this.attempt(call, timeoutSeconds, scope);
      if (outcome === "timeout") {
        if (legacy) {
          history.add(thread, "LambdaFunctionTimedOut", {
            lambdaFunctionTimedOutEventDetails: { error: "States.Timeout" },
          });
        } else {
          history.add(thread, "TaskTimedOut", {
            taskTimedOutEventDetails: { ...kind, error: "States.Timeout" },
          });
        }
        throw new Timeout();
      }
      if (!outcome.ok) {
        if (outcome.runtime) throw runtimeFailure(outcome.cause);
        if (legacy) {
          history.add(thread, "LambdaFunctionFailed", {
            lambdaFunctionFailedEventDetails: { error: outcome.error, cause: outcome.cause },
          });
        } else {
          history.add(thread, "TaskFailed", {
            taskFailedEventDetails: { ...kind, error: outcome.error, cause: outcome.cause },
          });
        }
        throw new StateFailure(outcome.error, outcome.cause);
      }
      const output = JSON.stringify(outcome.output);
      if (legacy) {
        history.add(thread, "LambdaFunctionSucceeded", {
          lambdaFunctionSucceededEventDetails: { output, outputDetails: { truncated: false } },
        });
      } else {
        history.add(thread, "TaskSucceeded", {
          taskSucceededEventDetails: { ...kind, output, outputDetails: { truncated: false } },
        });
      }
      return outcome.output;
    });
  }

  /** One call, raced against the Task's TimeoutSeconds on the simulator's clock (a deadline: it never moves time). */
  private async attempt(
    call: (signal: AbortSignal) => Promise<TaskOutcome>,
    timeoutSeconds: number | undefined,
    scope: Scope,
  ): Promise<TaskOutcome | "timeout"> {
    const request = new AbortController();
    const abortRequest = () => request.abort();
    scope.signal.addEventListener("abort", abortRequest, { once: true });
    let live = true;
    const timedOut = new Promise<"timeout">((resolve) => {
      if (timeoutSeconds !== undefined) {
        this.deps.clock.schedule(timeoutSeconds * 1000, () => {
          if (live) resolve("timeout");
        });
      }
    });
    try {
      const outcome = await untilAborted(Promise.race([call(request.signal), timedOut]), scope.signal);
      // A timed-out call is given up (the function itself runs on, as in AWS).
      if (outcome === "timeout") request.abort();
      return outcome;
    } finally {
      live = false;
      scope.signal.removeEventListener("abort", abortRequest);
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
    return this.withRetry(state, scope, async () => {
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
          const logged = this.consume(run.eventLogs, branchScope);
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
        for (const key of [...this.current.keys()]) {
          if (key.startsWith(`${thread}/${name}[`)) this.current.delete(key);
        }
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
      // Innermost lines of work first: a branch's Task stops before its Parallel.
      const open = [...this.current.entries()].sort(([a], [b]) => b.length - a.length);
      for (const [thread, { type }] of open) {
        if (ABORTABLE.has(type)) history.add(thread, `${type}StateAborted`);
      }
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
    const fromFail = this.lastFailState;
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
