import type { InstanceFinding } from "./acceptance/finding";
import type { EvidenceSet } from "./tags";
import type { TriageFacts } from "./steps/triageSummary";

/** The steps of a response, in the order README.md here tells them ("What it does, in order"). */
export const STEP_NAMES = [
  "acceptEvent",
  "claimIncident",
  "isolateNetwork",
  "snapshotAsFound",
  "cutAccess",
  "captureEvidence",
  "launchForensicInstance",
  "captureMemory",
  "stopInstance",
  "snapshotVolumes",
  "replacement",
  "attachEvidenceVolumes",
  "triage",
  "report",
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type StepStatus = "running" | "done" | "failed" | "skipped";

/** One timeline entry: what a step did, when, and how it ended. */
export interface StepRecord {
  readonly status: StepStatus;
  readonly startedAt: string;
  readonly endedAt?: string;
  /** One line a person reads: "2 ENIs isolated", "no NMI: Graviton". */
  readonly outcome: string;
  /** Machine-readable detail for the report (ids, counts, errors). */
  readonly detail?: Readonly<Record<string, unknown>>;
  /** How many times the step was started (more than 1 after a crash retried by the state machine). */
  readonly attempts: number;
  /** Set while the step waits between passes (the state machine's Wait state): the next look. */
  readonly until?: string;
  /** The pass that may write this entry (its Lambda request id): an older, overlapping pass may not. */
  readonly pass?: string;
}

/**
 * released: rejected on the live instance after the claim, every ENI moved was moved back (facts.release), or
 * released by an operator after a false positive (operatorRelease). closed: an operator ended the investigation
 * (closure).
 */
type IncidentStatus = "responding" | "completed" | "released" | "closed";

/** What started the response: a finding, a drill, a person (ir respond) or a Security Hub custom action. */
export interface ResponseTrigger {
  readonly kind: "guardduty" | "drill" | "manual" | "security-hub";
  /** The caller's ARN (STS GetCallerIdentity for ir respond; the event's identity for Security Hub). */
  readonly requestedBy?: string;
  readonly reason?: string;
  /** Set when a person asked to respond to an instance carrying the exclusion tag. */
  readonly overrideExclusion?: boolean;
  /** The Security Hub finding whose workflow the responder updates. */
  readonly securityHubFinding?: SecurityHubFindingRef;
}

/** A Security Hub finding, as BatchUpdateFindings names it. */
export interface SecurityHubFindingRef {
  readonly id: string;
  readonly productArn: string;
}

/** An operator's release after a false positive (ir release; status released). */
export interface OperatorRelease {
  readonly by: string;
  readonly reason: string;
  readonly at: string;
  /** The changes undone, one line each. */
  readonly undone: string[];
  /** What was kept (evidence), one line each. */
  readonly kept: string[];
}

/** The end of an investigation (ir close; status closed). */
export interface IncidentClosure {
  readonly by: string;
  readonly at: string;
  readonly workstation: "stopped" | "terminated" | "none";
  /** What remains and until when (snapshot locks, bucket retention). */
  readonly remaining: string[];
}

/** The Step Functions execution that runs the response after containment. */
interface ExecutionLink {
  readonly arn: string;
  readonly name: string;
  readonly startedAt: string;
  readonly consoleUrl: string;
}

/** A finding that arrived for this instance (the first and every repeat). */
export interface FindingSummary {
  readonly findingId: string;
  readonly eventId: string;
  readonly type: string;
  readonly severity: number;
  readonly source: string;
  readonly updatedAt: string;
  readonly receivedAt: string;
}

export interface NetworkInterfaceFacts {
  readonly networkInterfaceId: string;
  readonly vpcId: string;
  readonly subnetId?: string;
  /**
   * Groups before the responder touched the ENI: what a release after a false positive restores, and what a
   * replacement launches into. Each once, never one of the responder's own groups (untrack, isolation,
   * forensic). Empty only with `originalGroupsUnknown` saying why.
   */
  readonly originalGroupIds: readonly string[];
  /**
   * Set when the ENI's own groups are not known: the live description shows it in the responder's groups and
   * the finding does not list its own. Nothing is restored to, or launched into, an empty list.
   */
  readonly originalGroupsUnknown?: string;
}

export interface VolumeFacts {
  readonly volumeId: string;
  readonly deviceName: string;
  readonly deleteOnTermination: boolean;
}

/** What DescribeInstances said about the instance when the response started. */
export interface InstanceFacts {
  readonly instanceType: string;
  readonly state: string;
  readonly availabilityZone: string;
  readonly subnetId?: string;
  readonly vpcId?: string;
  readonly imageId?: string;
  readonly rootDeviceType: string;
  readonly rootDeviceName?: string;
  readonly instanceLifecycle?: string;
  readonly spotInstanceRequestId?: string;
  readonly hibernationConfigured: boolean;
  readonly keyName?: string;
  readonly launchTemplate?: { readonly id: string; readonly version?: string };
  readonly iamInstanceProfileArn?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly networkInterfaces: readonly NetworkInterfaceFacts[];
  readonly volumes: readonly VolumeFacts[];
  /** What cutAccess and stopInstance found before changing it: what a release restores. */
  asFound?: InstanceAsFound;
}

/** Instance attributes as found, each set once it is read (absent: not read, e.g. the step did not run). */
export interface InstanceAsFound {
  httpEndpoint?: "enabled" | "disabled";
  disableApiTermination?: boolean;
  instanceInitiatedShutdownBehavior?: "stop" | "terminate";
  disableApiStop?: boolean;
}

export interface SecurityGroupPair {
  readonly untrack: string;
  readonly isolation: string;
  /** True when the handler created the pair on demand for a VPC the stack does not configure. */
  readonly createdOnDemand: boolean;
}

export interface EvidenceObject {
  readonly kind: string;
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface RecordedSnapshot {
  volumeId: string;
  snapshotId: string;
  locked?: boolean;
}

/** Both snapshot sets of an incident, each snapshot with the set it belongs to (pure). */
export function evidenceSnapshots(
  facts: Pick<IncidentFacts, "asFoundSnapshots" | "snapshots">,
): (RecordedSnapshot & { set: EvidenceSet })[] {
  return [
    ...(facts.asFoundSnapshots ?? []).map((snapshot) => ({ ...snapshot, set: "as-found" as const })),
    ...(facts.snapshots ?? []).map((snapshot) => ({ ...snapshot, set: "after-stop" as const })),
  ];
}

export interface TargetRegistration {
  readonly targetGroupArn: string;
  readonly port?: number;
}

/** Everything the steps learnt and did, kept so that a resumed response never repeats a side effect. */
export interface IncidentFacts {
  instance?: InstanceFacts;
  isolationGroups?: Record<string, SecurityGroupPair>;
  autoScalingGroupName?: string;
  /** False when the instance cannot shut down to "stop" (instance-store root, one-time Spot). */
  shutdownBehaviorStop?: boolean;
  targetRegistrations?: TargetRegistration[];
  /** Set when the instance could not take the incident tag (recorded; the response goes on without it). */
  incidentTag?: { applied: false; problem: string };
  originalInstanceProfileArn?: string;
  revokedRoleNames?: string[];
  evidence?: EvidenceObject[];
  /** The as-found set: every volume right after isolation, before the NMI, hibernation or stop. */
  asFoundSnapshots?: RecordedSnapshot[];
  memory?: {
    method: "nmi" | "hibernate" | "none";
    reason: string;
    sentAt?: string;
    graceMs?: number;
    poweredOff?: boolean;
  };
  stop?: {
    requestedAt?: string;
    forcedAt?: string;
    finalState?: string;
    reason?: string;
    /** Stop protection (DisableApiStop) found on and turned off, to stop the instance for the evidence. */
    stopProtectionRemoved?: boolean;
  };
  /** The after-stop set: every volume once the instance is stopped (it holds the memory dump, when there is one). */
  snapshots?: RecordedSnapshot[];
  forensic?: { instanceId?: string; subnetId: string; availabilityZone: string; clientToken: string };
  attachments?: { volumeId: string; source: "original" | "copy"; fromSnapshotId?: string; device: string }[];
  /** The triage on the workstation: its command, and the summary it left (handler/steps/triage.ts). */
  triage?: TriageFacts;
  replacement?: { by: "auto-scaling-group" | "launch" | "none"; instanceId?: string; reason: string };
  /**
   * What a step met and went on without (an AWS refusal it cannot change, a degraded result): each line
   * "<step>: <what>", listed among the report's problems. Recorded once (a re-run step does not repeat it).
   */
  problems?: string[];
  report?: { jsonKey: string; markdownKey: string; messageId?: string };
  /** In dry run: the mutating calls that would have been made. */
  wouldHave?: string[];
  /** ENIs moved out of the untrack group back to their original groups because their isolation move failed. */
  untrackExits?: { networkInterfaceId: string; groupIds: readonly string[]; problem?: string; at: string }[];
  /** Why the live instance refused the response after the claim, and the ENIs moved back (status released). */
  release?: {
    reason: string;
    detail: string;
    releasedAt: string;
    restored: { networkInterfaceId: string; groupIds: readonly string[]; problem?: string }[];
  };
}

export interface IncidentRecord {
  readonly pk: string;
  readonly incidentId: string;
  readonly instanceId: string;
  readonly createdAt: string;
  readonly dryRun: boolean;
  readonly finding: InstanceFinding;
  /** The EventBridge event of the first finding, verbatim (JSON): saved as evidence. */
  readonly rawFinding: string;
  /**
   * DescribeInstances verbatim (JSON), taken in parallel with the first network change: the instance as found,
   * except that the finding's ENIs may already show the untrack group (their original groups are in facts).
   */
  rawInstance?: string;
  readonly findings: Readonly<Record<string, FindingSummary>>;
  /** What started the response (absent on records written before it was recorded: a finding). */
  readonly trigger?: ResponseTrigger;
  status: IncidentStatus;
  /**
   * The Lambda request that claimed the incident: its retries (same request id) carry the containment on. Another
   * finding may take an abandoned claim over once claimExpiresAt has passed without an execution.
   */
  claimedBy: string;
  /** Epoch ms: the claiming request and Lambda's retries of it are over by then. */
  claimExpiresAt: number;
  execution?: ExecutionLink;
  steps: Partial<Record<StepName, StepRecord>>;
  facts: IncidentFacts;
  /** Written by ir release with a conditional UpdateItem. */
  operatorRelease?: OperatorRelease;
  /** Written by ir close with a conditional UpdateItem. */
  closure?: IncidentClosure;
}

export function incidentKey(accountId: string, region: string, instanceId: string): string {
  return `${accountId}#${region}#${instanceId}`;
}

/**
 * Incident ids carry the instance id so the record can be found from the id alone, and the claim
 * time to the millisecond: a released incident's instance may be claimed again within the same second, and the
 * new incident must not share its evidence prefix or client tokens.
 */
export function newIncidentId(instanceId: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, "");
  return `inc-${stamp}-${instanceId}`;
}

export function instanceIdOfIncident(incidentId: string): string | undefined {
  return /(i-[0-9a-f]{8,17})$/.exec(incidentId)?.[1];
}

export function findingKey(finding: { findingId: string; updatedAt: string }): string {
  return `${finding.findingId}@${finding.updatedAt}`;
}

export function summarizeFinding(finding: InstanceFinding, receivedAt: string): FindingSummary {
  return {
    findingId: finding.findingId,
    eventId: finding.eventId,
    type: finding.type,
    severity: finding.severity,
    source: finding.source,
    updatedAt: finding.updatedAt,
    receivedAt,
  };
}

/** Records a problem the response goes on without (once: a step re-run after a crash does not repeat it). */
export function recordProblem(facts: IncidentFacts, step: StepName, problem: string): void {
  const line = `${step}: ${problem}`;
  const problems = (facts.problems ??= []);
  if (!problems.includes(line)) problems.push(line);
}

/** The instance facts the claim stored; every step after the claim relies on them. */
export function recordedInstance(record: Pick<IncidentRecord, "facts" | "incidentId">): InstanceFacts {
  const instance = record.facts.instance;
  if (instance === undefined) throw new Error(`incident ${record.incidentId} has no instance facts`);
  return instance;
}
