// The response workflow's role (infra/workflow.ts): who may assume it and what it may do.
import { assumeRolePolicy, policyDocument, type PolicyDocument, type PolicyStatement } from "./policies";

/**
 * The response workflow's role may be assumed by Step Functions for this one state machine only: aws:SourceArn and
 * aws:SourceAccount, as AWS recommends against the cross-service confused deputy ("Creating an IAM role for your state
 * machine in Step Functions"), so no other account's or other state machine's execution can act with it.
 */
export function workflowAssumeRolePolicy(accountId: string, stateMachineArn: string): PolicyDocument {
  return assumeRolePolicy(
    "states.amazonaws.com",
    { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": stateMachineArn } },
    "AssumeForTheResponseWorkflow",
  );
}

export interface WorkflowPolicyArgs {
  region: string;
  /** The partition's DNS suffix (amazonaws.com): kms:ViaService names SNS by its endpoint. */
  dnsSuffix: string;
  /** The responder's published version (function:NAME:VERSION): the only thing the workflow runs. */
  functionVersionArn: string;
  notificationTopicArn: string;
  /** The topic's customer-managed key, when it has one (the evidence key, infra/evidenceStore.ts). */
  topicKmsKeyArn?: string;
}

/**
 * CloudWatch Logs' log delivery, which Step Functions logging uses ("Using CloudWatch Logs to log execution history in
 * Step Functions", its IAM policy). These actions have no resource type in the Service Authorization Reference, so
 * "*" is their only resource: the delivery is set up by Step Functions for the log group the state machine names.
 */
export const LOG_DELIVERY_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
] as const;

/** A function's ARN without its version or alias (arn:aws:lambda:REGION:ACCOUNT:function:NAME). Pure. */
function unqualified(functionArn: string): string {
  return functionArn.split(":").slice(0, 7).join(":");
}

/**
 * The response workflow's role: invoke the responder's published versions, publish to the notification topic when the
 * report fails (with the topic's key, through SNS, for this topic), and deliver its logs. Nothing else: every AWS call
 * of the response is the responder's, under the responder's role.
 */
export function workflowPolicy(a: WorkflowPolicyArgs): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      // Every published version of the responder, not only the current one: an execution keeps the definition it
      // started with (Step Functions: "running executions will continue to use the previous definition and
      // roleArn"), so one that waits across a deploy still invokes the version it named.
      Sid: "RunTheResponderVersions",
      Effect: "Allow",
      Action: ["lambda:InvokeFunction"],
      Resource: [`${unqualified(a.functionVersionArn)}:*`],
    },
    {
      // Published code only: $LATEST is whatever was uploaded last, never what a definition named.
      Sid: "NeverUnpublishedCode",
      Effect: "Deny",
      Action: ["lambda:InvokeFunction"],
      Resource: [`${unqualified(a.functionVersionArn)}:$LATEST`],
    },
    {
      Sid: "NotifyReportFailure",
      Effect: "Allow",
      Action: ["sns:Publish"],
      Resource: [a.notificationTopicArn],
    },
  ];
  if (a.topicKmsKeyArn) {
    // SNS encrypts a message under the topic's key with the publisher's permissions, so the key is usable through SNS
    // only. Which topic needs no condition: the role may publish to the notification topic alone.
    statements.push({
      Sid: "PublishUnderTheTopicKey",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: [a.topicKmsKeyArn],
      Condition: { StringEquals: { "kms:ViaService": `sns.${a.region}.${a.dnsSuffix}` } },
    });
  }
  statements.push({
    Sid: "DeliverLogs",
    Effect: "Allow",
    Action: [...LOG_DELIVERY_ACTIONS],
    Resource: ["*"],
  });
  return policyDocument(...statements);
}
