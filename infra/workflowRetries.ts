// How the response workflow's Tasks retry and catch ("Handling errors in Step Functions workflows": retriers,
// catchers, States.TaskFailed matching any error a Lambda function outputs, Lambda.Unknown for unhandled errors,
// timeouts and out-of-memory; "Handle transient Lambda service exceptions": the Lambda.* error names). Pure.
import type { Catcher, Retrier } from "./stateLanguage";

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
export function publishRetriers(): Retrier[] {
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
export const catchAll = (next: string): Catcher[] => [
  { ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: next },
];
