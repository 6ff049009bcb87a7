import {
  STEP_NAMES,
  type IncidentRecord,
  type RecordedSnapshot,
  type StepName,
  type StepRecord,
} from "../incidentRecord";
import { notification, type Notification } from "../notification";
import type { ResponseContext } from "../responseContext";
import { updateSecurityHubWorkflow } from "../securityHub";
import { evidencePrefix, putEvidenceObject } from "./captureEvidence";
import { done, type StepResult } from "./stepResult";
import { triageMarkdown, triageNotificationLines } from "./triageSummary";

export interface TimelineEntry {
  readonly step: StepName;
  readonly status: StepRecord["status"];
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly seconds?: number;
  readonly outcome: string;
}

/**
 * Seconds on the report's clock between two of the handler's timestamps (pure). `timeScale` is settings.timeScale:
 * 1 on AWS; a drill runs AWS time that many times faster than the handler's wall clock, so its report gives
 * simulated seconds, on the clock of the drill's timeline.
 */
export function secondsBetween(fromIso: string, toIso: string, timeScale = 1): number {
  return ((Date.parse(toIso) - Date.parse(fromIso)) * timeScale) / 1000;
}

/** When the handler received the finding: the origin of every milestone (pure). */
export function responseOrigin(record: Pick<IncidentRecord, "steps" | "createdAt">): string {
  // The claim time for records made before acceptance was timed.
  return record.steps.acceptEvent?.startedAt ?? record.createdAt;
}

/** The timeline: each step's start, end and outcome, in the order the steps started (pure). */
export function timelineOf(record: Pick<IncidentRecord, "steps">, timeScale = 1): TimelineEntry[] {
  return STEP_NAMES.flatMap((step) => {
    const entry = record.steps[step];
    if (entry === undefined) return [];
    const seconds =
      entry.endedAt === undefined ? undefined : secondsBetween(entry.startedAt, entry.endedAt, timeScale);
    return [
      {
        step,
        status: entry.status,
        startedAt: entry.startedAt,
        endedAt: entry.endedAt,
        seconds,
        outcome: entry.outcome,
      },
    ];
  }).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Seconds from the incident's start to the end of a step, for the milestones a reader cares about (pure). */
export function milestones(
  record: Pick<IncidentRecord, "steps" | "createdAt"> & { facts?: IncidentRecord["facts"] },
  timeScale = 1,
): Record<string, number | undefined> {
  const origin = responseOrigin(record);
  const since = (step: StepName) => {
    const entry = record.steps[step];
    if (entry?.endedAt === undefined || entry.status !== "done") return undefined;
    return secondsBetween(origin, entry.endedAt, timeScale);
  };
  return {
    isolated: since("isolateNetwork"),
    asFoundSecured: since("snapshotAsFound"),
    // The NMI's kdump powered the instance off: the dump was written (seen at the step's look, a little later).
    memoryCaptured: record.facts?.memory?.poweredOff === true ? since("captureMemory") : undefined,
    evidenceSecured: since("snapshotVolumes"),
    forensicWorkstationReady: since("attachEvidenceVolumes"),
    serviceRestored: since("replacement"),
  };
}

interface ReportKeys {
  readonly jsonKey: string;
  readonly markdownKey: string;
}

function reportKeys(incidentId: string): ReportKeys {
  return {
    jsonKey: `${evidencePrefix(incidentId)}report.json`,
    markdownKey: `${evidencePrefix(incidentId)}report.md`,
  };
}

function seconds(value: number | undefined): string {
  return value === undefined ? "n/a" : `${value.toFixed(1)} s`;
}

/** Problems a person must know about: failed steps, and what a step recorded but went on without (pure). */
export function problemsOf(
  record: Pick<IncidentRecord, "steps"> & { facts?: IncidentRecord["facts"] },
): string[] {
  const failedSteps = STEP_NAMES.flatMap((step) => {
    const entry = record.steps[step];
    if (step === "report" || entry === undefined) return [];
    if (entry.status === "failed") return [`${step}: ${entry.outcome}`];
    return [];
  });
  const incidentTag = record.facts?.incidentTag;
  const recorded = record.facts?.problems ?? [];
  return [
    ...failedSteps,
    ...(incidentTag === undefined ? [] : [`cutAccess: ${incidentTag.problem}`]),
    ...recorded,
  ];
}

/** The instance as people know it: its id, and its Name tag when it has one (pure). */
function instanceLabel(record: IncidentRecord): string {
  const name = record.facts.instance?.tags.Name;
  return `${record.instanceId}${name ? ` (${name})` : ""}`;
}

/** What started the response: a finding, or a person (who, why, and whether they overrode the exclusion tag). */
function whyOf(record: IncidentRecord): string {
  const { finding, trigger } = record;
  if (trigger?.kind !== "manual") return `${finding.type}, severity ${finding.severity}: ${finding.title}`;
  const override = trigger.overrideExclusion === true ? " (exclusion tag overridden)" : "";
  return `started by hand by ${trigger.requestedBy ?? "an unknown caller"}${override}: ${trigger.reason ?? ""}`;
}

/**
 * The SNS message (pure): what happened, to which instance, where the evidence is, what failed — readable in
 * ten seconds. The subject alone says the verdict.
 */
export function notificationOf(record: IncidentRecord, bucket: string, timeScale = 1): Notification {
  const facts = record.facts;
  const who = instanceLabel(record);
  const times = milestones(record, timeScale);
  const problems = problemsOf(record);
  const verb = record.dryRun ? "DRY RUN, would contain" : "Contained";
  const subject = `[IR] ${verb} ${who}: ${record.finding.type}`;
  const sets = [...(facts.asFoundSnapshots ?? []), ...(facts.snapshots ?? [])];
  const locked = sets.some((snapshot) => snapshot.locked === true);
  const lines = [
    `${record.dryRun ? "DRY RUN (nothing was changed). " : ""}${problems.length === 0 ? "CONTAINED" : "CONTAINED WITH PROBLEMS"}: ${who} in ${facts.instance?.availabilityZone ?? "?"}`,
    `Why: ${whyOf(record)}`,
    `Isolated after ${seconds(times.isolated)}${timeScale === 1 ? "" : " of simulated time"}. Memory: ${facts.memory?.reason ?? "not attempted"}. Stop: ${facts.stop?.reason ?? facts.stop?.finalState ?? "n/a"}.`,
    `Evidence: ${facts.asFoundSnapshots?.length ?? 0} snapshot(s) as found, ${facts.snapshots?.length ?? 0} after the stop${locked ? " (locked)" : ""}, ${facts.evidence?.length ?? 0} object(s) with SHA-256.`,
    `Forensic workstation: ${facts.forensic?.instanceId ?? "none"}${facts.attachments ? `, ${facts.attachments.length} volume(s) attached` : ""}.`,
    `Service: ${facts.replacement?.reason ?? "no replacement"}.`,
    ...triageNotificationLines(facts.triage),
    `Problems: ${problems.length === 0 ? "none" : problems.join("; ")}.`,
    `Report: s3://${bucket}/${reportKeys(record.incidentId).markdownKey}`,
    `Incident: ${record.incidentId}`,
  ];
  return notification(subject, lines.join("\n"));
}

/**
 * The notice sent as soon as the response's execution has started (pure): people learn within seconds that the
 * instance is isolated, long before the report (which waits for the evidence and, bounded, for triage).
 */
export function isolationNotification(record: IncidentRecord, bucket: string, timeScale = 1): Notification {
  const who = instanceLabel(record);
  const { isolated } = milestones(record, timeScale);
  const verb = record.dryRun ? "DRY RUN, would isolate" : "Isolated";
  return notification(
    `[IR] ${verb} ${who}: ${record.finding.type}`,
    [
      `${record.dryRun ? "DRY RUN (nothing was changed). " : ""}ISOLATED: ${who} in ${record.facts.instance?.availabilityZone ?? "?"}, after ${seconds(isolated)}${timeScale === 1 ? "" : " of simulated time"}.`,
      `Why: ${whyOf(record)}`,
      "The response goes on: disks as found, access cut, memory, stop, evidence, workstation, triage.",
      `The report follows: s3://${bucket}/${reportKeys(record.incidentId).markdownKey}`,
      `Incident: ${record.incidentId}`,
    ].join("\n"),
  );
}

/**
 * The message sent when an invocation gives up on a step and throws (pure): people learn at once that the
 * response is stuck, and where, while Lambda retries it (and finally dead-letters it).
 */
export function interruptionNotification(record: IncidentRecord, error: string): Notification {
  const isolated = record.steps.isolateNetwork?.status === "done";
  const running = STEP_NAMES.filter((step) => record.steps[step]?.status === "running");
  return notification(
    `[IR] Response interrupted for ${record.instanceId}: retrying`,
    [
      `RESPONSE INTERRUPTED: ${record.instanceId} (${record.finding.type}, severity ${record.finding.severity})`,
      `Network: ${isolated ? "isolated" : "NOT YET ISOLATED"}.`,
      `Stopped at: ${running.join(", ") || "between steps"}. Error: ${error}`,
      "Lambda retries the invocation; after the last retry the event goes to the dead-letter queue.",
      `Incident: ${record.incidentId}`,
    ].join("\n"),
  );
}

/** The report as Markdown (pure). */
function markdownReport(record: IncidentRecord, bucket: string, timeScale = 1): string {
  const summary = notificationOf(record, bucket, timeScale);
  const times = milestones(record, timeScale);
  const simulated = timeScale !== 1;
  const timeline = timelineOf(record, timeScale)
    .map(
      (entry) =>
        `| ${entry.step} | ${entry.status} | ${entry.startedAt} | ${seconds(entry.seconds)} | ${entry.outcome.replace(/\|/g, "/")} |`,
    )
    .join("\n");
  const evidence = (record.facts.evidence ?? [])
    .map((object) => `| ${object.kind} | s3://${bucket}/${object.key} | ${object.sha256} |`)
    .join("\n");
  const snapshotList = (set: readonly RecordedSnapshot[] | undefined) =>
    (set ?? [])
      .map(
        (snapshot) => `- ${snapshot.snapshotId} of ${snapshot.volumeId}${snapshot.locked ? " (locked)" : ""}`,
      )
      .join("\n") || "- none";
  const original = (record.facts.instance?.networkInterfaces ?? [])
    .map((eni) => `- ${eni.networkInterfaceId}: ${eni.originalGroupIds.join(", ") || "(none)"}`)
    .join("\n");
  const wouldHave = (record.facts.wouldHave ?? []).map((action) => `- ${action}`).join("\n");
  return [
    `# Incident ${record.incidentId}`,
    "",
    "```",
    summary.message,
    "```",
    "",
    `## Milestones (seconds from the handler receiving the finding${simulated ? `; simulated time, run ${timeScale}x faster than the wall clock` : ""})`,
    `- isolated: ${seconds(times.isolated)}`,
    `- disk evidence secured (as found): ${seconds(times.asFoundSecured)}`,
    `- memory captured (kdump powered the instance off): ${seconds(times.memoryCaptured)}`,
    `- evidence secured (snapshots taken after the stop): ${seconds(times.evidenceSecured)}`,
    `- forensic workstation ready: ${seconds(times.forensicWorkstationReady)}`,
    `- service restored: ${seconds(times.serviceRestored)}`,
    "",
    "## Timeline",
    simulated
      ? "| step | status | started (wall clock) | took (simulated) | outcome |"
      : "| step | status | started | took | outcome |",
    "|---|---|---|---|---|",
    timeline,
    "",
    "## Evidence objects",
    "| kind | location | SHA-256 |",
    "|---|---|---|",
    evidence,
    "",
    ...triageMarkdown(record.facts.triage, bucket),
    "## Snapshots",
    "As found: every volume right after isolation, before the memory capture or the stop could change a disk.",
    snapshotList(record.facts.asFoundSnapshots),
    "",
    "After the stop: the disks at rest, with the memory dump when kdump wrote one.",
    snapshotList(record.facts.snapshots),
    "",
    "## Original security groups (to restore after a false positive)",
    original || "- none",
    ...(record.dryRun ? ["", "## Dry run: what would have been done", wouldHave || "- nothing"] : []),
    "",
    `Findings received: ${Object.keys(record.findings).length}.`,
    "",
  ].join("\n");
}

/**
 * Step 9: the report (JSON + Markdown in the evidence bucket) and the notification, the state machine's last Task
 * whatever happened before it.
 */
export async function report(context: ResponseContext): Promise<StepResult> {
  const { record, aws, settings } = context;
  const keys = reportKeys(record.incidentId);
  const bucket = settings.evidenceBucket;
  const { timeScale } = settings;
  const json = JSON.stringify(
    {
      incidentId: record.incidentId,
      instanceId: record.instanceId,
      status: "completed",
      dryRun: record.dryRun,
      createdAt: record.createdAt,
      // Present when the seconds below are simulated (a drill): simulated seconds per wall-clock second.
      ...(timeScale === 1 ? {} : { timeScale }),
      milestones: milestones(record, timeScale),
      timeline: timelineOf(record, timeScale),
      problems: problemsOf(record),
      finding: record.finding,
      findings: record.findings,
      facts: record.facts,
    },
    null,
    2,
  );
  const encode = (text: string) => new TextEncoder().encode(text);
  await Promise.all([
    putEvidenceObject(context, "report", keys.jsonKey, encode(json), "application/json"),
    putEvidenceObject(
      context,
      "report",
      keys.markdownKey,
      encode(markdownReport(record, bucket, timeScale)),
      "text/markdown",
    ),
  ]);
  // Before the notification, so a failed update is among its problems.
  await updateSecurityHubWorkflow(
    context,
    record,
    "report",
    "RESOLVED",
    `s3://${bucket}/${keys.markdownKey}`,
  );
  const previous = record.facts.report;
  const message = notificationOf(record, bucket, timeScale);
  // One notification: a retried report pass does not page people twice.
  const messageId =
    previous?.messageId !== undefined
      ? previous?.messageId
      : (
          await aws.sns.publish({
            TopicArn: settings.notificationTopicArn,
            Subject: message.subject,
            Message: message.message,
          })
        ).MessageId;
  record.facts.report = { ...keys, messageId };
  // Completed only once the notification is out: a failed publish leaves the report's pass to be retried.
  record.status = "completed";
  return done("report stored, notification sent", {
    ...keys,
    messageId,
  });
}
