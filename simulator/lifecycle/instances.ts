// Instance lifecycle: launch, stop (normal, forced, hibernate), OS power-off and terminate. Every timed transition is
// scheduled on the simulated clock.
import type { VolumeSpec } from "../api";
import { AwsError } from "../errors";
import { instanceTypeInfo, typeInfoOf } from "../state/instanceTypes";
import type { Instance, MarketType, NetworkInterface, Tags } from "../state/model";
import type { World } from "../state/world";
import { attachNow, createVolume } from "./volumes";

export const KDUMP_READY_TAG = "ir:kdump-ready";

/** Client.InternalError: what a launch whose encrypted volumes EC2 cannot decrypt ends in (documented). */
const CLIENT_ERROR_ON_LAUNCH = "Client.InternalError: Client error on launch";

/** A volume to create: as a scenario describes one, with its tags as a map, and the snapshot it is made from. */
export interface VolumeRequest extends Omit<VolumeSpec, "tags"> {
  snapshotId?: string;
  tags?: Tags;
}

interface NetworkInterfaceRequest {
  networkInterfaceId?: string;
  subnetId: string;
  securityGroupIds: string[];
  privateIpAddress?: string;
  publicIp?: string;
  tags?: Tags;
}

export interface LaunchRequest {
  instanceId?: string;
  reservationId?: string;
  imageId: string;
  instanceType: string;
  /** [0] is the primary interface; its subnet decides VPC and AZ. */
  networkInterfaces: NetworkInterfaceRequest[];
  rootDeviceType?: "ebs" | "instance-store";
  rootVolume?: VolumeRequest;
  dataVolumes?: VolumeRequest[];
  tags?: Tags;
  instanceProfileArn?: string;
  market?: MarketType;
  hibernation?: boolean;
  shutdownBehavior?: "stop" | "terminate";
  disableApiTermination?: boolean;
  metadataOptions?: Partial<Instance["metadataOptions"]>;
  keyName?: string;
  clientToken?: string;
  launchTemplate?: Instance["launchTemplate"];
  /** "pending" for RunInstances; scenarios may start an instance already running or stopped. */
  initialState?: "pending" | "running" | "stopped";
  launchTime?: number;
  consoleOutput?: string;
  /**
   * The caller may not use the image's customer-managed KMS key: the instance goes pending, then shutting-down
   * and terminated with Client.InternalError (AWS Knowledge Center, "encrypted-volumes-stops-immediately").
   */
  kmsDenied?: boolean;
}

/** An image id that names a Systems Manager parameter instead of an AMI ("resolve:ssm:name[:version|label]"). */
export const SSM_IMAGE_PREFIX = "resolve:ssm:";

/**
 * The AMI a launch uses for `imageId`: itself, or the value of the Systems Manager parameter it names, resolved
 * at launch ("Reference AMIs using Systems Manager parameters", EC2 User Guide). A parameter the account does
 * not hold, or whose value is no AMI id, is refused with SsmInvalidParameter (the code EC2 gives for a parameter
 * it cannot use; its answer for a missing one is inferred, see README).
 */
export function resolveImageId(world: World, imageId: string): string {
  if (!imageId.startsWith(SSM_IMAGE_PREFIX)) return imageId;
  const reference = imageId.slice(SSM_IMAGE_PREFIX.length);
  // A trailing ":<version>" or ":<label>" selects a version; the simulator keeps one value per parameter.
  const withoutVersion = reference.replace(/:[^:/]+$/, "");
  const value = world.ssmParameters.get(reference) ?? world.ssmParameters.get(withoutVersion);
  if (value === undefined || !/^ami-[0-9a-f]+$/.test(value)) {
    throw new AwsError(
      "SsmInvalidParameter",
      `Invalid SSM parameter ${reference}: it does not exist or does not hold an AMI ID.`,
    );
  }
  return value;
}

function bootLog(instance: Instance): string {
  return [
    `[    0.000000] Linux version 6.1.0-ir (simulated) #1 SMP PREEMPT_DYNAMIC`,
    `[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz root=/dev/nvme0n1p1 ro console=ttyS0 crashkernel=256M`,
    `[    2.104511] systemd[1]: Reached target Multi-User System.`,
    `Ubuntu/Debian simulated login: ${instance.instanceId}`,
    ``,
  ].join("\n");
}

export function launchInstance(world: World, request: LaunchRequest): Instance {
  const info = instanceTypeInfo(request.instanceType);
  if (!info)
    throw new AwsError("InvalidParameterValue", `Invalid value '${request.instanceType}' for InstanceType.`);
  const image = world.images.get(request.imageId);
  if (!image)
    throw new AwsError("InvalidAMIID.NotFound", `The image id '[${request.imageId}]' does not exist`);
  if (image.architecture !== info.architecture) {
    throw new AwsError(
      "InvalidParameterValue",
      `The architecture '${info.architecture}' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
    );
  }
  const primary = request.networkInterfaces[0];
  if (!primary) throw new Error("launchInstance needs a primary network interface");
  const subnet = world.subnets.get(primary.subnetId);
  if (!subnet)
    throw new AwsError("InvalidSubnetID.NotFound", `The subnet ID '${primary.subnetId}' does not exist`);
  const now = request.launchTime ?? world.now();
  const visibleAt = world.visibleFrom();
  const instanceId = request.instanceId ?? world.newId("i");
  const rootDeviceType = request.rootDeviceType ?? image.rootDeviceType;
  const instance: Instance = {
    instanceId,
    reservationId: request.reservationId ?? world.newId("r"),
    imageId: image.imageId,
    instanceType: info.instanceType,
    state: request.initialState ?? "pending",
    stateTransitionReason: "",
    launchTime: now,
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    networkInterfaceIds: [],
    rootDeviceType,
    rootDeviceName: image.rootDeviceName,
    blockDevices: [],
    market: request.market ?? "on-demand",
    hibernationConfigured: request.hibernation ?? false,
    disableApiTermination: request.disableApiTermination ?? false,
    disableApiStop: false,
    shutdownBehavior: request.shutdownBehavior ?? "stop",
    metadataOptions: {
      httpTokens: "required",
      httpEndpoint: "enabled",
      httpPutResponseHopLimit: 2,
      instanceMetadataTags: "disabled",
      ...request.metadataOptions,
    },
    keyName: request.keyName,
    clientToken: request.clientToken,
    launchTemplate: request.launchTemplate,
    productCodes: [...image.productCodes],
    consoleOutput: request.consoleOutput ?? "",
    memoryDumps: [],
    hibernated: false,
    tags: new Map(request.tags ?? []),
    generation: 0,
    visibleAt,
  };
  if (instance.market !== "on-demand") instance.spotInstanceRequestId = world.newId("sir", 8);
  if (!instance.consoleOutput) instance.consoleOutput = bootLog(instance);

  request.networkInterfaces.forEach((eniRequest, deviceIndex) => {
    const eni = createNetworkInterface(world, eniRequest, visibleAt);
    eni.status = "in-use";
    eni.attachment = {
      attachmentId: world.newId("eni-attach"),
      instanceId,
      deviceIndex,
      deleteOnTermination: eniRequest.networkInterfaceId === undefined,
      attachTime: now,
    };
    instance.networkInterfaceIds.push(eni.networkInterfaceId);
  });

  if (rootDeviceType === "ebs") {
    // The root volume comes from the image's snapshot: its key and its Marketplace codes come along.
    const root = createVolume(world, subnet.availabilityZone, {
      sizeGiB: image.rootVolumeSizeGiB,
      kmsKeyId: image.kmsKeyId,
      productCodes: image.productCodes,
      ...request.rootVolume,
    });
    const rootDevice = request.rootVolume?.deviceName ?? image.rootDeviceName;
    attachNow(instance, root, rootDevice, request.rootVolume?.deleteOnTermination ?? true, now);
  }
  const dataDevices = "fghijklmnop";
  (request.dataVolumes ?? []).forEach((volumeRequest, index) => {
    const volume = createVolume(world, subnet.availabilityZone, volumeRequest);
    const device = volumeRequest.deviceName ?? `/dev/sd${dataDevices[index] ?? "z"}`;
    attachNow(instance, volume, device, volumeRequest.deleteOnTermination ?? false, now);
  });

  if (request.instanceProfileArn) {
    const profile = world.instanceProfileByArnOrName(request.instanceProfileArn);
    if (!profile) {
      throw new AwsError(
        "InvalidParameterValue",
        `Value (${request.instanceProfileArn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`,
      );
    }
    const associationId = world.newId("iip-assoc");
    world.iamAssociations.set(associationId, {
      associationId,
      instanceId,
      instanceProfileArn: profile.arn,
      instanceProfileId: profile.instanceProfileId,
      state: "associated",
      timestamp: now,
    });
  }

  world.instances.set(instanceId, instance);
  if (instance.state === "pending" && request.kmsDenied === true) {
    // EC2 cannot decrypt the volumes' data keys: the launch fails after it was accepted.
    world.scheduleForInstance(instance, world.durations.instancePendingMs / 4, () =>
      beginTerminate(world, instance, CLIENT_ERROR_ON_LAUNCH),
    );
  } else if (instance.state === "pending") {
    world.scheduleForInstance(instance, world.durations.instancePendingMs, () =>
      world.setInstanceState(instance, "running"),
    );
  }
  return instance;
}

function createNetworkInterface(
  world: World,
  request: NetworkInterfaceRequest,
  visibleAt: number,
): NetworkInterface {
  const subnet = world.subnets.get(request.subnetId);
  if (!subnet)
    throw new AwsError("InvalidSubnetID.NotFound", `The subnet ID '${request.subnetId}' does not exist`);
  for (const groupId of request.securityGroupIds) {
    const group = world.securityGroups.get(groupId);
    if (!group) throw new AwsError("InvalidGroup.NotFound", `The security group '${groupId}' does not exist`);
    if (group.vpcId !== subnet.vpcId) {
      throw new AwsError(
        "InvalidParameter",
        `Security group ${groupId} and subnet ${subnet.subnetId} belong to different networks.`,
      );
    }
  }
  const eni: NetworkInterface = {
    networkInterfaceId: request.networkInterfaceId ?? world.newId("eni"),
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    privateIpAddress: request.privateIpAddress ?? world.allocatePrivateIp(subnet),
    publicIp: request.publicIp,
    macAddress: world.newMacAddress(),
    description: "",
    groupIds: [...request.securityGroupIds],
    status: "available",
    tags: new Map(request.tags ?? []),
    visibleAt,
  };
  world.networkInterfaces.set(eni.networkInterfaceId, eni);
  return eni;
}

export interface StopOptions {
  force?: boolean;
  hibernate?: boolean;
  /** Who stopped it: the user (StopInstances) or the guest OS (power-off after kdump). */
  initiatedBy: "user" | "guest";
}

/** Why an instance cannot be stopped, in AWS's words; undefined when it can. */
export function stopRefusal(instance: Instance, hibernate: boolean): AwsError | undefined {
  if (instance.rootDeviceType !== "ebs") {
    return new AwsError(
      "UnsupportedOperation",
      `The instance '${instance.instanceId}' does not have an 'ebs' root device type and cannot be stopped.`,
    );
  }
  if (instance.market === "spot-one-time") {
    return new AwsError(
      "UnsupportedOperation",
      `You can't stop the Spot Instance '${instance.instanceId}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`,
    );
  }
  if (instance.disableApiStop) {
    return new AwsError(
      "OperationNotPermitted",
      `The instance '${instance.instanceId}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`,
    );
  }
  if (hibernate && !instance.hibernationConfigured) {
    return new AwsError(
      "UnsupportedHibernationConfiguration",
      `The instance '${instance.instanceId}' is not enabled for hibernation.`,
    );
  }
  if (instance.state === "pending" || instance.state === "shutting-down" || instance.state === "terminated") {
    return new AwsError(
      "IncorrectInstanceState",
      `This instance '${instance.instanceId}' is not in a state from which it can be stopped.`,
    );
  }
  return undefined;
}

export function beginStop(world: World, instance: Instance, options: StopOptions): void {
  if (instance.state === "stopped") return;
  if (instance.state === "stopping" && !options.force) return;
  const info = typeInfoOf(instance);
  // A stop interrupts a kdump still writing: the dump is lost (the disk write never finishes).
  instance.dumpInProgressUntil = undefined;
  const memoryGiB = info.memoryMiB / 1024;
  const duration = options.force
    ? world.durations.instanceForceStoppingMs
    : world.durations.instanceStoppingMs +
      (options.hibernate ? memoryGiB * world.durations.hibernatePerGiBMs : 0);
  instance.hibernated = options.hibernate === true;
  instance.stateReason =
    options.initiatedBy === "guest"
      ? {
          code: "Client.InstanceInitiatedShutdown",
          message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
        }
      : {
          code: "Client.UserInitiatedShutdown",
          message: "Client.UserInitiatedShutdown: User initiated shutdown",
        };
  const stamp = new Date(world.now())
    .toISOString()
    .replace(/\.\d+Z$/, " GMT")
    .replace("T", " ");
  world.setInstanceState(
    instance,
    "stopping",
    options.initiatedBy === "guest" ? `Service initiated (${stamp})` : `User initiated (${stamp})`,
  );
  world.scheduleForInstance(instance, duration, () => {
    world.setInstanceState(instance, "stopped");
  });
}

/** The guest OS powers itself off: stop or terminate, as InstanceInitiatedShutdownBehavior says. */
export function guestPowerOff(world: World, instance: Instance): void {
  if (instance.state !== "running") return;
  if (instance.shutdownBehavior === "terminate") {
    beginTerminate(world, instance, "Client.InstanceInitiatedShutdown: Instance initiated shutdown");
  } else {
    beginStop(world, instance, { initiatedBy: "guest" });
  }
}

export function beginTerminate(world: World, instance: Instance, reason: string): void {
  if (instance.state === "terminated" || instance.state === "shutting-down") return;
  instance.dumpInProgressUntil = undefined;
  const [code = "Client.UserInitiatedShutdown", message = reason] = [reason.split(":")[0], reason];
  instance.stateReason = { code, message };
  world.setInstanceState(instance, "shutting-down", `${reason.split(":")[0] ?? "User"} initiated`);
  world.scheduleForInstance(instance, world.durations.instanceShuttingDownMs, () =>
    finishTermination(world, instance),
  );
}

/** Terminated: DeleteOnTermination volumes and interfaces are deleted, the rest detached; profile released. */
function finishTermination(world: World, instance: Instance): void {
  for (const link of instance.blockDevices) {
    const volume = world.volumes.get(link.volumeId);
    if (!volume?.attachment) continue;
    if (volume.attachment.deleteOnTermination) {
      volume.state = "deleted";
      volume.attachment = undefined;
      world.volumes.delete(volume.volumeId);
    } else {
      volume.state = "available";
      volume.attachment = undefined;
    }
  }
  instance.blockDevices = [];
  for (const eniId of instance.networkInterfaceIds) {
    const eni = world.networkInterfaces.get(eniId);
    if (!eni) continue;
    if (eni.attachment?.deleteOnTermination) {
      world.networkInterfaces.delete(eniId);
    } else {
      eni.attachment = undefined;
      eni.status = "available";
    }
  }
  const association = world.iamAssociationFor(instance.instanceId);
  if (association) association.state = "disassociated";
  world.setInstanceState(instance, "terminated");
}
