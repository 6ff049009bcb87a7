// A Task state: the integration call as the state machine's role (integrations.ts), TimeoutSeconds on the
// simulator's clock (States.Timeout), Retry, and the Task's history events: Task* for a service integration
// (lambda:invoke, sns:publish), LambdaFunction* for a Lambda function ARN as the Resource.
import { LAMBDA_INVOKE, SNS_PUBLISH, type Json, type StateJson } from "./definition";
import { runtimeFailure, StateFailure, statesTimeoutClass } from "./failures";
import type { TaskOutcome } from "./integrations";
import { untilAborted, type Scope } from "./pauses";
import { withRetry } from "./retry";
import type { ExecutionRecord, RunnerDeps } from "./runner";

type Call = (signal: AbortSignal) => Promise<TaskOutcome>;

/** The parameters of the call and its TimeoutSeconds (TimeoutSecondsPath: the copy of the definition wraps both). */
function callInput(state: StateJson, input: Json): { parameters: Json; timeoutSeconds?: number } {
  const timeoutSeconds = typeof state.TimeoutSeconds === "number" ? state.TimeoutSeconds : undefined;
  if (!("TimeoutSecondsPath" in state)) return { parameters: input, timeoutSeconds };
  const wrapped = (input ?? {}) as { parameters?: Json; timeoutSeconds?: Json };
  const seconds = wrapped.timeoutSeconds;
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1) {
    throw runtimeFailure(
      `The TimeoutSecondsPath parameter does not reference a positive integer: ${JSON.stringify(seconds ?? null)}`,
    );
  }
  return { parameters: wrapped.parameters ?? null, timeoutSeconds: seconds };
}

export async function runTask(
  deps: RunnerDeps,
  record: ExecutionRecord,
  state: StateJson,
  input: Json,
  scope: Scope,
  thread: string,
): Promise<Json> {
  const { parameters, timeoutSeconds } = callInput(state, input);
  const resource = typeof state.Resource === "string" ? state.Resource : "";
  const { roleArn, history } = record;
  const { integrations } = deps;
  const call: Call =
    resource === LAMBDA_INVOKE
      ? (signal) => integrations.lambdaInvoke(roleArn, parameters, signal)
      : resource === SNS_PUBLISH
        ? (signal) => integrations.snsPublish(roleArn, parameters, signal)
        : (signal) =>
            integrations.invoke(roleArn, { FunctionName: resource, Payload: parameters }, false, signal);
  const legacy = resource !== LAMBDA_INVOKE && resource !== SNS_PUBLISH;
  const [resourceType = "", apiAction = ""] = legacy ? ["lambda", "invoke"] : resource.split(":").slice(-2);
  const kind = { resourceType, resource: apiAction };
  /**
   * One event of the Task: `Task<suffix>` with the integration named in its details, or `LambdaFunction<suffix>`
   * (an event without details has none: LambdaFunctionStarted).
   */
  const event = (suffix: string, details?: Record<string, unknown>): void => {
    if (legacy) {
      history.add(
        thread,
        `LambdaFunction${suffix}`,
        details && { [`lambdaFunction${suffix}EventDetails`]: details },
      );
    } else {
      history.add(thread, `Task${suffix}`, { [`task${suffix}EventDetails`]: { ...kind, ...details } });
    }
  };
  const timeout = timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds };
  const Timeout = await statesTimeoutClass();
  return withRetry(deps, state, scope, async () => {
    event(
      "Scheduled",
      legacy
        ? { resource, input: JSON.stringify(parameters), inputDetails: { truncated: false }, ...timeout }
        : { region: deps.region, parameters: JSON.stringify(parameters), ...timeout },
    );
    event("Started", legacy ? undefined : {}); // TaskStarted names the integration, LambdaFunctionStarted nothing
    const outcome = await attempt(deps, call, timeoutSeconds, scope);
    if (outcome === "timeout") {
      event("TimedOut", { error: "States.Timeout" });
      throw new Timeout();
    }
    if (!outcome.ok) {
      if (outcome.runtime) throw runtimeFailure(outcome.cause);
      event("Failed", { error: outcome.error, cause: outcome.cause });
      throw new StateFailure(outcome.error, outcome.cause);
    }
    event("Succeeded", { output: JSON.stringify(outcome.output), outputDetails: { truncated: false } });
    return outcome.output;
  });
}

/** One call, raced against the Task's TimeoutSeconds on the simulator's clock (a deadline: it never moves time). */
async function attempt(
  deps: RunnerDeps,
  call: Call,
  timeoutSeconds: number | undefined,
  scope: Scope,
): Promise<TaskOutcome | "timeout"> {
  const request = new AbortController();
  const abortRequest = () => request.abort();
  scope.signal.addEventListener("abort", abortRequest, { once: true });
  let live = true;
  const timedOut = new Promise<"timeout">((resolve) => {
    if (timeoutSeconds !== undefined) {
      deps.clock.schedule(timeoutSeconds * 1000, () => {
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
