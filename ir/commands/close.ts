// ir close <incident>: the end of an investigation. The evidence volumes come off the forensic workstation, the
// workstation is stopped (or, with --terminate-workstation, terminated: only an instance tagged as this incident's
// workstation), the closure is recorded with a conditional UpdateItem, and what remains is printed with until when.
import { waitUntilInstanceStopped, waitUntilVolumeAvailable, type Instance } from "@aws-sdk/client-ec2";
import type { Command } from "commander";

import { evidenceSnapshots, type IncidentClosure, type IncidentRecord } from "../../handler/incidentRecord";
import { RESPONDER_MADE_FORENSIC, TAG_INCIDENT, TAG_RESPONDER_MADE } from "../../handler/tags";
import { operatorAction } from "../action";
import type { OperatorContext } from "../context";
import { EXIT, refused, usage } from "../exitCodes";
import { executionOf, findIncident } from "../incidents";

interface CloseOptions {
  terminateWorkstation?: boolean;
  waitDelay: string;
}

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function describeWorkstation(
  context: OperatorContext,
  instanceId: string,
): Promise<Instance | undefined> {
  try {
    const answer = await context.clients.ec2.describeInstances({ InstanceIds: [instanceId] });
    const instance = answer.Reservations?.[0]?.Instances?.[0];
    return instance?.State?.Name === "terminated" ? undefined : instance;
  } catch (error) {
    if ((error as { name?: string }).name === "InvalidInstanceID.NotFound") return undefined;
    throw error;
  }
}

/** Refuses to terminate anything but this incident's workstation as the responder tagged it. */
function checkTerminable(workstation: Instance, incidentId: string): void {
  const tags = new Map((workstation.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
  if (tags.get(TAG_RESPONDER_MADE) === RESPONDER_MADE_FORENSIC && tags.get(TAG_INCIDENT) === incidentId)
    return;
  throw refused(
    `${workstation.InstanceId} is not tagged as incident ${incidentId}'s forensic workstation ` +
      `(${TAG_RESPONDER_MADE}=${RESPONDER_MADE_FORENSIC}, ${TAG_INCIDENT}=${incidentId}): not terminating it`,
  );
}

/** What stays after the closure, one line each: snapshots and their locks, evidence objects, volumes, workstation. */
async function remaining(
  context: OperatorContext,
  record: IncidentRecord,
  detached: string[],
  workstation: { instanceId?: string; action: IncidentClosure["workstation"] },
): Promise<string[]> {
  const snapshots = evidenceSnapshots(record.facts);
  const locks = new Map<string, { state?: string; until?: Date }>();
  if (snapshots.length > 0) {
    const answer = await context.clients.ec2.describeLockedSnapshots({
      SnapshotIds: snapshots.map((s) => s.snapshotId),
    });
    for (const lock of answer.Snapshots ?? [])
      locks.set(lock.SnapshotId ?? "", { state: lock.LockState, until: lock.LockExpiresOn });
  }
  const lines = snapshots.map(({ snapshotId, volumeId, set }) => {
    const lock = locks.get(snapshotId);
    return lock?.until === undefined || lock.state === "expired"
      ? `snapshot ${snapshotId} (of ${volumeId}, ${set}): not locked, kept until deleted`
      : `snapshot ${snapshotId} (of ${volumeId}, ${set}): locked (${lock.state}) until ${lock.until.toISOString()}`;
  });
  const objects = record.facts.evidence ?? [];
  if (objects.length > 0) lines.push(objectRetention(context, record, objects.length));
  for (const volumeId of detached)
    lines.push(
      `volume ${volumeId}: detached and available, kept until deleted (evidence: delete it deliberately)`,
    );
  if (workstation.action === "stopped")
    lines.push(
      `workstation ${workstation.instanceId}: stopped, its volumes kept (ir close --terminate-workstation)`,
    );
  return lines;
}

function objectRetention(context: OperatorContext, record: IncidentRecord, count: number): string {
  const where = `${count} evidence object(s) in s3://${context.resources.evidenceBucketName}/ for ${record.incidentId}`;
  const retention = context.resources.evidenceRetention;
  if (retention === undefined) return `${where}: retention as the bucket configures it (not known here)`;
  const from = Date.parse(record.createdAt);
  const lock =
    retention.objectLockDays === undefined
      ? "no object lock"
      : `object lock ${retention.objectLockDays} days (until about ${day(from + retention.objectLockDays * DAY_MS)})`;
  const expiry =
    retention.expirationDays === undefined
      ? "no expiration: kept until deleted"
      : `expire after ${retention.expirationDays} days (about ${day(from + retention.expirationDays * DAY_MS)})`;
  return `${where}: ${lock}; ${expiry}`;
}

async function close(context: OperatorContext, reference: string, options: CloseOptions) {
  const delay = Number(options.waitDelay);
  if (!Number.isFinite(delay) || delay <= 0) throw usage("--wait-delay must be a positive number of seconds");
  const waiter = {
    client: context.clients.ec2,
    minDelay: delay,
    maxDelay: Math.max(delay, 30),
    maxWaitTime: 900,
  };
  const record = await findIncident(context, reference);
  if (record.status === "closed" && record.closure !== undefined)
    return { record, closure: record.closure, already: true };
  const execution = await executionOf(context, record);
  if (record.status === "responding" || execution?.status === "RUNNING")
    throw refused(
      `incident ${record.incidentId} is still under response (execution ${execution?.status ?? "none"})`,
    );

  const workstationId = record.facts.forensic?.instanceId;
  const workstation =
    workstationId === undefined ? undefined : await describeWorkstation(context, workstationId);
  if (workstation !== undefined && options.terminateWorkstation === true)
    checkTerminable(workstation, record.incidentId);

  // The evidence volumes the responder attached that are still on the workstation.
  const evidence = new Set((record.facts.attachments ?? []).map((a) => a.volumeId));
  const attached = (workstation?.BlockDeviceMappings ?? [])
    .map((mapping) => mapping.Ebs?.VolumeId ?? "")
    .filter((volumeId) => evidence.has(volumeId));
  for (const volumeId of attached)
    await context.change("ec2:DetachVolume", { VolumeId: volumeId, InstanceId: workstationId }, () =>
      context.clients.ec2.detachVolume({ VolumeId: volumeId, InstanceId: workstationId }),
    );
  if (attached.length > 0 && !context.dryRun) {
    context.output.progress(`waiting for ${attached.join(", ")} to be detached`);
    await waitUntilVolumeAvailable(waiter, { VolumeIds: attached });
  }

  let action: IncidentClosure["workstation"] = "none";
  if (workstation !== undefined && workstationId !== undefined) {
    const ids = { InstanceIds: [workstationId] };
    if (options.terminateWorkstation === true) {
      await context.change("ec2:TerminateInstances", ids, () => context.clients.ec2.terminateInstances(ids));
      action = "terminated";
    } else {
      await context.change("ec2:StopInstances", ids, () => context.clients.ec2.stopInstances(ids));
      if (!context.dryRun) {
        context.output.progress(`waiting for workstation ${workstationId} to stop`);
        await waitUntilInstanceStopped(waiter, ids);
      }
      action = "stopped";
    }
  }

  const by = (await context.clients.sts.getCallerIdentity({})).Arn ?? "unknown";
  const closure: IncidentClosure = {
    by,
    at: new Date().toISOString(),
    workstation: action,
    remaining: await remaining(context, record, attached, { instanceId: workstationId, action }),
  };
  const update = {
    TableName: context.resources.incidentTableName,
    Key: { pk: record.pk },
    UpdateExpression: "SET #status = :closed, closure = :closure",
    // Only the incident read above, and only once its response is over.
    ConditionExpression: "incidentId = :incidentId AND #status IN (:completed, :released)",
    ExpressionAttributeNames: { "#status": "status" },
    ExpressionAttributeValues: {
      ":closed": "closed",
      ":closure": closure,
      ":incidentId": record.incidentId,
      ":completed": "completed",
      ":released": "released",
    },
  };
  try {
    await context.change("dynamodb:UpdateItem", { Key: update.Key, closure }, () =>
      context.clients.documents.update(update),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== "ConditionalCheckFailedException") throw error;
    throw refused(`incident ${record.incidentId} changed while closing it (ir status ${record.incidentId})`);
  }
  return { record, closure, already: false };
}

export function registerClose(program: Command): void {
  program
    .command("close")
    .description(
      "end an investigation: detach the evidence volumes, stop the workstation, record the closure",
    )
    .argument("<incident>", "the incident id (inc-…) or the instance id")
    .option("--terminate-workstation", "terminate the forensic workstation instead of stopping it")
    .option("--wait-delay <seconds>", "seconds between looks while waiting for detachments and the stop", "5")
    .action(
      operatorAction<CloseOptions>(async (context, [reference], options) => {
        const { record, closure, already } = await close(context, reference ?? "", options);
        const dryRun = context.dryRun && !already;
        context.output.result(
          { incidentId: record.incidentId, dryRun, alreadyClosed: already, closure },
          () => [
            already
              ? `incident ${record.incidentId} was already closed by ${closure.by} at ${closure.at}`
              : `${dryRun ? "would close" : "closed"} incident ${record.incidentId}: workstation ${closure.workstation}`,
            "what remains:",
            ...(closure.remaining.length === 0
              ? ["  nothing"]
              : closure.remaining.map((line) => `  ${line}`)),
          ],
        );
        return EXIT.ok;
      }),
    );
}
