import type { Volume } from "@aws-sdk/client-ec2";

import { clientToken } from "../clientToken";
import { describeError } from "../errors";
import { type IncidentFacts, type RecordedSnapshot, recordedInstance } from "../incidentRecord";
import { describeInstance } from "../instanceDescription";
import {
  ec2Mutation,
  isAlreadyDone,
  nextLook,
  whileNotYetVisible,
  type ResponseContext,
} from "../responseContext";
import { ensureOnDemandGroup } from "../securityGroups";
import type { Settings } from "../settings";
import {
  MANAGED_BY_VALUE,
  RESPONDER_MADE_FORENSIC,
  TAG_INCIDENT,
  TAG_MANAGED_BY,
  TAG_RESPONDER_MADE,
} from "../tags";
import { done, failed, skipped, waiting, type StepResult } from "./stepResult";

/** The forensic instance needs the volumes' AZ: the configured subnet for that AZ, else the instance's own. */
export function forensicSubnetFor(
  availabilityZone: string,
  forensicSubnets: Readonly<Record<string, string>>,
  instanceSubnetId: string | undefined,
): string | undefined {
  return forensicSubnets[availabilityZone] ?? instanceSubnetId;
}

// Device names EC2 recommends for EBS data volumes on Linux come first (f-p), then the rest of the range.
const DEVICE_LETTERS = "fghijklmnopqrstuvwxyzbcde".split("");

/** The letter a device name occupies: /dev/sdf and /dev/xvdf are the same slot (pure). */
function deviceSlot(deviceName: string): string | undefined {
  return /^\/dev\/(?:sd|xvd)([a-z])/.exec(deviceName)?.[1];
}

/**
 * Free device names on the forensic instance for `count` volumes (pure). Slot "a" is the root device and is
 * never handed out. Returns fewer names than asked when the instance runs out of slots.
 */
export function allocateDeviceNames(usedDeviceNames: readonly string[], count: number): string[] {
  const used = new Set(usedDeviceNames.map(deviceSlot).filter((slot) => slot !== undefined));
  return DEVICE_LETTERS.filter((letter) => !used.has(letter))
    .slice(0, count)
    .map((letter) => `/dev/sd${letter}`);
}

/** Whether evidence goes to the workstation as the original volumes or as copies from the snapshots (pure). */
export function evidenceSource(
  facts: IncidentFacts,
  settings: Pick<Settings, "attachSnapshotCopies">,
): "original" | "copy" {
  // An instance that could not be stopped keeps its volumes: the workstation gets copies of the snapshots.
  const stopped = facts.stop?.finalState === "stopped";
  return settings.attachSnapshotCopies || !stopped ? "copy" : "original";
}

/**
 * The snapshots copies are made from (pure): the configured set, or the other one when that set was not taken
 * (its step failed or was skipped).
 */
export function copiedSet(
  facts: Pick<IncidentFacts, "snapshots" | "asFoundSnapshots">,
  settings: Pick<Settings, "snapshotCopiesFrom">,
): RecordedSnapshot[] {
  const [chosen, other] =
    settings.snapshotCopiesFrom === "as-found"
      ? [facts.asFoundSnapshots, facts.snapshots]
      : [facts.snapshots, facts.asFoundSnapshots];
  return chosen !== undefined && chosen.length > 0 ? chosen : (other ?? []);
}

/**
 * Step 7a: launch the forensic workstation early, in parallel with capture, stop and snapshot, so it is booted
 * by the time the evidence is ready. Same AZ as the volumes; forensic AMI, profile and group; tagged as
 * responder-made (never responded to); a client token derived from the incident, so a retry never makes two.
 */
export async function launchForensicInstance(context: ResponseContext): Promise<StepResult> {
  const { record, aws, settings } = context;
  const instance = recordedInstance(record);
  // An instance with nothing on EBS (instance-store only) leaves no volume to examine: no workstation to pay for.
  if (instance.volumes.length === 0) return skipped("no EBS volumes to examine: no workstation launched");
  const availabilityZone = instance.availabilityZone;
  const subnetId = forensicSubnetFor(availabilityZone, settings.forensicSubnets, instance.subnetId);
  if (subnetId === undefined) return failed(`no subnet for a forensic instance in ${availabilityZone}`);
  const vpcId =
    subnetId === instance.subnetId
      ? instance.vpcId
      : (await aws.ec2.describeSubnets({ SubnetIds: [subnetId] })).Subnets?.[0]?.VpcId;
  if (vpcId === undefined) return failed(`cannot tell the VPC of subnet ${subnetId}`);
  const groupId =
    settings.vpcSecurityGroups[vpcId]?.forensic ?? (await ensureOnDemandGroup(context, vpcId, "forensic"));
  const token = clientToken(record.incidentId, "forensic");
  const tags = [
    { Key: TAG_RESPONDER_MADE, Value: RESPONDER_MADE_FORENSIC },
    { Key: TAG_INCIDENT, Value: record.incidentId },
    { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
    { Key: "Name", Value: `forensic ${record.instanceId}` },
  ];
  const launched = await ec2Mutation(
    context,
    `launch a forensic instance in ${subnetId} (${availabilityZone})`,
    (DryRun) =>
      aws.ec2.runInstances({
        DryRun,
        ClientToken: token,
        ImageId: settings.forensicAmiId,
        InstanceType: settings.forensicInstanceType as never,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        SecurityGroupIds: groupId === undefined ? undefined : [groupId],
        IamInstanceProfile: { Arn: settings.forensicInstanceProfileArn },
        MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
        TagSpecifications: [
          { ResourceType: "instance", Tags: tags },
          { ResourceType: "volume", Tags: tags },
        ],
      }),
  );
  if (!launched.made) return done(`would launch a forensic instance in ${availabilityZone}`, { subnetId });
  const forensicId = launched.value.Instances?.[0]?.InstanceId;
  if (forensicId === undefined) throw new Error("RunInstances answered without an instance id");
  record.facts.forensic = { instanceId: forensicId, subnetId, availabilityZone, clientToken: token };
  return done(`forensic instance ${forensicId} launched in ${availabilityZone}`, {
    instanceId: forensicId,
    subnetId,
  });
}

const FORENSIC_BOOT_TIMEOUT_MS = 15 * 60 * 1000;

async function describeVolumes(context: ResponseContext, volumeIds: string[]): Promise<Volume[]> {
  if (volumeIds.length === 0) return [];
  // Copies just created may not be visible yet (eventual consistency).
  const answer = await whileNotYetVisible(["InvalidVolume.NotFound"], () =>
    context.aws.ec2.describeVolumes({ VolumeIds: volumeIds }),
  );
  return answer.Volumes ?? [];
}

/** What the attach step did in earlier passes (kept in its step record between passes). */
interface AttachProgress {
  /** Copies created from the snapshots (CreateVolume answered). */
  readonly copies?: string[];
  /** Epoch ms when the step first waited for the volumes to be free: the wait is bounded from there. */
  readonly volumesSince?: number;
  /** Volumes AttachVolume accepted or refused for good: never asked for again. */
  readonly requested?: string[];
  readonly notAttached?: NotAttached[];
}

/**
 * Step 7b: hand the evidence to the workstation. Originals: detach every volume (always naming the instance, so
 * a volume that moved meanwhile is never pulled from somewhere else) and attach all of them on free device
 * names. Copies: volumes created from the snapshots once they complete. Each pass does what it can and answers
 * "waiting" while AWS works (the workstation booting, snapshots copying for hours, volumes detaching and
 * attaching): the state machine waits between passes.
 */
export async function attachEvidenceVolumes(context: ResponseContext): Promise<StepResult> {
  const { record, aws, settings } = context;
  const facts = record.facts;
  const instance = recordedInstance(record);
  const progress = (context.progress ?? {}) as AttachProgress;
  if (settings.dryRun) return done("would detach the volumes and attach them to the forensic instance");
  if (instance.volumes.length === 0) return skipped("no EBS volumes: nothing to attach");
  const snapshots = copiedSet(facts, settings);
  const source = evidenceSource(facts, settings);
  if (source === "copy" && snapshots.length === 0) return skipped("no snapshots to make copies from");
  const forensicId = facts.forensic?.instanceId;
  if (forensicId === undefined) return failed("no forensic instance to attach the evidence to");

  // The workstation must be running (or stopped) before volumes can attach. Just launched, it may not be visible
  // yet (eventual consistency): that reads as still pending.
  const launchedAt = Date.parse(record.steps.launchForensicInstance?.startedAt ?? new Date().toISOString());
  const bootDeadline = launchedAt + FORENSIC_BOOT_TIMEOUT_MS;
  const forensicState = (await describeInstance(aws, forensicId))?.State?.Name ?? "pending";
  if (forensicState === "pending" && Date.now() < bootDeadline) {
    return waiting(`forensic instance ${forensicId} pending`, nextLook(context, launchedAt, bootDeadline), {
      ...progress,
    });
  }
  if (forensicState !== "running" && forensicState !== "stopped") {
    return failed(`forensic instance ${forensicId} is ${forensicState}`);
  }

  let volumeIds: string[];
  if (source === "copy") {
    volumeIds = progress.copies ?? [];
    if (volumeIds.length === 0) {
      const snapshotIds = snapshots.map((snapshot) => snapshot.snapshotId);
      const states = (await aws.ec2.describeSnapshots({ SnapshotIds: snapshotIds })).Snapshots ?? [];
      if (states.some((snapshot) => snapshot.State === "error"))
        return failed("a snapshot failed: no copies attached");
      const complete =
        states.length === snapshotIds.length && states.every((snapshot) => snapshot.State === "completed");
      if (!complete) {
        // Hours for large volumes: looked at less and less often (nextLook).
        const progressLine = states.map((snapshot) => snapshot.Progress ?? "0%").join(", ");
        const since = Date.parse(record.steps.snapshotVolumes?.endedAt ?? new Date().toISOString());
        return waiting(
          `snapshots still copying (${progressLine}): copies are made when they complete`,
          nextLook(context, since),
          { ...progress },
        );
      }
      volumeIds = await createCopies(
        context,
        snapshots,
        facts.forensic?.availabilityZone ?? instance.availabilityZone,
      );
    }
  } else {
    volumeIds = instance.volumes.map((volume) => volume.volumeId);
    await detachFromInstance(context, volumeIds, forensicId);
  }
  const copies = source === "copy" ? volumeIds : undefined;

  // Every volume must be free (detached originals, new copies), unless it already sits on the workstation, or
  // have failed: a copy EC2 could not create (its snapshot's KMS key refused) ends in `error` for good.
  const volumesSince = progress.volumesSince ?? Date.now();
  const volumes = await describeVolumes(context, volumeIds);
  const ready =
    volumes.length === volumeIds.length &&
    volumes.every(
      (volume) =>
        volume.State === "available" ||
        volume.State === "error" ||
        volume.Attachments?.some((attachment) => attachment.InstanceId === forensicId),
    );
  if (!ready) {
    const deadline = volumesSince + settings.stopTimeoutSeconds * 1000;
    if (Date.now() >= deadline) return failed("volumes did not become available in time");
    return waiting("waiting for the volumes to be free", nextLook(context, volumesSince, deadline), {
      ...progress,
      copies,
      volumesSince,
    });
  }

  const requested = new Set(progress.requested ?? []);
  const notAttached: NotAttached[] = [...(progress.notAttached ?? [])];
  const noted = new Set(notAttached.map((volume) => volume.volumeId));
  for (const volume of volumes) {
    if (volume.State !== "error" || noted.has(volume.VolumeId ?? "")) continue;
    notAttached.push({
      volumeId: volume.VolumeId ?? "",
      reason: "volume in error state: EC2 could not create it (a KMS key the responder may not use?)",
    });
  }
  const free = volumes.filter(
    (volume) => volume.State === "available" && !requested.has(volume.VolumeId ?? ""),
  );
  if (free.length > 0) {
    const forensic = await describeInstance(aws, forensicId);
    const used = (forensic?.BlockDeviceMappings ?? []).flatMap((mapping) =>
      mapping.DeviceName ? [mapping.DeviceName] : [],
    );
    const devices = allocateDeviceNames([...used, forensic?.RootDeviceName ?? "/dev/xvda"], free.length);
    for (const volume of free.slice(devices.length)) {
      notAttached.push({ volumeId: volume.VolumeId ?? "", reason: "no free device name" });
      requested.add(volume.VolumeId ?? "");
    }
    const asked = free.slice(0, devices.length);
    const results = await Promise.allSettled(
      asked.map((volume, index) =>
        aws.ec2.attachVolume({
          VolumeId: volume.VolumeId ?? "",
          InstanceId: forensicId,
          Device: devices[index]!,
        }),
      ),
    );
    results.forEach((result, index) => {
      const volumeId = asked[index]!.VolumeId ?? "";
      if (result.status === "fulfilled") {
        requested.add(volumeId);
        return;
      }
      const error: unknown = result.reason;
      // A refusal EC2 will repeat whatever the response does (Marketplace codes on a running workstation, the
      // workstation's attachment limit) is recorded and the other volumes go on; anything else (a server error,
      // a volume still busy) is thrown, and the state machine's retry attaches what is left.
      if (!isAlreadyDone(error, LASTING_ATTACH_REFUSALS)) throw error;
      requested.add(volumeId);
      notAttached.push({ volumeId, reason: describeError(error) });
    });
  }
  const next: AttachProgress = { copies, volumesSince, requested: [...requested], notAttached };

  // An accepted attachment can still fail (EC2 cannot use the volume's KMS key): wait until each one settles.
  const accepted = [...requested].filter((id) => !notAttached.some((volume) => volume.volumeId === id));
  const states = await describeVolumes(context, accepted);
  const attaching = states.some((volume) =>
    volume.Attachments?.some(
      (attachment) => attachment.InstanceId === forensicId && attachment.State === "attaching",
    ),
  );
  if (attaching) {
    const deadline = volumesSince + 2 * settings.stopTimeoutSeconds * 1000;
    if (Date.now() < deadline)
      return waiting("attachments in progress", nextLook(context, volumesSince, deadline), { ...next });
  }
  for (const volume of states) {
    if (!volume.Attachments?.some((attachment) => attachment.InstanceId === forensicId))
      notAttached.push({
        volumeId: volume.VolumeId ?? "",
        reason: "the attachment did not complete (a KMS key the responder may not use?)",
      });
  }
  const attached = await describeVolumes(context, volumeIds);
  const fromSnapshot = new Map(snapshots.map((snapshot) => [snapshot.snapshotId, snapshot]));
  facts.attachments = attached.flatMap((volume) => {
    const attachment = volume.Attachments?.find((candidate) => candidate.InstanceId === forensicId);
    if (attachment === undefined || volume.VolumeId === undefined) return [];
    return [
      {
        volumeId: volume.VolumeId,
        source,
        fromSnapshotId:
          source === "copy" && volume.SnapshotId && fromSnapshot.has(volume.SnapshotId)
            ? volume.SnapshotId
            : undefined,
        device: attachment.Device ?? "",
      },
    ];
  });
  const copiesOf = snapshots === facts.asFoundSnapshots ? "as-found" : "after-stop";
  const what = source === "copy" ? `copies of the ${copiesOf} snapshots` : "volumes";
  const summary = `${facts.attachments.length} ${what} attached to ${forensicId}`;
  if (notAttached.length === 0) return done(summary, { attachments: facts.attachments });
  // The evidence of a volume that is not attached is still in its snapshot (and the volume itself).
  return failed(
    `${summary}; not attached: ${notAttached.map((volume) => `${volume.volumeId} (${volume.reason})`).join(", ")}`,
    { attachments: facts.attachments, notAttached },
  );
}

/**
 * AttachVolume refusals that asking again cannot change: IncorrectInstanceState ("Cannot attach volume ... with
 * Marketplace codes as the instance ... is not in the 'stopped' state"; the workstation is running, and copies
 * from the snapshots carry the same codes) and AttachmentLimitExceeded (the workstation's type has no slot left).
 */
const LASTING_ATTACH_REFUSALS = ["IncorrectInstanceState", "AttachmentLimitExceeded"];

/** A volume the workstation did not get, and why: in the step's detail and outcome, for the report. */
interface NotAttached {
  volumeId: string;
  reason: string;
}

async function detachFromInstance(
  context: ResponseContext,
  volumeIds: string[],
  forensicId: string,
): Promise<void> {
  const { record, aws } = context;
  const volumes = await describeVolumes(context, volumeIds);
  await Promise.all(
    volumes
      // A volume already detaching (a resumed response) needs no second call.
      .filter((volume) =>
        volume.Attachments?.some(
          (attachment) => attachment.InstanceId === record.instanceId && attachment.State !== "detaching",
        ),
      )
      .filter((volume) => !volume.Attachments?.some((attachment) => attachment.InstanceId === forensicId))
      .map((volume) =>
        // Always with InstanceId: without it, a volume re-attached elsewhere meanwhile would be pulled from there.
        aws.ec2.detachVolume({ VolumeId: volume.VolumeId ?? "", InstanceId: record.instanceId }),
      ),
  );
}

async function createCopies(
  context: ResponseContext,
  snapshots: readonly { snapshotId: string; volumeId: string }[],
  availabilityZone: string,
): Promise<string[]> {
  const { record, aws } = context;
  return Promise.all(
    snapshots.map(async (snapshot) => {
      const answer = await aws.ec2.createVolume({
        SnapshotId: snapshot.snapshotId,
        AvailabilityZone: availabilityZone,
        ClientToken: clientToken(record.incidentId, `copy:${snapshot.snapshotId}`),
        TagSpecifications: [
          {
            ResourceType: "volume",
            Tags: [
              { Key: TAG_INCIDENT, Value: record.incidentId },
              { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
              { Key: "Name", Value: `evidence copy of ${snapshot.volumeId}` },
            ],
          },
        ],
      });
      if (answer.VolumeId === undefined)
        throw new Error(`CreateVolume from ${snapshot.snapshotId} returned no id`);
      return answer.VolumeId;
    }),
  );
}
