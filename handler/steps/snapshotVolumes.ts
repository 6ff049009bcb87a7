import { recordedInstance } from "../incidentRecord";
import type { Snapshot } from "@aws-sdk/client-ec2";

import { ec2Mutation, whileNotYetVisible, type ResponseContext } from "../responseContext";
import type { Settings } from "../settings";
import { MANAGED_BY_VALUE, TAG_INCIDENT, TAG_MANAGED_BY } from "../tags";
import { done, skipped, type StepResult } from "./stepResult";

/** The LockSnapshot request for the configured mode, or undefined when snapshots are not locked (pure). */
export function lockRequest(
  snapshotId: string,
  settings: Pick<Settings, "snapshotLock" | "snapshotLockDays">,
): { SnapshotId: string; LockMode: "governance" | "compliance"; LockDuration: number } | undefined {
  if (settings.snapshotLock === "none") return undefined;
  return { SnapshotId: snapshotId, LockMode: settings.snapshotLock, LockDuration: settings.snapshotLockDays };
}

async function snapshotsOfIncident(context: ResponseContext): Promise<Snapshot[]> {
  const answer = await context.aws.ec2.describeSnapshots({
    OwnerIds: ["self"],
    Filters: [{ Name: `tag:${TAG_INCIDENT}`, Values: [context.record.incidentId] }],
  });
  return answer.Snapshots ?? [];
}

/**
 * Step 6: one CreateSnapshots call for all volumes, so they share one point in time (crash-consistent), tagged
 * with the incident; locked when configured. The point in time is fixed when the call returns: no waiting for
 * completion. CreateSnapshots has no client token, so a resumed response first looks for the incident's
 * snapshots by tag (tags are applied atomically at creation) instead of taking a second set.
 */
export async function snapshotVolumes(context: ResponseContext): Promise<StepResult> {
  const { record, aws, settings } = context;
  const instance = recordedInstance(record);
  if (instance.volumes.length === 0) return skipped("no EBS volumes to snapshot");

  let snapshots = record.facts.snapshots;
  if (snapshots === undefined) {
    const existing = await snapshotsOfIncident(context);
    if (existing.length > 0) {
      snapshots = existing.map((snapshot) => ({
        volumeId: snapshot.VolumeId ?? "",
        snapshotId: snapshot.SnapshotId ?? "",
      }));
    } else {
      const created = await ec2Mutation(
        context,
        `snapshot ${instance.volumes.length} volumes (multi-volume, crash-consistent)`,
        (DryRun) =>
          aws.ec2.createSnapshots({
            DryRun,
            InstanceSpecification: { InstanceId: record.instanceId, ExcludeBootVolume: false },
            Description: `Evidence of incident ${record.incidentId} (${record.finding.type})`,
            CopyTagsFromSource: "volume",
            TagSpecifications: [
              {
                ResourceType: "snapshot",
                Tags: [
                  { Key: TAG_INCIDENT, Value: record.incidentId },
                  { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
                  { Key: "Name", Value: `evidence ${record.instanceId}` },
                ],
              },
            ],
          }),
      );
      if (!created.made) return done(`would snapshot ${instance.volumes.length} volumes`);
      snapshots = (created.value.Snapshots ?? []).map((snapshot) => ({
        volumeId: snapshot.VolumeId ?? "",
        snapshotId: snapshot.SnapshotId ?? "",
      }));
    }
    record.facts.snapshots = snapshots;
    await context.checkpoint();
  }

  const toLock = snapshots.filter((snapshot) => snapshot.locked !== true);
  await Promise.all(
    toLock.map(async (snapshot) => {
      const request = lockRequest(snapshot.snapshotId, settings);
      if (request === undefined) return;
      // Snapshots created moments ago may not be visible yet (eventual consistency).
      await whileNotYetVisible(["InvalidSnapshot.NotFound"], () => aws.ec2.lockSnapshot(request));
      snapshot.locked = true;
    }),
  );
  const lock =
    settings.snapshotLock === "none"
      ? ""
      : `, locked (${settings.snapshotLock}, ${settings.snapshotLockDays} d)`;
  return done(`${snapshots.length} snapshot${snapshots.length === 1 ? "" : "s"} taken together${lock}`, {
    snapshotIds: snapshots.map((snapshot) => snapshot.snapshotId),
  });
}
