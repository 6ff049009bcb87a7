// The responder's inline policy: its EC2 statements (responderEc2Statements.ts), the other services it calls, its
// keys, and the guardrails (responderGuardrails.ts).
import { policyDocument, type PolicyDocument, type PolicyStatement } from "./policies";
import { ebsKeyStatements, ec2Arn, responderEc2Statements } from "./responderEc2Statements";
import { responderGuardrails } from "./responderGuardrails";
import { triageResponderStatements } from "./triageDocument";

export interface ResponderPolicyArgs {
  partition: string;
  /** The partition's DNS suffix (amazonaws.com): kms:ViaService names EC2 by its endpoint. */
  dnsSuffix: string;
  region: string;
  accountId: string;
  /** The response workflow's state machine, which the triggering invocation starts once per incident. */
  stateMachineArn: string;
  logGroupArn: string;
  deadLetterQueueArn: string;
  incidentTableArn: string;
  evidenceBucketArn: string;
  /** A key ARN, never an alias: IAM matches Resource against the key's ARN (index.ts resolves aliases). */
  evidenceKmsKeyArn?: string;
  /** Customer-managed keys of the EBS volumes, snapshots and AMIs a response copies or launches from. */
  ebsKmsKeyArns: string[];
  notificationTopicArn: string;
  /** Roles the responder hands to instances it launches (forensic, quarantine, replacement). */
  passableRoleArns: string[];
  /** The stack's own roles: the responder may not rewrite their policies when it revokes sessions. */
  protectedRoleArns: string[];
  revokeRoleSessions: boolean;
  /** The responder updates the Security Hub findings of its incidents (BatchUpdateFindings). */
  securityHub: boolean;
  /** The triage's SSM Command document (infra/triage.ts); empty or absent: triage is off. */
  triageDocument?: string;
}

/**
 * The responder's inline policy: exactly the calls handler/ makes, scoped to this account and region, conditioned
 * on our tags where IAM evaluates them, plus an explicit deny of everything destructive.
 */
export function responderPolicy(a: ResponderPolicyArgs): PolicyDocument {
  const statements: PolicyStatement[] = [
    ...responderEc2Statements(a),
    {
      Sid: "HandOverRoles",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: a.passableRoleArns,
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    },
    {
      Sid: "ReadInstanceProfiles",
      Effect: "Allow",
      Action: ["iam:GetInstanceProfile"],
      Resource: [`arn:${a.partition}:iam::${a.accountId}:instance-profile/*`],
    },
    {
      Sid: "FindAutoScalingMembership",
      Effect: "Allow",
      Action: ["autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups"],
      Resource: ["*"],
    },
    {
      Sid: "DetachFromAutoScaling",
      Effect: "Allow",
      Action: ["autoscaling:DetachInstances"],
      Resource: [
        `arn:${a.partition}:autoscaling:${a.region}:${a.accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
      ],
    },
    {
      Sid: "FindTargetGroups",
      Effect: "Allow",
      Action: ["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"],
      Resource: ["*"],
    },
    {
      Sid: "MoveTargets",
      Effect: "Allow",
      Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
      Resource: [`arn:${a.partition}:elasticloadbalancing:${a.region}:${a.accountId}:targetgroup/*/*`],
    },
    {
      Sid: "IncidentRecords",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      Resource: [a.incidentTableArn],
    },
    {
      Sid: "WriteEvidence",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [`${a.evidenceBucketArn}/*`],
    },
    { Sid: "Notify", Effect: "Allow", Action: ["sns:Publish"], Resource: [a.notificationTopicArn] },
    // After containment the triggering invocation hands the response to the workflow (handler/workflow.ts): one
    // execution per incident, named by it. Nothing else of Step Functions: the handler never reads executions back.
    {
      Sid: "StartResponseWorkflow",
      Effect: "Allow",
      Action: ["states:StartExecution"],
      Resource: [a.stateMachineArn],
    },
    // Lambda's on-failure destination for asynchronous invocations uses the function's own role.
    { Sid: "DeadLetter", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [a.deadLetterQueueArn] },
    {
      Sid: "Logs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [`${a.logGroupArn}:*`],
    },
  ];
  if (a.evidenceKmsKeyArn) {
    statements.push({
      Sid: "EncryptEvidence",
      Effect: "Allow",
      // S3 SSE-KMS needs GenerateDataKey; an SNS topic under the same key also needs Decrypt from publishers.
      Action: ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
      Resource: [a.evidenceKmsKeyArn],
    });
  }
  statements.push(...ebsKeyStatements(a.region, a.dnsSuffix, a.ebsKmsKeyArns));
  if (a.revokeRoleSessions) {
    statements.push({
      Sid: "RevokeRoleSessions",
      Effect: "Allow",
      Action: ["iam:PutRolePolicy"],
      Resource: [`arn:${a.partition}:iam::${a.accountId}:role/*`],
    });
  }
  if (a.securityHub) statements.push(securityHubStatement(a));
  statements.push(...triageResponderStatements({ ...a, triageDocument: a.triageDocument ?? "" }));
  statements.push(...responderGuardrails(a.protectedRoleArns, a.passableRoleArns, ec2Arn(a, "instance/*")));
  return policyDocument(...statements);
}

/**
 * The workflow of a finding's Security Hub copy (NOTIFIED, RESOLVED) with a note. BatchUpdateFindings is authorized
 * on the hub (arn:…:hub/default, the SAR's resource type); securityhub:ASFFSyntaxPath/Workflow.Status holds the
 * status a request sets, so a request without one of these two statuses is not allowed.
 */
function securityHubStatement(a: ResponderPolicyArgs): PolicyStatement {
  return {
    Sid: "UpdateSecurityHubWorkflow",
    Effect: "Allow",
    Action: ["securityhub:BatchUpdateFindings"],
    Resource: [`arn:${a.partition}:securityhub:${a.region}:${a.accountId}:hub/default`],
    Condition: { StringEquals: { "securityhub:ASFFSyntaxPath/Workflow.Status": ["NOTIFIED", "RESOLVED"] } },
  };
}
