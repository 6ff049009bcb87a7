import type { CreateSnapshotsRequest, Snapshot } from "@aws-sdk/client-ec2";

import { describeError, failureOutcome, isResponderError } from "../errors";
import {
  recordedInstance,
  type InstanceFacts,
  type RecordedSnapshot,
  type StepName,
  type VolumeFacts,
} from "../incidentRecord";
import { ec2Mutation, whileNotYetVisible, type Mutation, type ResponseContext } from "../responseContext";
import { sleep } from "../retry";
import type { Settings } from "../settings";
import { MANAGED_BY_VALUE, TAG_EVIDENCE_SET, TAG_INCIDENT, TAG_MANAGED_BY, type EvidenceSet } from "../tags";
import { done, skipped, type StepResult } from "./stepResult";

/** Each evidence set's step, the fact it is recorded in, and the words a person reads. */
const EVIDENCE_SETS = {
  "as-found": { step: "snapshotAsFound", fact: "asFoundSnapshots", words: "as found" },
  "after-stop": { step: "snapshotVolumes", fact: "snapshots", words: "after the stop" },
} as const satisfies Record<EvidenceSet, { step: StepName; fact: string; words: string }>;

/** CreateSnapshots requests one invocation sends at most; then the step fails and Lambda's retry resumes it. */
const MAX_SNAPSHOT_REQUESTS = 5;
/**
 * How many more times (POLL_INTERVAL_SECONDS apart, about 10 s by default) the incident's snapshots are looked
 * for when an earlier request may have made them but DescribeSnapshots does not list them yet (eventual
 * consistency). Looking too briefly costs a duplicate snapshot (waste, no evidence lost); never asking again
 * could cost the evidence itself. So the look is bounded and the request is always sent again after it.
 */
const SNAPSHOT_LOOK_AGAIN_POLLS = 5;

/** The LockSnapshot request for the configured mode, or undefined when snapshots are not locked (pure). */
export function lockRequest(
  snapshotId: string,
  settings: Pick<Settings, "snapshotLock" | "snapshotLockDays">,
): { SnapshotId: string; LockMode: "governance" | "compliance"; LockDuration: number } | undefined {
  if (settings.snapshotLock === "none") return undefined;
  return { SnapshotId: snapshotId, LockMode: settings.snapshotLock, LockDuration: settings.snapshotLockDays };
}

/** Which volumes already have a snapshot of the incident (adopted) and which still need one. */
export interface SnapshotPlan {
  readonly adopted: readonly RecordedSnapshot[];
  readonly missing: readonly VolumeFacts[];
}

/**
 * Adopts, per volume, the earliest snapshot of the incident that did not fail (pure). A snapshot in `error`
 * state holds no evidence: its volume is snapshotted again.
 */
export function planSnapshots(volumes: readonly VolumeFacts[], found: readonly Snapshot[]): SnapshotPlan {
  const startOf = (snapshot: Snapshot) => snapshot.StartTime?.getTime() ?? Number.MAX_SAFE_INTEGER;
  const adopted: RecordedSnapshot[] = [];
  const missing: VolumeFacts[] = [];
  for (const volume of volumes) {
    const [earliest] = found
      .filter(
        (snapshot) =>
          snapshot.VolumeId === volume.volumeId &&
          snapshot.SnapshotId !== undefined &&
          snapshot.State !== "error",
      )
      .sort((a, b) => startOf(a) - startOf(b));
    if (earliest === undefined) missing.push(volume);
    else adopted.push({ volumeId: volume.volumeId, snapshotId: earliest.SnapshotId! });
  }
  return { adopted, missing };
}

/** EC2's limit of user tags per resource. */
const MAX_TAGS = 50;

/**
 * Which tags the request names and whether the volumes' own tags come along (pure). EC2 refuses a request in
 * which a key is given twice, and a key the volumes bring through CopyTagsFromSource counts: the snapshots of a
 * volume tagged Name would never be taken. So the request never names a key a volume has: our Name gives way to
 * the volume's. The incident's own tags must be on every snapshot (they are how a retry finds them): should a
 * volume carry one of those keys, or its tags and ours pass EC2's 50, the volumes' tags are not copied.
 * `volumeTagKeys` undefined (the volumes could not be described): not copied.
 */
export function snapshotTagPlan(
  ours: readonly { Key: string; Value: string }[],
  volumeTagKeys: readonly (readonly string[])[] | undefined,
): { tags: { Key: string; Value: string }[]; copyTagsFromSource: boolean } {
  if (volumeTagKeys === undefined) return { tags: [...ours], copyTagsFromSource: false };
  const theirs = new Set(volumeTagKeys.flat());
  const yielding = ours.filter((tag) => tag.Key === "Name" && theirs.has(tag.Key));
  const essentialClash = ours.some((tag) => tag.Key !== "Name" && theirs.has(tag.Key));
  const tags = ours.filter((tag) => !yielding.includes(tag));
  const tooMany = volumeTagKeys.some((keys) => keys.length + tags.length > MAX_TAGS);
  if (essentialClash || tooMany) return { tags: [...ours], copyTagsFromSource: false };
  return { tags, copyTagsFromSource: true };
}

/** Which incident and evidence set a CreateSnapshots request is for. */
export interface SnapshotSubject {
  readonly incidentId: string;
  readonly instanceId: string;
  readonly findingType: string;
  readonly set: EvidenceSet;
}

/**
 * The CreateSnapshots request for the volumes without a snapshot (pure): one call, so they share one point in
 * time; volumes that already have theirs are excluded (the root one through ExcludeBootVolume: EC2 refuses a
 * root volume among ExcludeDataVolumeIds). Tags are applied at creation, atomically: a snapshot of the incident
 * can always be found by its tag, which is what makes a retry safe without a client token. The volumes' own
 * tags are copied when `volumeTagKeys` says that cannot clash with ours (snapshotTagPlan).
 */
export function createSnapshotsRequest(
  { incidentId, instanceId, findingType, set }: SnapshotSubject,
  instance: Pick<InstanceFacts, "rootDeviceName" | "volumes">,
  missing: readonly VolumeFacts[],
  volumeTagKeys?: readonly (readonly string[])[],
): CreateSnapshotsRequest {
  const missingIds = new Set(missing.map((volume) => volume.volumeId));
  const covered = instance.volumes.filter((volume) => !missingIds.has(volume.volumeId));
  const isRoot = (volume: VolumeFacts) => volume.deviceName === instance.rootDeviceName;
  const excludedData = covered.filter((volume) => !isRoot(volume)).map((volume) => volume.volumeId);
  const plan = snapshotTagPlan(
    [
      { Key: TAG_INCIDENT, Value: incidentId },
      { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
      { Key: TAG_EVIDENCE_SET, Value: set },
      { Key: "Name", Value: `evidence ${instanceId} ${set}` },
    ],
    volumeTagKeys,
  );
  return {
    InstanceSpecification: {
      InstanceId: instanceId,
      ExcludeBootVolume: covered.some(isRoot),
      ...(excludedData.length > 0 ? { ExcludeDataVolumeIds: excludedData } : {}),
    },
    Description: `Evidence of incident ${incidentId} (${findingType}), ${EVIDENCE_SETS[set].words}`,
    ...(plan.copyTagsFromSource ? { CopyTagsFromSource: "volume" as const } : {}),
    TagSpecifications: [{ ResourceType: "snapshot", Tags: plan.tags }],
  };
}

/** Wall ms to wait after throttling: exponential with jitter, so concurrent responses spread out. */
function backoffMs(request: number): number {
  const ceiling = Math.min(8_000, 500 * 2 ** (request - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** The user tag keys of each volume (what CopyTagsFromSource brings); undefined when they cannot be read. */
async function tagKeysOf(
  context: ResponseContext,
  volumes: readonly VolumeFacts[],
): Promise<string[][] | undefined> {
  try {
    // By filter: EC2 charges a DescribeVolumes without a filter or a page size to its smaller "unfiltered" bucket
    // (50, refilled at 10 a second), which a burst of as-found sets would empty first.
    const answer = await context.aws.ec2.describeVolumes({
      Filters: [{ Name: "volume-id", Values: volumes.map((volume) => volume.volumeId) }],
    });
    // A volume missing from the answer (deleted meanwhile) has tags we cannot see: none are copied.
    if ((answer.Volumes ?? []).length < volumes.length) return undefined;
    return (answer.Volumes ?? []).map((volume) =>
      (volume.Tags ?? []).flatMap((tag) =>
        tag.Key === undefined || tag.Key.startsWith("aws:") ? [] : [tag.Key],
      ),
    );
  } catch (error) {
    if (isResponderError(error)) throw error;
    context.logger.warn("volume tags not readable; snapshots get the incident's tags only", {
      error: describeError(error),
    });
    return undefined;
  }
}

async function snapshotsOfIncident(
  context: ResponseContext,
  volumes: readonly VolumeFacts[],
  set: EvidenceSet,
) {
  const answer = await context.aws.ec2.describeSnapshots({
    OwnerIds: ["self"],
    Filters: [
      { Name: `tag:${TAG_INCIDENT}`, Values: [context.record.incidentId] },
      { Name: `tag:${TAG_EVIDENCE_SET}`, Values: [set] },
      { Name: "volume-id", Values: volumes.map((volume) => volume.volumeId) },
    ],
  });
  return answer.Snapshots ?? [];
}

/** Looks for the set's snapshots once, or with `lookAgain` until every volume has one or the bound passes. */
async function lookForSnapshots(
  context: ResponseContext,
  volumes: readonly VolumeFacts[],
  set: EvidenceSet,
  lookAgain: boolean,
): Promise<SnapshotPlan> {
  const window = lookAgain ? SNAPSHOT_LOOK_AGAIN_POLLS * context.settings.pollIntervalSeconds * 1000 : 0;
  // A few seconds at most (eventual consistency after a lost answer): looked at within this pass.
  const deadline = Date.now() + window;
  for (;;) {
    const latest = planSnapshots(volumes, await snapshotsOfIncident(context, volumes, set));
    if (latest.missing.length === 0 || Date.now() >= deadline) return latest;
    await sleep(context.settings.pollIntervalSeconds * 1000);
  }
}

/**
 * Snapshots every volume at most once per incident and evidence set. CreateSnapshots has no client token, so it goes through the
 * client without SDK retries, and this loop decides: the incident's snapshots are looked for first (a resumed
 * response may have made them), again after any failure whose effect is unknown, and only volumes without one
 * are asked for. After an unknown outcome or in a resumed response, a snapshot may exist without being listed
 * yet: the look is repeated for a bounded time before asking again (SNAPSHOT_LOOK_AGAIN_POLLS).
 */
async function takeSnapshotsOnce(
  context: ResponseContext,
  instance: InstanceFacts,
  set: EvidenceSet,
): Promise<Mutation<RecordedSnapshot[]> & { adopted: number }> {
  const { record, aws, logger } = context;
  // A retried step (a crash, a lost answer) may have made them already.
  let lookAgain = (record.steps[EVIDENCE_SETS[set].step]?.attempts ?? 1) > 1;
  let plan: SnapshotPlan | undefined;
  let volumeTagKeys: string[][] | undefined | null = null; // null: not looked at yet
  for (let request = 1; ; request += 1) {
    plan ??= await lookForSnapshots(context, instance.volumes, set, lookAgain);
    if (plan.missing.length === 0)
      return { made: true, value: [...plan.adopted], adopted: plan.adopted.length };
    if (volumeTagKeys === null) volumeTagKeys = await tagKeysOf(context, instance.volumes);
    const asked = createSnapshotsRequest(
      { incidentId: record.incidentId, instanceId: record.instanceId, findingType: record.finding.type, set },
      instance,
      plan.missing,
      volumeTagKeys,
    );
    try {
      const created = await ec2Mutation(
        context,
        `snapshot ${plan.missing.length} volumes ${EVIDENCE_SETS[set].words} (multi-volume, crash-consistent)`,
        (DryRun) => aws.ec2SingleAttempt.createSnapshots({ ...asked, DryRun }),
      );
      if (!created.made) return { ...created, adopted: 0 };
      const taken = (created.value.Snapshots ?? []).map((snapshot) => ({
        volumeId: snapshot.VolumeId ?? "",
        snapshotId: snapshot.SnapshotId ?? "",
      }));
      return { made: true, value: [...plan.adopted, ...taken], adopted: plan.adopted.length };
    } catch (error) {
      if (isResponderError(error)) throw error;
      const failure = failureOutcome(error);
      if (failure === "refused" || request >= MAX_SNAPSHOT_REQUESTS) throw error;
      logger.warn("CreateSnapshots failed; asking again", {
        failure,
        request,
        error: describeError(error),
      });
      if (failure === "throttled") {
        await sleep(backoffMs(request));
      } else {
        // EC2 may have made the snapshots: look, for a while, before asking for them (the look is the pause).
        plan = undefined;
        lookAgain = true;
      }
    }
  }
}

/**
 * One crash-consistent CreateSnapshots call for all volumes, so they share one point in time, tagged with the
 * incident and the set; locked when configured. The point in time is fixed when the call returns: no waiting for
 * completion. A volume gets at most one snapshot per incident and set (see takeSnapshotsOnce); should only some
 * volumes lack one, they are asked for together (after the stop their contents are the same; as found, those few
 * are a little later than the rest, and the record lists each snapshot).
 */
async function secureEvidenceSet(context: ResponseContext, set: EvidenceSet): Promise<StepResult> {
  const { record, aws, settings } = context;
  const { fact, words } = EVIDENCE_SETS[set];
  const instance = recordedInstance(record);
  if (instance.volumes.length === 0) return skipped("no EBS volumes to snapshot");

  let snapshots = record.facts[fact];
  let adopted = 0;
  if (snapshots === undefined) {
    const taken = await takeSnapshotsOnce(context, instance, set);
    if (!taken.made) return done(`would snapshot ${instance.volumes.length} volumes ${words}`);
    snapshots = taken.value;
    adopted = taken.adopted;
    record.facts[fact] = snapshots;
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
  const count = `${snapshots.length} snapshot${snapshots.length === 1 ? "" : "s"}`;
  return done(`${count} ${words}, taken together${lock}`, {
    snapshotIds: snapshots.map((snapshot) => snapshot.snapshotId),
    ...(adopted > 0 ? { adoptedSnapshots: adopted } : {}),
  });
}

/**
 * Right after isolation: the disks as found, before the NMI, hibernation or stop (and a graceful stop's shutdown
 * scripts) can change them. The intruder's processes still run locally until then: isolation cuts the network only.
 */
export function snapshotAsFound(context: ResponseContext): Promise<StepResult> {
  return secureEvidenceSet(context, "as-found");
}

/** After the memory capture and the stop: the disks at rest, the crash dump among them. */
export function snapshotVolumes(context: ResponseContext): Promise<StepResult> {
  return secureEvidenceSet(context, "after-stop");
}
