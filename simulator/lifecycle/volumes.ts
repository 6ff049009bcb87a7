// EBS volumes as the instance lifecycle needs them: creation, attachment at launch, the instance type's attachment
// limit, and the caller's use of a customer-managed KMS key through EC2.
import { AwsError } from "../errors";
import type { Instance, Volume } from "../state/model";
import type { World } from "../state/world";
import { typeInfoOf } from "../state/instanceTypes";
import type { VolumeRequest } from "./instances";

/**
 * What EC2 needs of the caller to use a customer-managed KMS key for EBS ("Permissions for users", EBS
 * encryption requirements: kms:CreateGrant, kms:Decrypt, kms:DescribeKey, kms:GenerateDataKeyWithoutPlainText,
 * kms:ReEncrypt*).
 */
export const EBS_KMS_ACTIONS: readonly string[] = [
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:DescribeKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
];

/** Whether the current caller may use the key through EC2 (no key, or an AWS managed one: always). */
export function kmsAllows(world: World, keyArn: string | undefined): boolean {
  return keyArn === undefined || world.authorizeKms(keyArn, EBS_KMS_ACTIONS);
}

export function createVolume(world: World, availabilityZone: string, request: VolumeRequest): Volume {
  const volume: Volume = {
    volumeId: request.volumeId ?? world.newId("vol"),
    sizeGiB: request.sizeGiB ?? 8,
    availabilityZone,
    state: "available",
    volumeType: request.volumeType ?? "gp3",
    iops: 3000,
    encrypted: request.encrypted ?? true,
    kmsKeyId: request.kmsKeyId,
    productCodes: [...(request.productCodes ?? [])],
    snapshotId: request.snapshotId,
    createTime: world.now(),
    tags: new Map(request.tags ?? []),
    generation: 0,
    visibleAt: world.visibleFrom(),
  };
  world.volumes.set(volume.volumeId, volume);
  return volume;
}

/**
 * AttachmentLimitExceeded when one more EBS volume would pass the instance type's limit: a shared limit counts
 * EBS volumes (the root one too), network interfaces and NVMe instance store volumes; a dedicated one EBS
 * volumes only ("Amazon EBS volume limits for Amazon EC2 instances"). Undefined while there is room.
 */
export function attachmentLimitRefusal(instance: Instance): AwsError | undefined {
  const info = typeInfoOf(instance);
  const limit = info.attachmentLimit;
  if (limit === undefined) return undefined;
  const ebs = instance.blockDevices.length;
  const used =
    limit.kind === "shared" ? ebs + instance.networkInterfaceIds.length + info.nvmeInstanceStoreVolumes : ebs;
  if (used < limit.max) return undefined;
  // The message is EC2's description of the code (EC2 API reference, error codes).
  return new AwsError(
    "AttachmentLimitExceeded",
    "The limit on the number of Amazon EBS volumes attached to one instance has been exceeded.",
  );
}

/** Link a volume to an instance at launch (already attached, as at boot). */
export function attachNow(
  instance: Instance,
  volume: Volume,
  device: string,
  deleteOnTermination: boolean,
  now: number,
): void {
  volume.state = "in-use";
  volume.attachment = {
    instanceId: instance.instanceId,
    device,
    state: "attached",
    deleteOnTermination,
    attachTime: now,
  };
  instance.blockDevices.push({ deviceName: device, volumeId: volume.volumeId });
}
