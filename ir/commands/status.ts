// ir status <incident|instance>: one incident as it stands: state, the timeline of steps, the evidence, the
// forensic workstation and the execution, with the problems the response went on without.
import type { Command } from "commander";

import type { EvidenceSet } from "../../handler/tags";
import { evidenceSnapshots, STEP_NAMES, type IncidentRecord } from "../../handler/incidentRecord";
import { operatorAction } from "../action";
import type { OperatorContext } from "../context";
import { executionOf, findIncident, type ExecutionState } from "../incidents";
import { table } from "../output";
import { triggerOf } from "./list";

/** The workstation's live state (DescribeInstances), or "gone" once EC2 no longer knows it. */
async function workstationState(context: OperatorContext, instanceId: string): Promise<string> {
  try {
    const answer = await context.clients.ec2.describeInstances({ InstanceIds: [instanceId] });
    return answer.Reservations?.[0]?.Instances?.[0]?.State?.Name ?? "gone";
  } catch (error) {
    if ((error as { name?: string }).name === "InvalidInstanceID.NotFound") return "gone";
    throw error;
  }
}

export interface IncidentStatusView {
  incidentId: string;
  instanceId: string;
  status: string;
  dryRun: boolean;
  trigger: IncidentRecord["trigger"] | { kind: "guardduty" };
  startedAt: string;
  timeline: {
    step: string;
    status: string;
    startedAt: string;
    endedAt: string | null;
    attempts: number;
    outcome: string;
  }[];
  evidence: {
    snapshots: { volumeId: string; snapshotId: string; locked: boolean; set: EvidenceSet }[];
    objects: { kind: string; key: string; bytes: number; sha256: string }[];
    report: { jsonKey: string; markdownKey: string } | null;
  };
  workstation: { instanceId: string; state: string; volumes: { volumeId: string; device: string }[] } | null;
  execution: ExecutionState | null;
  problems: string[];
  release: NonNullable<IncidentRecord["operatorRelease"]> | null;
  closure: NonNullable<IncidentRecord["closure"]> | null;
}

async function statusView(context: OperatorContext, record: IncidentRecord): Promise<IncidentStatusView> {
  const { facts } = record;
  const workstationId = facts.forensic?.instanceId;
  return {
    incidentId: record.incidentId,
    instanceId: record.instanceId,
    status: record.status,
    dryRun: record.dryRun,
    trigger: record.trigger ?? { kind: "guardduty" },
    startedAt: record.createdAt,
    timeline: STEP_NAMES.flatMap((step) => {
      const entry = record.steps[step];
      if (entry === undefined) return [];
      return [
        {
          step,
          status: entry.status,
          startedAt: entry.startedAt,
          endedAt: entry.endedAt ?? null,
          attempts: entry.attempts,
          outcome: entry.outcome,
        },
      ];
    }),
    evidence: {
      snapshots: evidenceSnapshots(facts).map((s) => ({ ...s, locked: s.locked === true })),
      objects: (facts.evidence ?? []).map(({ kind, key, bytes, sha256 }) => ({ kind, key, bytes, sha256 })),
      report:
        facts.report === undefined
          ? null
          : { jsonKey: facts.report.jsonKey, markdownKey: facts.report.markdownKey },
    },
    workstation:
      workstationId === undefined
        ? null
        : {
            instanceId: workstationId,
            state: await workstationState(context, workstationId),
            volumes: (facts.attachments ?? []).map(({ volumeId, device }) => ({ volumeId, device })),
          },
    execution: (await executionOf(context, record)) ?? null,
    problems: facts.problems ?? [],
    release: record.operatorRelease ?? null,
    closure: record.closure ?? null,
  };
}

function humanStatus(view: IncidentStatusView, bucket: string, record: IncidentRecord): string[] {
  const lines = [
    `incident   ${view.incidentId}${view.dryRun ? " (dry run)" : ""}`,
    `instance   ${view.instanceId}`,
    `state      ${view.status}`,
    `trigger    ${triggerOf(record)}${record.trigger?.reason === undefined ? "" : `: ${record.trigger.reason}`}` +
      (record.trigger?.overrideExclusion === true ? " (exclusion tag overridden)" : ""),
    `started    ${view.startedAt}`,
    `execution  ${view.execution === null ? "none" : `${view.execution.status} ${view.execution.arn}`}`,
    "",
    "timeline",
    ...table(
      ["STEP", "STATUS", "STARTED", "ENDED", "OUTCOME"],
      view.timeline.map((t) => [t.step, t.status, t.startedAt, t.endedAt ?? "—", t.outcome]),
    ).map((line) => `  ${line}`),
    "",
    "evidence",
    ...view.evidence.snapshots.map(
      (s) => `  snapshot ${s.snapshotId} of ${s.volumeId}, ${s.set}${s.locked ? " (locked)" : ""}`,
    ),
    ...view.evidence.objects.map((o) => `  s3://${bucket}/${o.key} (${o.kind}, ${o.bytes} bytes)`),
    ...(view.evidence.report === null ? [] : [`  report s3://${bucket}/${view.evidence.report.markdownKey}`]),
    "",
    view.workstation === null
      ? "forensic workstation: none"
      : `forensic workstation ${view.workstation.instanceId} (${view.workstation.state}), volumes: ${
          view.workstation.volumes.map((v) => `${v.volumeId} at ${v.device}`).join(", ") || "none"
        }`,
  ];
  if (view.problems.length > 0) lines.push("", "problems", ...view.problems.map((p) => `  ${p}`));
  if (view.release !== null)
    lines.push(
      "",
      `released by ${view.release.by} at ${view.release.at}: ${view.release.reason}`,
      ...view.release.undone.map((line) => `  undone: ${line}`),
      ...view.release.kept.map((line) => `  kept: ${line}`),
    );
  if (view.closure !== null)
    lines.push(
      "",
      `closed by ${view.closure.by} at ${view.closure.at}`,
      ...view.closure.remaining.map((r) => `  ${r}`),
    );
  return lines;
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("show one incident: state, timeline, evidence, forensic workstation, execution, problems")
    .argument("<incident-or-instance>", "an incident id (inc-…), an instance id (i-…) or an instance ARN")
    .action(
      operatorAction(async (context, [reference]) => {
        const record = await findIncident(context, reference ?? "");
        const view = await statusView(context, record);
        context.output.result(view, () => humanStatus(view, context.resources.evidenceBucketName, record));
      }),
    );
}
