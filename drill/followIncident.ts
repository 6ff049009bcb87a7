// Follows a response through its incident record, as an operator would: one progress event per step as it ends,
// and the milestones a person cares about. The clock conversion is the caller's (simulated or real seconds).
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { type IncidentRecord, STEP_NAMES, type StepName, type StepRecord } from "../handler/incidentRecord";

/** Seconds on the caller's clock: simulated from the responder receiving the finding (a drill against the
 * simulator), or real from the finding being put on the bus (a live drill). */
export interface Milestones {
  isolated?: number;
  asFoundSecured?: number;
  memoryCaptured?: number;
  evidenceSecured?: number;
  forensicWorkstationReady?: number;
  serviceRestored?: number;
  reported?: number;
}

export type ProgressEvent =
  | { kind: "phase"; message: string }
  | { kind: "step"; name: StepName; record: StepRecord; atSeconds: number; endSeconds?: number }
  | { kind: "milestone"; name: keyof Milestones; atSeconds: number };

export interface DrillStep {
  name: StepName;
  status: string;
  startSeconds: number;
  endSeconds?: number;
  attempts: number;
  outcome: string;
}

export type ToSeconds = (iso: string, record: IncidentRecord) => number;

export interface FollowOptions {
  documents: DynamoDBDocument;
  tableName: string;
  incidentKey: string;
  /** ISO timestamp the responder wrote in this record -> the caller's seconds (see Milestones). */
  toSeconds: ToSeconds;
  onProgress: (event: ProgressEvent) => void;
  /** Seconds at which service was restored, if the caller can observe it (undefined: not yet). */
  serviceRestoredAt?: (record: IncidentRecord) => Promise<number | undefined>;
  wallLimitMs: number;
  pollMs: number;
}

const MILESTONE_STEPS: [keyof Milestones, StepName][] = [
  ["isolated", "isolateNetwork"],
  ["asFoundSecured", "snapshotAsFound"],
  ["evidenceSecured", "snapshotVolumes"],
  ["forensicWorkstationReady", "attachEvidenceVolumes"],
  ["reported", "report"],
];

/** Polls the record until the response has ended (and service is restored, when that is observed). */
export async function followIncident(
  options: FollowOptions,
): Promise<{ record: IncidentRecord; milestones: Milestones }> {
  const { documents, tableName, incidentKey, toSeconds, onProgress } = options;
  const milestones: Milestones = {};
  const reported = new Map<StepName, string>();
  const deadline = Date.now() + options.wallLimitMs;
  const reach = (name: keyof Milestones, at: number | undefined) => {
    if (at === undefined || milestones[name] !== undefined) return;
    milestones[name] = at;
    onProgress({ kind: "milestone", name, atSeconds: at });
  };

  for (;;) {
    const record = (await documents.get({ TableName: tableName, Key: { pk: incidentKey } })).Item as
      IncidentRecord | undefined;
    if (record !== undefined) {
      for (const name of STEP_NAMES) {
        const step = record.steps[name];
        if (!step || step.status === "running" || reported.get(name) === step.status) continue;
        reported.set(name, step.status);
        onProgress({
          kind: "step",
          name,
          record: step,
          atSeconds: toSeconds(step.startedAt, record),
          endSeconds: step.endedAt ? toSeconds(step.endedAt, record) : undefined,
        });
      }
      for (const [milestone, stepName] of MILESTONE_STEPS) {
        const step = record.steps[stepName];
        if (step?.status === "done" && step.endedAt) reach(milestone, toSeconds(step.endedAt, record));
      }
      // Memory only when the NMI's kdump powered the instance off (the dump was written), seen at the step's end.
      const memory = record.steps.captureMemory;
      if (memory?.status === "done" && memory.endedAt && record.facts.memory?.poweredOff === true)
        reach("memoryCaptured", toSeconds(memory.endedAt, record));
      if (options.serviceRestoredAt && milestones.serviceRestored === undefined) {
        reach("serviceRestored", await options.serviceRestoredAt(record));
      }
      const ended = record.status === "completed";
      if (ended && (!options.serviceRestoredAt || milestones.serviceRestored !== undefined)) {
        return { record, milestones };
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the response did not end within ${options.wallLimitMs / 1000} s (status: ${record?.status ?? "no incident record yet"})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

/** The timeline of a record, in the caller's seconds. */
export function stepsOf(record: IncidentRecord, toSeconds: ToSeconds): DrillStep[] {
  return STEP_NAMES.flatMap((name) => {
    const step = record.steps[name];
    if (!step) return [];
    return [
      {
        name,
        status: step.status,
        startSeconds: toSeconds(step.startedAt, record),
        endSeconds: step.endedAt ? toSeconds(step.endedAt, record) : undefined,
        attempts: step.attempts,
        outcome: step.outcome,
      },
    ];
  });
}
