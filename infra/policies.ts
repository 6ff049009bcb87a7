// IAM and resource policies as data. Pure functions of resolved ARNs, so tests can check them table-driven.
import { MANAGED_BY_VALUE, TAG_MANAGED_BY, TAG_RESPONDER_MADE } from "../handler/tags";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  /** Absent only in trust policies. */
  Resource?: string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

const doc = (...statements: PolicyStatement[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: statements,
});

export function assumeRolePolicy(service: "lambda.amazonaws.com" | "ec2.amazonaws.com"): PolicyDocument {
  return doc({ Sid: "Assume", Effect: "Allow", Principal: { Service: service }, Action: ["sts:AssumeRole"] });
}

/** Actions the responder must never be able to take, whatever else is attached to its role later. */
export const FORBIDDEN_ACTIONS = [
  "ec2:TerminateInstances",
  "ec2:DeleteVolume",
  "ec2:DeleteSnapshot",
  "ec2:UnlockSnapshot",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:BypassGovernanceRetention",
] as const;

export interface ResponderPolicyArgs {
  partition: string;
  region: string;
  accountId: string;
  functionArn: string;
  logGroupArn: string;
  deadLetterQueueArn: string;
  incidentTableArn: string;
  evidenceBucketArn: string;
  evidenceKmsKeyArn?: string;
  notificationTopicArn: string;
  /** Roles the responder hands to instances it launches (forensic, quarantine, replacement). */
  passableRoleArns: string[];
  /** The stack's own roles: the responder may not rewrite their policies when it revokes sessions. */
  protectedRoleArns: string[];
  revokeRoleSessions: boolean;
}

/** Read-only EC2 calls; IAM supports no resource scoping for Describe*. */
export const EC2_DESCRIBE_ACTIONS = [
  "ec2:DescribeInstances",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeImages",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSubnets",
  "ec2:DescribeVolumes",
  "ec2:DescribeSnapshots",
  "ec2:DescribeIamInstanceProfileAssociations",
];

/**
 * The responder's inline policy: exactly the calls handler/ makes, scoped to this account and region, conditioned
 * on our tags where IAM evaluates them, plus an explicit deny of everything destructive.
 */
export function responderPolicy(a: ResponderPolicyArgs): PolicyDocument {
  const ec2 = (resource: string) => `arn:${a.partition}:ec2:${a.region}:${a.accountId}:${resource}`;
  // AMIs and snapshots being created carry no account in their ARN.
  const ec2Global = (resource: string) => `arn:${a.partition}:ec2:${a.region}::${resource}`;
  const ourTag = { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } };
  const taggedOnCreate = { StringEquals: { [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } };

  const statements: PolicyStatement[] = [
    { Sid: "DescribeEc2", Effect: "Allow", Action: EC2_DESCRIBE_ACTIONS, Resource: ["*"] },
    {
      Sid: "ContainInstance",
      Effect: "Allow",
      Action: [
        "ec2:ModifyInstanceAttribute",
        "ec2:ModifyInstanceMetadataOptions",
        "ec2:ReplaceIamInstanceProfileAssociation",
        "ec2:AssociateIamInstanceProfile",
        "ec2:GetConsoleOutput",
        "ec2:GetConsoleScreenshot",
        "ec2:SendDiagnosticInterrupt",
        "ec2:StopInstances",
        "ec2:CreateSnapshots",
        "ec2:DetachVolume",
        "ec2:CreateTags",
      ],
      Resource: [ec2("instance/*"), ec2("volume/*"), ec2Global("snapshot/*"), ec2("snapshot/*")],
    },
    // An ENI may only be moved into groups the stack or the responder made (untrack, isolation), whether through
    // the ENI or, for a single-ENI instance, through the instance (ModifyInstanceAttribute Groups).
    {
      Sid: "IsolateInterfaces",
      Effect: "Allow",
      Action: ["ec2:ModifyNetworkInterfaceAttribute"],
      Resource: [ec2("network-interface/*"), ec2("instance/*"), ec2("vpc/*")],
    },
    {
      Sid: "IsolateIntoOurGroupsOnly",
      Effect: "Allow",
      Action: ["ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute"],
      Resource: [ec2("security-group/*")],
      Condition: ourTag,
    },
    // Groups made on demand are tagged in the CreateSecurityGroup call itself.
    {
      Sid: "TagGroupsOnCreate",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [ec2("security-group/*")],
      Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } },
    },
    {
      Sid: "CreateIsolationGroupsOnDemand",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: [ec2("security-group/*")],
      Condition: taggedOnCreate,
    },
    {
      Sid: "CreateGroupsInAnyVpc",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: [ec2("vpc/*")],
    },
    {
      Sid: "ShapeOurGroupsOnly",
      Effect: "Allow",
      Action: [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress",
      ],
      Resource: [ec2("security-group/*")],
      Condition: ourTag,
    },
    {
      Sid: "LockEvidenceSnapshots",
      Effect: "Allow",
      Action: ["ec2:LockSnapshot"],
      Resource: [ec2("snapshot/*")],
    },
    {
      Sid: "CopyEvidenceVolumes",
      Effect: "Allow",
      Action: ["ec2:CreateVolume"],
      Resource: [ec2("volume/*"), ec2Global("snapshot/*"), ec2("snapshot/*")],
    },
    // Volumes are attached only to instances the responder launched as forensic workstations.
    {
      Sid: "AttachAnyEvidenceVolume",
      Effect: "Allow",
      Action: ["ec2:AttachVolume"],
      Resource: [ec2("volume/*")],
    },
    {
      Sid: "AttachToForensicInstancesOnly",
      Effect: "Allow",
      Action: ["ec2:AttachVolume"],
      Resource: [ec2("instance/*")],
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_RESPONDER_MADE}`]: "forensic" } },
    },
    // Instances the responder launches must carry its tag at launch; the other resources RunInstances touches
    // (subnet, groups, ENI, volumes, AMI, launch template) cannot carry that condition.
    {
      Sid: "LaunchTaggedInstancesOnly",
      Effect: "Allow",
      Action: ["ec2:RunInstances"],
      Resource: [ec2("instance/*")],
      Condition: taggedOnCreate,
    },
    {
      Sid: "LaunchIntoExistingNetwork",
      Effect: "Allow",
      Action: ["ec2:RunInstances"],
      Resource: [
        ec2("subnet/*"),
        ec2("security-group/*"),
        ec2("network-interface/*"),
        ec2("volume/*"),
        ec2("launch-template/*"),
        ec2("key-pair/*"),
        ec2Global("image/*"),
        ec2Global("snapshot/*"),
      ],
    },
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
    // A response that runs short of time continues in a fresh invocation of this same function.
    { Sid: "ContinueItself", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [a.functionArn] },
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
  if (a.revokeRoleSessions) {
    statements.push({
      Sid: "RevokeRoleSessions",
      Effect: "Allow",
      Action: ["iam:PutRolePolicy"],
      Resource: [`arn:${a.partition}:iam::${a.accountId}:role/*`],
    });
    // Without this, a stolen responder credential could grant itself anything through its own role.
    statements.push({
      Sid: "NeverRewriteOwnRoles",
      Effect: "Deny",
      Action: ["iam:PutRolePolicy"],
      Resource: a.protectedRoleArns,
    });
  }
  statements.push({
    Sid: "NeverDestroyEvidence",
    Effect: "Deny",
    Action: [...FORBIDDEN_ACTIONS],
    Resource: ["*"],
  });
  return doc(...statements);
}

/** Forensic workstation: reads evidence; SSM Session Manager comes from the AmazonSSMManagedInstanceCore policy. */
export function forensicReadPolicy(evidenceBucketArn: string, evidenceKmsKeyArn?: string): PolicyDocument {
  const statements: PolicyStatement[] = [
    { Sid: "ListEvidence", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [evidenceBucketArn] },
    { Sid: "ReadEvidence", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${evidenceBucketArn}/*`] },
  ];
  if (evidenceKmsKeyArn) {
    statements.push({
      Sid: "DecryptEvidence",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: [evidenceKmsKeyArn],
    });
  }
  return doc(...statements);
}

/** Attached to the quarantine profile that replaces a compromised instance's own: its credentials can do nothing. */
export function denyEverythingPolicy(): PolicyDocument {
  return doc({ Sid: "DenyEverything", Effect: "Deny", Action: ["*"], Resource: ["*"] });
}

export function evidenceBucketPolicy(bucketArn: string, retainEvidence: boolean): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      Sid: "TlsOnly",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["s3:*"],
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  ];
  if (retainEvidence) {
    statements.push({
      Sid: "EvidenceVersionsAreNeverDeleted",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["s3:DeleteObjectVersion"],
      Resource: [`${bucketArn}/*`],
    });
  }
  return doc(...statements);
}

/** EventBridge may put undeliverable events on the dead-letter queue, for the stack's rules only. */
export function deadLetterQueuePolicy(queueArn: string, ruleArns: string[]): PolicyDocument {
  return doc({
    Sid: "EventBridgeDeadLetters",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: ["sqs:SendMessage"],
    Resource: [queueArn],
    Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
  });
}
