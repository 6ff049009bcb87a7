// The fault matrix's table: every mutating AWS call of every step, with the scenario that makes the responder
// send it and one error AWS documents for that API. The test crosses each row with every fault kind, so adding
// a row is one line. A completeness test fails when the responder sends a mutating call no row names.
import type { StepName } from "../../handler/incidentRecord";

/**
 * The scenarios the rows run in (built in faultMatrix.test.ts):
 * - "web tier": a kdump-ready instance in an Auto Scaling group behind a target group, with an instance profile
 *   whose role has sessions to revoke, a root and a data volume;
 * - "standalone": the same kind of instance without a profile, launched from a launch template and registered in
 *   a target group, so the responder associates the quarantine profile and launches its own replacement;
 * - "no kdump": an instance whose kernel is not kdump-ready, so the responder itself stops it;
 * - "unknown VPC": an instance in a VPC the stack does not configure (groups are created on demand);
 * - "snapshot copies": ATTACH_SNAPSHOT_COPIES=true (the workstation gets volumes made from the snapshots);
 * - "continuation": a short Lambda time budget, so the response continues in a fresh invocation.
 */
export type ScenarioName =
  "web tier" | "standalone" | "no kdump" | "unknown VPC" | "snapshot copies" | "continuation";

export interface StepFaultRow {
  /** The step that sends the call ("pipeline": the self-continuation, sent between steps). */
  readonly step: StepName | "pipeline";
  /** The simulator's service name (SigV4 signing name). */
  readonly service: string;
  readonly action: string;
  readonly scenario: ScenarioName;
  /** Let this many calls of the action through first (e.g. 1: hit the second hop, not the first). */
  readonly skip?: number;
  /** What the row's call does, for the test title. */
  readonly call?: string;
  /**
   * Which of the action's calls the fault must hit (matched against its parameters, or its path and body): the
   * test counts the calls before it in a fault-free response of the scenario, so the row survives the responder
   * adding or removing calls of the same action.
   */
  readonly hits?: RegExp;
  /** An error AWS documents for this API, returned once. */
  readonly awsError: { readonly code: string; readonly httpStatus?: number };
}

// One row a line, however long: a row is read (and added) as a whole.
// prettier-ignore
export const STEP_FAULT_ROWS: readonly StepFaultRow[] = [
  // isolateNetwork
  { step: "isolateNetwork", service: "ec2", action: "ModifyNetworkInterfaceAttribute", scenario: "web tier", call: "ENI to the untrack group", awsError: { code: "InvalidNetworkInterfaceID.NotFound" } },
  { step: "isolateNetwork", service: "ec2", action: "ModifyNetworkInterfaceAttribute", scenario: "web tier", skip: 1, call: "ENI to the isolation group", awsError: { code: "InvalidGroup.NotFound" } },
  { step: "isolateNetwork", service: "ec2", action: "CreateSecurityGroup", scenario: "unknown VPC", awsError: { code: "InvalidGroup.Duplicate" } },
  { step: "isolateNetwork", service: "ec2", action: "RevokeSecurityGroupEgress", scenario: "unknown VPC", awsError: { code: "InvalidPermission.NotFound" } },
  { step: "isolateNetwork", service: "ec2", action: "AuthorizeSecurityGroupIngress", scenario: "unknown VPC", awsError: { code: "InvalidPermission.Duplicate" } },
  { step: "isolateNetwork", service: "ec2", action: "AuthorizeSecurityGroupEgress", scenario: "unknown VPC", awsError: { code: "RulesPerSecurityGroupLimitExceeded" } },
  // cutAccess
  { step: "cutAccess", service: "autoscaling", action: "DetachInstances", scenario: "web tier", awsError: { code: "ResourceContention", httpStatus: 500 } },
  { step: "cutAccess", service: "elasticloadbalancing", action: "DeregisterTargets", scenario: "standalone", awsError: { code: "InvalidTarget" } },
  { step: "cutAccess", service: "ec2", action: "ReplaceIamInstanceProfileAssociation", scenario: "web tier", awsError: { code: "IncorrectState" } },
  { step: "cutAccess", service: "ec2", action: "AssociateIamInstanceProfile", scenario: "standalone", awsError: { code: "InvalidInstanceID.NotFound" } },
  { step: "cutAccess", service: "iam", action: "PutRolePolicy", scenario: "web tier", awsError: { code: "ConcurrentModification", httpStatus: 409 } },
  { step: "cutAccess", service: "ec2", action: "ModifyInstanceAttribute", scenario: "web tier", awsError: { code: "IncorrectInstanceState" } },
  { step: "cutAccess", service: "ec2", action: "ModifyInstanceMetadataOptions", scenario: "web tier", awsError: { code: "IncorrectInstanceState" } },
  { step: "cutAccess", service: "ec2", action: "CreateTags", scenario: "web tier", awsError: { code: "TagLimitExceeded" } },
  // captureEvidence
  { step: "captureEvidence", service: "s3", action: "PutObject", scenario: "web tier", awsError: { code: "RequestTimeout" } },
  // launchForensicInstance
  { step: "launchForensicInstance", service: "ec2", action: "RunInstances", scenario: "web tier", awsError: { code: "InsufficientInstanceCapacity", httpStatus: 500 } },
  // captureMemory
  { step: "captureMemory", service: "ec2", action: "SendDiagnosticInterrupt", scenario: "web tier", awsError: { code: "IncorrectInstanceState" } },
  // stopInstance
  { step: "stopInstance", service: "ec2", action: "StopInstances", scenario: "no kdump", awsError: { code: "IncorrectInstanceState" } },
  // snapshotVolumes
  { step: "snapshotVolumes", service: "ec2", action: "CreateSnapshots", scenario: "web tier", awsError: { code: "SnapshotCreationPerVolumeRateExceeded" } },
  { step: "snapshotVolumes", service: "ec2", action: "LockSnapshot", scenario: "web tier", awsError: { code: "InvalidSnapshot.NotFound" } },
  // replacement
  { step: "replacement", service: "ec2", action: "RunInstances", scenario: "standalone", hits: /replacement/, call: "the replacement", awsError: { code: "InsufficientInstanceCapacity", httpStatus: 500 } },
  { step: "replacement", service: "elasticloadbalancing", action: "RegisterTargets", scenario: "standalone", awsError: { code: "InvalidTarget" } },
  // attachEvidenceVolumes
  { step: "attachEvidenceVolumes", service: "ec2", action: "DetachVolume", scenario: "web tier", awsError: { code: "IncorrectState" } },
  { step: "attachEvidenceVolumes", service: "ec2", action: "AttachVolume", scenario: "web tier", awsError: { code: "VolumeInUse" } },
  { step: "attachEvidenceVolumes", service: "ec2", action: "CreateVolume", scenario: "snapshot copies", awsError: { code: "InsufficientVolumeCapacity", httpStatus: 503 } },
  // report
  { step: "report", service: "s3", action: "PutObject", scenario: "web tier", hits: /report\.json/, call: "the report", awsError: { code: "RequestTimeout" } },
  { step: "report", service: "sns", action: "Publish", scenario: "web tier", awsError: { code: "KMSThrottling" } },
  // continuation (the pipeline, when the time budget runs short)
  { step: "pipeline", service: "lambda", action: "Invoke", scenario: "continuation", call: "the self-continuation", awsError: { code: "ServiceException", httpStatus: 500 } },
];
