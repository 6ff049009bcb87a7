import type { IncidentFacts, StepName } from "./incidentRecord";

/**
 * The contract between the responder Lambda and the Step Functions state machine that orchestrates it.
 *
 * The Lambda triggered by EventBridge accepts the finding, claims the incident and isolates the instance
 * (containment), then starts one Standard execution named by the incident id. The state machine, generated in
 * infra/ from WORKFLOW_STEPS, invokes the same Lambda once per step and pass with a StepTask; a step that must wait
 * (a kdump power-off, a stop, snapshots) answers "waiting" with the time to look again, and the state machine
 * waits in a Wait state, so no Lambda runs while AWS works.
 */

/** A fact of the incident record: what steps hand to each other. */
export type Fact = keyof Omit<IncidentFacts, "problems" | "wouldHave" | "release">;

export interface StepContract {
  /** Facts the step needs; each must be written upstream (by containment or by a step it follows). */
  readonly reads: readonly Fact[];
  /** Facts the step writes; one writer per fact. Its save writes these and nothing else. */
  readonly writes: readonly Fact[];
  /**
   * Steps that must have ended first though the step reads nothing of theirs: an order of side effects (the
   * disks are secured as found before the NMI or the stop can change them).
   */
  readonly after?: readonly StepName[];
  /** Why the step exists, for the state's Comment in the generated definition. */
  readonly purpose: string;
}

/** Written by the triggering invocation before the execution starts (acceptance, claim, isolation). */
export const CONTAINMENT_WRITES: readonly Fact[] = ["instance", "isolationGroups", "untrackExits"];

/**
 * The workflow's steps with their contracts. Their order follows from the declarations: a step runs after the
 * steps that write what it reads (workflowDependencies), independent ones in parallel.
 */
export const WORKFLOW_STEPS = {
  snapshotAsFound: {
    reads: ["instance"],
    writes: ["asFoundSnapshots"],
    purpose:
      "One crash-consistent CreateSnapshots of every volume as found, locked, before anything can change them",
  },
  cutAccess: {
    reads: ["instance"],
    writes: [
      "autoScalingGroupName",
      "shutdownBehaviorStop",
      "targetRegistrations",
      "incidentTag",
      "originalInstanceProfileArn",
      "revokedRoleNames",
    ],
    // After the as-found set (a fraction of a second), and with it everything that follows cutAccess: the NMI, the
    // stop. Ordered after captureMemory directly instead, a series-parallel plan would make the memory capture wait
    // for the replacement and the workstation's launch as well.
    after: ["snapshotAsFound"],
    purpose: "Detach from Auto Scaling and load balancers, swap the instance profile, revoke role sessions",
  },
  captureEvidence: {
    reads: ["instance"],
    writes: ["evidence"],
    purpose: "Console output, screenshot and metadata to the evidence bucket",
  },
  launchForensicInstance: {
    reads: ["instance"],
    writes: ["forensic"],
    purpose: "Launch the forensic workstation early, so it has booted when the evidence is ready",
  },
  replacement: {
    reads: [
      "instance",
      "isolationGroups",
      "autoScalingGroupName",
      "targetRegistrations",
      "originalInstanceProfileArn",
    ],
    writes: ["replacement"],
    purpose:
      "Keep the service running: the Auto Scaling group's own replacement, or a launch like the original",
  },
  captureMemory: {
    reads: ["instance", "shutdownBehaviorStop"],
    writes: ["memory"],
    purpose: "NMI to kdump (or hibernation), then wait for the power-off within the computed grace",
  },
  stopInstance: {
    reads: ["instance", "memory"],
    writes: ["stop"],
    purpose: "Stop the instance so its disks are quiet (bounded, then forced)",
  },
  snapshotVolumes: {
    reads: ["instance", "stop"],
    writes: ["snapshots"],
    purpose: "One crash-consistent CreateSnapshots of every volume once stopped (the dump with them), locked",
  },
  attachEvidenceVolumes: {
    reads: ["instance", "stop", "snapshots", "asFoundSnapshots", "forensic"],
    writes: ["attachments"],
    purpose: "Hand the volumes (or copies from a snapshot set) to the forensic workstation",
  },
  triage: {
    reads: ["forensic", "attachments"],
    writes: ["triage"],
    purpose: "First-hour triage on the workstation (ir-triage by Run Command), bounded; its summary recorded",
  },
} as const satisfies Record<string, StepContract>;

export type WorkflowStep = keyof typeof WORKFLOW_STEPS & StepName;

export const WORKFLOW_STEP_NAMES = Object.keys(WORKFLOW_STEPS) as WorkflowStep[];

/** The step that writes a fact (undefined: containment, before the execution). Pure. */
export function writerOf(fact: Fact): WorkflowStep | undefined {
  return WORKFLOW_STEP_NAMES.find((step) => (WORKFLOW_STEPS[step].writes as readonly Fact[]).includes(fact));
}

/** Each step's direct predecessors: the writers of the facts it reads, and the steps it comes after (pure). */
export function workflowDependencies(): Record<WorkflowStep, WorkflowStep[]> {
  return Object.fromEntries(
    WORKFLOW_STEP_NAMES.map((step) => {
      const contract: StepContract = WORKFLOW_STEPS[step];
      const writers = contract.reads.flatMap((fact) => {
        const writer = writerOf(fact);
        return writer === undefined || writer === step ? [] : [writer];
      });
      const after = (contract.after ?? []).map((other) => {
        if (!(WORKFLOW_STEP_NAMES as readonly StepName[]).includes(other))
          throw new Error(`${step} comes after ${other}, which is no workflow step`);
        return other as WorkflowStep;
      });
      return [step, [...new Set([...writers, ...after])]];
    }),
  ) as Record<WorkflowStep, WorkflowStep[]>;
}

/** The execution's input: what every state carries (the incident record holds the rest). */
export interface ExecutionInput {
  readonly incidentId: string;
  /** The incident table key of the record. */
  readonly recordKey: string;
}

/** A Task state's payload to the Lambda: run one pass of a step (or record a failure, or report). */
export interface StepTask {
  readonly "ir:step": ExecutionInput & {
    readonly step: WorkflowStep | "report";
    /**
     * Set by a Catch: the step failed for good after the Task's retries (Step Functions' Error and Cause).
     * The Lambda records the failure on the step and answers "failed"; for "report", it lists it as a problem.
     */
    readonly failure?: { readonly Error?: string; readonly Cause?: string };
  };
}

/** The Lambda's answer to a StepTask: what the Choice after the Task decides on. */
export interface StepTaskResult {
  readonly step: WorkflowStep | "report";
  readonly status: "done" | "failed" | "skipped" | "waiting";
  readonly outcome: string;
  /** With "waiting": when to look again (ISO 8601, UTC), for the Wait state's TimestampPath. */
  readonly until?: string;
}

/** Step Functions execution names: 1-80 of letters, digits, "-" and "_". Incident ids already are. Pure. */
export function executionName(incidentId: string): string {
  return incidentId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80);
}

/** The state machine's ARN from its name (the program names it, so the Lambda's settings need no output). */
export function stateMachineArn(partition: string, region: string, accountId: string, name: string): string {
  return `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
}

/** The console's host per partition (the ARN's second field). */
const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: "console.aws.amazon.com",
  "aws-cn": "console.amazonaws.cn",
  "aws-us-gov": "console.amazonaws-us-gov.com",
};

/** The console page of an execution, linked from the incident record and the report (pure). */
export function executionConsoleUrl(region: string, executionArn: string): string {
  const host = CONSOLE_HOSTS[executionArn.split(":")[1] ?? "aws"] ?? CONSOLE_HOSTS.aws;
  return `https://${region}.${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
