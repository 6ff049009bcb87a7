// What a stolen responder credential could do, and what a response needs, evaluated by a real IAM engine
// (@cloud-copilot/iam-simulate, AGPL: a devDependency, tests only) against the policy the program synthesizes.
// EC2 authorizes each resource of a request separately, with that resource's tags as aws:ResourceTag/* and
// ec2:ResourceTag/* and the request's keys where the Service Authorization Reference lists them; every row is
// evaluated that way, per resource, and its verdict must be exactly the expected one.
import { expect } from "chai";
import { ACCOUNT_ID, ALIAS_TARGET_KEY_ARN, REGION, type ProgramRun } from "../../testkit/stackMockRun";
import { stateMachineArn } from "../../handler/workflow";
import type { PolicyDocument } from "../../infra/policies";
import { actionsCalledByHandler } from "./handlerCalls";
import {
  decide,
  EBS_KEY,
  fullStackRun,
  REPLACEMENT_ROLE,
  responderPolicyOf,
  tagged,
  workflowPolicyOf,
  tagging,
  type Context,
  type Verdict,
} from "./policySimulation";

interface Resource {
  arn: string;
  context?: Context;
}
interface Row {
  what: string;
  action: string;
  resources: Resource[];
  expect: Verdict;
}

const OURS = { "ir:managed-by": "ec2-incident-response" };
const ec2 = (resource: string) => `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:${resource}`;
// Snapshot and AMI ARNs have no account.
const ec2NoAccount = (resource: string) => `arn:aws:ec2:${REGION}::${resource}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;

const toEc2 = { "iam:PassedToService": "ec2.amazonaws.com" };
const viaEc2 = { "kms:ViaService": `ec2.${REGION}.amazonaws.com` };

// A compromised instance and what surrounds it.
const INSTANCE = ec2("instance/i-0a1b2c3d4e5f60718");
const INSTANCE_TAGS = tagged({ Name: "web-1", app: "shop" });
const ENI = ec2("network-interface/eni-0a1b2c3d4e5f60718");
const SUBNET = ec2("subnet/subnet-0aa11bb22cc33dd44");
const ORIGINAL_GROUP = { arn: ec2("security-group/sg-0a1b2c3d4e5f60718"), context: tagged({ Name: "web" }) };
const UNTRACK_GROUP = {
  arn: ec2("security-group/sg-0b1b2c3d4e5f60718"),
  context: tagged({ ...OURS, "ir:role": "untrack" }),
};
const ISOLATION_GROUP = {
  arn: ec2("security-group/sg-0c1b2c3d4e5f60718"),
  context: tagged({ ...OURS, "ir:role": "isolation" }),
};
const FORENSIC_GROUP = {
  arn: ec2("security-group/sg-0d1b2c3d4e5f60718"),
  context: tagged({ ...OURS, "ir:role": "forensic" }),
};
const VOLUME = ec2("volume/vol-0a1b2c3d4e5f60718");
const VOLUME_2 = ec2("volume/vol-0b1b2c3d4e5f60718");
const INCIDENT = { "ir:incident": "gd-1a2b3c" };
const SNAPSHOT = ec2NoAccount("snapshot/snap-0a1b2c3d4e5f60718");
const SNAPSHOT_TAGS = { ...INCIDENT, ...OURS, Name: "evidence i-0a1b2c3d4e5f60718" };
const COPY_TAGS = { ...INCIDENT, ...OURS, Name: "evidence copy of vol-0a1b2c3d4e5f60718" };
const FORENSIC_INSTANCE = ec2("instance/i-0f0e0d0c0b0a09080");
const FORENSIC_TAGS = {
  "ir:responder-made": "forensic",
  ...INCIDENT,
  ...OURS,
  Name: "forensic i-0a1b2c3d4e5f60718",
};
// Resources a request creates, named as IAM sees them (a concrete id; iam-simulate evaluates `*` as a wildcard).
const NEW_INSTANCE = ec2("instance/i-0c0c0c0c0c0c0c0c0");
const NEW_VOLUME = ec2("volume/vol-0c0c0c0c0c0c0c0c0");
const NEW_ENI = ec2("network-interface/eni-0c0c0c0c0c0c0c0c0");
const IMAGE = ec2NoAccount("image/ami-0a1b2c3d4e5f60718");
const LAUNCH_TEMPLATE = ec2("launch-template/lt-0a1b2c3d4e5f60718");
const REPLACEMENT_TAGS = {
  Name: "web-1",
  app: "shop",
  "ir:responder-made": "replacement",
  ...INCIDENT,
  ...OURS,
};
const GROUP_TAGS = { "ir:role": "isolation", ...OURS, Name: "ir-isolation-vpc-0123456789abcdef0" };
const NEW_GROUP = ec2("security-group/sg-0c0c0c0c0c0c0c0c0");
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/9f8e7d6c-5b4a-4f3e-8d2c-1b0a9f8e7d6c`;

function rows(run: ProgramRun): Row[] {
  const arnOf = (type: string, name: string) => run.one(type, name).state.arn as string;
  const ownRole = arnOf("aws:iam/role:Role", "ir-role");
  const forensicRole = arnOf("aws:iam/role:Role", "ir-forensic");
  const quarantineRole = arnOf("aws:iam/role:Role", "ir-quarantine");
  const fn = run.one("aws:lambda/function:Function").state.arn as string;
  const bucket = `arn:aws:s3:::${run.one("aws:s3/bucket:Bucket").state.bucket as string}`;
  const topic = run.one("aws:sns/topic:Topic").state.arn as string;
  const table = run.one("aws:dynamodb/table:Table").state.arn as string;
  const queue = run.one("aws:sqs/queue:Queue").state.arn as string;
  const logGroup = run.one("aws:cloudwatch/logGroup:LogGroup", "ir-logs").state.arn as string;
  const workflow = stateMachineArn(
    "aws",
    REGION,
    ACCOUNT_ID,
    run.one("aws:sfn/stateMachine:StateMachine").inputs.name as string,
  );
  const execution = `${workflow.replace(":stateMachine:", ":execution:")}:gd-1a2b3c`;
  const detector = `arn:aws:guardduty:${REGION}:${ACCOUNT_ID}:detector/${String(run.outputs.guardDutyDetectorId)}`;
  const evidence = `${bucket}/gd-1a2b3c/finding.json`;
  const targetGroup = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/web/0123456789abcdef`;
  const SECURITY_HUB = `arn:aws:securityhub:${REGION}:${ACCOUNT_ID}:hub/default`;
  const autoScalingGroup = `arn:aws:autoscaling:${REGION}:${ACCOUNT_ID}:autoScalingGroup:1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d:autoScalingGroupName/web`;

  const allowed = (what: string, action: string, ...resources: Resource[]): Row => ({
    what,
    action,
    resources,
    expect: "Allowed",
  });
  const denied = (expectation: Verdict, what: string, action: string, ...resources: Resource[]): Row => ({
    what,
    action,
    resources,
    expect: expectation,
  });
  const instance = { arn: INSTANCE, context: INSTANCE_TAGS };
  const forensic = { arn: FORENSIC_INSTANCE, context: tagged(FORENSIC_TAGS) };
  const evidenceSnapshot = { arn: SNAPSHOT, context: tagged(SNAPSHOT_TAGS) };
  const triageDocument = {
    arn: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:document/${run.one("aws:ssm/document:Document", "triage").state.name as string}`,
  };
  // Systems Manager puts an instance's tags in aws:ResourceTag/* and ssm:resourceTag/* (not ec2:ResourceTag/*).
  const ssmTagged = (tags: Record<string, string>): Context =>
    Object.fromEntries(
      Object.entries(tags).flatMap(([key, value]) => [
        [`aws:ResourceTag/${key}`, value],
        [`ssm:resourceTag/${key}`, value],
      ]),
    );

  return [
    // ---- every call a response makes ----
    allowed("describe the instance", "ec2:DescribeInstances", { arn: "*" }),
    allowed("describe security groups", "ec2:DescribeSecurityGroups", { arn: "*" }),
    allowed("describe snapshots", "ec2:DescribeSnapshots", { arn: "*" }),
    allowed("describe volumes", "ec2:DescribeVolumes", { arn: "*" }),
    allowed("describe subnets", "ec2:DescribeSubnets", { arn: "*" }),
    allowed("describe images (kdump-ready AMI)", "ec2:DescribeImages", { arn: "*" }),
    allowed("describe instance types (NMI support, memory)", "ec2:DescribeInstanceTypes", { arn: "*" }),
    allowed("describe profile associations", "ec2:DescribeIamInstanceProfileAssociations", { arn: "*" }),
    allowed("read a replacement's launch template", "ec2:DescribeLaunchTemplateVersions", { arn: "*" }),
    allowed(
      "move an ENI into the untrack group",
      "ec2:ModifyNetworkInterfaceAttribute",
      { arn: ENI },
      instance,
      UNTRACK_GROUP,
    ),
    allowed(
      "move an ENI into the isolation group",
      "ec2:ModifyNetworkInterfaceAttribute",
      { arn: ENI },
      instance,
      ISOLATION_GROUP,
    ),
    allowed(
      "restore an ENI to its original, untagged group",
      "ec2:ModifyNetworkInterfaceAttribute",
      { arn: ENI },
      instance,
      ORIGINAL_GROUP,
    ),
    allowed(
      "isolate a single-ENI instance through the instance",
      "ec2:ModifyInstanceAttribute",
      instance,
      ISOLATION_GROUP,
    ),
    allowed(
      "restore a single-ENI instance's original group",
      "ec2:ModifyInstanceAttribute",
      instance,
      ORIGINAL_GROUP,
    ),
    allowed("termination protection", "ec2:ModifyInstanceAttribute", instance),
    allowed("DeleteOnTermination=false on its volume", "ec2:ModifyInstanceAttribute", instance, {
      arn: VOLUME,
    }),
    allowed("turn off the metadata service", "ec2:ModifyInstanceMetadataOptions", instance),
    allowed("read an attribute before changing it", "ec2:DescribeInstanceAttribute", instance),
    allowed("a finding's workflow: NOTIFIED", "securityhub:BatchUpdateFindings", {
      arn: SECURITY_HUB,
      context: { "securityhub:ASFFSyntaxPath/Workflow.Status": "NOTIFIED" },
    }),
    allowed("a finding's workflow: RESOLVED", "securityhub:BatchUpdateFindings", {
      arn: SECURITY_HUB,
      context: { "securityhub:ASFFSyntaxPath/Workflow.Status": "RESOLVED" },
    }),
    allowed("swap in the quarantine profile", "ec2:ReplaceIamInstanceProfileAssociation", instance),
    allowed("associate the quarantine profile", "ec2:AssociateIamInstanceProfile", instance),
    allowed("hand the quarantine role to EC2", "iam:PassRole", { arn: quarantineRole, context: toEc2 }),
    allowed("read the instance profile", "iam:GetInstanceProfile", {
      arn: `arn:aws:iam::${ACCOUNT_ID}:instance-profile/web-app`,
    }),
    allowed("revoke a workload role's sessions", "iam:PutRolePolicy", { arn: role("batch-worker") }),
    allowed("tag the instance with its incident", "ec2:CreateTags", {
      arn: INSTANCE,
      context: { ...INSTANCE_TAGS, ...tagging(INCIDENT) },
    }),
    allowed("console output", "ec2:GetConsoleOutput", instance),
    allowed("console screenshot", "ec2:GetConsoleScreenshot", instance),
    allowed("the NMI", "ec2:SendDiagnosticInterrupt", instance),
    allowed("stop", "ec2:StopInstances", instance),
    allowed(
      "snapshot all volumes together, tagged",
      "ec2:CreateSnapshots",
      instance,
      { arn: VOLUME },
      { arn: VOLUME_2 },
      { arn: SNAPSHOT, context: tagging(SNAPSHOT_TAGS) },
    ),
    allowed("tag the snapshots as they are made, with the volumes' own tags", "ec2:CreateTags", {
      arn: SNAPSHOT,
      context: tagging({ ...SNAPSHOT_TAGS, app: "shop", "ir:responder-made": "forensic" }, "CreateSnapshots"),
    }),
    allowed("lock an evidence snapshot", "ec2:LockSnapshot", evidenceSnapshot),
    allowed("copy a snapshot to a tagged volume", "ec2:CreateVolume", evidenceSnapshot, {
      arn: NEW_VOLUME,
      context: tagging(COPY_TAGS),
    }),
    allowed("tag the copy as it is made", "ec2:CreateTags", {
      arn: NEW_VOLUME,
      context: tagging(COPY_TAGS, "CreateVolume"),
    }),
    allowed("detach an evidence volume", "ec2:DetachVolume", { arn: VOLUME }, instance),
    allowed(
      "attach an evidence volume to the forensic workstation",
      "ec2:AttachVolume",
      { arn: VOLUME },
      forensic,
    ),
    allowed(
      "launch the forensic workstation",
      "ec2:RunInstances",
      { arn: NEW_INSTANCE, context: tagging(FORENSIC_TAGS) },
      { arn: NEW_VOLUME, context: tagging(FORENSIC_TAGS) },
      { arn: NEW_ENI },
      { arn: SUBNET, context: tagged({ Name: "forensics" }) },
      FORENSIC_GROUP,
      { arn: IMAGE, context: tagged({ Name: "forensic-workstation" }) },
    ),
    allowed("hand the forensic role to EC2", "iam:PassRole", { arn: forensicRole, context: toEc2 }),
    allowed(
      "tag the workstation and its volume at launch",
      "ec2:CreateTags",
      { arn: NEW_INSTANCE, context: tagging(FORENSIC_TAGS, "RunInstances") },
      { arn: NEW_VOLUME, context: tagging(FORENSIC_TAGS, "RunInstances") },
    ),
    allowed(
      "launch a replacement from its launch template into its original group",
      "ec2:RunInstances",
      { arn: NEW_INSTANCE, context: tagging(REPLACEMENT_TAGS) },
      { arn: NEW_VOLUME },
      { arn: NEW_ENI },
      { arn: SUBNET },
      ORIGINAL_GROUP,
      { arn: IMAGE },
      { arn: LAUNCH_TEMPLATE },
    ),
    allowed("hand the replacement its original role", "iam:PassRole", {
      arn: REPLACEMENT_ROLE,
      context: toEc2,
    }),
    allowed("tag the replacement at launch", "ec2:CreateTags", {
      arn: NEW_INSTANCE,
      context: tagging(REPLACEMENT_TAGS, "RunInstances"),
    }),
    allowed("a launch template tags the ENI it makes", "ec2:CreateTags", {
      arn: NEW_ENI,
      context: tagging({ app: "shop" }, "RunInstances"),
    }),
    allowed(
      "create an isolation group on demand",
      "ec2:CreateSecurityGroup",
      { arn: NEW_GROUP, context: tagging(GROUP_TAGS) },
      { arn: ec2("vpc/vpc-0aaaaaaa") },
    ),
    allowed("tag the group as it is made", "ec2:CreateTags", {
      arn: NEW_GROUP,
      context: tagging(GROUP_TAGS, "CreateSecurityGroup"),
    }),
    allowed("let the forensic sources into our group", "ec2:AuthorizeSecurityGroupIngress", ISOLATION_GROUP),
    allowed("our untrack group's egress", "ec2:AuthorizeSecurityGroupEgress", UNTRACK_GROUP),
    allowed("revoke the default egress of our group", "ec2:RevokeSecurityGroupEgress", ISOLATION_GROUP),
    allowed("find the Auto Scaling group", "autoscaling:DescribeAutoScalingInstances", { arn: "*" }),
    allowed("read the Auto Scaling group", "autoscaling:DescribeAutoScalingGroups", { arn: "*" }),
    allowed("detach from the Auto Scaling group", "autoscaling:DetachInstances", {
      arn: autoScalingGroup,
      context: { "aws:ResourceTag/app": "shop" },
    }),
    allowed("find target groups", "elasticloadbalancing:DescribeTargetGroups", { arn: "*" }),
    allowed("find its targets", "elasticloadbalancing:DescribeTargetHealth", { arn: "*" }),
    allowed("deregister from a target group", "elasticloadbalancing:DeregisterTargets", { arn: targetGroup }),
    allowed("register the replacement", "elasticloadbalancing:RegisterTargets", { arn: targetGroup }),
    allowed("claim the incident", "dynamodb:PutItem", { arn: table }),
    allowed("record progress", "dynamodb:UpdateItem", { arn: table }),
    allowed("read the incident", "dynamodb:GetItem", { arn: table }),
    allowed("write evidence", "s3:PutObject", { arn: evidence }),
    allowed("run the triage on the incident's workstation", "ssm:SendCommand", triageDocument, {
      arn: FORENSIC_INSTANCE,
      context: ssmTagged(FORENSIC_TAGS),
    }),
    allowed("follow the triage", "ssm:GetCommandInvocation", { arn: "*" }),
    allowed("read the triage's summary", "s3:GetObject", {
      arn: `${bucket}/incidents/inc-1/triage/summary.json`,
    }),
    denied(
      "ImplicitlyDenied",
      "run the triage on the compromised instance",
      "ssm:SendCommand",
      triageDocument,
      {
        arn: INSTANCE,
        context: ssmTagged({ Name: "web-1", app: "shop" }),
      },
    ),
    denied(
      "ImplicitlyDenied",
      "run another document of the account on the workstation",
      "ssm:SendCommand",
      {
        arn: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:document/run-anything`,
      },
      { arn: FORENSIC_INSTANCE, context: ssmTagged(FORENSIC_TAGS) },
    ),
    denied("ImplicitlyDenied", "read evidence other than triage results", "s3:GetObject", { arn: evidence }),
    allowed("encrypt evidence under the (resolved) evidence key", "kms:GenerateDataKey", {
      arn: ALIAS_TARGET_KEY_ARN,
    }),
    allowed("notify", "sns:Publish", { arn: topic }),
    allowed("start the response workflow for the incident", "states:StartExecution", { arn: workflow }),
    allowed("park a failed invocation", "sqs:SendMessage", { arn: queue }),
    allowed("open its log stream", "logs:CreateLogStream", {
      arn: `${logGroup}:log-stream:2026/01/01/[$LATEST]0123`,
    }),
    allowed("write its log", "logs:PutLogEvents", { arn: `${logGroup}:log-stream:2026/01/01/[$LATEST]0123` }),
    allowed("EC2 keeps a grant on the EBS key for the new volume", "kms:CreateGrant", {
      arn: EBS_KEY,
      context: { ...viaEc2, "kms:GrantIsForAWSResource": "true" },
    }),
    allowed("EC2 decrypts under the EBS key", "kms:Decrypt", { arn: EBS_KEY, context: viaEc2 }),
    allowed("EC2 describes the EBS key", "kms:DescribeKey", { arn: EBS_KEY, context: viaEc2 }),
    allowed("EC2 makes a data key for the volume", "kms:GenerateDataKeyWithoutPlaintext", {
      arn: EBS_KEY,
      context: viaEc2,
    }),
    allowed("EC2 re-encrypts from the EBS key", "kms:ReEncryptFrom", { arn: EBS_KEY, context: viaEc2 }),
    allowed("EC2 re-encrypts to the EBS key", "kms:ReEncryptTo", { arn: EBS_KEY, context: viaEc2 }),

    // ---- what a stolen credential would try ----
    denied("ExplicitlyDenied", "give a passable replacement role Allow *", "iam:PutRolePolicy", {
      arn: REPLACEMENT_ROLE,
    }),
    denied("ExplicitlyDenied", "rewrite the forensic role", "iam:PutRolePolicy", { arn: forensicRole }),
    // Hiding an attack from the SOC: no finding suppressed, and no update without a workflow status.
    denied("ImplicitlyDenied", "suppress a finding", "securityhub:BatchUpdateFindings", {
      arn: SECURITY_HUB,
      context: { "securityhub:ASFFSyntaxPath/Workflow.Status": "SUPPRESSED" },
    }),
    denied("ImplicitlyDenied", "lower a finding's severity", "securityhub:BatchUpdateFindings", {
      arn: SECURITY_HUB,
    }),
    denied("ExplicitlyDenied", "rewrite the quarantine role", "iam:PutRolePolicy", { arn: quarantineRole }),
    denied("ExplicitlyDenied", "rewrite its own role", "iam:PutRolePolicy", { arn: ownRole }),
    denied("ExplicitlyDenied", "attach a policy to its own role", "iam:AttachRolePolicy", {
      arn: ownRole,
      context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" },
    }),
    denied("ExplicitlyDenied", "tag a running instance ir:responder-made=forensic", "ec2:CreateTags", {
      arn: INSTANCE,
      context: { ...INSTANCE_TAGS, ...tagging({ "ir:responder-made": "forensic" }) },
    }),
    denied("ExplicitlyDenied", "claim an existing group with ir:managed-by", "ec2:CreateTags", {
      arn: ORIGINAL_GROUP.arn,
      context: { ...ORIGINAL_GROUP.context, ...tagging(OURS) },
    }),
    denied("ImplicitlyDenied", "tag an existing instance with anything but the incident", "ec2:CreateTags", {
      arn: INSTANCE,
      context: { ...INSTANCE_TAGS, ...tagging({ ...INCIDENT, owner: "attacker" }) },
    }),
    denied("ImplicitlyDenied", "tag an existing snapshot", "ec2:CreateTags", {
      arn: SNAPSHOT,
      context: tagging(INCIDENT),
    }),
    denied(
      "ImplicitlyDenied",
      "attach an evidence volume to an untagged instance",
      "ec2:AttachVolume",
      { arn: VOLUME },
      instance,
    ),
    denied("ImplicitlyDenied", "pass a role not in the passable list to a new instance", "iam:PassRole", {
      arn: role("admin"),
      context: toEc2,
    }),
    denied("ImplicitlyDenied", "pass the forensic role to another service", "iam:PassRole", {
      arn: forensicRole,
      context: { "iam:PassedToService": "lambda.amazonaws.com" },
    }),
    denied(
      "ImplicitlyDenied",
      "launch an instance without the responder's tag",
      "ec2:RunInstances",
      { arn: NEW_INSTANCE, context: tagging({ Name: "miner" }) },
      { arn: SUBNET },
      ORIGINAL_GROUP,
      { arn: NEW_ENI },
      { arn: IMAGE },
    ),
    denied(
      "ImplicitlyDenied",
      "open a group without our tag to the world",
      "ec2:AuthorizeSecurityGroupIngress",
      ORIGINAL_GROUP,
    ),
    denied(
      "ImplicitlyDenied",
      "snapshot without the responder's tag",
      "ec2:CreateSnapshots",
      instance,
      { arn: VOLUME },
      {
        arn: SNAPSHOT,
        context: tagging({ Name: "exfil" }),
      },
    ),
    denied("ImplicitlyDenied", "lock someone else's snapshot", "ec2:LockSnapshot", {
      arn: ec2NoAccount("snapshot/snap-0ffffffffffffffff"),
      context: tagged({ Name: "backup" }),
    }),
    denied("ExplicitlyDenied", "delete an evidence snapshot", "ec2:DeleteSnapshot", evidenceSnapshot),
    denied("ExplicitlyDenied", "unlock an evidence snapshot", "ec2:UnlockSnapshot", evidenceSnapshot),
    denied("ExplicitlyDenied", "delete an evidence volume", "ec2:DeleteVolume", { arn: VOLUME }),
    denied("ExplicitlyDenied", "terminate the instance", "ec2:TerminateInstances", instance),
    denied("ExplicitlyDenied", "delete an evidence object", "s3:DeleteObject", { arn: evidence }),
    denied("ExplicitlyDenied", "delete an evidence object's version", "s3:DeleteObjectVersion", {
      arn: evidence,
    }),
    denied("ExplicitlyDenied", "rewrite the evidence bucket's policy", "s3:PutBucketPolicy", { arn: bucket }),
    denied("ExplicitlyDenied", "expire the evidence", "s3:PutLifecycleConfiguration", { arn: bucket }),
    denied("ExplicitlyDenied", "delete the detector", "guardduty:DeleteDetector", { arn: detector }),
    denied("ExplicitlyDenied", "disable the detector", "guardduty:UpdateDetector", { arn: detector }),
    denied("ExplicitlyDenied", "change its own code", "lambda:UpdateFunctionCode", { arn: fn }),
    denied("ExplicitlyDenied", "change its own configuration", "lambda:UpdateFunctionConfiguration", {
      arn: fn,
    }),
    denied("ImplicitlyDenied", "write to another bucket", "s3:PutObject", {
      arn: "arn:aws:s3:::customer-data/x",
    }),
    denied("ImplicitlyDenied", "publish to another topic", "sns:Publish", {
      arn: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:alerts`,
    }),
    denied("ImplicitlyDenied", "invoke another function", "lambda:InvokeFunction", {
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:payments`,
    }),
    denied("ImplicitlyDenied", "invoke itself (continuations are gone)", "lambda:InvokeFunction", {
      arn: fn,
    }),
    denied("ImplicitlyDenied", "invoke its published version", "lambda:InvokeFunction", { arn: `${fn}:1` }),
    denied("ImplicitlyDenied", "start another state machine", "states:StartExecution", {
      arn: `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:payments`,
    }),
    denied("ImplicitlyDenied", "stop a response under way", "states:StopExecution", { arn: execution }),
    denied("ImplicitlyDenied", "rewrite the response workflow", "states:UpdateStateMachine", {
      arn: workflow,
    }),
    denied("ImplicitlyDenied", "delete the response workflow", "states:DeleteStateMachine", {
      arn: workflow,
    }),
    denied("ImplicitlyDenied", "grant itself a key that is not listed", "kms:CreateGrant", {
      arn: OTHER_KEY,
      context: { ...viaEc2, "kms:GrantIsForAWSResource": "true" },
    }),
    denied("ImplicitlyDenied", "grant itself the EBS key outside an AWS resource", "kms:CreateGrant", {
      arn: EBS_KEY,
      context: { ...viaEc2, "kms:GrantIsForAWSResource": "false" },
    }),
    denied("ImplicitlyDenied", "decrypt with the EBS key directly", "kms:Decrypt", { arn: EBS_KEY }),
  ];
}

/**
 * The response workflow's role (infra/workflow.ts): only Step Functions can assume it, for this state machine, but a
 * definition changed by someone who may update the state machine acts with it, so it is held to the same rows.
 */
function workflowRows(run: ProgramRun): Row[] {
  const fn = run.one("aws:lambda/function:Function").state;
  const version = fn.qualifiedArn as string;
  const topic = run.one("aws:sns/topic:Topic").state.arn as string;
  const table = run.one("aws:dynamodb/table:Table").state.arn as string;
  const bucket = `arn:aws:s3:::${run.one("aws:s3/bucket:Bucket").state.bucket as string}`;
  const ownRole = run.one("aws:iam/role:Role", "ir-workflow-role").state.arn as string;
  const workflow = stateMachineArn(
    "aws",
    REGION,
    ACCOUNT_ID,
    run.one("aws:sfn/stateMachine:StateMachine").inputs.name as string,
  );
  const viaSns = { "kms:ViaService": `sns.${REGION}.amazonaws.com` };
  const row = (expectation: Verdict, what: string, action: string, ...resources: Resource[]): Row => ({
    what,
    action,
    resources,
    expect: expectation,
  });
  const logDelivery = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
  ];
  return [
    // ---- what the workflow does ----
    row("Allowed", "run a step: the responder's published version", "lambda:InvokeFunction", {
      arn: version,
    }),
    row("Allowed", "an execution started before a deploy: the version it named", "lambda:InvokeFunction", {
      arn: `${fn.arn as string}:2`,
    }),
    row("Allowed", "tell a person the report failed", "sns:Publish", { arn: topic }),
    row("Allowed", "SNS encrypts the message under the topic's key", "kms:GenerateDataKey", {
      arn: ALIAS_TARGET_KEY_ARN,
      context: viaSns,
    }),
    row("Allowed", "SNS decrypts under the topic's key", "kms:Decrypt", {
      arn: ALIAS_TARGET_KEY_ARN,
      context: viaSns,
    }),
    ...logDelivery.map((action) => row("Allowed", "deliver its logs", action, { arn: "*" })),

    // ---- what a changed definition would try ----
    row("ImplicitlyDenied", "invoke the unqualified function ($LATEST)", "lambda:InvokeFunction", {
      arn: fn.arn as string,
    }),
    row("ExplicitlyDenied", "invoke $LATEST by name", "lambda:InvokeFunction", {
      arn: `${fn.arn as string}:$LATEST`,
    }),
    row("ImplicitlyDenied", "invoke another function", "lambda:InvokeFunction", {
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:payments:1`,
    }),
    row("ImplicitlyDenied", "change the responder's code", "lambda:UpdateFunctionCode", {
      arn: fn.arn as string,
    }),
    row("ImplicitlyDenied", "publish to another topic", "sns:Publish", {
      arn: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:alerts`,
    }),
    row("ImplicitlyDenied", "use the topic key outside SNS", "kms:Decrypt", { arn: ALIAS_TARGET_KEY_ARN }),
    row("ImplicitlyDenied", "make data keys outside SNS", "kms:GenerateDataKey", {
      arn: ALIAS_TARGET_KEY_ARN,
    }),
    row("ImplicitlyDenied", "use the topic key through another service", "kms:Decrypt", {
      arn: ALIAS_TARGET_KEY_ARN,
      context: { "kms:ViaService": `s3.${REGION}.amazonaws.com` },
    }),
    row("ImplicitlyDenied", "start another response", "states:StartExecution", { arn: workflow }),
    row("ImplicitlyDenied", "read an incident record", "dynamodb:GetItem", { arn: table }),
    row("ImplicitlyDenied", "read evidence", "s3:GetObject", { arn: `${bucket}/gd-1a2b3c/finding.json` }),
    row("ImplicitlyDenied", "rewrite its own role", "iam:PutRolePolicy", { arn: ownRole }),
    row("ImplicitlyDenied", "hand a role to a service", "iam:PassRole", {
      arn: role("admin"),
      context: { "iam:PassedToService": "lambda.amazonaws.com" },
    }),
    row("ImplicitlyDenied", "stop an instance", "ec2:StopInstances", {
      arn: INSTANCE,
      context: INSTANCE_TAGS,
    }),
  ];
}

/** The request's verdict: every resource evaluated alone; one denial refuses the request. */
async function evaluate(
  policy: PolicyDocument,
  row: Row,
  principal?: string,
): Promise<{ verdict: Verdict; detail: string }> {
  const notes: string[] = [];
  const verdicts: Verdict[] = [];
  for (const resource of row.resources) {
    const { verdict, ignoredContextKeys } = await decide(
      policy,
      row.action,
      resource.arn,
      resource.context,
      principal,
    );
    notes.push(`${resource.arn}: ${verdict}`);
    // A key that does not apply to this action and resource type, or an ARN of no resource type of the action,
    // would make the row prove nothing.
    if (ignoredContextKeys.length > 0)
      notes.push(`context keys that do not apply: ${ignoredContextKeys.join(", ")}`);
    if (verdict === "not a resource of the action" || ignoredContextKeys.length > 0)
      return { verdict: "ImplicitlyDenied", detail: `INVALID ROW: ${notes.join("; ")}` };
    verdicts.push(verdict);
  }
  const verdict: Verdict = verdicts.includes("ExplicitlyDenied")
    ? "ExplicitlyDenied"
    : verdicts.every((v) => v === "Allowed")
      ? "Allowed"
      : "ImplicitlyDenied";
  return { verdict, detail: notes.join("; ") };
}

describe("privilege escalation with a stolen responder credential (iam-simulate, per resource)", function () {
  this.timeout(300_000);
  let run: ProgramRun;
  let policy: PolicyDocument;
  before(async () => {
    run = await fullStackRun();
    policy = responderPolicyOf(run);
  });

  it("has an allowed row for every action handler/ calls", () => {
    const covered = new Set(
      rows(run)
        .filter((r) => r.expect === "Allowed")
        .map((r) => r.action),
    );
    expect(actionsCalledByHandler().filter((action) => !covered.has(action))).to.deep.equal([]);
  });

  it("every call a response needs is allowed, every escalation denied", async () => {
    const wrong: string[] = [];
    const table = rows(run);
    expect(table.filter((r) => r.expect === "Allowed").length).to.be.above(50);
    for (const row of table) {
      const { verdict, detail } = await evaluate(policy, row);
      if (verdict !== row.expect || detail.startsWith("INVALID ROW"))
        wrong.push(`${row.what}: ${row.action} expected ${row.expect}, got ${verdict} (${detail})`);
    }
    expect(wrong, wrong.join("\n")).to.deep.equal([]);
  });
});

describe("the response workflow's role, evaluated like the responder's (iam-simulate, per resource)", function () {
  this.timeout(300_000);
  let run: ProgramRun;
  let policy: PolicyDocument;
  before(async () => {
    run = await fullStackRun();
    policy = workflowPolicyOf(run);
  });

  it("has an allowed row for every action its policy allows", () => {
    const covered = new Set(
      workflowRows(run)
        .filter((r) => r.expect === "Allowed")
        .map((r) => r.action),
    );
    const allowed = policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
    expect(allowed.filter((action) => !covered.has(action))).to.deep.equal([]);
  });

  it("allows what the workflow does, and nothing a changed definition would try", async () => {
    const session = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ir-workflow-role/execution`;
    const wrong: string[] = [];
    for (const row of workflowRows(run)) {
      const { verdict, detail } = await evaluate(policy, row, session);
      if (verdict !== row.expect || detail.startsWith("INVALID ROW"))
        wrong.push(`${row.what}: ${row.action} expected ${row.expect}, got ${verdict} (${detail})`);
    }
    expect(wrong, wrong.join("\n")).to.deep.equal([]);
  });
});
