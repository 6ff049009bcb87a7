// Amazon States Language, as much of it as infra/workflowDefinition.ts writes (JSONPath query language), and the
// service integrations it uses ("Invoke an AWS Lambda function with Step Functions", "Publish messages to an Amazon
// SNS topic with Step Functions"). Pure.

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

/** Step Functions' limit on a state's name. */
export const STATE_NAME_LIMIT = 80;

export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
export const SNS_PUBLISH = "arn:aws:states:::sns:publish";

/** Every state's name, depth first, in the order the definition lists them. Pure. */
export function allStateNames(branch: Branch): string[] {
  return Object.entries(branch.States).flatMap(([name, state]) => [
    name,
    ...(state.Branches ?? []).flatMap(allStateNames),
  ]);
}
