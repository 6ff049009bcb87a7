// The response's order: a series-parallel plan from the steps' dependency DAG (handler/workflow.ts), which
// infra/workflowDefinition.ts turns into Parallel states. Pure.
import type { WorkflowStep } from "../handler/workflow";

/** A series-parallel arrangement of steps: what runs after what, and what side by side. */
export type Plan<S extends string = WorkflowStep> =
  | { readonly kind: "step"; readonly step: S }
  | { readonly kind: "sequence"; readonly items: readonly Plan<S>[] }
  | { readonly kind: "parallel"; readonly branches: readonly Plan<S>[] };

/**
 * Arranges steps with dependencies (step -> the steps it must follow) as nested sequences and parallels. A DAG is not
 * always series-parallel, so the plan may make a step wait for more than it must, but never for less:
 *  - several weakly connected components: one parallel, a branch per component (no edge joins them);
 *  - one source (a step with no dependency inside the set): it, then the rest (everything else follows it);
 *  - otherwise the first step j, in topological order, whose ancestors inside the set include two different sources
 *    (one exists: were every step below one source only, the set would fall apart into components): T = j and its
 *    descendants, H = the rest; H, then T. T is closed under descendants, so no step of H depends on one of T.
 * Throws on an unknown dependency or a cycle. Pure.
 */
export function responsePlan<S extends string>(
  steps: readonly S[],
  dependencies: Readonly<Record<S, readonly S[]>>,
): Plan<S> {
  if (steps.length === 0) throw new Error("a response plan needs at least one step");
  const known = new Set<S>(steps);
  for (const step of steps) {
    for (const dependency of dependencies[step]) {
      if (!known.has(dependency)) throw new Error(`${step} depends on ${dependency}, which is no step`);
    }
  }
  const order = topologicalOrder(steps, dependencies);
  const rank = new Map(order.map((step, index) => [step, index]));
  const sorted = (set: Iterable<S>) => [...set].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  const dependents = new Map<S, S[]>(steps.map((step) => [step, []]));
  for (const step of steps)
    for (const dependency of dependencies[step]) dependents.get(dependency)?.push(step);

  const build = (set: ReadonlySet<S>): Plan<S> => {
    const members = sorted(set);
    const inside = (step: S) => set.has(step);
    const parents = (step: S) => dependencies[step].filter(inside);
    const children = (step: S) => (dependents.get(step) ?? []).filter(inside);
    const closure = (start: S, next: (step: S) => S[]) => {
      const seen = new Set<S>();
      const stack = next(start);
      for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
        if (!seen.has(step)) {
          seen.add(step);
          stack.push(...next(step));
        }
      }
      return seen;
    };

    const components = weaklyConnectedComponents(members, (step) => [...parents(step), ...children(step)]);
    if (components.length > 1) {
      return { kind: "parallel", branches: components.map((component) => build(new Set(component))) };
    }
    const sources = members.filter((step) => parents(step).length === 0);
    const [first] = members;
    if (members.length === 1 && first !== undefined) return { kind: "step", step: first };
    if (sources.length === 1 && sources[0] !== undefined) {
      const source = sources[0];
      return sequence([{ kind: "step", step: source }, build(new Set(members.filter((s) => s !== source)))]);
    }
    const join = members.find(
      (step) => [...closure(step, parents)].filter((ancestor) => sources.includes(ancestor)).length >= 2,
    );
    if (join === undefined) throw new Error(`no join among ${members.join(", ")} (not a DAG?)`);
    const tail = new Set([join, ...closure(join, children)]);
    const head = new Set(members.filter((step) => !tail.has(step)));
    return sequence([build(head), build(tail)]);
  };
  return build(new Set(steps));
}

function sequence<S extends string>(items: Plan<S>[]): Plan<S> {
  const flat = items.flatMap((item) => (item.kind === "sequence" ? item.items : [item]));
  return flat.length === 1 && flat[0] !== undefined ? flat[0] : { kind: "sequence", items: flat };
}

/** Kahn's algorithm, ties broken by the steps' declared order. Throws on a cycle. Pure. */
export function topologicalOrder<S extends string>(
  steps: readonly S[],
  dependencies: Readonly<Record<S, readonly S[]>>,
): S[] {
  const done = new Set<S>();
  const order: S[] = [];
  while (order.length < steps.length) {
    const ready = steps.find((step) => !done.has(step) && dependencies[step].every((d) => done.has(d)));
    if (ready === undefined) {
      throw new Error(
        `the step dependencies have a cycle among ${steps.filter((s) => !done.has(s)).join(", ")}`,
      );
    }
    done.add(ready);
    order.push(ready);
  }
  return order;
}

function weaklyConnectedComponents<S extends string>(
  members: readonly S[],
  neighbours: (step: S) => S[],
): S[][] {
  const seen = new Set<S>();
  const components: S[][] = [];
  for (const start of members) {
    if (seen.has(start)) continue;
    const component: S[] = [];
    const stack = [start];
    for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
      if (seen.has(step)) continue;
      seen.add(step);
      component.push(step);
      stack.push(...neighbours(step));
    }
    components.push(members.filter((step) => component.includes(step)));
  }
  return components;
}

/** The first step a plan runs. */
export function firstStep(plan: Plan): WorkflowStep {
  if (plan.kind === "step") return plan.step;
  const [first] = plan.kind === "sequence" ? plan.items : plan.branches;
  if (first === undefined) throw new Error(`an empty ${plan.kind}`);
  return firstStep(first);
}

/** Every step of a plan, in order. */
export function planSteps(plan: Plan): WorkflowStep[] {
  if (plan.kind === "step") return [plan.step];
  return (plan.kind === "sequence" ? plan.items : plan.branches).flatMap(planSteps);
}
