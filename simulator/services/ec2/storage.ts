// EBS actions: volumes (create, attach, detach, describe) and snapshots (multi-volume create, lock, describe).
import {
  AttachVolume$,
  CreateSnapshots$,
  CreateVolume$,
  DeleteVolume$,
  DescribeSnapshots$,
  DescribeVolumes$,
  DetachVolume$,
  LockSnapshot$,
  type AttachVolumeRequest,
  type CreateSnapshotsRequest,
  type CreateSnapshotsResult,
  type CreateVolumeRequest,
  type DeleteVolumeRequest,
  type DescribeSnapshotsRequest,
  type DescribeSnapshotsResult,
  type DescribeVolumesRequest,
  type DescribeVolumesResult,
  type DetachVolumeRequest,
  type LockSnapshotRequest,
  type LockSnapshotResult,
  type Volume as Ec2Volume,
  type VolumeAttachment,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import { attachmentLimitRefusal, createVolume, kmsAllows } from "../../lifecycle/instances";
import type { Snapshot, Volume } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import {
  checkTagSpecifications,
  find,
  matchesFilters,
  paginate,
  selectByIds,
  tagFilterValues,
  tagsFor,
  toDate,
} from "./common";
import { renderSnapshot, renderVolume, snapshotProgress } from "./render";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Device names EC2 accepts for EBS attachments on Linux (/dev/sd[f-p], /dev/xvd[a-z]...). */
const DEVICE_NAME = /^(\/dev\/(sd[a-z][0-9]*|xvd[a-z]{1,2}[0-9]*)|xvd[a-z]{1,2})$/;

function attachmentResult(volume: Volume): VolumeAttachment {
  const attachment = volume.attachment;
  return {
    VolumeId: volume.volumeId,
    InstanceId: attachment?.instanceId,
    Device: attachment?.device,
    State: attachment?.state ?? "detached",
    AttachTime: toDate(attachment?.attachTime ?? volume.createTime),
    DeleteOnTermination: attachment?.deleteOnTermination ?? false,
  };
}

function lockState(world: World, snapshot: Snapshot): LockSnapshotResult["LockState"] | undefined {
  const lock = snapshot.lock;
  if (!lock) return undefined;
  const now = world.now();
  if (now >= lock.expiresOn) return "expired";
  if (lock.mode === "governance") return "governance";
  return lock.coolOffEndsOn !== undefined && now < lock.coolOffEndsOn ? "compliance-cooloff" : "compliance";
}

export function storageOperations(world: World): Record<string, QueryOperation> {
  const volumeFilterValues = (volume: Volume) => (name: string) => {
    if (name === "volume-id") return [volume.volumeId];
    if (name === "status") return [volume.state];
    if (name === "availability-zone") return [volume.availabilityZone];
    if (name === "attachment.instance-id") return [volume.attachment?.instanceId];
    if (name === "attachment.device") return [volume.attachment?.device];
    if (name === "attachment.status") return [volume.attachment?.state];
    if (name === "attachment.delete-on-termination") return [String(volume.attachment?.deleteOnTermination)];
    if (name === "snapshot-id") return [volume.snapshotId];
    return tagFilterValues(volume.tags, name);
  };

  return {
    DescribeVolumes: defineOperation<DescribeVolumesRequest, DescribeVolumesResult>(
      DescribeVolumes$,
      { mutating: false },
      (input) => {
        const volumes = selectByIds(world, world.volumes, input.VolumeIds).filter((volume) =>
          matchesFilters(input.Filters, volumeFilterValues(volume)),
        );
        const { page, nextToken } = paginate(volumes, input.MaxResults, input.NextToken);
        return { Volumes: page.map((volume) => renderVolume(volume)), NextToken: nextToken };
      },
    ),

    CreateVolume: defineOperation<CreateVolumeRequest, Ec2Volume>(
      CreateVolume$,
      { mutating: true },
      (input, ctx) => {
        const availabilityZone = input.AvailabilityZone ?? "";
        if (!availabilityZone)
          throw new AwsError("MissingParameter", "The request must contain the parameter AvailabilityZone");
        if (![...world.subnets.values()].some((s) => s.availabilityZone === availabilityZone)) {
          throw new AwsError("InvalidParameterValue", `Invalid availability zone: [${availabilityZone}]`);
        }
        let size = input.Size;
        let fromSnapshot: Snapshot | undefined;
        if (input.SnapshotId) {
          const snapshot = find(world, world.snapshots, input.SnapshotId);
          fromSnapshot = snapshot;
          if (snapshot.state !== "completed") {
            throw new AwsError("IncorrectState", `Snapshot is in invalid state - ${snapshot.state}`);
          }
          if (size !== undefined && size < snapshot.volumeSizeGiB) {
            throw new AwsError(
              "InvalidParameterValue",
              `Volume of ${size}GiB is smaller than snapshot '${snapshot.snapshotId}', expect size >= ${snapshot.volumeSizeGiB}GiB`,
            );
          }
          size ??= snapshot.volumeSizeGiB;
        }
        if (size === undefined)
          throw new AwsError("MissingParameter", "The request must contain the parameter size or snapshotId");
        if (size < 1 || size > 65536)
          throw new AwsError("InvalidParameterValue", `Volume size ${size} is out of range`);
        checkTagSpecifications(input.TagSpecifications, ["volume"]);
        // A volume from a snapshot keeps the snapshot's key unless another is named; its Marketplace codes too.
        const kmsKeyId = input.KmsKeyId ?? fromSnapshot?.kmsKeyId;
        ctx.dryRunGate();
        // EC2 creates the volume with the caller's grant on the key: without the caller's KMS permissions the
        // call is accepted and the volume ends in `error` (inferred: see README, "EC2 refusals").
        const keyUsable = kmsAllows(world, kmsKeyId);
        const volume = createVolume(world, availabilityZone, {
          sizeGiB: size,
          volumeType: input.VolumeType,
          encrypted: kmsKeyId !== undefined ? true : (input.Encrypted ?? fromSnapshot?.encrypted),
          kmsKeyId,
          productCodes: fromSnapshot?.productCodes,
          snapshotId: input.SnapshotId,
          tags: tagsFor(input.TagSpecifications, "volume"),
        });
        volume.state = "creating";
        const generation = volume.generation;
        world.clock.schedule(world.durations.volumeCreateMs, () => {
          if (volume.generation === generation && volume.state === "creating")
            volume.state = keyUsable ? "available" : "error";
        });
        return renderVolume(volume);
      },
    ),

    DeleteVolume: defineOperation<DeleteVolumeRequest, void>(
      DeleteVolume$,
      { mutating: true },
      (input, ctx) => {
        const volume = find(world, world.volumes, input.VolumeId ?? "");
        if (volume.state !== "available") {
          throw new AwsError(
            "VolumeInUse",
            `Volume ${volume.volumeId} is currently attached to ${volume.attachment?.instanceId ?? "an instance"}`,
          );
        }
        ctx.dryRunGate();
        world.volumes.delete(volume.volumeId);
      },
    ),

    AttachVolume: defineOperation<AttachVolumeRequest, VolumeAttachment>(
      AttachVolume$,
      { mutating: true },
      (input, ctx) => {
        const volume = find(world, world.volumes, input.VolumeId ?? "");
        const instance = find(world, world.instances, input.InstanceId ?? "");
        const device = input.Device ?? "";
        if (!DEVICE_NAME.test(device)) {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${device}) for parameter device is invalid. ${device} is not a valid EBS device name.`,
          );
        }
        if (volume.state !== "available") {
          throw volume.attachment
            ? new AwsError("VolumeInUse", `${volume.volumeId} is already attached to an instance`)
            : new AwsError(
                "IncorrectState",
                `The volume '${volume.volumeId}' is in the '${volume.state}' state.`,
              );
        }
        if (volume.availabilityZone !== instance.availabilityZone) {
          throw new AwsError(
            "InvalidVolume.ZoneMismatch",
            `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`,
          );
        }
        if (instance.state !== "running" && instance.state !== "stopped") {
          throw new AwsError("IncorrectState", `Instance '${instance.instanceId}' is not 'running'.`);
        }
        if (
          instance.blockDevices.some((b) => b.deviceName === device) ||
          instance.rootDeviceName === device
        ) {
          throw new AwsError(
            "InvalidParameterValue",
            `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
          );
        }
        // "If a volume has an AWS Marketplace product code: The volume can be attached only to a stopped
        // instance" (AttachVolume); the code and message are EC2's as seen in the wild.
        if (volume.productCodes.length > 0 && instance.state !== "stopped") {
          throw new AwsError(
            "IncorrectInstanceState",
            `Cannot attach volume '${volume.volumeId}' with Marketplace codes as the instance '${instance.instanceId}' is not in the 'stopped' state.`,
          );
        }
        const overLimit = attachmentLimitRefusal(instance);
        if (overLimit) throw overLimit;
        ctx.dryRunGate();
        // Attaching an encrypted volume makes EC2 create a grant on its key as the caller: refused, the attachment
        // is accepted and then fails, the volume back to available (inferred: see README).
        const keyUsable = kmsAllows(world, volume.kmsKeyId);
        volume.state = "in-use";
        volume.generation++;
        volume.attachment = {
          instanceId: instance.instanceId,
          device,
          state: "attaching",
          deleteOnTermination: false,
          attachTime: world.now(),
        };
        instance.blockDevices.push({ deviceName: device, volumeId: volume.volumeId });
        // "AWS Marketplace product codes are copied from the volume to the instance."
        for (const code of volume.productCodes)
          if (!instance.productCodes.includes(code)) instance.productCodes.push(code);
        const generation = volume.generation;
        world.clock.schedule(world.durations.volumeAttachMs, () => {
          if (volume.generation !== generation || !volume.attachment) return;
          if (keyUsable) {
            volume.attachment.state = "attached";
            return;
          }
          volume.attachment = undefined;
          volume.state = "available";
          volume.generation++;
          instance.blockDevices = instance.blockDevices.filter((b) => b.volumeId !== volume.volumeId);
        });
        return attachmentResult(volume);
      },
    ),

    DetachVolume: defineOperation<DetachVolumeRequest, VolumeAttachment>(
      DetachVolume$,
      { mutating: true },
      (input, ctx) => {
        const volume = find(world, world.volumes, input.VolumeId ?? "");
        const attachment = volume.attachment;
        if (!attachment) {
          throw new AwsError(
            "IncorrectState",
            `Volume '${volume.volumeId}' is in the '${volume.state}' state.`,
          );
        }
        if (input.InstanceId !== undefined && input.InstanceId !== attachment.instanceId) {
          find(world, world.instances, input.InstanceId);
          throw new AwsError(
            "InvalidAttachment.NotFound",
            `The volume '${volume.volumeId}' is not attached to instance '${input.InstanceId}'`,
          );
        }
        if (input.Device !== undefined && input.Device !== attachment.device) {
          throw new AwsError(
            "InvalidAttachment.NotFound",
            `The volume '${volume.volumeId}' is not attached at '${input.Device}'`,
          );
        }
        const instance = world.instances.get(attachment.instanceId);
        if (instance && instance.rootDeviceName === attachment.device && instance.state !== "stopped") {
          throw new AwsError(
            "IncorrectState",
            `Unable to detach root volume '${volume.volumeId}' from instance '${instance.instanceId}' while it is ${instance.state}`,
          );
        }
        if (attachment.state === "detaching" && !input.Force) return attachmentResult(volume);
        ctx.dryRunGate();
        attachment.state = "detaching";
        volume.generation++;
        const generation = volume.generation;
        const result = attachmentResult(volume);
        world.clock.schedule(input.Force ? 1_000 : world.durations.volumeDetachMs, () => {
          if (volume.generation !== generation) return;
          volume.attachment = undefined;
          volume.state = "available";
          if (instance)
            instance.blockDevices = instance.blockDevices.filter((b) => b.volumeId !== volume.volumeId);
        });
        return result;
      },
    ),

    DescribeSnapshots: defineOperation<DescribeSnapshotsRequest, DescribeSnapshotsResult>(
      DescribeSnapshots$,
      { mutating: false },
      (input) => {
        const owners = input.OwnerIds ?? [];
        const snapshots = selectByIds(world, world.snapshots, input.SnapshotIds).filter(
          (snapshot) =>
            (owners.length === 0 || owners.includes("self") || owners.includes(world.accountId)) &&
            matchesFilters(input.Filters, (name) => {
              if (name === "snapshot-id") return [snapshot.snapshotId];
              if (name === "volume-id") return [snapshot.volumeId];
              if (name === "status") return [snapshot.state];
              if (name === "owner-id") return [world.accountId];
              if (name === "description") return [snapshot.description];
              return tagFilterValues(snapshot.tags, name);
            }),
        );
        const { page, nextToken } = paginate(snapshots, input.MaxResults, input.NextToken);
        return { Snapshots: page.map((snapshot) => renderSnapshot(world, snapshot)), NextToken: nextToken };
      },
    ),

    CreateSnapshots: defineOperation<CreateSnapshotsRequest, CreateSnapshotsResult>(
      CreateSnapshots$,
      { mutating: true },
      (input, ctx) => {
        const spec = input.InstanceSpecification;
        if (!spec?.InstanceId)
          throw new AwsError(
            "MissingParameter",
            "The request must contain the parameter InstanceSpecification.InstanceId",
          );
        const instance = find(world, world.instances, spec.InstanceId);
        if (instance.state === "terminated" || instance.state === "shutting-down") {
          throw new AwsError(
            "IncorrectState",
            `The instance '${instance.instanceId}' is not in a valid state for this operation.`,
          );
        }
        checkTagSpecifications(input.TagSpecifications, ["snapshot"]);
        if (input.CopyTagsFromSource !== undefined && input.CopyTagsFromSource !== "volume") {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${String(input.CopyTagsFromSource)}) for parameter CopyTagsFromSource is invalid.`,
          );
        }
        const requestedKeys = (input.TagSpecifications ?? []).flatMap((spec) =>
          (spec.Tags ?? []).flatMap((tag) => (tag.Key === undefined ? [] : [tag.Key])),
        );
        const excluded = new Set(spec.ExcludeDataVolumeIds ?? []);
        const volumes = instance.blockDevices
          .filter((link) => !(spec.ExcludeBootVolume && link.deviceName === instance.rootDeviceName))
          .filter((link) => !excluded.has(link.volumeId))
          .map((link) => world.volumes.get(link.volumeId))
          .filter((v): v is Volume => v !== undefined);
        if (volumes.length === 0) {
          throw new AwsError(
            "InvalidParameterValue",
            `The instance '${instance.instanceId}' has no volumes to snapshot.`,
          );
        }
        // A tag key given twice is refused ("Duplicate tag key 'Name' specified.", EC2's answer to a request
        // naming a key twice); a key that CopyTagsFromSource also brings from a volume counts as given twice
        // (inferred: the API reference does not say which value would win, and EC2 does not pick one).
        const copied =
          input.CopyTagsFromSource === "volume" ? volumes.flatMap((volume) => [...volume.tags.keys()]) : [];
        const seen = new Set<string>();
        for (const key of requestedKeys) {
          if (seen.has(key))
            throw new AwsError("InvalidParameterValue", `Duplicate tag key '${key}' specified.`);
          seen.add(key);
        }
        const clash = copied.find((key) => seen.has(key));
        if (clash !== undefined)
          throw new AwsError("InvalidParameterValue", `Duplicate tag key '${clash}' specified.`);
        ctx.dryRunGate();
        const now = world.now();
        const snapshots = volumes.map((volume) => {
          const tags =
            input.CopyTagsFromSource === "volume" ? new Map(volume.tags) : new Map<string, string>();
          for (const [k, v] of tagsFor(input.TagSpecifications, "snapshot")) tags.set(k, v);
          const snapshot: Snapshot = {
            snapshotId: world.newId("snap"),
            volumeId: volume.volumeId,
            volumeSizeGiB: volume.sizeGiB,
            state: "pending",
            startTime: now,
            completesAt:
              now + world.durations.snapshotBaseMs + volume.sizeGiB * world.durations.snapshotPerGiBMs,
            description: input.Description ?? "",
            encrypted: volume.encrypted,
            kmsKeyId: volume.kmsKeyId,
            productCodes: [...volume.productCodes],
            tags,
            sourceInstanceId: instance.instanceId,
            visibleAt: world.visibleFrom(),
          };
          world.snapshots.set(snapshot.snapshotId, snapshot);
          world.clock.schedule(snapshot.completesAt - now, () => {
            snapshot.state = "completed";
          });
          return snapshot;
        });
        return {
          Snapshots: snapshots.map((snapshot) => ({
            SnapshotId: snapshot.snapshotId,
            VolumeId: snapshot.volumeId,
            VolumeSize: snapshot.volumeSizeGiB,
            State: snapshot.state,
            StartTime: toDate(snapshot.startTime),
            Progress: snapshotProgress(world, snapshot),
            OwnerId: world.accountId,
            Description: snapshot.description,
            Encrypted: snapshot.encrypted,
            Tags: [...snapshot.tags].map(([Key, Value]) => ({ Key, Value })),
          })),
        };
      },
    ),

    LockSnapshot: defineOperation<LockSnapshotRequest, LockSnapshotResult>(
      LockSnapshot$,
      { mutating: true },
      (input, ctx) => {
        const snapshot = find(world, world.snapshots, input.SnapshotId ?? "");
        const mode = input.LockMode;
        if (mode !== "governance" && mode !== "compliance") {
          throw new AwsError(
            "InvalidParameterValue",
            `Value (${String(mode)}) for parameter LockMode is invalid.`,
          );
        }
        if ((input.LockDuration === undefined) === (input.ExpirationDate === undefined)) {
          throw new AwsError(
            "InvalidParameterCombination",
            "Specify either LockDuration or ExpirationDate, but not both.",
          );
        }
        if (input.LockDuration !== undefined && (input.LockDuration < 1 || input.LockDuration > 36500)) {
          throw new AwsError("InvalidParameterValue", "LockDuration must be between 1 and 36500 days.");
        }
        if (input.CoolOffPeriod !== undefined) {
          if (mode !== "compliance") {
            throw new AwsError(
              "InvalidParameterCombination",
              "CoolOffPeriod can be specified only with compliance mode.",
            );
          }
          if (input.CoolOffPeriod < 1 || input.CoolOffPeriod > 72) {
            throw new AwsError("InvalidParameterValue", "CoolOffPeriod must be between 1 and 72 hours.");
          }
        }
        const now = world.now();
        const expiresOn = input.ExpirationDate
          ? input.ExpirationDate.getTime()
          : now + (input.LockDuration ?? 0) * DAY_MS;
        if (expiresOn <= now)
          throw new AwsError("InvalidParameterValue", "ExpirationDate must be in the future.");
        const current = lockState(world, snapshot);
        if (current === "compliance" && snapshot.lock && expiresOn < snapshot.lock.expiresOn) {
          throw new AwsError(
            "SnapshotLocked",
            `Snapshot ${snapshot.snapshotId} is locked in compliance mode; its lock duration can only be extended.`,
          );
        }
        if (current === "compliance" && mode === "governance") {
          throw new AwsError(
            "SnapshotLocked",
            `Snapshot ${snapshot.snapshotId} is locked in compliance mode.`,
          );
        }
        ctx.dryRunGate();
        snapshot.lock = {
          mode,
          createdOn: now,
          durationDays: input.LockDuration,
          expiresOn,
          coolOffHours: input.CoolOffPeriod,
          coolOffEndsOn: input.CoolOffPeriod !== undefined ? now + input.CoolOffPeriod * HOUR_MS : undefined,
        };
        return {
          SnapshotId: snapshot.snapshotId,
          LockState: lockState(world, snapshot),
          LockDuration: input.LockDuration,
          CoolOffPeriod: input.CoolOffPeriod,
          CoolOffPeriodExpiresOn:
            snapshot.lock.coolOffEndsOn !== undefined ? toDate(snapshot.lock.coolOffEndsOn) : undefined,
          LockCreatedOn: toDate(now),
          LockExpiresOn: toDate(expiresOn),
          LockDurationStartTime: toDate(now),
        };
      },
    ),
  };
}
