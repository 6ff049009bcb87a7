// The response's Step Functions definition, generated from the step contracts in handler/workflow.ts. Pure: no Pulumi,
// so the tests (and the bench) can build, validate, run and measure it without a stack.
//
// References (AWS Step Functions Developer Guide): "Handling errors in Step Functions workflows" (retriers, catchers,
// States.TaskFailed matching any error a Lambda function outputs, Lambda.Unknown for unhandled errors, timeouts and
// out-of-memory), "Handle transient Lambda service exceptions" (the Lambda.* error names retried below), "Invoke an AWS
// Lambda function with Step Functions" (arn:aws:states:::lambda:invoke, its Payload), "Publish messages to an Amazon SNS
// topic with Step Functions" (arn:aws:states:::sns:publish), "Wait workflow state" (TimestampPath; a timestamp is read
// to the second, milliseconds truncated), "Choice workflow state", "Parallel workflow state" (ResultPath null keeps the
// state's input), "Intrinsic functions" (States.Format, States.JsonToString).
import {
  CONTAINMENT_WRITES,
  WORKFLOW_STEP_NAMES,
  WORKFLOW_STEPS,
  workflowDependencies,
  type Fact,
  type WorkflowStep,
} from "../handler/workflow";

// ---------------------------------------------------------------------------------------------------------------
// The order: a series-parallel plan from the dependency DAG
// ---------------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------------
// The definition
// ---------------------------------------------------------------------------------------------------------------

// Amazon States Language, as much of it as the generator writes (JSONPath query language).
export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: "FULL" | "NONE";
}
export interface Catcher {
  ErrorEquals: string[];
  ResultPath: string;
  Next: string;
}
export interface ChoiceRule {
  Variable?: string;
  StringEquals?: string;
  IsPresent?: boolean;
  IsString?: boolean;
  Not?: ChoiceRule;
  Next?: string;
}
export interface State {
  Type: "Task" | "Choice" | "Wait" | "Pass" | "Parallel" | "Succeed" | "Fail";
  Comment?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ResultSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  Result?: Record<string, unknown>;
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Choices?: (ChoiceRule & { Next: string })[];
  Default?: string;
  TimestampPath?: string;
  Branches?: Branch[];
  Error?: string;
  Cause?: string;
  Next?: string;
  End?: true;
}
export interface Branch {
  StartAt: string;
  States: Record<string, State>;
}
export interface Definition extends Branch {
  Comment: string;
}

export interface WorkflowDefinitionArgs {
  /** The responder's QUALIFIED ARN (a published version): the workflow runs the code it was deployed with. */
  functionArn: string;
  /** The notification topic, told when the report itself cannot be written. */
  topicArn: string;
  /** A Task's limit: above the function's own timeout, so a run that hangs in Lambda surfaces as Lambda.Unknown. */
  taskTimeoutSeconds: number;
}

/** Step Functions' limit on a state's name. */
export const STATE_NAME_LIMIT = 80;

export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
export const SNS_PUBLISH = "arn:aws:states:::sns:publish";

/** The report's Task, after every step. */
export const REPORT = "report";
/** The report's Task when the workflow itself failed (a top-level Parallel caught an error). */
export const REPORT_AFTER_FAILURE = "report: after a workflow failure";
export const REPORT_FAILED_NOTIFY = "report failed: notify";
export const REPORT_FAILED = "report failed";
export const WORKFLOW_FAILED = "workflow failed";

/** The names of a step's states (the Task is the step's own name). */
export const stepStates = (step: string) => ({
  task: step,
  choice: `${step}?`,
  wait: `${step}: wait`,
  invalidAnswer: `${step}: invalid answer`,
  recordFailure: `${step}: record failure`,
  done: `${step}: done`,
});

/**
 * Lambda's transient errors as Step Functions names them ("Handle transient Lambda service exceptions"): the service
 * failed or throttled the invocation (TooManyRequestsException is the concurrency limit), so the function did not
 * run or its answer was lost; retrying is always safe because a step pass is idempotent (its record says what is done).
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];

/**
 * The Task retriers, scanned in order (the first whose ErrorEquals names the error applies), each with full jitter so a
 * burst of incidents does not retry in step:
 *  1. Lambda's transient errors: 6 attempts, 2 s doubling to at most 60 s (AWS's example uses 2 s, 6 attempts, x2):
 *     about two minutes at worst, enough for a throttling burst or a regional blip to pass.
 *  2. Lambda.Unknown (the function crashed, ran out of memory or out of time) and States.Timeout (the Task's own limit,
 *     set above the function's): 2 attempts from 10 s. Each attempt can cost a whole function timeout, and the cause is
 *     more often a defect than a passing fault, so two are enough to ride out a bad host.
 *  3. States.TaskFailed (any error the function threw): 4 attempts, 5 s doubling to at most 60 s. The handler throws
 *     only for transient AWS errors its SDK already retried (three attempts), so four more passes over about two
 *     minutes cover a longer outage; after them the failure is recorded and the workflow goes on.
 * States.Permissions (the role may not invoke) is not retried: it will not go away by itself, and States.TaskFailed
 * would otherwise match it (it matches every error name but States.Timeout), so it comes first, with no attempt.
 */
export function taskRetriers(): Retrier[] {
  return [
    { ErrorEquals: ["States.Permissions"], MaxAttempts: 0, JitterStrategy: "FULL" },
    {
      ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS],
      IntervalSeconds: 2,
      MaxAttempts: 6,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      JitterStrategy: "FULL",
    },
    {
      ErrorEquals: ["Lambda.Unknown", "States.Timeout"],
      IntervalSeconds: 10,
      MaxAttempts: 2,
      BackoffRate: 2,
      JitterStrategy: "FULL",
    },
    {
      ErrorEquals: ["States.TaskFailed"],
      IntervalSeconds: 5,
      MaxAttempts: 4,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      JitterStrategy: "FULL",
    },
  ];
}

/** Publishing the report's failure: SNS errors are named SNS.*, and any of them may pass, so all are retried. */
function publishRetriers(): Retrier[] {
  return [
    {
      ErrorEquals: ["States.ALL"],
      IntervalSeconds: 2,
      MaxAttempts: 5,
      BackoffRate: 2,
      MaxDelaySeconds: 30,
      JitterStrategy: "FULL",
    },
  ];
}

/** Every catcher keeps the state (incidentId, recordKey) and adds the error (Error, Cause) at $.failure. */
const catchAll = (next: string): Catcher[] => [
  { ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: next },
];

/** The StepTask payload (handler/workflow.ts): the execution input's ids, the step, and a caught failure if any. */
function stepPayload(step: string, withFailure: boolean): Record<string, unknown> {
  return {
    "ir:step": {
      "incidentId.$": "$.incidentId",
      "recordKey.$": "$.recordKey",
      step,
      ...(withFailure ? { "failure.$": "$.failure" } : {}),
    },
  };
}

function invoke(args: WorkflowDefinitionArgs, step: string, withFailure: boolean): State {
  return {
    Type: "Task",
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: args.functionArn, Payload: stepPayload(step, withFailure) },
    // The whole answer (step, status, outcome, until): a field-by-field selector would fail, uncatchably, on an answer
    // without `until`, which only a waiting answer has. Lambda's metadata (StatusCode, ExecutedVersion) is dropped.
    ResultSelector: { "answer.$": "$.Payload" },
    ResultPath: "$.result",
    TimeoutSeconds: args.taskTimeoutSeconds,
    Retry: taskRetriers(),
  };
}

interface Emitted {
  startAt: string;
  states: Record<string, State>;
}

/** A step's states: Task -> Choice -> (Wait -> Task) | next; a failed Task -> record failure -> next. */
function emitStep(args: WorkflowDefinitionArgs, step: WorkflowStep, next: string | undefined): Emitted {
  const names = stepStates(step);
  const exit = next ?? names.done;
  const answer = "$.result.answer";
  const states: Record<string, State> = {
    [names.task]: {
      ...invoke(args, step, false),
      Comment: WORKFLOW_STEPS[step].purpose,
      Catch: catchAll(names.recordFailure),
      Next: names.choice,
    },
    [names.choice]: {
      Type: "Choice",
      Comment: `${step} answered: a waiting answer says when to look again; any other goes on`,
      // Each rule reads only what the rules before it proved present: a Choice on a missing field fails the execution.
      Choices: [
        { Not: { Variable: `${answer}.status`, IsPresent: true }, Next: names.invalidAnswer },
        { Not: { Variable: `${answer}.status`, StringEquals: "waiting" }, Next: exit },
        { Not: { Variable: `${answer}.until`, IsPresent: true }, Next: names.invalidAnswer },
        { Variable: `${answer}.until`, IsString: true, Next: names.wait },
      ],
      Default: names.invalidAnswer,
    },
    [names.wait]: {
      Type: "Wait",
      Comment: `No Lambda runs while AWS works; ${step} looks again at the time it asked for`,
      TimestampPath: `${answer}.until`,
      Next: names.task,
    },
    [names.invalidAnswer]: {
      Type: "Pass",
      Comment: `${step} answered without a status, or waiting without a time: recorded as its failure`,
      Result: {
        Error: "ir.InvalidStepAnswer",
        Cause: `${step} answered without a status, or "waiting" without "until" (handler/workflow.ts StepTaskResult)`,
      },
      ResultPath: "$.failure",
      Next: names.recordFailure,
    },
    [names.recordFailure]: {
      ...invoke(args, step, true),
      Comment: `${step} failed for good: the Lambda records it on the step, and the steps after it go on without it`,
      Catch: catchAll(exit),
      Next: exit,
    },
  };
  if (next === undefined) {
    states[names.done] = { Type: "Succeed", Comment: `${step} ends its branch` };
  }
  return { startAt: names.task, states };
}

function firstStep(plan: Plan): WorkflowStep {
  if (plan.kind === "step") return plan.step;
  const [first] = plan.kind === "sequence" ? plan.items : plan.branches;
  if (first === undefined) throw new Error(`an empty ${plan.kind}`);
  return firstStep(first);
}

/**
 * A Parallel's name: its branches' first steps (no two Parallels share them: a nested one's come from one branch of
 * its parent). Past Step Functions' 80 characters, cut, with a digest of the whole list to keep names apart. Pure.
 */
export function parallelName(heads: readonly string[]): string {
  const full = `in parallel: ${heads.join(", ")}`;
  if (full.length <= STATE_NAME_LIMIT) return full;
  let hash = 0;
  for (const char of full) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  const digest = ` #${hash.toString(16).padStart(8, "0")}`;
  return `${full.slice(0, STATE_NAME_LIMIT - digest.length - 3)}...${digest}`;
}

function planSteps(plan: Plan): WorkflowStep[] {
  if (plan.kind === "step") return [plan.step];
  return (plan.kind === "sequence" ? plan.items : plan.branches).flatMap(planSteps);
}

function emit(
  args: WorkflowDefinitionArgs,
  plan: Plan,
  next: string | undefined,
  topLevel: boolean,
  failureTarget: string,
): Emitted {
  if (plan.kind === "step") return emitStep(args, plan.step, next);
  if (plan.kind === "sequence") {
    let start = next;
    const states: Record<string, State> = {};
    for (const item of [...plan.items].reverse()) {
      const emitted = emit(args, item, start, topLevel, failureTarget);
      Object.assign(states, emitted.states);
      start = emitted.startAt;
    }
    if (start === undefined) throw new Error("an empty sequence");
    return { startAt: start, states };
  }
  const name = parallelName(plan.branches.map(firstStep));
  const parallel: State = {
    Type: "Parallel",
    Comment: `Independent of each other: ${plan.branches.map((b) => planSteps(b).join(" -> ")).join(" | ")}`,
    Branches: plan.branches.map((branch) => {
      const emitted = emit(args, branch, undefined, false, failureTarget);
      return { StartAt: emitted.startAt, States: emitted.states };
    }),
    // The branches' outputs are discarded: every state carries the execution input, the record holds the rest.
    ResultPath: null,
    ...(topLevel ? { Catch: catchAll(failureTarget) } : {}),
    ...(next === undefined ? { End: true as const } : { Next: next }),
  };
  return { startAt: name, states: { [name]: parallel } };
}

/**
 * The response workflow: the steps as WORKFLOW_STEPS orders them (responsePlan), then the report. A step that fails
 * for good is recorded and its branch goes on; an unexpected failure of the workflow (a top-level Parallel) still
 * reaches a report, with the failure; a report that cannot be written is published to the notification topic. Pure.
 */
export function workflowDefinition(
  args: WorkflowDefinitionArgs,
  plan: Plan = responsePlan(WORKFLOW_STEP_NAMES, workflowDependencies()),
): Definition {
  const steps = emit(args, plan, REPORT, true, REPORT_AFTER_FAILURE);
  const report = (withFailure: boolean): State => ({
    ...invoke(args, REPORT, withFailure),
    Catch: catchAll(REPORT_FAILED_NOTIFY),
  });
  const definition: Definition = {
    Comment:
      "EC2 incident response after containment: each step is one pass of the responder Lambda; waits happen " +
      "in Wait states. Generated by infra/workflowDefinition.ts from handler/workflow.ts.",
    StartAt: steps.startAt,
    States: {
      ...steps.states,
      [REPORT]: {
        ...report(false),
        Comment: "Write the incident report and notify: every step has ended (done, failed, or skipped)",
        End: true,
      },
      [REPORT_FAILED_NOTIFY]: {
        Type: "Task",
        Comment: "The report could not be written: tell a person, with the incident and the error",
        Resource: SNS_PUBLISH,
        Parameters: {
          TopicArn: args.topicArn,
          Subject: "EC2 incident response: the report failed",
          "Message.$":
            "States.Format('The response to incident {} could not write its report. Read the incident record " +
            "and the execution. Workflow state and error: {}', $.incidentId, States.JsonToString($))",
        },
        ResultPath: null,
        Retry: publishRetriers(),
        Next: REPORT_FAILED,
      },
      [REPORT_FAILED]: {
        Type: "Fail",
        Comment: "The execution shows as failed: the report is missing",
        Error: "ir.ReportFailed",
        Cause: "The incident report could not be written; the notification topic was told",
      },
    },
  };
  // Only a top-level Parallel catches into the failure report (a step catches its own failures): a plan without one
  // has no such report, since Step Functions refuses a state nothing leads to.
  if (
    Object.values(steps.states).some((state) => state.Catch?.some((c) => c.Next === REPORT_AFTER_FAILURE))
  ) {
    Object.assign(definition.States, {
      [REPORT_AFTER_FAILURE]: {
        ...report(true),
        Comment: "The workflow itself failed (the error is in the payload): report what the record holds",
        Next: WORKFLOW_FAILED,
      },
      [WORKFLOW_FAILED]: {
        Type: "Fail",
        Comment: "The execution shows as failed, after the report",
        Error: "ir.WorkflowFailed",
        Cause: "The response workflow failed; the report lists what was done",
      },
    });
  }
  const tooLong = allStateNames(definition).filter((state) => state.length > STATE_NAME_LIMIT);
  if (tooLong.length > 0)
    throw new Error(`state names over ${STATE_NAME_LIMIT} characters: ${tooLong.join(", ")}`);
  return definition;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a definition back: names, ordering, state transitions
// ---------------------------------------------------------------------------------------------------------------

/** Every state's name, depth first, in the order the definition lists them. Pure. */
export function allStateNames(branch: Branch): string[] {
  return Object.entries(branch.States).flatMap(([name, state]) => [
    name,
    ...(state.Branches ?? []).flatMap(allStateNames),
  ]);
}

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

// ---------------------------------------------------------------------------------------------------------------
// Cost
// ---------------------------------------------------------------------------------------------------------------

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
