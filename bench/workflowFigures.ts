// What a response's Step Functions execution cost, read from its history (testkit/executionSummary.ts) and checked
// against the definition's own estimate (infra/workflowTransitions.ts stateTransitions, for the same shape).
import { summarizeExecution } from "../testkit/executionSummary";
import type { StepFunctionsExecution } from "../simulator";
import type { Definition } from "../infra/stateLanguage";
import { workflowDefinition } from "../infra/workflowDefinition";
import { USD_PER_1000_TRANSITIONS, stateTransitions, transitionCost } from "../infra/workflowTransitions";

export interface ExecutionFigures {
  readonly status: string;
  /** State transitions as Step Functions bills them, counted in the history (one per state entered). */
  readonly transitions: number;
  /** infra/workflowTransitions.ts stateTransitions for the measured shape (the wait passes of each step). */
  readonly estimatedTransitions: number;
  /** transitionCost(transitions): USD at USD_PER_1000_TRANSITIONS, before the free tier. */
  readonly usd: number;
  /** Lambda invocations by the state machine: every Task that answered, "waiting" passes included. */
  readonly taskPasses: number;
  readonly passes: Readonly<Record<string, number>>;
  /** Wait states entered (no Lambda runs while the execution waits). */
  readonly waits: number;
  readonly failedTasks: number;
  /** Sum of the Tasks' durations (scheduled to answered), simulated s: what Lambda bills for the workflow. */
  readonly taskSeconds: number;
  /** Simulated ms from the execution's start to its end. */
  readonly durationMs?: number;
}

let definition: Definition | undefined;

/** The definition the stack deploys (its ARNs do not change the states or how many run). */
function deployedShape(): Definition {
  definition ??= workflowDefinition({
    functionArn: "arn:aws:lambda:eu-central-1:111122223333:function:ir-responder",
    topicArn: "arn:aws:sns:eu-central-1:111122223333:ir-notifications",
    taskTimeoutSeconds: 960,
  });
  return definition;
}

export function executionFigures(execution: StepFunctionsExecution): ExecutionFigures {
  const summary = summarizeExecution(execution.history);
  const sum = (counts: Readonly<Record<string, number>>) =>
    Object.values(counts).reduce((total, count) => total + count, 0);
  return {
    status: execution.status,
    transitions: summary.transitions,
    estimatedTransitions: stateTransitions(deployedShape(), { waits: summary.waits }),
    usd: transitionCost(summary.transitions),
    taskPasses: sum(summary.passes),
    passes: summary.passes,
    waits: sum(summary.waits),
    failedTasks: summary.failedTasks,
    taskSeconds: summary.taskSeconds,
    ...(execution.stopDate === undefined ? {} : { durationMs: execution.stopDate - execution.startDate }),
  };
}

export { USD_PER_1000_TRANSITIONS };

/** USD with enough digits for a fraction of a cent. */
export function usd(amount: number | undefined): string {
  return amount === undefined || Number.isNaN(amount) ? "n/a" : `$${amount.toFixed(5)}`;
}
