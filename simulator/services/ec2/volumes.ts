// EBS volumes: create, delete, attach, detach (each settling on the simulated clock), describe.
import {
  AttachVolume$,
  CreateVolume$,
  DeleteVolume$,
  DescribeVolumes$,
  DetachVolume$,
  type AttachVolumeRequest,
  type CreateVolumeRequest,
  type DeleteVolumeRequest,
  type DescribeVolumesRequest,
  type DescribeVolumesResult,
  type DetachVolumeRequest,
  type Volume as Ec2Volume,
  type VolumeAttachment,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import { attachmentLimitRefusal, createVolume, kmsAllows } from "../../lifecycle/volumes";
import type { Snapshot, Volume } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { checkTagSpecifications, describePage, find, tagsFor, toDate, type FilterTable } from "./common";
import { renderVolume } from "./render";

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

const VOLUME_FILTERS: FilterTable<Volume> = {
  "volume-id": (volume) => [volume.volumeId],
  status: (volume) => [volume.state],
  "availability-zone": (volume) => [volume.availabilityZone],
  "attachment.instance-id": (volume) => [volume.attachment?.instanceId],
  "attachment.device": (volume) => [volume.attachment?.device],
  "attachment.status": (volume) => [volume.attachment?.state],
  "attachment.delete-on-termination": (volume) => [String(volume.attachment?.deleteOnTermination)],
  "snapshot-id": (volume) => [volume.snapshotId],
};

export function volumeOperations(world: World): Record<string, QueryOperation> {
  return {
    DescribeVolumes: defineOperation<DescribeVolumesRequest, DescribeVolumesResult>(
      DescribeVolumes$,
      { mutating: false },
      (input) => {
        const { page, nextToken } = describePage(
          world,
          world.volumes,
          input.VolumeIds,
          input,
          VOLUME_FILTERS,
        );
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
        // A stopped instance whose root volume was detached takes one back at its root device (how EC2 documents
        // replacing a root volume); a running one never frees that name.
        if (
          instance.blockDevices.some((b) => b.deviceName === device) ||
          (instance.rootDeviceName === device && instance.state !== "stopped")
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
  };
}
