// Simulator records -> the SDK's EC2 output shapes (the wire codec turns those into EC2's XML).
import type {
  GroupIdentifier,
  Image as Ec2Image,
  Instance as Ec2Instance,
  IpPermission,
  NetworkInterface as Ec2NetworkInterface,
  Reservation,
  SecurityGroup as Ec2SecurityGroup,
  SecurityGroupRule as Ec2SecurityGroupRule,
  Snapshot as Ec2Snapshot,
  Subnet as Ec2Subnet,
  Volume as Ec2Volume,
  Vpc as Ec2Vpc,
} from "@aws-sdk/client-ec2";
import { INSTANCE_STATE_CODES } from "../../state/model";
import type {
  Image,
  Instance,
  NetworkInterface,
  SecurityGroup,
  SecurityGroupRule,
  Snapshot,
  Subnet,
  Volume,
  Vpc,
} from "../../state/model";
import { tagList, type World } from "../../state/world";
import { typeInfoOf } from "../../state/instanceTypes";
import { toDate } from "./common";

const optionalTags = (tags: Map<string, string>): { Key: string; Value: string }[] | undefined =>
  tags.size > 0 ? tagList(tags) : undefined;

export function instanceState(instance: Instance): { Code: number; Name: Instance["state"] } {
  return { Code: INSTANCE_STATE_CODES[instance.state], Name: instance.state };
}

function groupIdentifiers(world: World, groupIds: string[]): GroupIdentifier[] {
  return groupIds.map((GroupId) => ({ GroupId, GroupName: world.securityGroups.get(GroupId)?.groupName }));
}

function privateDnsName(world: World, ip: string): string {
  return `ip-${ip.replace(/\./g, "-")}.${world.region}.compute.internal`;
}

export function renderNetworkInterface(world: World, eni: NetworkInterface): Ec2NetworkInterface {
  return {
    NetworkInterfaceId: eni.networkInterfaceId,
    SubnetId: eni.subnetId,
    VpcId: eni.vpcId,
    AvailabilityZone: eni.availabilityZone,
    Description: eni.description,
    OwnerId: world.accountId,
    Status: eni.status,
    MacAddress: eni.macAddress,
    PrivateIpAddress: eni.privateIpAddress,
    PrivateDnsName: privateDnsName(world, eni.privateIpAddress),
    PrivateIpAddresses: [
      {
        Primary: true,
        PrivateIpAddress: eni.privateIpAddress,
        PrivateDnsName: privateDnsName(world, eni.privateIpAddress),
        Association: eni.publicIp ? { PublicIp: eni.publicIp, IpOwnerId: "amazon" } : undefined,
      },
    ],
    Association: eni.publicIp ? { PublicIp: eni.publicIp, IpOwnerId: "amazon" } : undefined,
    Groups: groupIdentifiers(world, eni.groupIds),
    InterfaceType: "interface",
    SourceDestCheck: true,
    RequesterManaged: false,
    Attachment: eni.attachment && {
      AttachmentId: eni.attachment.attachmentId,
      InstanceId: eni.attachment.instanceId,
      InstanceOwnerId: world.accountId,
      DeviceIndex: eni.attachment.deviceIndex,
      NetworkCardIndex: 0,
      Status: "attached",
      AttachTime: toDate(eni.attachment.attachTime),
      DeleteOnTermination: eni.attachment.deleteOnTermination,
    },
    TagSet: optionalTags(eni.tags),
  };
}

export function renderInstance(world: World, instance: Instance): Ec2Instance {
  const info = typeInfoOf(instance);
  const enis = instance.networkInterfaceIds
    .map((id) => world.networkInterfaces.get(id))
    .filter((eni): eni is NetworkInterface => eni !== undefined);
  const primary = enis[0];
  const live = instance.state !== "terminated";
  const association = world.iamAssociationFor(instance.instanceId);
  const allGroupIds = [...new Set(enis.flatMap((eni) => eni.groupIds))];
  return {
    InstanceId: instance.instanceId,
    ImageId: instance.imageId,
    InstanceType: info.instanceType as Ec2Instance["InstanceType"],
    State: instanceState(instance),
    StateReason: instance.stateReason && {
      Code: instance.stateReason.code,
      Message: instance.stateReason.message,
    },
    StateTransitionReason: instance.stateTransitionReason,
    LaunchTime: toDate(instance.launchTime),
    AmiLaunchIndex: 0,
    Placement: { AvailabilityZone: instance.availabilityZone, Tenancy: "default", GroupName: "" },
    Architecture: info.architecture,
    // DescribeInstances reports "xen" for virtualized Nitro instances too (its enum is ovm | xen);
    // DescribeInstanceTypes is where "nitro" shows. A bare metal instance runs on no hypervisor: none is given.
    Hypervisor: info.bareMetal ? undefined : "xen",
    VirtualizationType: "hvm",
    RootDeviceType: instance.rootDeviceType,
    RootDeviceName: instance.rootDeviceName,
    EbsOptimized: info.hypervisor === "nitro",
    EnaSupport: true,
    PlatformDetails: "Linux/UNIX",
    Monitoring: { State: "disabled" },
    KeyName: instance.keyName,
    ClientToken: instance.clientToken ?? "",
    ProductCodes: productCodesOf(instance.productCodes),
    InstanceLifecycle: instance.market === "on-demand" ? undefined : "spot",
    SpotInstanceRequestId: instance.spotInstanceRequestId,
    HibernationOptions: { Configured: instance.hibernationConfigured },
    MetadataOptions: {
      State: "applied",
      HttpTokens: instance.metadataOptions.httpTokens,
      HttpEndpoint: instance.metadataOptions.httpEndpoint,
      HttpPutResponseHopLimit: instance.metadataOptions.httpPutResponseHopLimit,
      InstanceMetadataTags: instance.metadataOptions.instanceMetadataTags,
      HttpProtocolIpv6: "disabled",
    },
    CpuOptions: { CoreCount: Math.max(1, info.vCpus / 2), ThreadsPerCore: info.vCpus > 1 ? 2 : 1 },
    SubnetId: live ? instance.subnetId : undefined,
    VpcId: live ? instance.vpcId : undefined,
    PrivateIpAddress: primary?.privateIpAddress,
    PrivateDnsName: primary ? privateDnsName(world, primary.privateIpAddress) : "",
    PublicIpAddress: instance.state === "running" ? primary?.publicIp : undefined,
    PublicDnsName: "",
    SecurityGroups: live ? groupIdentifiers(world, allGroupIds) : [],
    NetworkInterfaces: enis.map((eni) => {
      const rendered = renderNetworkInterface(world, eni);
      return {
        NetworkInterfaceId: rendered.NetworkInterfaceId,
        SubnetId: rendered.SubnetId,
        VpcId: rendered.VpcId,
        Description: rendered.Description,
        OwnerId: rendered.OwnerId,
        Status: rendered.Status,
        MacAddress: rendered.MacAddress,
        PrivateIpAddress: rendered.PrivateIpAddress,
        PrivateDnsName: rendered.PrivateDnsName,
        PrivateIpAddresses: rendered.PrivateIpAddresses,
        Association: rendered.Association,
        Groups: rendered.Groups,
        InterfaceType: "interface",
        SourceDestCheck: true,
        Attachment: rendered.Attachment && {
          AttachmentId: rendered.Attachment.AttachmentId,
          DeviceIndex: rendered.Attachment.DeviceIndex,
          NetworkCardIndex: 0,
          Status: "attached",
          AttachTime: rendered.Attachment.AttachTime,
          DeleteOnTermination: rendered.Attachment.DeleteOnTermination,
        },
      };
    }),
    BlockDeviceMappings: instance.blockDevices.map((link) => {
      const volume = world.volumes.get(link.volumeId);
      return {
        DeviceName: link.deviceName,
        Ebs: {
          VolumeId: link.volumeId,
          Status: volume?.attachment?.state ?? "attached",
          AttachTime: toDate(volume?.attachment?.attachTime ?? instance.launchTime),
          DeleteOnTermination: volume?.attachment?.deleteOnTermination ?? false,
        },
      };
    }),
    IamInstanceProfile: association && {
      Arn: association.instanceProfileArn,
      Id: association.instanceProfileId,
    },
    Tags: optionalTags(instance.tags),
  };
}

/** Instances of one reservation (one RunInstances call), as DescribeInstances and RunInstances answer them. */
export function renderReservation(world: World, instances: Instance[]): Reservation {
  return {
    ReservationId: instances[0]?.reservationId,
    OwnerId: world.accountId,
    Groups: [],
    Instances: instances.map((i) => renderInstance(world, i)),
  };
}

export function renderVolume(volume: Volume): Ec2Volume {
  const attachment = volume.attachment;
  return {
    VolumeId: volume.volumeId,
    Size: volume.sizeGiB,
    AvailabilityZone: volume.availabilityZone,
    State: volume.state,
    VolumeType: volume.volumeType as Ec2Volume["VolumeType"],
    Iops: volume.iops,
    Throughput: volume.volumeType === "gp3" ? 125 : undefined,
    Encrypted: volume.encrypted,
    KmsKeyId: volume.kmsKeyId,
    SnapshotId: volume.snapshotId ?? "",
    CreateTime: toDate(volume.createTime),
    MultiAttachEnabled: false,
    Attachments: attachment
      ? [
          {
            VolumeId: volume.volumeId,
            InstanceId: attachment.instanceId,
            Device: attachment.device,
            State: attachment.state,
            AttachTime: toDate(attachment.attachTime),
            DeleteOnTermination: attachment.deleteOnTermination,
          },
        ]
      : [],
    Tags: optionalTags(volume.tags),
  };
}

export function snapshotProgress(world: World, snapshot: Snapshot): string {
  if (snapshot.state === "completed") return "100%";
  const total = Math.max(1, snapshot.completesAt - snapshot.startTime);
  const done = Math.min(99, Math.floor(((world.now() - snapshot.startTime) / total) * 100));
  return `${Math.max(0, done)}%`;
}

export function renderSnapshot(world: World, snapshot: Snapshot): Ec2Snapshot {
  return {
    SnapshotId: snapshot.snapshotId,
    VolumeId: snapshot.volumeId,
    VolumeSize: snapshot.volumeSizeGiB,
    State: snapshot.state,
    StartTime: toDate(snapshot.startTime),
    CompletionTime: snapshot.state === "completed" ? toDate(snapshot.completesAt) : undefined,
    Progress: snapshotProgress(world, snapshot),
    OwnerId: world.accountId,
    Description: snapshot.description,
    Encrypted: snapshot.encrypted,
    KmsKeyId: snapshot.kmsKeyId,
    StorageTier: "standard",
    Tags: optionalTags(snapshot.tags),
  };
}

/** Group atomic rules back into IpPermissions (one per protocol and port range), as EC2 presents them. */
export function renderPermissions(world: World, rules: SecurityGroupRule[]): IpPermission[] {
  const byRange = new Map<string, IpPermission>();
  for (const rule of rules) {
    const key = `${rule.ipProtocol}|${rule.fromPort ?? ""}|${rule.toPort ?? ""}`;
    let permission = byRange.get(key);
    if (!permission) {
      permission = {
        IpProtocol: rule.ipProtocol,
        FromPort: rule.fromPort,
        ToPort: rule.toPort,
        IpRanges: [],
        Ipv6Ranges: [],
        UserIdGroupPairs: [],
        PrefixListIds: [],
      };
      byRange.set(key, permission);
    }
    if (rule.cidrIpv4) permission.IpRanges?.push({ CidrIp: rule.cidrIpv4, Description: rule.description });
    if (rule.cidrIpv6)
      permission.Ipv6Ranges?.push({ CidrIpv6: rule.cidrIpv6, Description: rule.description });
    if (rule.referencedGroupId) {
      permission.UserIdGroupPairs?.push({
        GroupId: rule.referencedGroupId,
        UserId: world.accountId,
        Description: rule.description,
      });
    }
    if (rule.prefixListId) {
      permission.PrefixListIds?.push({ PrefixListId: rule.prefixListId, Description: rule.description });
    }
  }
  return [...byRange.values()];
}

export function renderRule(
  world: World,
  group: SecurityGroup,
  rule: SecurityGroupRule,
  isEgress: boolean,
): Ec2SecurityGroupRule {
  return {
    SecurityGroupRuleId: rule.ruleId,
    GroupId: group.groupId,
    GroupOwnerId: world.accountId,
    IsEgress: isEgress,
    IpProtocol: rule.ipProtocol,
    FromPort: rule.fromPort ?? -1,
    ToPort: rule.toPort ?? -1,
    CidrIpv4: rule.cidrIpv4,
    CidrIpv6: rule.cidrIpv6,
    PrefixListId: rule.prefixListId,
    ReferencedGroupInfo: rule.referencedGroupId
      ? { GroupId: rule.referencedGroupId, UserId: world.accountId }
      : undefined,
    Description: rule.description,
  };
}

export function renderSecurityGroup(world: World, group: SecurityGroup): Ec2SecurityGroup {
  return {
    GroupId: group.groupId,
    GroupName: group.groupName,
    Description: group.description,
    VpcId: group.vpcId,
    OwnerId: world.accountId,
    SecurityGroupArn: `arn:aws:ec2:${world.region}:${world.accountId}:security-group/${group.groupId}`,
    IpPermissions: renderPermissions(world, group.ingress),
    IpPermissionsEgress: renderPermissions(world, group.egress),
    Tags: optionalTags(group.tags),
  };
}

export function renderSubnet(world: World, subnet: Subnet): Ec2Subnet {
  return {
    SubnetId: subnet.subnetId,
    SubnetArn: `arn:aws:ec2:${world.region}:${world.accountId}:subnet/${subnet.subnetId}`,
    VpcId: subnet.vpcId,
    AvailabilityZone: subnet.availabilityZone,
    AvailabilityZoneId: subnet.availabilityZoneId,
    CidrBlock: subnet.cidrBlock,
    State: "available",
    AvailableIpAddressCount: 250 - subnet.nextHost,
    DefaultForAz: false,
    MapPublicIpOnLaunch: false,
    OwnerId: world.accountId,
    Tags: optionalTags(subnet.tags),
  };
}

export function renderVpc(world: World, vpc: Vpc): Ec2Vpc {
  return {
    VpcId: vpc.vpcId,
    CidrBlock: vpc.cidrBlock,
    State: "available",
    OwnerId: world.accountId,
    IsDefault: false,
    InstanceTenancy: "default",
    Tags: optionalTags(vpc.tags),
  };
}

export function renderImage(world: World, image: Image): Ec2Image {
  return {
    ImageId: image.imageId,
    Name: image.name,
    Description: image.description,
    Architecture: image.architecture,
    RootDeviceType: image.rootDeviceType,
    RootDeviceName: image.rootDeviceName,
    State: "available",
    OwnerId: world.accountId,
    CreationDate: new Date(image.creationDate).toISOString(),
    VirtualizationType: "hvm",
    Hypervisor: "xen",
    ImageType: "machine",
    Public: false,
    EnaSupport: true,
    PlatformDetails: "Linux/UNIX",
    UsageOperation: "RunInstances",
    BlockDeviceMappings:
      image.rootDeviceType === "ebs"
        ? [
            {
              DeviceName: image.rootDeviceName,
              Ebs: {
                VolumeSize: image.rootVolumeSizeGiB,
                VolumeType: "gp3",
                DeleteOnTermination: true,
                Encrypted: true,
                KmsKeyId: image.kmsKeyId,
              },
            },
          ]
        : [],
    ProductCodes: productCodesOf(image.productCodes),
    Tags: optionalTags(image.tags),
  };
}

function productCodesOf(
  codes: readonly string[],
): { ProductCodeId: string; ProductCodeType: "marketplace" }[] {
  return codes.map((ProductCodeId) => ({ ProductCodeId, ProductCodeType: "marketplace" }));
}
