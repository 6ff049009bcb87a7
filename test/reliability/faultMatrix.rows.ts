// The fault matrix's table: every mutating AWS call of every step, with the scenario that makes the responder
// send it and one error AWS documents for that API. The test crosses each row with every fault kind, so adding
// a row is one line. A completeness test fails when the response (the responder, or the state machine for it)
// sends a mutating call no row names. The cases (rows x kinds) and the lanes' messages are defined here too: the
// test imports this file only, the lanes load the rest.
import type { StepName } from "../../handler/incidentRecord";
import type { WorkflowStep } from "../../handler/workflow";

/**
 * The scenarios the rows run in (built in faultMatrix.families.ts):
 * - "web tier": a kdump-ready instance in an Auto Scaling group behind a target group, with an instance profile
 *   whose role has sessions to revoke, a root and a data volume;
 * - "standalone": the same kind of instance without a profile, launched from a launch template and registered in
 *   a target group, so the responder associates the quarantine profile and launches its own replacement;
 * - "no kdump": an instance whose kernel is not kdump-ready, so the responder itself stops it;
 * - "unknown VPC": an instance in a VPC the stack does not configure (groups are created on demand);
 * - "snapshot copies": ATTACH_SNAPSHOT_COPIES=true: the workstation gets volumes made from the snapshots, and the
 *   state machine holds attachEvidenceVolumes in Wait states until the snapshots complete (no completion event);
 * - "long waits": a kdump-ready instance with 64 GiB of memory, so the kdump's power-off takes minutes: captureMemory
 *   answers "waiting" pass after pass, and the execution runs some twenty Task passes and Wait states before the
 *   steps after it.
 */
export type ScenarioName =
  "web tier" | "standalone" | "no kdump" | "unknown VPC" | "snapshot copies" | "long waits";

export interface StepFaultRow {
  /**
   * The step that sends the call. "workflow": the orchestration between the steps, i.e. the execution's start (sent
   * by the finding's invocation after containment) and the state machine's lambda:invoke of each Task pass.
   */
  readonly step: StepName | "workflow";
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
  /**
   * A Task's call (lambda:Invoke by the state machine): the step whose Task the fault hits, its first call. The test
   * reads the failed Task's step in the execution's history.
   */
  readonly task?: WorkflowStep;
  /**
   * Wait states the execution must have passed before the fault (a pass late in a long response). How many there are
   * depends on how long each pass takes in simulated time (wall time × the scale): a loaded machine makes fewer,
   * longer looks. About 10 on a quiet machine, 5 seen under load, so the row asks for 3.
   */
  readonly afterWaits?: number;
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
  // snapshotAsFound (the first CreateSnapshots, and the first LockSnapshot of the two volumes')
  { step: "snapshotAsFound", service: "ec2", action: "CreateSnapshots", scenario: "web tier", awsError: { code: "SnapshotCreationPerVolumeRateExceeded" } },
  { step: "snapshotAsFound", service: "ec2", action: "LockSnapshot", scenario: "web tier", awsError: { code: "InvalidSnapshot.NotFound" } },
  // snapshotVolumes (after the as-found set's request and its two locks)
  { step: "snapshotVolumes", service: "ec2", action: "CreateSnapshots", scenario: "web tier", skip: 1, call: "the after-stop set", awsError: { code: "SnapshotCreationPerVolumeRateExceeded" } },
  { step: "snapshotVolumes", service: "ec2", action: "LockSnapshot", scenario: "web tier", skip: 2, call: "an after-stop snapshot", awsError: { code: "InvalidSnapshot.NotFound" } },
  // replacement
  { step: "replacement", service: "ec2", action: "RunInstances", scenario: "standalone", hits: /replacement/, call: "the replacement", awsError: { code: "InsufficientInstanceCapacity", httpStatus: 500 } },
  { step: "replacement", service: "elasticloadbalancing", action: "RegisterTargets", scenario: "standalone", awsError: { code: "InvalidTarget" } },
  // attachEvidenceVolumes
  { step: "attachEvidenceVolumes", service: "ec2", action: "DetachVolume", scenario: "web tier", awsError: { code: "IncorrectState" } },
  { step: "attachEvidenceVolumes", service: "ec2", action: "AttachVolume", scenario: "web tier", awsError: { code: "VolumeInUse" } },
  { step: "attachEvidenceVolumes", service: "ec2", action: "CreateVolume", scenario: "snapshot copies", awsError: { code: "InsufficientVolumeCapacity", httpStatus: 503 } },
  // report
  { step: "report", service: "s3", action: "PutObject", scenario: "web tier", hits: /report\.json/, call: "the report", awsError: { code: "RequestTimeout" } },
  // The isolation notice is the incident's first Publish (after StartExecution), the report's the second.
  { step: "isolateNetwork", service: "sns", action: "Publish", scenario: "web tier", call: "the isolation notice", awsError: { code: "KMSThrottling" } },
  { step: "report", service: "sns", action: "Publish", scenario: "web tier", skip: 1, call: "the report's notification", awsError: { code: "KMSThrottling" } },
  // workflow (the orchestration: the execution's start after containment, the state machine's call of each Task pass)
  { step: "workflow", service: "states", action: "StartExecution", scenario: "web tier", call: "the execution, after containment", awsError: { code: "ExecutionLimitExceeded" } },
  { step: "workflow", service: "lambda", action: "Invoke", scenario: "long waits", task: "snapshotVolumes", afterWaits: 3, call: "the snapshotVolumes Task, after the kdump's Wait states", awsError: { code: "ServiceException", httpStatus: 500 } },
];

/** The kinds of fault, each as it reaches the responder (or, for a Task's call, the state machine). */
export const FAULT_KINDS = ["throttling", "server error", "timeout", "response lost", "AWS error"] as const;
export type FaultKindName = (typeof FAULT_KINDS)[number];

/**
 * KNOWN DEFECTS in handler/: combinations where the response is wrong today. Each entry makes its row assert the
 * CURRENT behaviour, so the suite stays green and the row fails the day the defect is fixed (delete the entry
 * then). Reported in bench/README.md and to the handler's owner.
 */
export const KNOWN_DEFECTS: Readonly<
  Record<string, { readonly defect: string; readonly snapshotsPerVolume: number }>
> = {};

/** A case: one row of the table crossed with one kind of fault. */
export interface MatrixCase {
  readonly row: number;
  readonly kind: FaultKindName;
}

export function caseKey(matrixCase: MatrixCase): string {
  return `${matrixCase.row}/${matrixCase.kind}`;
}

/** What the test tells a lane (faultMatrixLane.ts, a child process): start, run a case, stop. */
export type LaneOrder =
  | {
      readonly kind: "start";
      /** Simulated ms per wall ms of the lane's simulator. */
      readonly timeScale: number;
      /** Scenarios whose fault-free response the lane takes and reports (the completeness test's calls). */
      readonly references: readonly ScenarioName[];
    }
  /** `skip`: for a `hits` row, the calls to let through, if another lane counted them already. */
  | { readonly kind: "run"; readonly case: MatrixCase; readonly skip?: number }
  | { readonly kind: "stop" };

/** What a lane reports: its fault-free references' mutating calls and skips, then each case as it ends. */
export type LaneMessage =
  /** Its modules are loaded (and transpiled into the run's cache, which the other lanes then read). */
  | { readonly kind: "loaded" }
  | {
      readonly kind: "started";
      readonly mutatingCalls: Readonly<Record<string, readonly string[]>>;
      /** For each `hits` row of the scenarios referenced: the calls of its action before the one it hits. */
      readonly skips: Readonly<Record<number, number>>;
    }
  | { readonly kind: "case"; readonly key: string; readonly error?: string; readonly ms: number }
  | { readonly kind: "failed"; readonly error: string };
