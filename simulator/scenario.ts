// Scenario builders: put a whole environment in place in a few lines, with explicit ids where a fixture needs
// them, and produce GuardDuty findings from the current state.
import { randomUUID } from "node:crypto";
import type {
  CreatedInstance,
  FindingOptions,
  GuardDutyEvent,
  InstanceSpec,
  ScenarioBuilder,
  SecurityGroupSpec,
  VolumeSpec,
} from "./api";
import { addMember, ASG_NAME_TAG } from "./lifecycle/autoScaling";
import { beginStop, KDUMP_READY_TAG, launchInstance, type VolumeRequest } from "./lifecycle/instances";
import { registerTarget } from "./lifecycle/targets";
import { defaultEgressRule } from "./services/ec2/network";
import { instanceTypeInfo } from "./state/instanceTypes";
import type { SecurityGroup, Subnet } from "./state/model";
import { createAutoScalingGroup, createInstanceProfile, createRole, createTargetGroup } from "./state/create";
import { tagsFrom, type World } from "./state/world";

const volumeRequest = (spec: VolumeSpec): VolumeRequest => ({
  ...spec,
  // A volume with a customer-managed key is encrypted.
  encrypted: spec.kmsKeyId !== undefined ? true : spec.encrypted,
  tags: tagsFrom(spec.tags),
});

const azId = (az: string): string =>
  `${az.slice(0, 3)}${az.slice(-1) === "a" ? "1" : az.slice(-1) === "b" ? "2" : "3"}-az`;

export function createScenarioBuilder(world: World): ScenarioBuilder {
  const past = (): number => world.now() - 1; // scenario resources are visible at once
  let subnetCounter = 0;

  const defaultGroupOf = (vpcId: string): string => {
    const existing = [...world.securityGroups.values()].find(
      (g) => g.vpcId === vpcId && g.groupName === "default",
    );
    if (existing) return existing.groupId;
    return builder.securityGroup({ vpcId, groupName: "default", description: "default VPC security group" });
  };

  const subnet = (subnetId: string): Subnet => {
    const found = world.subnets.get(subnetId);
    if (!found) throw new Error(`scenario: subnet ${subnetId} does not exist (create it with vpc())`);
    return found;
  };

  const ensureImage = (imageId: string | undefined, architecture: "x86_64" | "arm64"): string => {
    if (imageId && world.images.has(imageId)) return imageId;
    return builder.image({ imageId, architecture });
  };

  const builder: ScenarioBuilder = {
    vpc(spec = {}) {
      const vpcId = spec.vpcId ?? world.newId("vpc");
      const cidrBlock = spec.cidrBlock ?? "10.20.0.0/16";
      world.vpcs.set(vpcId, { vpcId, cidrBlock, tags: tagsFrom(spec.tags), visibleAt: past() });
      const [a, b] = cidrBlock.split(".");
      const subnets = (spec.subnets ?? [{}]).map((s) => {
        const availabilityZone = s.availabilityZone ?? `${world.region}a`;
        const subnetId = s.subnetId ?? world.newId("subnet");
        world.subnets.set(subnetId, {
          subnetId,
          vpcId,
          availabilityZone,
          availabilityZoneId: azId(availabilityZone),
          cidrBlock: s.cidrBlock ?? `${a}.${b}.${++subnetCounter * 8}.0/24`,
          tags: new Map(),
          nextHost: 0,
          visibleAt: past(),
        });
        return { subnetId, availabilityZone };
      });
      defaultGroupOf(vpcId);
      return { vpcId, subnets };
    },

    securityGroup(spec: SecurityGroupSpec) {
      if (!world.vpcs.has(spec.vpcId)) throw new Error(`scenario: VPC ${spec.vpcId} does not exist`);
      const group: SecurityGroup = {
        groupId: spec.groupId ?? world.newId("sg"),
        groupName: spec.groupName,
        description: spec.description ?? spec.groupName,
        vpcId: spec.vpcId,
        ingress: (spec.ingress ?? []).map((rule) => ({
          ruleId: world.newId("sgr"),
          ipProtocol: rule.protocol ?? "tcp",
          fromPort: rule.fromPort,
          toPort: rule.toPort,
          cidrIpv4: rule.cidr,
        })),
        egress: [defaultEgressRule(world)],
        tags: tagsFrom(spec.tags),
        visibleAt: past(),
      };
      world.securityGroups.set(group.groupId, group);
      return group.groupId;
    },

    instanceProfile(spec) {
      const roleName = spec.roleName === null ? undefined : (spec.roleName ?? `${spec.name}-role`);
      const role = roleName
        ? (world.roles.get(roleName) ?? createRole(world, { roleName, roleId: spec.roleId }))
        : undefined;
      const profile = createInstanceProfile(world, {
        name: spec.name,
        instanceProfileId: spec.instanceProfileId,
        roleNames: role ? [role.roleName] : [],
      });
      return {
        name: spec.name,
        arn: profile.arn,
        instanceProfileId: profile.instanceProfileId,
        roleName: role?.roleName,
        roleArn: role?.arn,
      };
    },

    image(spec = {}) {
      const imageId = spec.imageId ?? world.newId("ami");
      const tags = tagsFrom(spec.tags);
      if (spec.kdumpReady) tags.set(KDUMP_READY_TAG, "true");
      world.images.set(imageId, {
        imageId,
        name: spec.name ?? `image-${imageId}`,
        description: spec.description ?? "",
        architecture: spec.architecture ?? "x86_64",
        rootDeviceType: spec.rootDeviceType ?? "ebs",
        rootDeviceName: spec.rootDeviceType === "instance-store" ? "/dev/sda1" : "/dev/xvda",
        rootVolumeSizeGiB: spec.rootVolumeSizeGiB ?? 8,
        kmsKeyId: spec.kmsKeyId,
        productCodes: [...(spec.productCodes ?? [])],
        tags,
        creationDate: world.now(),
      });
      return imageId;
    },

    launchTemplate(spec) {
      const launchTemplateId = spec.launchTemplateId ?? world.newId("lt");
      world.launchTemplates.set(launchTemplateId, {
        launchTemplateId,
        launchTemplateName: spec.name,
        imageId: spec.imageId,
        instanceType: spec.instanceType,
        securityGroupIds: spec.securityGroupIds ?? [],
        subnetId: spec.subnetId,
        instanceProfileArn: spec.instanceProfileArn,
        networkInterfaces: spec.networkInterfaces?.map((eni, index) => ({
          deviceIndex: eni.deviceIndex ?? index,
          subnetId: eni.subnetId,
          groupIds: eni.securityGroupIds ?? [],
          associatePublicIpAddress: eni.associatePublicIpAddress,
          deleteOnTermination: eni.deleteOnTermination,
        })),
        tags: tagsFrom(spec.tags),
        createTime: world.now(),
      });
      return { launchTemplateId, name: spec.name };
    },

    targetGroup(spec) {
      return createTargetGroup(world, {
        name: spec.name,
        vpcId: spec.vpcId,
        arn: spec.arn,
        port: spec.port,
        protocol: spec.protocol,
        deregistrationDelayMs:
          spec.deregistrationDelaySeconds !== undefined ? spec.deregistrationDelaySeconds * 1000 : undefined,
      }).targetGroupArn;
    },

    autoScalingGroup(spec) {
      const template = [...world.launchTemplates.values()].find(
        (t) => t.launchTemplateName === spec.launchTemplate || t.launchTemplateId === spec.launchTemplate,
      );
      if (!template) throw new Error(`scenario: launch template ${spec.launchTemplate} does not exist`);
      return createAutoScalingGroup(world, {
        name: spec.name,
        launchTemplateId: template.launchTemplateId,
        subnetIds: spec.subnetIds,
        minSize: spec.minSize ?? 1,
        maxSize: spec.maxSize ?? 10,
        desiredCapacity: spec.desiredCapacity ?? 0,
        targetGroupArns: spec.targetGroupArns,
        healthCheckType: spec.healthCheckType,
        healthCheckGracePeriodSeconds: spec.healthCheckGracePeriodSeconds,
      }).autoScalingGroupName;
    },

    instance(spec: InstanceSpec): CreatedInstance {
      const home = subnet(spec.subnetId);
      const instanceType = spec.instanceType ?? "m6i.large";
      const architecture = instanceTypeInfo(instanceType)?.architecture ?? "x86_64";
      const imageId = ensureImage(spec.imageId, architecture);
      const tags = tagsFrom(spec.tags);
      if (spec.kdumpReady) tags.set(KDUMP_READY_TAG, "true");
      if (spec.autoScalingGroup) tags.set(ASG_NAME_TAG, spec.autoScalingGroup);
      const instance = launchInstance(world, {
        instanceId: spec.instanceId,
        imageId,
        instanceType,
        networkInterfaces: [
          {
            subnetId: home.subnetId,
            securityGroupIds: spec.securityGroupIds ?? [defaultGroupOf(home.vpcId)],
            ...spec.primaryNetworkInterface,
          },
          ...(spec.extraNetworkInterfaces ?? []).map((eni) => ({
            networkInterfaceId: eni.networkInterfaceId,
            subnetId: eni.subnetId ?? home.subnetId,
            securityGroupIds: eni.securityGroupIds ?? [defaultGroupOf(home.vpcId)],
            privateIpAddress: eni.privateIpAddress,
            publicIp: eni.publicIp,
          })),
        ],
        rootDeviceType: spec.rootDeviceType,
        rootVolume: spec.rootVolume && volumeRequest(spec.rootVolume),
        dataVolumes: spec.dataVolumes?.map(volumeRequest),
        tags,
        instanceProfileArn: spec.instanceProfile,
        market: spec.market,
        hibernation: spec.hibernation,
        shutdownBehavior: spec.shutdownBehavior,
        disableApiTermination: spec.disableApiTermination,
        keyName: spec.keyName,
        initialState: "running",
        launchTime: spec.launchTime ?? world.now() - 3_600_000,
        consoleOutput: spec.consoleOutput,
      });
      // Scenario resources exist "since before the test": no consistency window.
      instance.visibleAt = past();
      for (const eniId of instance.networkInterfaceIds) {
        const eni = world.networkInterfaces.get(eniId);
        if (eni) eni.visibleAt = past();
      }
      const volumeIds = instance.blockDevices.map((b) => b.volumeId);
      for (const volumeId of volumeIds) {
        const volume = world.volumes.get(volumeId);
        if (volume) volume.visibleAt = past();
      }
      if (spec.autoScalingGroup) {
        const group = world.autoScalingGroups.get(spec.autoScalingGroup);
        if (!group) throw new Error(`scenario: Auto Scaling group ${spec.autoScalingGroup} does not exist`);
        addMember(world, group, instance, "InService");
        group.desiredCapacity = Math.max(group.desiredCapacity, group.members.length);
      }
      for (const arn of spec.targetGroupArns ?? []) {
        const targetGroup = world.targetGroups.get(arn);
        if (!targetGroup) throw new Error(`scenario: target group ${arn} does not exist`);
        if (!targetGroup.targets.some((t) => t.id === instance.instanceId)) {
          registerTarget(world, targetGroup, instance.instanceId, targetGroup.port);
        }
      }
      // Registered long ago: healthy now.
      for (const targetGroup of world.targetGroups.values()) {
        for (const target of targetGroup.targets)
          if (target.id === instance.instanceId) target.transitionAt = past();
      }
      if (spec.state === "stopped") {
        beginStop(world, instance, { initiatedBy: "user", force: true });
        world.setInstanceState(instance, "stopped");
      }
      return {
        instanceId: instance.instanceId,
        networkInterfaceIds: [...instance.networkInterfaceIds],
        volumeIds,
      };
    },

    bucket(name) {
      if (!world.buckets.has(name))
        world.buckets.set(name, { name, createdAt: world.now(), objects: new Map() });
      return name;
    },

    topic(name) {
      const arn = `arn:aws:sns:${world.region}:${world.accountId}:${name}`;
      if (!world.topics.has(arn)) world.topics.set(arn, { topicArn: arn, messages: [] });
      return arn;
    },

    fromFinding(event, options = {}) {
      const details = event.detail.resource.instanceDetails as FindingInstanceDetails | undefined;
      if (!details)
        throw new Error("scenario: the event has no resource.instanceDetails (not an EC2 finding)");
      const enis = details.networkInterfaces ?? [];
      const first = enis[0];
      if (!first) throw new Error("scenario: the finding lists no network interface");
      if (!world.vpcs.has(first.vpcId)) {
        const subnets = [...new Set(enis.map((e) => e.subnetId))].map((subnetId) => ({
          subnetId,
          availabilityZone: details.availabilityZone,
        }));
        builder.vpc({ vpcId: first.vpcId, subnets });
      }
      for (const eni of enis) {
        for (const sg of eni.securityGroups ?? []) {
          if (!world.securityGroups.has(sg.groupId)) {
            builder.securityGroup({ groupId: sg.groupId, vpcId: eni.vpcId, groupName: sg.groupName });
          }
        }
      }
      const profileName = details.iamInstanceProfile?.arn.split("/").pop();
      if (profileName && !world.instanceProfiles.has(profileName)) {
        builder.instanceProfile({ name: profileName, instanceProfileId: details.iamInstanceProfile?.id });
      }
      if (!world.images.has(details.imageId)) {
        builder.image({ imageId: details.imageId, description: details.imageDescription ?? "" });
      }
      const tags = Object.fromEntries((details.tags ?? []).map((t) => [t.key, t.value]));
      const asgName = tags[ASG_NAME_TAG];
      delete tags[ASG_NAME_TAG];
      if (asgName && !world.autoScalingGroups.has(asgName)) {
        const template = builder.launchTemplate({
          name: `${asgName}-lt`,
          imageId: details.imageId,
          instanceType: options.instanceType ?? details.instanceType,
          securityGroupIds: (first.securityGroups ?? []).map((g) => g.groupId),
          instanceProfileArn: details.iamInstanceProfile?.arn,
        });
        builder.autoScalingGroup({
          name: asgName,
          launchTemplate: template.name,
          subnetIds: [first.subnetId],
        });
      }
      return builder.instance({
        instanceId: details.instanceId,
        instanceType: options.instanceType ?? details.instanceType,
        imageId: details.imageId,
        subnetId: first.subnetId,
        securityGroupIds: (first.securityGroups ?? []).map((g) => g.groupId),
        primaryNetworkInterface: {
          networkInterfaceId: first.networkInterfaceId,
          privateIpAddress: first.privateIpAddress,
          publicIp: first.publicIp ?? undefined,
        },
        extraNetworkInterfaces: enis.slice(1).map((eni) => ({
          networkInterfaceId: eni.networkInterfaceId,
          subnetId: eni.subnetId,
          securityGroupIds: (eni.securityGroups ?? []).map((g) => g.groupId),
          privateIpAddress: eni.privateIpAddress,
          publicIp: eni.publicIp ?? undefined,
        })),
        dataVolumes: [{ sizeGiB: 50 }],
        instanceProfile: details.iamInstanceProfile?.arn,
        autoScalingGroup: asgName,
        kdumpReady: options.kdumpReady,
        tags,
        launchTime: Date.parse(details.launchTime),
      });
    },

    findingFor(instanceId, options: FindingOptions = {}) {
      const instance = world.instances.get(instanceId);
      if (!instance) throw new Error(`scenario: instance ${instanceId} does not exist`);
      const image = world.images.get(instance.imageId);
      const association = world.iamAssociationFor(instanceId);
      const accountId = options.accountId ?? world.accountId;
      const region = options.region ?? world.region;
      const findingId = options.findingId ?? world.random.hex(32);
      const type = options.type ?? "CryptoCurrency:EC2/BitcoinTool.B!DNS";
      const now = new Date(world.now()).toISOString();
      const sample = options.sample ?? false;
      const detectorId = "12abc34d567e8fa901bc2d34e56789f0";
      return {
        version: "0",
        id: randomUUID(),
        "detail-type": "GuardDuty Finding",
        source: options.source ?? "aws.guardduty",
        account: accountId,
        time: now.replace(/\.\d+Z$/, "Z"),
        region,
        resources: [],
        detail: {
          schemaVersion: "2.0",
          accountId,
          region,
          partition: "aws",
          id: findingId,
          arn: `arn:aws:guardduty:${region}:${accountId}:detector/${detectorId}/finding/${findingId}`,
          type,
          resource: {
            resourceType: "Instance",
            instanceDetails: {
              instanceId,
              instanceType: instance.instanceType,
              outpostArn: null,
              launchTime: new Date(instance.launchTime).toISOString(),
              platform: null,
              productCodes: [],
              iamInstanceProfile: association
                ? { arn: association.instanceProfileArn, id: association.instanceProfileId }
                : null,
              networkInterfaces: instance.networkInterfaceIds.map((eniId) => {
                const eni = world.networkInterfaces.get(eniId);
                const dns = eni
                  ? `ip-${eni.privateIpAddress.replace(/\./g, "-")}.${region}.compute.internal`
                  : "";
                return {
                  ipv6Addresses: [],
                  networkInterfaceId: eniId,
                  privateDnsName: dns,
                  privateIpAddress: eni?.privateIpAddress,
                  privateIpAddresses: [{ privateDnsName: dns, privateIpAddress: eni?.privateIpAddress }],
                  subnetId: eni?.subnetId,
                  vpcId: eni?.vpcId,
                  securityGroups: (eni?.groupIds ?? []).map((groupId) => ({
                    groupName: world.securityGroups.get(groupId)?.groupName ?? "",
                    groupId,
                  })),
                  publicDnsName: "",
                  publicIp: eni?.publicIp ?? null,
                };
              }),
              tags: [...instance.tags].map(([key, value]) => ({ key, value })),
              instanceState: instance.state,
              availabilityZone: instance.availabilityZone,
              imageId: instance.imageId,
              imageDescription: image?.description ?? "",
            },
          },
          service: {
            serviceName: "guardduty",
            detectorId,
            action: {
              actionType: "DNS_REQUEST",
              dnsRequestAction: { domain: "pool.example-mining.net", protocol: "UDP", blocked: false },
            },
            resourceRole: "ACTOR",
            additionalInfo: sample
              ? { sample: true, type: "default", value: '{"sample":true}' }
              : { value: "{}", type: "default" },
            eventFirstSeen: now,
            eventLastSeen: now,
            archived: false,
            count: 1,
          },
          severity: options.severity ?? 8,
          createdAt: now,
          updatedAt: now,
          title: `EC2 instance ${instanceId} is showing ${type}.`,
          description: `EC2 instance ${instanceId} is showing ${type}.`,
        },
      } satisfies GuardDutyEvent;
    },

    ssmParameter(name, value) {
      world.ssmParameters.set(name, value);
    },

    kmsAccess(authorize) {
      world.authorizeKms = authorize;
    },

    snapshotsCompletedEvent(instanceId, snapshots) {
      const region = world.region;
      return {
        version: "0",
        id: `completion-${instanceId}`,
        "detail-type": "EBS Multi-Volume Snapshots Completion Status",
        source: "aws.ec2",
        account: world.accountId,
        region,
        time: new Date(world.now()).toISOString(),
        resources: [`arn:aws:ec2:${region}::instance/${instanceId}`],
        detail: {
          event: "createSnapshots",
          result: "succeeded",
          cause: "",
          "request-id": "",
          snapshots: snapshots.map((snapshot) => ({
            snapshot_id: `arn:aws:ec2:${region}::snapshot/${snapshot.snapshotId}`,
            source: `arn:aws:ec2:${region}::volume/${snapshot.volumeId}`,
            status: "completed",
          })),
        },
      };
    },
  };
  return builder;
}

interface FindingInstanceDetails {
  instanceId: string;
  instanceType: string;
  launchTime: string;
  imageId: string;
  imageDescription?: string;
  availabilityZone: string;
  iamInstanceProfile?: { arn: string; id: string } | null;
  tags?: { key: string; value: string }[];
  networkInterfaces?: {
    networkInterfaceId: string;
    subnetId: string;
    vpcId: string;
    privateIpAddress?: string;
    publicIp?: string | null;
    securityGroups?: { groupName: string; groupId: string }[];
  }[];
}
