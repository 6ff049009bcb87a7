// The response's Step Functions definition, generated from the step contracts in handler/workflow.ts: the plan
// (workflowPlan.ts) as states, each Task with the retries and catches of workflowRetries.ts. Pure: no Pulumi, so the
// tests (and the bench) can build, validate, run and measure it without a stack.
//
// References (AWS Step Functions Developer Guide): "Invoke an AWS Lambda function with Step Functions"
// (arn:aws:states:::lambda:invoke, its Payload), "Publish messages to an Amazon SNS topic with Step Functions"
// (arn:aws:states:::sns:publish), "Wait workflow state" (TimestampPath; a timestamp is read to the second,
// milliseconds truncated), "Choice workflow state", "Parallel workflow state" (ResultPath null keeps the state's
// input), "Intrinsic functions" (States.Format, States.JsonToString).
import {
  WORKFLOW_STEP_NAMES,
  WORKFLOW_STEPS,
  workflowDependencies,
  type WorkflowStep,
} from "../handler/workflow";
import {
  allStateNames,
  LAMBDA_INVOKE,
  SNS_PUBLISH,
  STATE_NAME_LIMIT,
  type Definition,
  type State,
} from "./stateLanguage";
import { firstStep, planSteps, responsePlan, type Plan } from "./workflowPlan";
import { catchAll, publishRetriers, taskRetriers } from "./workflowRetries";

export interface WorkflowDefinitionArgs {
  /** The responder's QUALIFIED ARN (a published version): the workflow runs the code it was deployed with. */
  functionArn: string;
  /** The notification topic, told when the report itself cannot be written. */
  topicArn: string;
  /** A Task's limit: above the function's own timeout, so a run that hangs in Lambda surfaces as Lambda.Unknown. */
  taskTimeoutSeconds: number;
}

/** The report's Task, after every step. */
export const REPORT = "report";
/** The report's Task when the workflow itself failed (a top-level Parallel caught an error). */
export const REPORT_AFTER_FAILURE = "report: after a workflow failure";
export const REPORT_FAILED_NOTIFY = "report failed: notify";
const REPORT_FAILED = "report failed";
const WORKFLOW_FAILED = "workflow failed";

/** The names of a step's states (the Task is the step's own name). */
export const stepStates = (step: string) => ({
  task: step,
  choice: `${step}?`,
  wait: `${step}: wait`,
  invalidAnswer: `${step}: invalid answer`,
  recordFailure: `${step}: record failure`,
  done: `${step}: done`,
});

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
