// IAM and resource policies as data. Pure functions of resolved ARNs, so tests can check them table-driven.
import { MANAGED_BY_VALUE, TAG_INCIDENT, TAG_MANAGED_BY, TAG_RESPONDER_MADE } from "../handler/tags";

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

/**
 * The response workflow's role may be assumed by Step Functions for this one state machine only: aws:SourceArn and
 * aws:SourceAccount, as AWS recommends against the cross-service confused deputy ("Creating an IAM role for your state
 * machine in Step Functions"), so no other account's or other state machine's execution can act with it.
 */
export function workflowAssumeRolePolicy(accountId: string, stateMachineArn: string): PolicyDocument {
  return doc({
    Sid: "AssumeForTheResponseWorkflow",
    Effect: "Allow",
    Principal: { Service: "states.amazonaws.com" },
    Action: ["sts:AssumeRole"],
    Condition: {
      StringEquals: { "aws:SourceAccount": accountId },
      ArnLike: { "aws:SourceArn": stateMachineArn },
    },
  });
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
  return doc(...statements);
}

/**
 * Actions the responder must never be able to take, whatever else is attached to its role later: destroy or unlock
 * evidence, blind the detector, rewrite its own function, or loosen the evidence bucket's policy and lifecycle.
 */
export const FORBIDDEN_ACTIONS = [
  "ec2:TerminateInstances",
  "ec2:DeleteVolume",
  "ec2:DeleteSnapshot",
  "ec2:UnlockSnapshot",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:BypassGovernanceRetention",
  "s3:PutBucketPolicy",
  "s3:PutLifecycleConfiguration",
  "guardduty:DeleteDetector",
  "guardduty:UpdateDetector",
  "lambda:UpdateFunctionCode",
  "lambda:UpdateFunctionConfiguration",
] as const;

/** Role changes the responder may never make to its own roles or to a role it may hand to an instance. */
export const ROLE_REWRITES = [
  "iam:PutRolePolicy",
  "iam:AttachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:UpdateAssumeRolePolicy",
] as const;

/** The create calls in which the handler tags what it creates (TagSpecifications). */
export const TAGGING_CREATE_ACTIONS = ["RunInstances", "CreateSnapshots", "CreateVolume"] as const;

/** The only tag keys the handler writes on resources that already exist (cutAccess: the incident on the instance). */
export const TAG_KEYS_ON_EXISTING_INSTANCES = [TAG_INCIDENT] as const;

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
  // A replacement reads its launch template (network interfaces, AMI parameter) before launching from it.
  "ec2:DescribeLaunchTemplateVersions",
];

/**
 * EBS volumes, snapshots and AMIs under a customer-managed key: EC2 uses the CALLER's KMS permissions, through
 * EC2 (kms:ViaService), to create a volume from such a snapshot or launch from such an AMI; without them the new
 * volume goes to `error` and the launched instance terminates. EC2 keeps a grant for the volume's life
 * (kms:GrantIsForAWSResource), so CreateGrant is allowed only for that. Exported so the simulator can be given it.
 */
export function ebsKeyStatements(
  region: string,
  dnsSuffix: string,
  keyArns: readonly string[],
): PolicyStatement[] {
  if (keyArns.length === 0) return [];
  const viaEc2 = { "kms:ViaService": `ec2.${region}.${dnsSuffix}` };
  return [
    {
      Sid: "EbsKeyGrantsForEc2",
      Effect: "Allow",
      Action: ["kms:CreateGrant"],
      Resource: [...keyArns],
      Condition: { StringEquals: viaEc2, Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
    {
      Sid: "EbsKeysThroughEc2",
      Effect: "Allow",
      Action: [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ],
      Resource: [...keyArns],
      Condition: { StringEquals: viaEc2 },
    },
  ];
}

/**
 * The responder's inline policy: exactly the calls handler/ makes, scoped to this account and region, conditioned
 * on our tags where IAM evaluates them, plus an explicit deny of everything destructive. EC2 authorizes every
 * resource of a request separately, each against the resource types the Service Authorization Reference lists for
 * the action, so each statement names only resource types its actions have (test/stack/policyResources.test.ts).
 */
export function responderPolicy(a: ResponderPolicyArgs): PolicyDocument {
  const ec2 = (resource: string) => `arn:${a.partition}:ec2:${a.region}:${a.accountId}:${resource}`;
  // Snapshot and AMI ARNs carry no account: arn:PARTITION:ec2:REGION::snapshot/ID.
  const ec2NoAccount = (resource: string) => `arn:${a.partition}:ec2:${a.region}::${resource}`;
  const instances = ec2("instance/*");
  const volumes = ec2("volume/*");
  const groups = ec2("security-group/*");
  const snapshots = ec2NoAccount("snapshot/*");
  const ourTag = { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } };
  const taggedOnCreate = { StringEquals: { [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } };

  const statements: PolicyStatement[] = [
    { Sid: "DescribeEc2", Effect: "Allow", Action: EC2_DESCRIBE_ACTIONS, Resource: ["*"] },
    {
      Sid: "ContainInstance",
      Effect: "Allow",
      Action: [
        "ec2:ModifyInstanceMetadataOptions",
        "ec2:ReplaceIamInstanceProfileAssociation",
        "ec2:AssociateIamInstanceProfile",
        "ec2:GetConsoleOutput",
        "ec2:GetConsoleScreenshot",
        "ec2:SendDiagnosticInterrupt",
        "ec2:StopInstances",
      ],
      Resource: [instances],
    },
    // Termination protection and DeleteOnTermination=false (ModifyInstanceAttribute names the volumes), and
    // detaching the evidence volumes: both actions have instance and volume resources.
    {
      Sid: "ProtectInstanceAndVolumes",
      Effect: "Allow",
      Action: ["ec2:ModifyInstanceAttribute", "ec2:DetachVolume"],
      Resource: [instances, volumes],
    },
    // ENI moves: into the untrack and isolation groups, and back to the ENI's original groups (a release after a
    // late rejection, the exit from the untrack group after a failed isolation move). EC2 authorizes the ENI, its
    // instance (and, per the SAR, possibly its subnet) and each group named, each separately.
    {
      Sid: "MoveInterfaces",
      Effect: "Allow",
      Action: ["ec2:ModifyNetworkInterfaceAttribute"],
      Resource: [ec2("network-interface/*"), instances, ec2("subnet/*")],
    },
    // The original groups carry none of our tags, and no condition IAM evaluates ties a group to the ENI it is
    // named with (each resource is evaluated alone), so any existing group of this account and region may be
    // named. A stolen credential can therefore move an ENI into an existing group (disrupting or exposing what that
    // group already allows), but cannot open any group: Authorize* is allowed on our tagged groups only.
    {
      Sid: "MoveInterfacesIntoExistingGroups",
      Effect: "Allow",
      Action: ["ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute"],
      Resource: [groups],
    },
    {
      Sid: "CreateIsolationGroupsOnDemand",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: [groups],
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
      Resource: [groups],
      Condition: ourTag,
    },
    // CreateSnapshots authorizes the instance, each volume and each snapshot it creates; the snapshots must carry
    // our tag from birth, which is what LockSnapshot and CreateVolume below require.
    {
      Sid: "SnapshotAnyInstance",
      Effect: "Allow",
      Action: ["ec2:CreateSnapshots"],
      Resource: [instances, volumes],
    },
    {
      Sid: "TaggedSnapshotsOnly",
      Effect: "Allow",
      Action: ["ec2:CreateSnapshots"],
      Resource: [snapshots],
      Condition: taggedOnCreate,
    },
    {
      Sid: "LockEvidenceSnapshots",
      Effect: "Allow",
      Action: ["ec2:LockSnapshot"],
      Resource: [snapshots],
      Condition: ourTag,
    },
    {
      Sid: "CopyFromEvidenceSnapshots",
      Effect: "Allow",
      Action: ["ec2:CreateVolume"],
      Resource: [snapshots],
      Condition: ourTag,
    },
    {
      Sid: "TaggedVolumeCopiesOnly",
      Effect: "Allow",
      Action: ["ec2:CreateVolume"],
      Resource: [volumes],
      Condition: taggedOnCreate,
    },
    // Volumes are attached only to instances the responder launched as forensic workstations (a tag that only
    // RunInstances may set, see NeverTagResponderMadeAfterLaunch).
    {
      Sid: "AttachAnyEvidenceVolume",
      Effect: "Allow",
      Action: ["ec2:AttachVolume"],
      Resource: [volumes],
    },
    {
      Sid: "AttachToForensicInstancesOnly",
      Effect: "Allow",
      Action: ["ec2:AttachVolume"],
      Resource: [instances],
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_RESPONDER_MADE}`]: "forensic" } },
    },
    // Tags in a create call are a CreateTags with ec2:CreateAction. A launch template may also tag the ENIs it makes.
    {
      Sid: "TagWhatItCreates",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [instances, volumes, snapshots, ec2("network-interface/*")],
      Condition: { StringEquals: { "ec2:CreateAction": [...TAGGING_CREATE_ACTIONS] } },
    },
    {
      Sid: "TagGroupsOnCreate",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [groups],
      Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } },
    },
    // On an existing instance, only the incident tag (ForAllValues holds for an empty set, so the keys must exist).
    {
      Sid: "TagIncidentOnInstances",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [instances],
      Condition: {
        "ForAllValues:StringEquals": { "aws:TagKeys": [...TAG_KEYS_ON_EXISTING_INSTANCES] },
        Null: { "aws:TagKeys": "false" },
      },
    },
    // Instances the responder launches must carry its tag at launch; the other resources RunInstances touches
    // (subnet, groups, ENI, volumes, AMI, launch template) cannot carry that condition.
    {
      Sid: "LaunchTaggedInstancesOnly",
      Effect: "Allow",
      Action: ["ec2:RunInstances"],
      Resource: [instances],
      Condition: taggedOnCreate,
    },
    {
      Sid: "LaunchIntoExistingNetwork",
      Effect: "Allow",
      Action: ["ec2:RunInstances"],
      Resource: [
        ec2("subnet/*"),
        groups,
        ec2("network-interface/*"),
        volumes,
        ec2("launch-template/*"),
        ec2("key-pair/*"),
        ec2NoAccount("image/*"),
        snapshots,
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
  statements.push(
    // Without this, a stolen responder credential could grant itself anything through its own role, or give a
    // role it may pass `Allow *` and launch an instance with it.
    {
      Sid: "NeverRewriteOwnOrPassableRoles",
      Effect: "Deny",
      Action: [...ROLE_REWRITES],
      Resource: [...new Set([...a.protectedRoleArns, ...a.passableRoleArns])],
    },
    // Only RunInstances may mark an instance as the responder's (AttachVolume trusts ir:responder-made=forensic),
    // and only a create call may mark a resource as the stack's (Authorize*, LockSnapshot trust ir:managed-by).
    // A missing ec2:CreateAction (an existing resource) makes StringNotEquals true. Instances only: a snapshot may
    // copy the tag from its volume (CopyTagsFromSource), harmlessly.
    {
      Sid: "NeverTagResponderMadeAfterLaunch",
      Effect: "Deny",
      Action: ["ec2:CreateTags"],
      Resource: [instances],
      Condition: {
        "ForAnyValue:StringEquals": { "aws:TagKeys": [TAG_RESPONDER_MADE] },
        StringNotEquals: { "ec2:CreateAction": "RunInstances" },
      },
    },
    {
      Sid: "NeverClaimExistingResources",
      Effect: "Deny",
      Action: ["ec2:CreateTags"],
      Resource: ["*"],
      Condition: {
        "ForAnyValue:StringEquals": { "aws:TagKeys": [TAG_MANAGED_BY] },
        Null: { "ec2:CreateAction": "true" },
      },
    },
    {
      Sid: "NeverDestroyEvidence",
      Effect: "Deny",
      Action: [...FORBIDDEN_ACTIONS],
      Resource: ["*"],
    },
  );
  return doc(...statements);
}

/** An AWS managed policy's ARN in the deployment's partition. */
export function awsManagedPolicyArn(partition: string, name: string): string {
  return `arn:${partition}:iam::aws:policy/${name}`;
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
