// EC2 instance actions: describe, run, stop, terminate, attributes, metadata options, NMI, console.
import {
  CreateLaunchTemplate$,
  DescribeImages$,
  DescribeLaunchTemplateVersions$,
  DescribeInstanceTypes$,
  DescribeInstances$,
  GetConsoleOutput$,
  GetConsoleScreenshot$,
  ModifyInstanceAttribute$,
  ModifyInstanceMetadataOptions$,
  RunInstances$,
  SendDiagnosticInterrupt$,
  StopInstances$,
  TerminateInstances$,
  type CreateLaunchTemplateRequest,
  type CreateLaunchTemplateResult,
  type DescribeImagesRequest,
  type DescribeImagesResult,
  type DescribeLaunchTemplateVersionsRequest,
  type DescribeLaunchTemplateVersionsResult,
  type DescribeInstanceTypesRequest,
  type DescribeInstanceTypesResult,
  type DescribeInstancesRequest,
  type DescribeInstancesResult,
  type GetConsoleOutputRequest,
  type GetConsoleOutputResult,
  type GetConsoleScreenshotRequest,
  type GetConsoleScreenshotResult,
  type InstanceStateChange,
  type ModifyInstanceAttributeRequest,
  type ModifyInstanceMetadataOptionsRequest,
  type ModifyInstanceMetadataOptionsResult,
  type Reservation,
  type RunInstancesRequest,
  type SendDiagnosticInterruptRequest,
  type StopInstancesRequest,
  type StopInstancesResult,
  type TerminateInstancesRequest,
  type TerminateInstancesResult,
} from "@aws-sdk/client-ec2";
import { AwsError } from "../../errors";
import {
  beginStop,
  beginTerminate,
  ignoreNmi,
  isKdumpReady,
  kmsAllows,
  launchInstance,
  resolveImageId,
  SSM_IMAGE_PREFIX,
  startKdump,
  stopRefusal,
  typeInfoOf,
  type LaunchRequest,
} from "../../lifecycle/instances";
import { INSTANCE_TYPES, supportsDiagnosticInterrupt, supportsScreenshot } from "../../state/instanceTypes";
import type { Instance, LaunchTemplate, LaunchTemplateNetworkInterface } from "../../state/model";
import type { World } from "../../state/world";
import { defineOperation, type QueryOperation } from "../../wire/queryProtocol";
import {
  checkTagSpecifications,
  find,
  matchesFilters,
  notFoundError,
  paginate,
  selectByIds,
  tagFilterValues,
  tagsFor,
} from "./common";
import { instanceState, renderImage, renderInstance } from "./render";

/** A 1x1 grey baseline JPEG: what GetConsoleScreenshot returns (base64) where AWS supports it. */
const SCREENSHOT_JPEG =
  "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=";

function instanceFilterValues(world: World, instance: Instance) {
  return (name: string): (string | undefined)[] | undefined => {
    const enis = instance.networkInterfaceIds.map((id) => world.networkInterfaces.get(id));
    switch (name) {
      case "instance-id":
        return [instance.instanceId];
      case "instance-state-name":
        return [instance.state];
      case "instance-state-code":
        return [String(instanceState(instance).Code)];
      case "instance-type":
        return [instance.instanceType];
      case "image-id":
        return [instance.imageId];
      case "vpc-id":
        return [instance.vpcId];
      case "subnet-id":
        return [instance.subnetId];
      case "availability-zone":
        return [instance.availabilityZone];
      case "client-token":
        return [instance.clientToken];
      case "network-interface.network-interface-id":
        return instance.networkInterfaceIds;
      case "instance.group-id":
        return enis.flatMap((eni) => eni?.groupIds ?? []);
      case "private-ip-address":
        return enis.map((eni) => eni?.privateIpAddress);
      case "iam-instance-profile.arn":
        return [world.iamAssociationFor(instance.instanceId)?.instanceProfileArn];
      case "block-device-mapping.volume-id":
        return instance.blockDevices.map((b) => b.volumeId);
      default:
        return tagFilterValues(instance.tags, name);
    }
  };
}

function stateChange(instance: Instance, previous: Instance["state"]): InstanceStateChange {
  return {
    InstanceId: instance.instanceId,
    CurrentState: instanceState(instance),
    PreviousState: { Code: instanceState({ ...instance, state: previous }).Code, Name: previous },
  };
}

/** A stable digest of what a RunInstances call asks for, to detect a reused ClientToken with other parameters. */
function runDigest(input: RunInstancesRequest): string {
  return JSON.stringify({ ...input, ClientToken: undefined, DryRun: undefined }, (_key, value: unknown) =>
    value instanceof Date ? value.toISOString() : value,
  );
}

function findLaunchTemplate(
  world: World,
  spec: { LaunchTemplateId?: string; LaunchTemplateName?: string },
): LaunchTemplate {
  const { LaunchTemplateId, LaunchTemplateName } = spec;
  const template = [...world.launchTemplates.values()].find(
    (t) => t.launchTemplateId === LaunchTemplateId || t.launchTemplateName === LaunchTemplateName,
  );
  if (template) return template;
  throw LaunchTemplateId
    ? new AwsError(
        "InvalidLaunchTemplateId.NotFound",
        `The specified launch template, with template ID ${LaunchTemplateId}, does not exist.`,
      )
    : new AwsError(
        "InvalidLaunchTemplateName.NotFoundException",
        `The specified launch template, with template name ${LaunchTemplateName ?? ""}, does not exist.`,
      );
}

/** The simulator keeps one version per template: 1, also reachable as $Default and $Latest. */
function checkTemplateVersion(template: LaunchTemplate, version: string | undefined): void {
  if (version === undefined || version === "$Default" || version === "$Latest" || version === "1") return;
  throw new AwsError(
    "InvalidLaunchTemplateId.VersionNotFound",
    `Could not find launch template version ${version} for the launch template ${template.launchTemplateId}.`,
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

export function instanceOperations(world: World): Record<string, QueryOperation> {
  const reservation = (instances: Instance[]): Reservation => ({
    ReservationId: instances[0]?.reservationId,
    OwnerId: world.accountId,
    Groups: [],
    Instances: instances.map((i) => renderInstance(world, i)),
  });

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
        const matching = selectByIds(world, world.instances, input.InstanceIds).filter((i) =>
          matchesFilters(input.Filters, instanceFilterValues(world, i)),
        );
        const byReservation = new Map<string, Instance[]>();
        for (const instance of matching) {
          byReservation.set(instance.reservationId, [
            ...(byReservation.get(instance.reservationId) ?? []),
            instance,
          ]);
        }
        const { page, nextToken } = paginate([...byReservation.values()], input.MaxResults, input.NextToken);
        return { Reservations: page.map(reservation), NextToken: nextToken };
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
            matchesFilters(input.Filters, (name) => {
              if (name === "image-id") return [image.imageId];
              if (name === "name") return [image.name];
              if (name === "architecture") return [image.architecture];
              return tagFilterValues(image.tags, name);
            }),
        );
        return { Images: images.map((image) => renderImage(world, image)) };
      },
    ),

    CreateLaunchTemplate: defineOperation<CreateLaunchTemplateRequest, CreateLaunchTemplateResult>(
      CreateLaunchTemplate$,
      { mutating: true },
      (input, ctx) => {
        const name = input.LaunchTemplateName ?? "";
        if (!/^[a-zA-Z0-9().\-/_]{3,128}$/.test(name)) {
          throw new AwsError(
            "InvalidLaunchTemplateName.MalformedException",
            `Launch template name '${name}' is malformed.`,
          );
        }
        if ([...world.launchTemplates.values()].some((t) => t.launchTemplateName === name)) {
          throw new AwsError(
            "InvalidLaunchTemplateName.AlreadyExistsException",
            `Launch template name already in use.`,
          );
        }
        const data = input.LaunchTemplateData ?? {};
        // A Systems Manager parameter is resolved at launch, not here.
        if (data.ImageId && !data.ImageId.startsWith(SSM_IMAGE_PREFIX) && !world.images.has(data.ImageId))
          throw notFoundError(data.ImageId);
        for (const groupId of data.SecurityGroupIds ?? []) find(world, world.securityGroups, groupId);
        ctx.dryRunGate();
        const launchTemplateId = world.newId("lt");
        const tags = new Map<string, string>();
        for (const spec of data.TagSpecifications ?? []) {
          if (spec.ResourceType !== "instance") continue;
          for (const tag of spec.Tags ?? []) if (tag.Key) tags.set(tag.Key, tag.Value ?? "");
        }
        world.launchTemplates.set(launchTemplateId, {
          launchTemplateId,
          launchTemplateName: name,
          imageId: data.ImageId ?? "",
          instanceType: data.InstanceType ?? "m1.small",
          securityGroupIds: data.SecurityGroupIds ?? [],
          instanceProfileArn: data.IamInstanceProfile?.Arn ?? data.IamInstanceProfile?.Name,
          networkInterfaces: data.NetworkInterfaces?.length
            ? data.NetworkInterfaces.map((eni) => ({
                deviceIndex: eni.DeviceIndex ?? 0,
                subnetId: eni.SubnetId,
                groupIds: eni.Groups ?? [],
                associatePublicIpAddress: eni.AssociatePublicIpAddress,
                deleteOnTermination: eni.DeleteOnTermination,
                description: eni.Description,
              }))
            : undefined,
          tags,
          createTime: world.now(),
        });
        return {
          LaunchTemplate: {
            LaunchTemplateId: launchTemplateId,
            LaunchTemplateName: name,
            CreateTime: new Date(world.now()),
            CreatedBy: `arn:aws:iam::${world.accountId}:root`,
            DefaultVersionNumber: 1,
            LatestVersionNumber: 1,
          },
        };
      },
    ),

    DescribeLaunchTemplateVersions: defineOperation<
      DescribeLaunchTemplateVersionsRequest,
      DescribeLaunchTemplateVersionsResult
    >(DescribeLaunchTemplateVersions$, { mutating: false }, (input) => {
      const template = findLaunchTemplate(world, input);
      const versions = input.Versions?.length ? input.Versions : ["$Latest"];
      for (const version of versions) checkTemplateVersion(template, version);
      const profile = template.instanceProfileArn;
      return {
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: template.launchTemplateId,
            LaunchTemplateName: template.launchTemplateName,
            VersionNumber: 1,
            DefaultVersion: true,
            CreateTime: new Date(template.createTime),
            CreatedBy: `arn:aws:iam::${world.accountId}:root`,
            LaunchTemplateData: {
              // As stored: a Systems Manager parameter stays one (ResolveAlias is not modelled).
              ImageId: template.imageId,
              InstanceType: template.instanceType as never,
              SecurityGroupIds: template.securityGroupIds.length ? template.securityGroupIds : undefined,
              IamInstanceProfile:
                profile === undefined
                  ? undefined
                  : profile.startsWith("arn:")
                    ? { Arn: profile }
                    : { Name: profile },
              NetworkInterfaces: template.networkInterfaces?.map((eni) => ({
                DeviceIndex: eni.deviceIndex,
                SubnetId: eni.subnetId,
                Groups: eni.groupIds,
                AssociatePublicIpAddress: eni.associatePublicIpAddress,
                DeleteOnTermination: eni.deleteOnTermination,
                Description: eni.description,
              })),
              TagSpecifications: template.tags.size
                ? [
                    {
                      ResourceType: "instance",
                      Tags: [...template.tags].map(([Key, Value]) => ({ Key, Value })),
                    },
                  ]
                : undefined,
            },
          },
        ],
      };
    }),

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
            return reservation(
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
        return reservation(instances);
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

    ModifyInstanceAttribute: defineOperation<ModifyInstanceAttributeRequest, void>(
      ModifyInstanceAttribute$,
      { mutating: true },
      (input, ctx) => {
        const instance = find(world, world.instances, input.InstanceId ?? "");
        if (instance.state === "terminated") {
          throw new AwsError(
            "IncorrectInstanceState",
            `The instance '${instance.instanceId}' is not in a valid state for this operation.`,
          );
        }
        const changes: (() => void)[] = [];
        if (input.DisableApiTermination?.Value !== undefined) {
          // "You can't enable termination protection for Spot Instances" (ModifyInstanceAttribute); EC2's answer.
          if (instance.market !== "on-demand") {
            throw new AwsError(
              "UnsupportedOperation",
              "Modifying 'disableApiTermination' is not supported for spot instances.",
            );
          }
          const value = input.DisableApiTermination.Value;
          changes.push(() => (instance.disableApiTermination = value));
        }
        if (input.DisableApiStop?.Value !== undefined) {
          const value = input.DisableApiStop.Value;
          changes.push(() => (instance.disableApiStop = value));
        }
        if (input.InstanceInitiatedShutdownBehavior?.Value !== undefined) {
          const value = input.InstanceInitiatedShutdownBehavior.Value;
          if (value !== "stop" && value !== "terminate") {
            throw new AwsError(
              "InvalidParameterValue",
              `Value (${value}) for parameter instanceInitiatedShutdownBehavior is invalid.`,
            );
          }
          changes.push(() => (instance.shutdownBehavior = value));
        }
        for (const mapping of input.BlockDeviceMappings ?? []) {
          const link = instance.blockDevices.find((b) => b.deviceName === mapping.DeviceName);
          if (!link) {
            throw new AwsError(
              "InvalidInstanceAttributeValue",
              `No device is currently mapped at ${mapping.DeviceName ?? ""}`,
            );
          }
          const deleteOnTermination = mapping.Ebs?.DeleteOnTermination;
          if (deleteOnTermination === undefined) continue;
          changes.push(() => {
            const attachment = world.volumes.get(link.volumeId)?.attachment;
            if (attachment) attachment.deleteOnTermination = deleteOnTermination;
          });
        }
        if (input.Groups?.length) {
          const groups = input.Groups;
          // As in EC2: the call changes the groups of the instance's one interface; with several attached it is
          // refused (ModifyNetworkInterfaceAttribute must name the interface).
          if (instance.networkInterfaceIds.length > 1) {
            throw new AwsError(
              "InvalidInstanceID",
              `There are multiple interfaces attached to instance '${instance.instanceId}'. Please specify an interface ID for the operation instead.`,
            );
          }
          for (const groupId of groups) find(world, world.securityGroups, groupId);
          changes.push(() => {
            const primary = world.networkInterfaces.get(instance.networkInterfaceIds[0] ?? "");
            if (primary) primary.groupIds = [...groups];
          });
        }
        if (input.InstanceType?.Value !== undefined) {
          const value = input.InstanceType.Value;
          if (instance.state !== "stopped") {
            throw new AwsError(
              "IncorrectInstanceState",
              `The instance '${instance.instanceId}' is not in the 'stopped' state.`,
            );
          }
          changes.push(() => (instance.instanceType = value));
        }
        if (changes.length === 0) {
          throw new AwsError("MissingParameter", "The request must contain exactly one attribute to modify");
        }
        // EC2 modifies one attribute per call (all block-device mappings count as one).
        const attributes = [
          input.DisableApiTermination,
          input.DisableApiStop,
          input.InstanceInitiatedShutdownBehavior,
          input.BlockDeviceMappings?.length ? input.BlockDeviceMappings : undefined,
          input.Groups?.length ? input.Groups : undefined,
          input.InstanceType,
        ].filter((attribute) => attribute !== undefined);
        if (attributes.length > 1) {
          throw new AwsError("InvalidParameterCombination", "Only one attribute may be modified at a time.");
        }
        ctx.dryRunGate();
        for (const change of changes) change();
      },
    ),

    ModifyInstanceMetadataOptions: defineOperation<
      ModifyInstanceMetadataOptionsRequest,
      ModifyInstanceMetadataOptionsResult
    >(ModifyInstanceMetadataOptions$, { mutating: true }, (input, ctx) => {
      const instance = find(world, world.instances, input.InstanceId ?? "");
      const hopLimit = input.HttpPutResponseHopLimit;
      if (hopLimit !== undefined && (hopLimit < 1 || hopLimit > 64)) {
        throw new AwsError(
          "InvalidParameterValue",
          `Value (${hopLimit}) for parameter httpPutResponseHopLimit is invalid. Must be between 1 and 64.`,
        );
      }
      ctx.dryRunGate();
      const options = instance.metadataOptions;
      if (input.HttpTokens) options.httpTokens = input.HttpTokens;
      if (input.HttpEndpoint) options.httpEndpoint = input.HttpEndpoint;
      if (hopLimit !== undefined) options.httpPutResponseHopLimit = hopLimit;
      if (input.InstanceMetadataTags) options.instanceMetadataTags = input.InstanceMetadataTags;
      return {
        InstanceId: instance.instanceId,
        InstanceMetadataOptions: {
          State: "pending",
          HttpTokens: options.httpTokens,
          HttpEndpoint: options.httpEndpoint,
          HttpPutResponseHopLimit: options.httpPutResponseHopLimit,
          InstanceMetadataTags: options.instanceMetadataTags,
          HttpProtocolIpv6: "disabled",
        },
      };
    }),

    SendDiagnosticInterrupt: defineOperation<SendDiagnosticInterruptRequest, void>(
      SendDiagnosticInterrupt$,
      { mutating: true },
      (input, ctx) => {
        const instance = find(world, world.instances, input.InstanceId ?? "");
        if (!supportsDiagnosticInterrupt(typeInfoOf(instance))) {
          throw new AwsError(
            "UnsupportedOperation",
            `The instance '${instance.instanceId}' does not support diagnostic interrupts (instance type ${instance.instanceType}).`,
          );
        }
        if (instance.state !== "running") {
          throw new AwsError(
            "IncorrectInstanceState",
            `The instance '${instance.instanceId}' is not in the 'running' state.`,
          );
        }
        ctx.dryRunGate();
        if (instance.dumpInProgressUntil !== undefined) return; // already in the crash kernel: no second dump
        if (isKdumpReady(world, instance)) startKdump(world, instance);
        else ignoreNmi(instance);
      },
    ),

    GetConsoleOutput: defineOperation<GetConsoleOutputRequest, GetConsoleOutputResult>(
      GetConsoleOutput$,
      { mutating: false },
      (input) => {
        const instance = find(world, world.instances, input.InstanceId ?? "");
        // AWS keeps the last 64 KB of serial console output.
        const output = Buffer.from(instance.consoleOutput, "utf8").subarray(-64 * 1024);
        return {
          InstanceId: instance.instanceId,
          Timestamp: new Date(world.now()),
          Output: output.toString("base64"),
        };
      },
    ),

    GetConsoleScreenshot: defineOperation<GetConsoleScreenshotRequest, GetConsoleScreenshotResult>(
      GetConsoleScreenshot$,
      { mutating: false },
      (input) => {
        const instance = find(world, world.instances, input.InstanceId ?? "");
        if (!supportsScreenshot(typeInfoOf(instance))) {
          throw new AwsError(
            "UnsupportedOperation",
            `The instance '${instance.instanceId}' does not support console screenshots (instance type ${instance.instanceType}).`,
          );
        }
        if (instance.state !== "running") {
          throw new AwsError(
            "IncorrectInstanceState",
            `The instance '${instance.instanceId}' is not in the 'running' state.`,
          );
        }
        return { InstanceId: instance.instanceId, ImageData: SCREENSHOT_JPEG };
      },
    ),
  };
}
