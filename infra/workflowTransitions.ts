// The response workflow's state transitions, by walking its definition, and what they cost. Pure.
import { REPORT } from "./workflowDefinition";
import type { Branch, ChoiceRule, State } from "./stateLanguage";
import { taskStep } from "./workflowAnalysis";

/** How a response goes, for the estimate: wait passes per step, and steps whose Task fails on every attempt. */
export interface ResponseShape {
  /** How many times each step answers "waiting" before it answers done. */
  waits?: Partial<Record<string, number>>;
  /** Steps whose Lambda throws on every attempt (retried as States.TaskFailed, then recorded as failed). */
  failing?: readonly string[];
}

/**
 * State transitions of one execution of the definition for a response of the given shape, by walking the definition:
 * Step Functions counts a transition each time a state runs, including each retry (Step Functions pricing: "You are
 * charged for the total number of state transitions across all your state machines, including retries"). A Parallel
 * counts once, plus its branches' states. Pure.
 */
export function stateTransitions(definition: Branch, shape: ResponseShape = {}): number {
  const passes = new Map<string, number>();
  return walk(definition, shape, passes);
}

function walk(block: Branch, shape: ResponseShape, passes: Map<string, number>): number {
  let count = 0;
  let data: Record<string, unknown> = {};
  for (let name: string | undefined = block.StartAt; name !== undefined;) {
    const state: State | undefined = block.States[name];
    if (state === undefined) throw new Error(`no state named ${name}`);
    count += 1;
    if (count > 100_000) throw new Error("the walk does not end");
    const task = taskStep(state);
    if (task && !task.recordsFailure && (shape.failing ?? []).includes(task.step)) {
      const retrier = state.Retry?.find((r) => r.ErrorEquals.includes("States.TaskFailed"));
      count += retrier?.MaxAttempts ?? 0;
      name = state.Catch?.[0]?.Next;
      data = { failure: { Error: "Error" } };
      continue;
    }
    if (task && !task.recordsFailure && task.step !== REPORT) {
      const pass = passes.get(task.step) ?? 0;
      passes.set(task.step, pass + 1);
      const waiting = pass < (shape.waits?.[task.step] ?? 0);
      data = {
        result: {
          answer: waiting
            ? { step: task.step, status: "waiting", outcome: "", until: "2026-01-01T00:00:00.000Z" }
            : { step: task.step, status: "done", outcome: "" },
        },
      };
    }
    if (state.Type === "Parallel") {
      count += (state.Branches ?? []).reduce((sum, branch) => sum + walk(branch, shape, passes), 0);
    }
    if (state.Type === "Choice") {
      name = (state.Choices ?? []).find((rule) => matches(rule, data))?.Next ?? state.Default;
      continue;
    }
    name = state.End === true || state.Type === "Succeed" || state.Type === "Fail" ? undefined : state.Next;
  }
  return count;
}

/** The Choice rules the generator writes, evaluated on JSONPath data ($.a.b.c paths only). */
function matches(rule: ChoiceRule, data: Record<string, unknown>): boolean {
  if (rule.Not !== undefined) return !matches(rule.Not, data);
  const path = (rule.Variable ?? "").replace(/^\$\.?/, "");
  let value: unknown = data;
  let present = true;
  for (const key of path === "" ? [] : path.split(".")) {
    if (typeof value === "object" && value !== null && key in value) {
      value = (value as Record<string, unknown>)[key];
    } else {
      present = false;
      value = undefined;
    }
  }
  if (rule.IsPresent !== undefined) return present === rule.IsPresent;
  if (!present) throw new Error(`a Choice reads ${rule.Variable ?? "?"}, which is missing (States.Runtime)`);
  if (rule.IsString !== undefined) return (typeof value === "string") === rule.IsString;
  if (rule.StringEquals !== undefined) return value === rule.StringEquals;
  throw new Error(`a Choice rule the estimate cannot read: ${JSON.stringify(rule)}`);
}

/**
 * Step Functions Standard, price per 1,000 state transitions: USD 0.025 in US East (N. Virginia) and in Europe
 * (Frankfurt) alike, beyond 4,000 free transitions a month (aws.amazon.com/step-functions/pricing, as stored in 2026;
 * some regions cost more, e.g. Europe (Paris) 0.0297, South America (Sao Paulo) 0.0375).
 */
export const USD_PER_1000_TRANSITIONS = 0.025;

/** The transitions' cost in USD, before the free tier. Pure. */
export function transitionCost(transitions: number, usdPer1000 = USD_PER_1000_TRANSITIONS): number {
  return (transitions / 1000) * usdPer1000;
}
