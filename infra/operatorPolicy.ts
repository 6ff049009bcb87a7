// The operator's managed policy: exactly the calls the `ir` command makes (README "Operations"), one statement
// list per command, each least privilege per the Service Authorization Reference: Describe* and
// DescribeLockedSnapshots support no resource-level permissions ("*"); sts:GetCallerIdentity needs no permission
// at all; every change is scoped to the stack's own resources or to instances tagged by the responder.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { RESPONDER_MADE_FORENSIC, TAG_INCIDENT, TAG_RESPONDER_MADE } from "../handler/tags";
import { policyDocument, type PolicyDocument, type PolicyStatement } from "./policies";
import { ebsKeyStatements, ec2Arn } from "./responderEc2Statements";

export interface OperatorPolicyArgs {
  partition: string;
  region: string;
  accountId: string;
  incidentTableArn: string;
  stateMachineArn: string;
  evidenceBucketArn: string;
  notificationTopicArn: string;
  /** The responder function, unqualified: ir respond invokes it by name. */
  responderFunctionArn: string;
  /** The evidence key, when the bucket and topic are under one (publishing to the topic needs it). */
  evidenceKmsKeyArn?: string;
  /** Customer-managed keys of EBS volumes (re-attaching such a volume uses the caller's KMS permissions). */
  ebsKmsKeyArns: readonly string[];
}

export type OperatorCommand = "list" | "status" | "respond" | "release" | "close";

/** Executions of the stack's state machine: arn:…:execution:NAME:*. */
const executionsOf = (stateMachineArn: string) =>
  `${stateMachineArn.replace(":stateMachine:", ":execution:")}:*`;

/**
 * ir release: undoing a response's recorded changes (ir/release/). EC2 changes only on the instance the response
 * tagged with its incident, never on an instance the responder made (workstation, replacement); the volumes come
 * off the workstation only. What the record names but IAM cannot tie to the incident is open to the account's
 * resources of that type: the original security groups, volumes and roles carry none of our tags, IAM has no
 * condition key for an inline policy's name (DeleteRolePolicy), nor for which group or target group an instance
 * belonged to. CloudTrail records each call with the operator's identity.
 */
function releaseStatements(a: OperatorPolicyArgs): PolicyStatement[] {
  const incidentInstances = {
    Null: {
      [`aws:ResourceTag/${TAG_INCIDENT}`]: "false",
      [`aws:ResourceTag/${TAG_RESPONDER_MADE}`]: "true",
    },
  };
  const dnsSuffix = a.partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
  const roles = `arn:${a.partition}:iam::${a.accountId}:role/*`;
  return [
    {
      Sid: "ReadIncident",
      Effect: "Allow",
      Action: ["dynamodb:GetItem"],
      Resource: [a.incidentTableArn],
    },
    {
      Sid: "DescribeExecution",
      Effect: "Allow",
      Action: ["states:DescribeExecution"],
      Resource: [executionsOf(a.stateMachineArn)],
    },
    // The progress mark before the first change, then status released with operatorRelease (conditional updates).
    {
      Sid: "RecordRelease",
      Effect: "Allow",
      Action: ["dynamodb:UpdateItem"],
      Resource: [a.incidentTableArn],
    },
    {
      Sid: "DescribeForRelease",
      Effect: "Allow",
      Action: [
        "ec2:DescribeInstances",
        "ec2:DescribeVolumes",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeIamInstanceProfileAssociations",
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "elasticloadbalancing:DescribeTargetHealth",
      ],
      Resource: ["*"],
    },
    {
      Sid: "RestoreIncidentInstance",
      Effect: "Allow",
      Action: [
        "ec2:DescribeInstanceAttribute",
        "ec2:ModifyInstanceAttribute",
        "ec2:ModifyInstanceMetadataOptions",
        "ec2:StartInstances",
        "ec2:AssociateIamInstanceProfile",
        "ec2:ReplaceIamInstanceProfileAssociation",
        "ec2:DisassociateIamInstanceProfile",
        "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:AttachVolume",
      ],
      Resource: [ec2Arn(a, "instance/*")],
      Condition: incidentInstances,
    },
    // The ENIs and each original group are authorized apart from the instance (ModifyNetworkInterfaceAttribute);
    // DeleteOnTermination names the volumes (ModifyInstanceAttribute).
    {
      Sid: "RestoreInterfaceGroups",
      Effect: "Allow",
      Action: ["ec2:ModifyNetworkInterfaceAttribute"],
      Resource: [ec2Arn(a, "network-interface/*"), ec2Arn(a, "security-group/*"), ec2Arn(a, "subnet/*")],
    },
    {
      Sid: "RestoreVolumeAttributes",
      Effect: "Allow",
      Action: ["ec2:ModifyInstanceAttribute"],
      Resource: [ec2Arn(a, "volume/*")],
    },
    {
      Sid: "MoveOwnVolumesBack",
      Effect: "Allow",
      Action: ["ec2:DetachVolume", "ec2:AttachVolume"],
      Resource: [ec2Arn(a, "volume/*")],
    },
    {
      Sid: "DetachFromWorkstation",
      Effect: "Allow",
      Action: ["ec2:DetachVolume"],
      Resource: [ec2Arn(a, "instance/*")],
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_RESPONDER_MADE}`]: RESPONDER_MADE_FORENSIC } },
    },
    // The original profile's role goes back to the instance: passed to EC2 only.
    {
      Sid: "PassOriginalRole",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [roles],
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    },
    {
      Sid: "RemoveRevokeSessionsPolicy",
      Effect: "Allow",
      Action: ["iam:GetRolePolicy", "iam:DeleteRolePolicy"],
      Resource: [roles],
    },
    {
      Sid: "RejoinAutoScalingGroup",
      Effect: "Allow",
      Action: ["autoscaling:AttachInstances"],
      Resource: [
        `arn:${a.partition}:autoscaling:${a.region}:${a.accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
      ],
    },
    {
      Sid: "RegisterTargetsAgain",
      Effect: "Allow",
      Action: ["elasticloadbalancing:RegisterTargets"],
      Resource: [`arn:${a.partition}:elasticloadbalancing:${a.region}:${a.accountId}:targetgroup/*/*`],
    },
    // A note on the Security Hub finding a response started from; never its workflow (the analyst's).
    {
      Sid: "NoteSecurityHubFinding",
      Effect: "Allow",
      Action: ["securityhub:BatchUpdateFindings"],
      Resource: [`arn:${a.partition}:securityhub:${a.region}:${a.accountId}:hub/default`],
      Condition: { Null: { "securityhub:ASFFSyntaxPath/Workflow.Status": "true" } },
    },
    // ArchiveFindings supports no resource-level permissions.
    { Sid: "ArchiveFinding", Effect: "Allow", Action: ["guardduty:ArchiveFindings"], Resource: ["*"] },
    {
      Sid: "NotifyRelease",
      Effect: "Allow",
      Action: ["sns:Publish"],
      Resource: [a.notificationTopicArn],
    },
    ...(a.evidenceKmsKeyArn === undefined
      ? []
      : [
          {
            Sid: "NotifyThroughEvidenceKey",
            Effect: "Allow" as const,
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: [a.evidenceKmsKeyArn],
          },
        ]),
    // Re-attaching a volume under a customer-managed key uses the caller's KMS permissions, through EC2.
    ...ebsKeyStatements(a.region, dnsSuffix, a.ebsKmsKeyArns),
  ];
}

export function operatorStatements(a: OperatorPolicyArgs): Record<OperatorCommand, PolicyStatement[]> {
  const readIncident: PolicyStatement = {
    Sid: "ReadIncident",
    Effect: "Allow",
    Action: ["dynamodb:GetItem"],
    Resource: [a.incidentTableArn],
  };
  const describeExecution: PolicyStatement = {
    Sid: "DescribeExecution",
    Effect: "Allow",
    Action: ["states:DescribeExecution"],
    Resource: [executionsOf(a.stateMachineArn)],
  };
  const describeInstances: PolicyStatement = {
    Sid: "DescribeInstances",
    Effect: "Allow",
    Action: ["ec2:DescribeInstances"],
    Resource: ["*"],
  };
  const workstations = {
    StringEquals: { [`aws:ResourceTag/${TAG_RESPONDER_MADE}`]: RESPONDER_MADE_FORENSIC },
  };
  return {
    list: [
      { Sid: "ListIncidents", Effect: "Allow", Action: ["dynamodb:Scan"], Resource: [a.incidentTableArn] },
      describeExecution,
    ],
    status: [readIncident, describeExecution, describeInstances],
    respond: [
      // The trust boundary of a manual response is the function's invoke permission (the handler checks the rest).
      {
        Sid: "InvokeResponder",
        Effect: "Allow",
        Action: ["lambda:InvokeFunction"],
        Resource: [a.responderFunctionArn],
      },
      readIncident,
      describeExecution,
    ],
    release: releaseStatements(a),
    close: [
      readIncident,
      describeExecution,
      {
        Sid: "RecordClosure",
        Effect: "Allow",
        Action: ["dynamodb:UpdateItem"],
        Resource: [a.incidentTableArn],
      },
      {
        Sid: "DescribeEvidence",
        Effect: "Allow",
        Action: ["ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeLockedSnapshots"],
        Resource: ["*"],
      },
      // Evidence volumes come off the forensic workstation only: EC2 authorizes both the volume (the original
      // volumes carry none of our tags) and the instance, which must be a workstation the responder made.
      {
        Sid: "DetachEvidenceVolumes",
        Effect: "Allow",
        Action: ["ec2:DetachVolume"],
        Resource: [ec2Arn(a, "volume/*")],
      },
      {
        Sid: "FromTheWorkstationOnly",
        Effect: "Allow",
        Action: ["ec2:DetachVolume", "ec2:StopInstances"],
        Resource: [ec2Arn(a, "instance/*")],
        Condition: workstations,
      },
      // Terminate only a workstation of an incident (the command also checks it is THIS incident's).
      {
        Sid: "TerminateWorkstation",
        Effect: "Allow",
        Action: ["ec2:TerminateInstances"],
        Resource: [ec2Arn(a, "instance/*")],
        Condition: { ...workstations, Null: { [`aws:ResourceTag/${TAG_INCIDENT}`]: "false" } },
      },
    ],
  };
}

/** Every command's statements in one document; a statement shared by commands appears once. */
export function operatorPolicy(a: OperatorPolicyArgs): PolicyDocument {
  const bySid = new Map<string, PolicyStatement>();
  for (const [command, statements] of Object.entries(operatorStatements(a))) {
    for (const statement of statements) {
      const known = bySid.get(statement.Sid);
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(statement))
        throw new Error(`operator policy: ${command} reuses Sid ${statement.Sid} for another statement`);
      bySid.set(statement.Sid, statement);
    }
  }
  return policyDocument(...bySid.values());
}

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** The managed policy the stack creates for the people who run `ir` (exported as operatorPolicyArn). */
export function createOperatorPolicy(
  name: string,
  args: Inputs<OperatorPolicyArgs>,
  opts?: pulumi.CustomResourceOptions,
): aws.iam.Policy {
  return new aws.iam.Policy(
    name,
    {
      description: "The calls of the ir command (list, status, respond, release, close): README Operations",
      policy: pulumi
        .output(args)
        .apply((resolved) => JSON.stringify(operatorPolicy(resolved as OperatorPolicyArgs))),
    },
    opts,
  );
}
