// RunInstances: the launch a request asks for, from its parameters and its launch template, and its ClientToken.
import { RunInstances$, type Reservation, type RunInstancesRequest } from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import { launchInstance, resolveImageId, type LaunchRequest } from "../../lifecycle/instances";
import { kmsAllows } from "../../lifecycle/volumes";
import type { Instance, LaunchTemplate, LaunchTemplateNetworkInterface } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import { checkTagSpecifications, find, notFoundError, tagsFor } from "./common";
import { checkTemplateVersion, findLaunchTemplate } from "./launchTemplates";
import { renderReservation } from "./render";

/** A stable digest of what a RunInstances call asks for, to detect a reused ClientToken with other parameters. */
function runDigest(input: RunInstancesRequest): string {
  return JSON.stringify({ ...input, ClientToken: undefined, DryRun: undefined }, (_key, value: unknown) =>
    value instanceof Date ? value.toISOString() : value,
  );
}

/**
 * RunInstances' rule for network interfaces: "If you specify a network interface, you must specify any security
 * groups [subnets] as part of the network interface instead of using this parameter" (SecurityGroupIds, SubnetId).
 * Interfaces from the request or its launch template count alike; EC2's answer is InvalidParameterCombination.
 */
function checkInterfaceCombination(
  input: RunInstancesRequest,
  template: LaunchTemplate | undefined,
  interfacesDefined: boolean,
  requestInterfaces: boolean,
): void {
  if (!interfacesDefined) return;
  const instanceLevelGroups =
    (input.SecurityGroupIds?.length ?? 0) > 0 ||
    (input.SecurityGroups?.length ?? 0) > 0 ||
    (requestInterfaces && (template?.securityGroupIds.length ?? 0) > 0);
  if (instanceLevelGroups) {
    throw new AwsError(
      "InvalidParameterCombination",
      "Network interfaces and an instance-level security groups may not be specified on the same request",
    );
  }
  if (input.SubnetId !== undefined || (requestInterfaces && template?.subnetId !== undefined)) {
    throw new AwsError(
      "InvalidParameterCombination",
      "Network interfaces and an instance-level subnet ID may not be specified on the same request",
    );
  }
}

function resolveLaunch(
  world: World,
  input: RunInstancesRequest,
): Omit<LaunchRequest, "reservationId"> & { kmsKeyId?: string } {
  let imageId = input.ImageId;
  let instanceType: string | undefined = input.InstanceType;
  let instanceProfileArn = input.IamInstanceProfile?.Arn ?? input.IamInstanceProfile?.Name;
  const tags = tagsFor(input.TagSpecifications, "instance");
  let launchTemplate: LaunchRequest["launchTemplate"];
  let template: LaunchTemplate | undefined;
  if (input.LaunchTemplate) {
    template = findLaunchTemplate(world, input.LaunchTemplate);
    checkTemplateVersion(template, input.LaunchTemplate.Version);
    imageId ??= template.imageId;
    instanceType ??= template.instanceType;
    instanceProfileArn ??= template.instanceProfileArn;
    for (const [k, v] of template.tags) if (!tags.has(k)) tags.set(k, v);
    // EC2 records the template an instance came from in these system tags.
    tags.set("aws:ec2launchtemplate:id", template.launchTemplateId);
    tags.set("aws:ec2launchtemplate:version", "1");
    launchTemplate = {
      launchTemplateId: template.launchTemplateId,
      launchTemplateName: template.launchTemplateName,
      version: input.LaunchTemplate.Version ?? "$Default",
    };
  }
  // Interfaces named in the request replace the template's (the request overrides the template).
  const requestInterfaces = (input.NetworkInterfaces?.length ?? 0) > 0;
  const interfaces: LaunchTemplateNetworkInterface[] = requestInterfaces
    ? (input.NetworkInterfaces ?? []).map((eni) => ({
        deviceIndex: eni.DeviceIndex ?? 0,
        subnetId: eni.SubnetId,
        groupIds: eni.Groups ?? [],
      }))
    : (template?.networkInterfaces ?? []);
  checkInterfaceCombination(input, template, interfaces.length > 0, requestInterfaces);
  const primarySpec = interfaces.find((eni) => eni.deviceIndex === 0);
  let subnetId: string | undefined;
  let securityGroupIds: string[];
  if (interfaces.length > 0) {
    subnetId = primarySpec?.subnetId;
    securityGroupIds = primarySpec?.groupIds ?? [];
  } else {
    subnetId = input.SubnetId ?? template?.subnetId;
    securityGroupIds = input.SecurityGroupIds?.length
      ? input.SecurityGroupIds
      : (template?.securityGroupIds ?? []);
  }
  const primaryPrivateIp = input.NetworkInterfaces?.find((n) => (n.DeviceIndex ?? 0) === 0)?.PrivateIpAddress;
  if (!imageId) throw new AwsError("MissingParameter", "The request must contain the parameter ImageId");
  imageId = resolveImageId(world, imageId);
  const image = world.images.get(imageId);
  if (!image) throw notFoundError(imageId);
  if (!subnetId)
    throw new AwsError(
      "VPCIdNotSpecified",
      "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.",
    );
  const subnet = find(world, world.subnets, subnetId);
  if (input.Placement?.AvailabilityZone && input.Placement.AvailabilityZone !== subnet.availabilityZone) {
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${input.Placement.AvailabilityZone}) for parameter availabilityZone is invalid. Subnet ${subnetId} is in ${subnet.availabilityZone}.`,
    );
  }
  for (const groupId of securityGroupIds) find(world, world.securityGroups, groupId);
  if (securityGroupIds.length === 0) {
    const defaultGroup = [...world.securityGroups.values()].find(
      (g) => g.vpcId === subnet.vpcId && g.groupName === "default",
    );
    if (defaultGroup) securityGroupIds = [defaultGroup.groupId];
  }
  if (instanceProfileArn && !world.instanceProfileByArnOrName(instanceProfileArn)) {
    const field = instanceProfileArn.startsWith("arn:") ? "arn" : "name";
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${instanceProfileArn}) for parameter iamInstanceProfile.${field} is invalid. Invalid IAM Instance Profile ${field === "arn" ? "ARN" : "name"}`,
    );
  }
  const spot = input.InstanceMarketOptions?.MarketType === "spot";
  const rootMapping = input.BlockDeviceMappings?.find((m) => m.DeviceName === image.rootDeviceName);
  return {
    imageId,
    instanceType: instanceType ?? "m1.small",
    networkInterfaces: [
      {
        subnetId: subnet.subnetId,
        securityGroupIds,
        privateIpAddress: primaryPrivateIp ?? input.PrivateIpAddress,
        tags: tagsFor(input.TagSpecifications, "network-interface"),
      },
    ],
    rootVolume: {
      sizeGiB: rootMapping?.Ebs?.VolumeSize,
      deleteOnTermination: rootMapping?.Ebs?.DeleteOnTermination,
      tags: tagsFor(input.TagSpecifications, "volume"),
    },
    tags,
    instanceProfileArn,
    market: spot
      ? input.InstanceMarketOptions?.SpotOptions?.SpotInstanceType === "persistent"
        ? "spot-persistent"
        : "spot-one-time"
      : "on-demand",
    hibernation: input.HibernationOptions?.Configured,
    shutdownBehavior: input.InstanceInitiatedShutdownBehavior,
    disableApiTermination: input.DisableApiTermination,
    metadataOptions: input.MetadataOptions && {
      httpTokens: input.MetadataOptions.HttpTokens,
      httpEndpoint: input.MetadataOptions.HttpEndpoint,
      httpPutResponseHopLimit: input.MetadataOptions.HttpPutResponseHopLimit,
      instanceMetadataTags: input.MetadataOptions.InstanceMetadataTags,
    },
    keyName: input.KeyName,
    clientToken: input.ClientToken,
    launchTemplate,
    kmsKeyId: image.kmsKeyId,
  };
}
export function launchOperations(world: World): Record<string, QueryOperation> {
  return {
    RunInstances: defineOperation<RunInstancesRequest, Reservation>(
      RunInstances$,
      { mutating: true },
      (input, ctx) => {
        const minCount = input.MinCount ?? 1;
        const maxCount = input.MaxCount ?? 1;
        if (minCount < 1 || maxCount < minCount) {
          throw new AwsError(
            "InvalidParameterValue",
            `Invalid value '${minCount}' for minCount. Must be at least 1 and at most maxCount.`,
          );
        }
        checkTagSpecifications(input.TagSpecifications, ["instance", "volume", "network-interface"]);
        if (input.ClientToken) {
          const previous = world.clientTokens.get(input.ClientToken);
          if (previous) {
            if (previous.paramsDigest !== runDigest(input)) {
              throw new AwsError(
                "IdempotentParameterMismatch",
                "The client token you have provided is associated with a resource that is already deleted or has different parameters. Please use a different client token.",
              );
            }
            ctx.dryRunGate();
            return renderReservation(
              world,

              previous.instanceIds.map((id) => world.instances.get(id)).filter((i): i is Instance => !!i),
            );
          }
        }
        const { kmsKeyId, ...launch } = resolveLaunch(world, input);
        ctx.dryRunGate();
        // The image's customer-managed key: without the caller's KMS permissions the launch is accepted and the
        // instance terminates with Client.InternalError.
        const kmsDenied = !kmsAllows(world, kmsKeyId);
        const reservationId = world.newId("r");
        const instances: Instance[] = [];
        for (let n = 0; n < maxCount; n++)
          instances.push(launchInstance(world, { ...launch, reservationId, kmsDenied }));
        if (input.ClientToken) {
          world.clientTokens.set(input.ClientToken, {
            reservationId,
            instanceIds: instances.map((i) => i.instanceId),
            paramsDigest: runDigest(input),
          });
        }
        return renderReservation(world, instances);
      },
    ),
  };
}
