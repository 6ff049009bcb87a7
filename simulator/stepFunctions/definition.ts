// Amazon States Language definitions: validation as CreateStateMachine does it (asl-validator, with AWS's error
// codes), the features the simulator runs, and the copy of a definition that aws-local-stepfunctions executes.
//
// The copy differs from the definition where the library's behaviour is not AWS's (runner.ts supplies the rest):
// - Task states keep their data flow (InputPath, Parameters, ResultSelector, ResultPath, OutputPath) and Catch, but
//   lose Retry and TimeoutSeconds: the library would time them on the wall clock (with a 60 s default AWS does not
//   have) and pause retries on the wall clock; the runner does both on the simulator's clock.
// - Wait states become Tasks whose Parameters resolve Seconds/SecondsPath/Timestamp/TimestampPath against the
//   state's input (the library's JSONPath), so the runner can wait on the right clock.
// - Parallel states become Tasks: the runner runs each branch as its own library execution, so a branch's waits,
//   retries and aborts are the runner's, and Retry on the Parallel pauses on the simulator's clock.
import { AwsError } from "../errors";

/** asl-validator ships no type declarations. */
const aslValidator = require("asl-validator") as (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText(separator?: string): string };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface StateJson extends JsonObject {
  Type: string;
}

export interface Definition {
  StartAt: string;
  States: Record<string, StateJson>;
  TimeoutSeconds?: number;
}

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: "FULL" | "NONE";
}

/** Where a state sits: its definition, the enclosing Parallel branch or Map, by name (names are unique). */
export interface StateInfo {
  name: string;
  state: StateJson;
  /** The nearest Map state around it, if any (its iterations are threads of their own in the history). */
  map?: string;
}

/** The optimized integrations and the plain Lambda ARN the simulator runs (services/stepFunctions.ts, README). */
export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
export const SNS_PUBLISH = "arn:aws:states:::sns:publish";
const LAMBDA_FUNCTION_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;

/** Resource of the Tasks the copy puts in place of Wait and Parallel states (never called: the runner handles them). */
const SIMULATOR_RESOURCE = "arn:aws:states:::simulator:state";

/**
 * TimeoutSeconds of every Task in the copy: the library races each Task against a wall-clock timer of this length.
 * Under setTimeout's 2^31-1 ms ceiling (a longer delay fires at once), and far beyond any drill.
 */
const LIBRARY_TASK_TIMEOUT_SECONDS = 2_000_000;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const invalid = (detail: string): AwsError =>
  new AwsError("InvalidDefinition", `Invalid State Machine Definition: '${detail}'`);

/** The states of a branch, an iterator or the machine, each with its own nested states. */
function statesOf(container: unknown): Record<string, StateJson> {
  const states = isObject(container) ? container.States : undefined;
  return isObject(states) ? (states as Record<string, StateJson>) : {};
}

function nested(state: StateJson): JsonObject[] {
  if (state.Type === "Parallel" && Array.isArray(state.Branches)) return state.Branches.filter(isObject);
  if (state.Type === "Map") {
    const processor = state.ItemProcessor ?? state.Iterator;
    return isObject(processor) ? [processor] : [];
  }
  return [];
}

/** Every state by name, at any depth. */
export function stateIndex(definition: Definition): Map<string, StateInfo> {
  const index = new Map<string, StateInfo>();
  const visit = (container: unknown, map: string | undefined) => {
    for (const [name, state] of Object.entries(statesOf(container))) {
      index.set(name, map === undefined ? { name, state } : { name, state, map });
      for (const inner of nested(state)) visit(inner, state.Type === "Map" ? name : map);
    }
  };
  visit(definition, undefined);
  return index;
}

/** What the simulator cannot run, named, or undefined. AWS would accept these; the simulator refuses them loudly. */
function unsupported(definition: JsonObject): string | undefined {
  if (definition.QueryLanguage === "JSONata") return "QueryLanguage JSONata";
  for (const { name, state } of stateIndex(definition as unknown as Definition).values()) {
    if (state.QueryLanguage === "JSONata") return `QueryLanguage JSONata (state '${name}')`;
    for (const field of ["Assign", "Arguments", "Output", "Credentials"]) {
      if (field in state) return `the field '${field}' (state '${name}')`;
    }
    if (state.Type === "Task") {
      const resource = typeof state.Resource === "string" ? state.Resource : JSON.stringify(state.Resource);
      if (resource !== LAMBDA_INVOKE && resource !== SNS_PUBLISH && !LAMBDA_FUNCTION_ARN.test(resource)) {
        return `the Task resource '${resource}' (state '${name}'): the simulator runs ${LAMBDA_INVOKE}, ${SNS_PUBLISH} and Lambda function ARNs`;
      }
    }
    if (state.Type === "Map") {
      for (const field of ["ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailureCount", "Label"]) {
        if (field in state) return `the Map field '${field}' (state '${name}')`;
      }
      const processor = state.ItemProcessor;
      if (
        isObject(processor) &&
        isObject(processor.ProcessorConfig) &&
        processor.ProcessorConfig.Mode === "DISTRIBUTED"
      ) {
        return `a distributed Map (state '${name}')`;
      }
    }
  }
  return undefined;
}

/**
 * A copy of a definition with every state renamed `__state_N__` (references included). asl-validator finds Parallel
 * branches with the JSONPath `$..Branches`, so a state *named* "Branches" makes it throw; AWS accepts that name.
 */
function renamed(definition: JsonObject): { copy: JsonObject; original: Map<string, string> } {
  const names = new Map<string, string>();
  const nameOf = (name: Json | undefined): Json | undefined => {
    if (typeof name !== "string") return name;
    let renamedName = names.get(name);
    if (renamedName === undefined) names.set(name, (renamedName = `__state_${names.size + 1}__`));
    return renamedName;
  };
  const withNext = (item: Json): Json =>
    isObject(item) && "Next" in item ? { ...item, Next: nameOf(item.Next) ?? null } : item;
  const container = (value: JsonObject): JsonObject => ({
    ...value,
    ...("StartAt" in value ? { StartAt: nameOf(value.StartAt) ?? null } : {}),
    States: Object.fromEntries(
      Object.entries(statesOf(value)).map(([name, state]) => [nameOf(name) as string, copyState(state)]),
    ),
  });
  const copyState = (state: StateJson): JsonObject => {
    const copy: JsonObject = { ...state };
    if ("Next" in state) copy.Next = nameOf(state.Next) ?? null;
    if ("Default" in state) copy.Default = nameOf(state.Default) ?? null;
    if (Array.isArray(state.Choices)) copy.Choices = state.Choices.map(withNext);
    if (Array.isArray(state.Catch)) copy.Catch = state.Catch.map(withNext);
    if (Array.isArray(state.Branches))
      copy.Branches = state.Branches.map((b) => (isObject(b) ? container(b) : b));
    for (const key of ["ItemProcessor", "Iterator"]) {
      const processor = state[key];
      if (isObject(processor)) copy[key] = container(processor);
    }
    return copy;
  };
  const copy = container(definition);
  return { copy, original: new Map([...names].map(([name, renamedName]) => [renamedName, name])) };
}

/** The validator's verdict: valid, or its errors as AWS words them. */
function validate(definition: JsonObject): string | undefined {
  // The validator writes defaults (QueryLanguage) into what it checks: it gets a copy.
  try {
    const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
    return result.isValid ? undefined : result.errorsText(", ");
  } catch {
    const { copy, original } = renamed(definition);
    const result = aslValidator(copy, { checkPaths: true, checkArn: true });
    return result.isValid
      ? undefined
      : result.errorsText(", ").replace(/__state_\d+__/g, (name) => original.get(name) ?? name);
  }
}

/** Definitions already parsed and validated, by their text: StartExecution does not validate again. */
const parsedDefinitions = new Map<string, Definition>();

/**
 * Parses and validates a definition as CreateStateMachine does: invalid JSON or ASL answers InvalidDefinition with
 * the validator's AWS error codes (SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, ...).
 */
export function parseDefinition(text: string): Definition {
  const known = parsedDefinitions.get(text);
  if (known) return structuredClone(known);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(`INVALID_JSON_DESCRIPTION: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isObject(parsed)) throw invalid("SCHEMA_VALIDATION_FAILED: The definition must be a JSON object");
  const errors = validate(parsed);
  if (errors !== undefined) throw invalid(errors);
  const missing = unsupported(parsed);
  if (missing !== undefined) throw invalid(`SIMULATOR_UNSUPPORTED: the simulator does not run ${missing}`);
  parsedDefinitions.set(text, parsed as unknown as Definition);
  return structuredClone(parsed as unknown as Definition);
}

function pick(state: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(keys.filter((key) => key in state).map((key) => [key, state[key] ?? null]));
}

const FLOW = ["Comment", "Next", "End"];

/**
 * Where the library reads a definition differently from the States Language, the copy says the same thing in a form
 * it reads right: `"ResultPath": "$"` (the result replaces the input, as with no ResultPath) is set at a key named "$"
 * by the library, so it is dropped, in Catchers too; a Pass state's falsy Result (0, false, "", null) is ignored by
 * the library (it passes the input on), so it becomes the Parameters, a constant with the same output.
 */
function normalized(state: StateJson): StateJson {
  const copy: StateJson = { ...state };
  if (copy.ResultPath === "$") delete copy.ResultPath;
  if (Array.isArray(copy.Catch)) {
    copy.Catch = copy.Catch.map((catcher) => {
      if (!isObject(catcher) || catcher.ResultPath !== "$") return catcher;
      const rest = { ...catcher };
      delete rest.ResultPath;
      return rest;
    });
  }
  if (copy.Type === "Pass" && "Result" in copy && !copy.Result) {
    copy.Parameters = copy.Result ?? null;
    delete copy.Result;
  }
  return copy;
}

function transformState(original: StateJson): JsonObject {
  const state = normalized(original);
  const flow = pick(state, FLOW);
  switch (state.Type) {
    case "Task": {
      const copy = pick(state, [
        "Resource",
        "InputPath",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "OutputPath",
        "Catch",
      ]);
      if ("TimeoutSecondsPath" in state) {
        // The path is resolved against the state's input with the rest of Parameters; the runner unwraps both.
        copy.Parameters = {
          ...("Parameters" in state ? { parameters: state.Parameters ?? null } : { "parameters.$": "$" }),
          "timeoutSeconds.$": state.TimeoutSecondsPath ?? null,
        };
      }
      return { Type: "Task", ...copy, ...flow, TimeoutSeconds: LIBRARY_TASK_TIMEOUT_SECONDS };
    }
    case "Wait": {
      const timing: JsonObject =
        "Seconds" in state
          ? { seconds: state.Seconds ?? null }
          : "SecondsPath" in state
            ? { "seconds.$": state.SecondsPath ?? null }
            : "Timestamp" in state
              ? { timestamp: state.Timestamp ?? null }
              : { "timestamp.$": state.TimestampPath ?? null };
      return {
        Type: "Task",
        Resource: SIMULATOR_RESOURCE,
        ...pick(state, ["InputPath", "OutputPath"]),
        Parameters: { "input.$": "$", ...timing },
        ...flow,
        TimeoutSeconds: LIBRARY_TASK_TIMEOUT_SECONDS,
      };
    }
    case "Parallel":
      return {
        Type: "Task",
        Resource: SIMULATOR_RESOURCE,
        ...pick(state, ["InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "Catch"]),
        ...flow,
        TimeoutSeconds: LIBRARY_TASK_TIMEOUT_SECONDS,
      };
    case "Map": {
      const key = "ItemProcessor" in state ? "ItemProcessor" : "Iterator";
      const processor = state[key];
      return isObject(processor)
        ? { ...state, [key]: { ...processor, States: transformStates(statesOf(processor)) } }
        : state;
    }
    default:
      return state;
  }
}

function transformStates(states: Record<string, StateJson>): JsonObject {
  return Object.fromEntries(Object.entries(states).map(([name, state]) => [name, transformState(state)]));
}

/** The copy the library runs of a machine (without its TimeoutSeconds: the runner times executions) or a branch. */
export function libraryDefinition(container: {
  StartAt: string;
  States: Record<string, StateJson>;
}): JsonObject {
  return { StartAt: container.StartAt, States: transformStates(container.States) };
}

/** The states the copy turns into Tasks handled by the runner. */
export const RUNNER_STATES = new Set(["Task", "Wait", "Parallel"]);
