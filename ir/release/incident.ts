// The incident a release starts from, and the refusals: a release goes ahead only where undoing the response is
// safe (the instance is still there, its volumes are where the record left them, the response is over).
import type { Instance, Volume } from "@aws-sdk/client-ec2";

import type { OperatorContext } from "../context";
import { refused } from "../exitCodes";
import { executionOf } from "../incidents";
import type { ReleasableRecord } from "./run";

/** The instance as it is now, or undefined when EC2 no longer knows it. */
export async function describeLive(
  context: OperatorContext,
  instanceId: string,
): Promise<Instance | undefined> {
  try {
    const answer = await context.clients.ec2.describeInstances({ InstanceIds: [instanceId] });
    return answer.Reservations?.[0]?.Instances?.[0];
  } catch (error) {
    if ((error as { name?: string }).name === "InvalidInstanceID.NotFound") return undefined;
    throw error;
  }
}

/** Refuses (exit 3) a release of an incident that is released already, or whose response is still running. */
export async function refuseUnfinished(context: OperatorContext, record: ReleasableRecord): Promise<void> {
  if (record.status === "released") {
    const by = record.operatorRelease
      ? `by ${record.operatorRelease.by} at ${record.operatorRelease.at}`
      : `by the responder (${record.facts.release?.reason ?? "rejected after the claim"})`;
    throw refused(`${record.incidentId} is already released ${by}`);
  }
  if (record.status !== "responding") return;
  const execution = await executionOf(context, record);
  if (execution === undefined) {
    if (record.claimExpiresAt > Date.now())
      throw refused(`${record.incidentId} is still being contained (claimed by request ${record.claimedBy})`);
    return;
  }
  if (execution.status === "RUNNING")
    throw refused(
      `${record.incidentId} is still responding (execution ${execution.arn} running): wait for it to end`,
    );
}

export function refuseGoneInstance(record: ReleasableRecord, live: Instance | undefined): Instance {
  const state = live?.State?.Name;
  if (live === undefined || state === "terminated" || state === "shutting-down")
    throw refused(
      `instance ${record.instanceId} is ${live === undefined ? "gone" : state}: nothing to put back in service`,
    );
  return live;
}

/**
 * Where each of the instance's own volumes may be for a release to put it back (pure): on the instance, on the
 * workstation the record names, or detached only when the record explains it (a release interrupted between
 * detach and attach, ir close, or the response's attach step that detached it and could not attach it).
 * Anything else (attached elsewhere, detached without a reason on record, deleted) is refused.
 */
export function volumeRefusal(record: ReleasableRecord, volumes: readonly Volume[]): string | undefined {
  const workstation = record.facts.forensic?.instanceId;
  const notAttached = (record.steps.attachEvidenceVolumes?.detail?.notAttached ?? []) as {
    volumeId: string;
  }[];
  const problems: string[] = [];
  for (const expected of record.facts.instance?.volumes ?? []) {
    const volume = volumes.find((candidate) => candidate.VolumeId === expected.volumeId);
    if (volume === undefined) {
      problems.push(`${expected.volumeId} is gone`);
      continue;
    }
    const on = volume.Attachments?.find((attachment) => attachment.State !== "detached")?.InstanceId;
    if (on === record.instanceId || (on !== undefined && on === workstation)) continue;
    if (on !== undefined) {
      problems.push(`${expected.volumeId} is attached to ${on}, not to the instance or its workstation`);
      continue;
    }
    const detachedOnRecord =
      record.releaseStarted !== undefined ||
      record.closure !== undefined ||
      notAttached.some((entry) => entry.volumeId === expected.volumeId);
    if (!detachedOnRecord)
      problems.push(
        `${expected.volumeId} is detached (${volume.State ?? "unknown"}), which the record does not explain`,
      );
  }
  return problems.length === 0
    ? undefined
    : `the volumes are no longer where the record says: ${problems.join("; ")}`;
}

/** The instance's own volumes as they are now (those that still exist). */
export async function describeOwnVolumes(
  context: OperatorContext,
  record: ReleasableRecord,
): Promise<Volume[]> {
  const volumeIds = (record.facts.instance?.volumes ?? []).map((volume) => volume.volumeId);
  if (volumeIds.length === 0) return [];
  const answer = await context.clients.ec2.describeVolumes({
    Filters: [{ Name: "volume-id", Values: volumeIds }],
  });
  return answer.Volumes ?? [];
}
