// What a release keeps (never deleted: the evidence, and what the response made), the GuardDuty finding archived
// on request, and the release on record (a conditional update, never a whole-item put) and on the topic.
import { GUARDDUTY_SOURCE } from "../../handler/acceptance/finding";
import { evidenceSnapshots, type OperatorRelease } from "../../handler/incidentRecord";
import { refused } from "../exitCodes";
import { change, type ReleaseRun } from "./run";

/** Security Hub refuses a note longer than this (BatchUpdateFindings). */
const SECURITY_HUB_NOTE_LIMIT = 512;

export function keptEvidence(run: ReleaseRun): void {
  const { facts } = run.record;
  for (const snapshot of evidenceSnapshots(facts))
    run.kept.push(
      `snapshot ${snapshot.snapshotId} of ${snapshot.volumeId}, ${snapshot.set}${snapshot.locked ? " (locked)" : ""}`,
    );
  const bucket = run.context.resources.evidenceBucketName;
  for (const object of facts.evidence ?? []) run.kept.push(`s3://${bucket}/${object.key} (${object.kind})`);
  if (facts.report) run.kept.push(`report s3://${bucket}/${facts.report.markdownKey}`);
  for (const copy of (facts.attachments ?? []).filter((attachment) => attachment.source === "copy"))
    run.kept.push(`volume copy ${copy.volumeId} on the workstation (ir close detaches it)`);
  if (facts.forensic?.instanceId)
    run.kept.push(`forensic workstation ${facts.forensic.instanceId} (ir close)`);
  if (facts.replacement?.instanceId)
    run.kept.push(`replacement ${facts.replacement.instanceId} (${facts.replacement.by}) keeps running`);
  run.kept.push(`tag ir:incident on ${run.record.instanceId}: the instance's link to this record`);
}

/** The finding's detector and id, from its ARN (arn:aws:guardduty:REGION:ACCOUNT:detector/D/finding/F). */
function findingOf(rawFinding: string): { detectorId: string; findingId: string } | undefined {
  const detail = (JSON.parse(rawFinding) as { detail?: { arn?: string } }).detail;
  const match = /:detector\/([^/]+)\/finding\/([^/]+)$/.exec(detail?.arn ?? "");
  return match ? { detectorId: match[1]!, findingId: match[2]! } : undefined;
}

export async function archiveFinding(run: ReleaseRun): Promise<void> {
  const finding =
    run.record.finding.source === GUARDDUTY_SOURCE ? findingOf(run.record.rawFinding) : undefined;
  if (finding === undefined) {
    run.kept.push("GuardDuty finding: none to archive (the response did not start from one)");
    return;
  }
  const detail = { DetectorId: finding.detectorId, FindingIds: [finding.findingId] };
  await change(run, "guardduty:ArchiveFindings", detail, () =>
    run.context.clients.guardDuty.archiveFindings(detail),
  );
  run.undone.push(`GuardDuty finding ${finding.findingId}: archived`);
}

/** The Security Hub finding a response started from gets a note (its workflow is the analyst's to set). */
export async function noteSecurityHubFinding(run: ReleaseRun, by: string): Promise<void> {
  const finding = run.record.trigger?.securityHubFinding;
  if (finding === undefined) return;
  const text = `Released by ir release after a false positive (incident ${run.record.incidentId}, by ${by}): ${run.options.reason}`;
  const detail = {
    FindingIdentifiers: [{ Id: finding.id, ProductArn: finding.productArn }],
    Note: { Text: text.slice(0, SECURITY_HUB_NOTE_LIMIT), UpdatedBy: "ir release" },
  };
  await change(run, "securityhub:BatchUpdateFindings", detail, () =>
    run.context.clients.securityHub.batchUpdateFindings(detail),
  );
  run.undone.push(`Security Hub finding ${finding.id}: noted as released`);
}

/** A conditional update of the incident's record: only while it is this incident, and not released. */
function updateUnreleased(run: ReleaseRun, update: string, values: Record<string, unknown>) {
  return run.context.clients.documents.update({
    TableName: run.context.resources.incidentTableName,
    Key: { pk: run.record.pk },
    UpdateExpression: update,
    ConditionExpression: "incidentId = :id AND #status <> :released",
    ExpressionAttributeNames: { "#status": "status" },
    ExpressionAttributeValues: { ...values, ":id": run.record.incidentId, ":released": "released" },
  });
}

/** Before the first change: a later run may then find volumes between the workstation and the instance. */
export async function markStarted(run: ReleaseRun, by: string): Promise<void> {
  if (run.context.dryRun || run.record.releaseStarted !== undefined) return;
  await updateUnreleased(run, "SET releaseStarted = if_not_exists(releaseStarted, :started)", {
    ":started": { by, at: new Date().toISOString() },
  });
}

export async function recordRelease(run: ReleaseRun, release: OperatorRelease): Promise<void> {
  try {
    await updateUnreleased(run, "SET #status = :released, operatorRelease = :release REMOVE releaseStarted", {
      ":release": release,
    });
  } catch (error) {
    if ((error as { name?: string }).name === "ConditionalCheckFailedException")
      throw refused(`${run.record.incidentId} was released (or replaced) by someone else meanwhile`);
    throw error;
  }
}

export async function notifyRelease(run: ReleaseRun, release: OperatorRelease): Promise<void> {
  const lines = [
    `Incident ${run.record.incidentId} (instance ${run.record.instanceId}) was released after a false positive.`,
    `By: ${release.by}`,
    `Reason: ${release.reason}`,
    "",
    "Undone:",
    ...release.undone.map((line) => `- ${line}`),
    "",
    "Kept:",
    ...release.kept.map((line) => `- ${line}`),
    ...(run.notes.length > 0 ? ["", ...run.notes] : []),
  ];
  await run.context.clients.sns.publish({
    TopicArn: run.context.resources.notificationTopicArn,
    Subject: `[IR] released ${run.record.instanceId}`.slice(0, 100),
    Message: lines.join("\n"),
  });
}
