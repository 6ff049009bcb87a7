// The responder stack: GuardDuty finding -> EventBridge -> responder Lambda (containment) -> the response workflow
// (Step Functions, one pass of the same Lambda per step), with everything the response needs.
// Configuration is read and validated once here (infra/config.ts lists every key); components never read config.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "./infra/config";
import { Detection } from "./infra/detection";
import { EvidenceStore } from "./infra/evidenceStore";
import { ForensicAccess } from "./infra/forensicAccess";
import { IsolationGroups } from "./infra/isolation";
import { KdumpPreparation } from "./infra/kdumpPreparation";
import { createOperatorPolicy } from "./infra/operatorPolicy";
import { kmsKeyArnOf } from "./infra/kms";
import { Responder, ResponderSettings } from "./infra/responder";
import { SecurityHubAction } from "./infra/securityHub";
import { Triage } from "./infra/triage";
import { ResponseWorkflow, responseStateMachineName } from "./infra/workflow";
import { stateMachineArn as stateMachineArnOf } from "./handler/workflow";

const config = parseStackConfig(pulumi.runtime.allConfig());
const identity = aws.getCallerIdentityOutput();
const { partition, dnsSuffix } = aws.getPartitionOutput();
// Policies must name the key itself: a configured alias is resolved once, here.
const evidenceKmsKeyArn =
  config.evidenceKmsKeyArn === undefined
    ? undefined
    : kmsKeyArnOf("evidenceKmsKeyArn", config.evidenceKmsKeyArn);

const evidence = new EvidenceStore("ir", {
  retainEvidence: config.evidenceRetention === "retain",
  kmsKeyArn: evidenceKmsKeyArn,
  objectLock: config.evidenceObjectLock,
  expirationDays: config.evidenceExpirationDays,
  notificationEmail: config.notificationEmail,
});

const access = new ForensicAccess("ir", {
  evidenceBucketArn: evidence.bucketArn,
  evidenceKmsKeyArn,
  partition,
});

// First-hour triage on the workstation: the document the responder sends, the starter rules, the upload right.
const triage = config.triage
  ? new Triage("triage", {
      evidenceBucketName: evidence.bucketName,
      evidenceBucketArn: evidence.bucketArn,
      evidenceKmsKeyArn,
      forensicRoleName: access.forensicRoleName,
    })
  : undefined;

const isolation = config.vpcIds.map(
  (vpcId) =>
    [
      vpcId,
      new IsolationGroups(`ir-${vpcId}`, {
        vpcId,
        forensicSourceCidrs: config.forensicSourceCidrs,
        forensicIngressPorts: config.forensicIngressPorts,
        forensicEgressCidrs: config.forensicEgressCidrs,
      }),
    ] as const,
);
const vpcSecurityGroups = pulumi.output(
  Object.fromEntries(
    isolation.map(([vpcId, groups]) => [
      vpcId,
      {
        untrack: groups.untrackGroupId,
        isolation: groups.isolationGroupId,
        forensic: groups.forensicGroupId,
      },
    ]),
  ),
);

// Named by the stack, so the responder's environment and policy carry its ARN while the state machine names the
// responder's published version: no cycle between the two.
const workflowName = responseStateMachineName(pulumi.getProject(), pulumi.getStack());
const workflowArn = pulumi
  .all([partition, identity.accountId])
  .apply(([partitionName, accountId]) =>
    stateMachineArnOf(partitionName, config.region, accountId, workflowName),
  );

const settings: pulumi.Output<ResponderSettings> = pulumi.output({
  accountId: identity.accountId,
  incidentTable: evidence.tableName,
  evidenceBucket: evidence.bucketName,
  notificationTopicArn: evidence.topicArn,
  stateMachineArn: workflowArn,
  severityThreshold: config.severityThreshold,
  vpcSecurityGroups,
  forensicSourceCidrs: config.forensicSourceCidrs,
  forensicAmiId: config.forensicAmiId,
  forensicInstanceType: config.forensicInstanceType,
  forensicInstanceProfileArn: access.forensicInstanceProfileArn,
  forensicSubnets: config.forensicSubnets,
  exclusionTag: config.exclusionTagKey,
  quarantineInstanceProfileArn: access.quarantineInstanceProfileArn,
  dryRun: config.dryRun,
  snapshotLock: config.snapshotLock.mode,
  snapshotLockDays: config.snapshotLock.days,
  attachSnapshotCopies: config.attachSnapshotCopies,
  snapshotCopiesFrom: config.snapshotCopiesFrom,
  replacement: config.replacement,
  replacementPassableRoleArns: config.replacementRoleArns,
  revokeRoleSessions: config.revokeRoleSessions,
  cutTrackedConnections: config.cutTrackedConnections,
  securityHubUpdates: config.securityHub,
  pollIntervalSeconds: config.pollIntervalSeconds,
  stopMode: config.stopMode,
  stopTimeoutSeconds: config.stopTimeoutSeconds,
  memoryGraceBaseSeconds: config.memoryGraceBaseSeconds,
  memoryGraceSecondsPerGib: config.memoryGraceSecondsPerGib,
  triageDocument: triage?.documentName ?? "",
  triageTimeoutSeconds: config.triageTimeoutSeconds,
  triageHashBudgetSeconds: config.triageHashBudgetSeconds,
  triageTimelineHours: config.triageTimelineHours,
});

const responder = new Responder("ir", {
  settings,
  region: config.region,
  partition,
  dnsSuffix,
  evidenceBucketArn: evidence.bucketArn,
  evidenceKmsKeyArn,
  ebsKmsKeyArns: config.ebsKmsKeyArns,
  incidentTableArn: evidence.tableArn,
  passableRoleArns: [access.forensicRoleArn, access.quarantineRoleArn, ...config.replacementRoleArns],
  // The responder's own role is added by the component; passable roles are protected as well (infra/responderGuardrails.ts).
  protectedRoleArns: [access.forensicRoleArn, access.quarantineRoleArn],
  memoryMb: config.responderMemoryMb,
  timeoutSeconds: config.responderTimeoutSeconds,
  logRetentionDays: config.logRetentionDays,
  powertoolsLayerArn: config.powertoolsLayerArn,
});

const workflow = new ResponseWorkflow("ir-workflow", {
  stateMachineName: workflowName,
  stateMachineArn: workflowArn,
  accountId: identity.accountId,
  region: config.region,
  dnsSuffix,
  functionVersionArn: responder.functionVersionArn,
  notificationTopicArn: evidence.topicArn,
  // The topic is under the evidence key when one is configured (infra/evidenceStore.ts).
  topicKmsKeyArn: evidenceKmsKeyArn,
  // Above the function's own limit: a pass that runs out of time fails as Lambda.Unknown, not as a Task timeout
  // while the function still runs.
  taskTimeoutSeconds: config.responderTimeoutSeconds + 60,
  logRetentionDays: config.logRetentionDays,
});

const responderRoute = {
  responderFunctionArn: responder.functionArn,
  responderFunctionName: responder.functionName,
  deadLetterQueueArn: responder.deadLetterQueueArn,
};
// An analyst's "Contain EC2 instance" on a Security Hub finding; like the findings rule, after the whole responder.
const securityHub = config.securityHub
  ? new SecurityHubAction("ir-security-hub", responderRoute, { dependsOn: [responder, workflow] })
  : undefined;

// Depends on the whole responder, so no finding is delivered before its role policy exists.
const detection = new Detection(
  "ir",
  {
    existingDetectorId: config.guardDutyDetectorId,
    findingPublishingFrequency: config.findingPublishingFrequency,
    retainFindings: config.evidenceRetention === "retain",
    severityThreshold: config.severityThreshold,
    acceptDrillEvents: config.acceptDrillEvents,
    responderFunctionArn: responder.functionArn,
    responderFunctionName: responder.functionName,
    deadLetterQueueArn: responder.deadLetterQueueArn,
    deadLetterQueueUrl: responder.deadLetterQueueUrl,
    otherRuleArns: securityHub === undefined ? [] : [securityHub.ruleArn],
  },
  { dependsOn: [responder, workflow] },
);

// The people who run `ir` (README "Operations") are given this managed policy: exactly the calls its commands make.
const operatorPolicy = createOperatorPolicy("ir-operator", {
  partition,
  region: config.region,
  accountId: identity.accountId,
  incidentTableArn: evidence.tableArn,
  stateMachineArn: workflowArn,
  evidenceBucketArn: evidence.bucketArn,
  notificationTopicArn: evidence.topicArn,
  responderFunctionArn: responder.functionArn,
  evidenceKmsKeyArn,
  ebsKmsKeyArns: config.ebsKmsKeyArns,
});

// Memory capture needs instances prepared for it: running ones through SSM, new ones through the AMI pipeline.
const kdump = new KdumpPreparation("ir-kdump", {
  prepareTagKey: config.kdumpPrepareTagKey,
  rebootIfNeeded: config.kdumpRebootIfNeeded,
  tagInstanceWhenReady: config.kdumpTagInstanceWhenReady,
  imagePipeline: config.kdumpImagePipeline,
  region: config.region,
  partition,
  parentImage: config.workloadBaseAmiId,
});

export const guardDutyDetectorId = detection.detectorId;
export const findingRuleArn = detection.ruleArn;
export const responderFunctionName = responder.functionName;
export const securityHubActionTargetArn = securityHub?.actionTargetArn;
export const responderFunctionArn = responder.functionArn;
export const responderRoleArn = responder.roleArn;
export const responderLogGroup = responder.logGroupName;
export const deadLetterQueueUrl = responder.deadLetterQueueUrl;
export const stateMachineArn = workflow.stateMachineArn;
export const stateMachineName = workflow.stateMachineName;
export const isolationGroups = vpcSecurityGroups;
export const forensicInstanceProfileArn = access.forensicInstanceProfileArn;
export const quarantineInstanceProfileArn = access.quarantineInstanceProfileArn;
export const evidenceBucket = evidence.bucketName;
export const incidentTable = evidence.tableName;
export const notificationTopicArn = evidence.topicArn;
export const operatorPolicyArn = operatorPolicy.arn;
// What `ir close` reports as the evidence objects' retention.
export const evidenceRetention = {
  objectLockDays: config.evidenceObjectLock?.days,
  expirationDays: config.evidenceExpirationDays,
};
export const forensicAmiId = config.forensicAmiId;
export const kdumpPreparationDocument = kdump.documentName;
export const kdumpSelfTagPolicyArn = kdump.selfTagPolicyArn;
export const kdumpImagePipelineArn = kdump.imagePipelineArn;
