// EC2 instances: describe them (and the instance types and images they come from), start, stop, terminate.
import {
  DescribeImages$,
  DescribeInstanceTypes$,
  DescribeInstances$,
  StartInstances$,
  StopInstances$,
  TerminateInstances$,
  type DescribeImagesRequest,
  type DescribeImagesResult,
  type DescribeInstanceTypesRequest,
  type DescribeInstanceTypesResult,
  type DescribeInstancesRequest,
  type DescribeInstancesResult,
  type InstanceStateChange,
  type StartInstancesRequest,
  type StartInstancesResult,
  type StopInstancesRequest,
  type StopInstancesResult,
  type TerminateInstancesRequest,
  type TerminateInstancesResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import { beginStop, beginTerminate, stopRefusal } from "../../lifecycle/instances";
import { INSTANCE_TYPES } from "../../state/instanceTypes";
import type { Image, Instance } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { filterValuesOf, find, matchesFilters, paginate, selectMatching, type FilterTable } from "./common";
import { instanceState, renderImage, renderReservation } from "./render";

function instanceFilters(world: World): FilterTable<Instance> {
  const enis = (instance: Instance) =>
    instance.networkInterfaceIds.map((id) => world.networkInterfaces.get(id));
  return {
    "instance-id": (instance) => [instance.instanceId],
    "instance-state-name": (instance) => [instance.state],
    "instance-state-code": (instance) => [String(instanceState(instance).Code)],
    "instance-type": (instance) => [instance.instanceType],
    "image-id": (instance) => [instance.imageId],
    "vpc-id": (instance) => [instance.vpcId],
    "subnet-id": (instance) => [instance.subnetId],
    "availability-zone": (instance) => [instance.availabilityZone],
    "client-token": (instance) => [instance.clientToken],
    "network-interface.network-interface-id": (instance) => instance.networkInterfaceIds,
    "instance.group-id": (instance) => enis(instance).flatMap((eni) => eni?.groupIds ?? []),
    "private-ip-address": (instance) => enis(instance).map((eni) => eni?.privateIpAddress),
    "iam-instance-profile.arn": (instance) => [
      world.iamAssociationFor(instance.instanceId)?.instanceProfileArn,
    ],
    "block-device-mapping.volume-id": (instance) => instance.blockDevices.map((b) => b.volumeId),
  };
}

const IMAGE_FILTERS: FilterTable<Image> = {
  "image-id": (image) => [image.imageId],
  name: (image) => [image.name],
  architecture: (image) => [image.architecture],
};

function stateChange(instance: Instance, previous: Instance["state"]): InstanceStateChange {
  return {
    InstanceId: instance.instanceId,
    CurrentState: instanceState(instance),
    PreviousState: { Code: instanceState({ ...instance, state: previous }).Code, Name: previous },
  };
}

export function instanceOperations(world: World): Record<string, QueryOperation> {
  const filters = instanceFilters(world);
  return {
    DescribeInstances: defineOperation<DescribeInstancesRequest, DescribeInstancesResult>(
      DescribeInstances$,
      { mutating: false },
      (input) => {
        if (input.InstanceIds?.length && input.MaxResults !== undefined) {
          throw new AwsError(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
          );
        }
        const matching = selectMatching(world, world.instances, input.InstanceIds, input.Filters, filters);
        const byReservation = new Map<string, Instance[]>();
        for (const instance of matching) {
          byReservation.set(instance.reservationId, [
            ...(byReservation.get(instance.reservationId) ?? []),
            instance,
          ]);
        }
        const { page, nextToken } = paginate([...byReservation.values()], input.MaxResults, input.NextToken);
        return {
          Reservations: page.map((instances) => renderReservation(world, instances)),
          NextToken: nextToken,
        };
      },
    ),

    DescribeInstanceTypes: defineOperation<DescribeInstanceTypesRequest, DescribeInstanceTypesResult>(
      DescribeInstanceTypes$,
      { mutating: false },
      (input) => {
        const wanted: string[] = input.InstanceTypes ?? [];
        const unknown = wanted.filter((t) => !INSTANCE_TYPES.some((info) => info.instanceType === t));
        if (unknown.length > 0) {
          throw new AwsError(
            "InvalidInstanceType",
            `The following supplied instance types do not exist: [${unknown.join(", ")}]`,
          );
        }
        const selected = INSTANCE_TYPES.filter(
          (info) => wanted.length === 0 || wanted.includes(info.instanceType),
        );
        return {
          InstanceTypes: selected.map((info) => ({
            InstanceType: info.instanceType as never,
            CurrentGeneration: info.currentGeneration,
            BareMetal: info.bareMetal,
            // A bare metal type runs on no hypervisor: DescribeInstanceTypes gives none.
            Hypervisor: info.bareMetal ? undefined : info.hypervisor,
            VCpuInfo: { DefaultVCpus: info.vCpus },
            MemoryInfo: { SizeInMiB: info.memoryMiB },
            ProcessorInfo: { SupportedArchitectures: [info.architecture] },
            HibernationSupported: info.hibernationSupported,
            InstanceStorageSupported: info.instanceStorageGB > 0,
            InstanceStorageInfo:
              info.instanceStorageGB > 0 ? { TotalSizeInGB: info.instanceStorageGB } : undefined,
            SupportedRootDeviceTypes: info.instanceStorageGB > 0 ? ["ebs", "instance-store"] : ["ebs"],
            SupportedUsageClasses: ["on-demand", "spot"],
            EbsInfo: info.attachmentLimit && {
              MaximumEbsAttachments: info.attachmentLimit.max,
              AttachmentLimitType: info.attachmentLimit.kind,
            },
            SupportedVirtualizationTypes: ["hvm"],
          })),
        };
      },
    ),

    DescribeImages: defineOperation<DescribeImagesRequest, DescribeImagesResult>(
      DescribeImages$,
      { mutating: false },
      (input) => {
        const ids = input.ImageIds ?? [];
        const missing = ids.filter((id) => !world.images.has(id));
        if (missing.length > 0) {
          throw new AwsError(
            "InvalidAMIID.NotFound",
            `The image id '[${missing.join(", ")}]' does not exist`,
          );
        }
        // Every simulated image belongs to this account: Owners=self (or the account id) finds them, amazon does not.
        const owners = input.Owners ?? [];
        const ownedHere = owners.length === 0 || owners.includes("self") || owners.includes(world.accountId);
        const images = [...world.images.values()].filter(
          (image) =>
            ownedHere &&
            (ids.length === 0 || ids.includes(image.imageId)) &&
            matchesFilters(input.Filters, filterValuesOf(IMAGE_FILTERS, image)),
        );
        return { Images: images.map((image) => renderImage(world, image)) };
      },
    ),

    // Stopped -> pending -> running; one already pending or running is answered as it is. An EBS-backed instance
    // needs its root volume: EC2 refuses to start one whose root device has nothing attached.
    StartInstances: defineOperation<StartInstancesRequest, StartInstancesResult>(
      StartInstances$,
      { mutating: true },
      (input, ctx) => {
        const instances = (input.InstanceIds ?? []).map((id) => find(world, world.instances, id));
        for (const instance of instances) {
          const startable = ["stopped", "pending", "running"].includes(instance.state);
          const rootMissing =
            instance.rootDeviceType === "ebs" &&
            !instance.blockDevices.some((b) => b.deviceName === instance.rootDeviceName);
          if (!startable || rootMissing) {
            throw new AwsError(
              "IncorrectInstanceState",
              rootMissing
                ? `The instance '${instance.instanceId}' has no volume attached at its root device (${instance.rootDeviceName ?? ""}).`
                : `The instance '${instance.instanceId}' is not in a state from which it can be started.`,
            );
          }
        }
        ctx.dryRunGate();
        return {
          StartingInstances: instances.map((instance) => {
            const previous = instance.state;
            if (previous === "stopped") {
              instance.hibernated = false;
              instance.stateReason = undefined;
              world.setInstanceState(instance, "pending");
              world.scheduleForInstance(instance, world.durations.instancePendingMs, () =>
                world.setInstanceState(instance, "running"),
              );
            }
            return stateChange(instance, previous);
          }),
        };
      },
    ),

    StopInstances: defineOperation<StopInstancesRequest, StopInstancesResult>(
      StopInstances$,
      { mutating: true },
      (input, ctx) => {
        const instances = (input.InstanceIds ?? []).map((id) => find(world, world.instances, id));
        for (const instance of instances) {
          const refusal = stopRefusal(instance, input.Hibernate === true);
          if (refusal) throw refusal;
        }
        ctx.dryRunGate();
        return {
          StoppingInstances: instances.map((instance) => {
            const previous = instance.state;
            beginStop(world, instance, {
              force: input.Force,
              hibernate: input.Hibernate,
              initiatedBy: "user",
            });
            return stateChange(instance, previous);
          }),
        };
      },
    ),

    TerminateInstances: defineOperation<TerminateInstancesRequest, TerminateInstancesResult>(
      TerminateInstances$,
      { mutating: true },
      (input, ctx) => {
        const instances = (input.InstanceIds ?? []).map((id) => find(world, world.instances, id));
        for (const instance of instances) {
          if (instance.disableApiTermination) {
            throw new AwsError(
              "OperationNotPermitted",
              `The instance '${instance.instanceId}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
            );
          }
        }
        ctx.dryRunGate();
        return {
          TerminatingInstances: instances.map((instance) => {
            const previous = instance.state;
            beginTerminate(world, instance, "Client.UserInitiatedShutdown: User initiated shutdown");
            return stateChange(instance, previous);
          }),
        };
      },
    ),
  };
}
