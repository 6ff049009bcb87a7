// Reading the response workflow's definition back: which steps have surely ended before each step starts, and
// so which facts it is handed. The tests check the generated order against the step contracts with it. Pure.
import {
  CONTAINMENT_WRITES,
  WORKFLOW_STEP_NAMES,
  WORKFLOW_STEPS,
  type Fact,
  type WorkflowStep,
} from "../handler/workflow";
import { LAMBDA_INVOKE, type Branch, type State } from "./stateLanguage";

/** The step a Task runs (the StepTask payload's step), and whether it records a failure. */
export function taskStep(state: State): { step: string; recordsFailure: boolean } | undefined {
  if (state.Type !== "Task" || state.Resource !== LAMBDA_INVOKE) return undefined;
  const payload = (state.Parameters?.Payload as Record<string, Record<string, unknown>> | undefined)?.[
    "ir:step"
  ];
  const step = payload?.step;
  if (typeof step !== "string") return undefined;
  return { step, recordsFailure: "failure.$" in (payload ?? {}) };
}

function successors(state: State): { next: string[]; caught: string[] } {
  const next = [
    ...(state.Next === undefined ? [] : [state.Next]),
    ...(state.Choices ?? []).map((rule) => rule.Next),
    ...(state.Default === undefined ? [] : [state.Default]),
  ];
  return { next, caught: (state.Catch ?? []).map((catcher) => catcher.Next) };
}

interface Progress {
  /** Steps whose Task has begun on every path here. */
  started: ReadonlySet<string>;
  /** Steps that have ended (left their states) on every path here. */
  ended: ReadonlySet<string>;
}

/**
 * For each step's Task (and the report's), the steps that have surely ended before it starts, on every path the
 * definition allows (waits, retries, caught failures), read from the definition itself: a must-analysis over each
 * States block. A step has ended when the path leaves the states that lead back to its Task (its Task, Choice and
 * Wait) having begun it; a Parallel ends every step begun in any of its branches. Pure.
 */
export function stepsEndedBefore(definition: Branch): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  analyseBlock(definition, { started: new Set(), ended: new Set() }, result);
  return Object.fromEntries(Object.entries(result).map(([step, ended]) => [step, [...ended].sort()]));
}

/** Returns the progress at the block's successful ends (Succeed, End), intersected; undefined if none is reachable. */
function analyseBlock(
  block: Branch,
  entry: Progress,
  result: Record<string, string[]>,
): Progress | undefined {
  const names = Object.keys(block.States);
  const stateOf = (name: string) => {
    const state = block.States[name];
    if (state === undefined) throw new Error(`no state named ${name}`);
    return state;
  };
  // Which Tasks (by step) each state can reach within the block: a state that can reach a step's Task is still inside
  // that step (its Choice, its Wait) or before it.
  const reaches = new Map<string, Set<string>>();
  for (const name of names) {
    const seen = new Set<string>();
    const stack = [name];
    for (let current = stack.pop(); current !== undefined; current = stack.pop()) {
      if (seen.has(current)) continue;
      seen.add(current);
      const { next, caught } = successors(stateOf(current));
      stack.push(...next, ...caught);
    }
    reaches.set(
      name,
      new Set(
        [...seen].flatMap((reached) => {
          const task = taskStep(stateOf(reached));
          return task && !task.recordsFailure ? [task.step] : [];
        }),
      ),
    );
  }
  const inside = (name: string, step: string) => reaches.get(name)?.has(step) ?? false;

  // undefined: no path reaches the state (yet); the analysis only narrows from there.
  const into = new Map<string, Progress | undefined>([[block.StartAt, entry]]);
  const branchEnds = new Map<string, Progress>();
  const intersect = (a: Progress, b: Progress): Progress => ({
    started: new Set([...a.started].filter((s) => b.started.has(s))),
    ended: new Set([...a.ended].filter((s) => b.ended.has(s))),
  });
  const same = (a: Progress | undefined, b: Progress | undefined) =>
    a === undefined || b === undefined
      ? a === b
      : a.started.size === b.started.size &&
        a.ended.size === b.ended.size &&
        [...a.started].every((s) => b.started.has(s)) &&
        [...a.ended].every((s) => b.ended.has(s));

  for (let changed = true; changed;) {
    changed = false;
    const incoming = new Map<string, Progress>([[block.StartAt, entry]]);
    const arrive = (name: string, progress: Progress) => {
      const before = incoming.get(name);
      incoming.set(name, before === undefined ? progress : intersect(before, progress));
    };
    branchEnds.clear();
    for (const name of names) {
      const state = stateOf(name);
      const at = into.get(name);
      if (at === undefined) continue;
      const task = taskStep(state);
      let after: Progress =
        task && !task.recordsFailure ? { started: new Set([...at.started, task.step]), ended: at.ended } : at;
      const caughtAfter = after;
      if (state.Type === "Parallel") {
        const ends = (state.Branches ?? []).map((branch) => analyseBlock(branch, at, result));
        // Begun in a branch: ended once the Parallel is (it waits for all its branches).
        const finished = ends.flatMap((end) =>
          end === undefined ? [] : [...end.started].filter((step) => !at.started.has(step)),
        );
        after = {
          started: new Set([...at.started, ...finished]),
          ended: new Set([...at.ended, ...finished]),
        };
      }
      const leaving = (target: string, progress: Progress): Progress => ({
        started: progress.started,
        ended: new Set([
          ...progress.ended,
          ...[...progress.started].filter((step) => inside(name, step) && !inside(target, step)),
        ]),
      });
      const { next, caught } = successors(state);
      for (const target of next) arrive(target, leaving(target, after));
      for (const target of caught) arrive(target, leaving(target, caughtAfter));
      if (state.Type === "Succeed" || state.End === true) {
        // A branch's end ends everything begun in it.
        branchEnds.set(name, { started: after.started, ended: after.started });
      }
    }
    for (const name of names) {
      const update = incoming.get(name);
      if (!same(update, into.get(name))) {
        into.set(name, update);
        changed = true;
      }
    }
  }
  for (const name of names) {
    const task = taskStep(stateOf(name));
    const reached = into.get(name);
    if (task && !task.recordsFailure && name === task.step && reached !== undefined) {
      result[task.step] = [...reached.ended];
    }
  }
  const ends = [...branchEnds.values()];
  return ends.length === 0 ? undefined : ends.reduce(intersect);
}

/** Facts the definition hands a step: containment's, and those of the steps surely ended before it. Pure. */
export function factsAvailableTo(step: WorkflowStep, endedBefore: Record<string, string[]>): Fact[] {
  const upstream = endedBefore[step] ?? [];
  return [
    ...CONTAINMENT_WRITES,
    ...WORKFLOW_STEP_NAMES.filter((s) => upstream.includes(s)).flatMap(
      (s) => WORKFLOW_STEPS[s].writes as readonly Fact[],
    ),
  ];
}
