// What the workflow tests share: the arguments a definition is generated with, an execution input, the validator,
// and readers of the step contracts and of a definition's states.
import { workflowDependencies, type WorkflowStep } from "../../handler/workflow";
import type { Branch, State } from "../../infra/stateLanguage";

/** asl-validator ships no type declarations. */
const aslValidator = require("asl-validator") as (definition: unknown) => {
  isValid: boolean;
  errorsText(separator?: string): string;
};
/** asl-validator adds fields to what it is given: it gets a copy. */
export const validate = (definition: unknown) => aslValidator(JSON.parse(JSON.stringify(definition)));

export const ARGS = {
  functionArn: "arn:aws:lambda:eu-central-1:111122223333:function:ir-function-7f3a:1",
  topicArn: "arn:aws:sns:eu-central-1:111122223333:ir-notifications-7f3a",
  taskTimeoutSeconds: 960,
};
export const INPUT = { incidentId: "gd-1a2b3c", recordKey: "incident#gd-1a2b3c" };

export const deps = workflowDependencies();
/** Every step a step must follow under these dependencies, directly or through others. */
export function ancestorsIn(
  dependencies: Readonly<Record<WorkflowStep, readonly WorkflowStep[]>>,
  step: WorkflowStep,
): Set<WorkflowStep> {
  const seen = new Set<WorkflowStep>();
  const stack = [...dependencies[step]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (!seen.has(next)) {
      seen.add(next);
      stack.push(...dependencies[next]);
    }
  }
  return seen;
}

/** Every step a step must follow under today's contracts. */
export const ancestors = (step: WorkflowStep) => ancestorsIn(deps, step);

/** Every state with its name, those inside Parallel branches included. */
export function statesOf(branch: Branch): [string, State][] {
  return Object.entries(branch.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.Branches ?? []).flatMap(statesOf),
  ]);
}
