// The environment a GuardDuty finding describes, built so that the finding's instance exists with its ids.
import type { CreatedInstance, GuardDutyEvent } from "../api";
import { ASG_NAME_TAG } from "../lifecycle/autoScaling";
import { instance } from "./instance";
import { securityGroup, vpc } from "./network";
import { autoScalingGroup, image, instanceProfile, launchTemplate } from "./resources";
import type { ScenarioState } from "./state";

/** What fromFinding reads of a finding's `resource.instanceDetails`. */
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

export function fromFinding(
  state: ScenarioState,
  event: GuardDutyEvent,
  options: { kdumpReady?: boolean; instanceType?: string } = {},
): CreatedInstance {
  const { world } = state;
  const details = event.detail.resource.instanceDetails as FindingInstanceDetails | undefined;
  if (!details) throw new Error("scenario: the event has no resource.instanceDetails (not an EC2 finding)");
  const enis = details.networkInterfaces ?? [];
  const first = enis[0];
  if (!first) throw new Error("scenario: the finding lists no network interface");
  const groupIdsOf = (eni: (typeof enis)[number]) => (eni.securityGroups ?? []).map((g) => g.groupId);
  if (!world.vpcs.has(first.vpcId)) {
    const subnets = [...new Set(enis.map((e) => e.subnetId))].map((subnetId) => ({
      subnetId,
      availabilityZone: details.availabilityZone,
    }));
    vpc(state, { vpcId: first.vpcId, subnets });
  }
  for (const eni of enis) {
    for (const sg of eni.securityGroups ?? []) {
      if (!world.securityGroups.has(sg.groupId)) {
        securityGroup(state, { groupId: sg.groupId, vpcId: eni.vpcId, groupName: sg.groupName });
      }
    }
  }
  const profileName = details.iamInstanceProfile?.arn.split("/").pop();
  if (profileName && !world.instanceProfiles.has(profileName)) {
    instanceProfile(state, { name: profileName, instanceProfileId: details.iamInstanceProfile?.id });
  }
  if (!world.images.has(details.imageId)) {
    image(state, { imageId: details.imageId, description: details.imageDescription ?? "" });
  }
  const tags = Object.fromEntries((details.tags ?? []).map((t) => [t.key, t.value]));
  const asgName = tags[ASG_NAME_TAG];
  delete tags[ASG_NAME_TAG];
  if (asgName && !world.autoScalingGroups.has(asgName)) {
    const template = launchTemplate(state, {
      name: `${asgName}-lt`,
      imageId: details.imageId,
      instanceType: options.instanceType ?? details.instanceType,
      securityGroupIds: groupIdsOf(first),
      instanceProfileArn: details.iamInstanceProfile?.arn,
    });
    autoScalingGroup(state, { name: asgName, launchTemplate: template.name, subnetIds: [first.subnetId] });
  }
  return instance(state, {
    instanceId: details.instanceId,
    instanceType: options.instanceType ?? details.instanceType,
    imageId: details.imageId,
    subnetId: first.subnetId,
    securityGroupIds: groupIdsOf(first),
    primaryNetworkInterface: {
      networkInterfaceId: first.networkInterfaceId,
      privateIpAddress: first.privateIpAddress,
      publicIp: first.publicIp ?? undefined,
    },
    extraNetworkInterfaces: enis.slice(1).map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId,
      subnetId: eni.subnetId,
      securityGroupIds: groupIdsOf(eni),
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
}
