// replacement, the pure decisions: who replaces the instance, and the RunInstances request of a launch.
import type { RunInstancesCommandInput } from "@aws-sdk/client-ec2";

import { clientToken } from "../../clientToken";
import type { InstanceFacts } from "../../incidentRecord";
import type { ReplacementMode } from "../../settings";
import { MANAGED_BY_VALUE, TAG_INCIDENT, TAG_MANAGED_BY, TAG_RESPONDER_MADE } from "../../tags";

export type ReplacementPlan =
  | { readonly by: "auto-scaling-group"; readonly groupName: string }
  | { readonly by: "launch"; readonly from: "launch-template" | "configuration" }
  | { readonly by: "none"; readonly reason: string };

/** Who keeps the service running (pure): the Auto Scaling group, a launch by the responder, or nobody. */
export function planReplacement(
  autoScalingGroupName: string | undefined,
  mode: ReplacementMode,
  instance: Pick<InstanceFacts, "launchTemplate" | "imageId">,
): ReplacementPlan {
  if (autoScalingGroupName !== undefined)
    return { by: "auto-scaling-group", groupName: autoScalingGroupName };
  if (mode === "off") return { by: "none", reason: "not in an Auto Scaling group and REPLACEMENT=off" };
  if (instance.launchTemplate !== undefined) return { by: "launch", from: "launch-template" };
  if (instance.imageId !== undefined) return { by: "launch", from: "configuration" };
  return { by: "none", reason: "no launch template and no image to launch a replacement from" };
}

/** EC2's limit of user tags per resource ("aws:" tags do not count). */
const EC2_MAX_USER_TAGS = 50;

/**
 * Tags the replacement keeps from the original (pure): its own, minus AWS's and the incident's, and no more than
 * fit beside the responder's tags within EC2's 50-tag limit (RunInstances refuses the whole launch otherwise).
 * Name first (what people and dashboards find it by), then the others in the order the instance lists them.
 */
export function replacementTags(
  original: Readonly<Record<string, string>>,
  room: number,
): { Key: string; Value: string }[] {
  const candidates = Object.entries(original).filter(
    ([key]) => !key.startsWith("aws:") && key !== TAG_INCIDENT && key !== TAG_RESPONDER_MADE,
  );
  const nameFirst = [
    ...candidates.filter(([key]) => key === "Name"),
    ...candidates.filter(([key]) => key !== "Name"),
  ];
  return nameFirst.slice(0, Math.max(0, room)).map(([Key, Value]) => ({ Key, Value }));
}

/** What the replacement takes from the instance's launch template (DescribeLaunchTemplateVersions). */
export interface LaunchTemplateFacts {
  /** An AMI id, or a Systems Manager parameter ("resolve:ssm:...") that EC2 resolves at launch. */
  readonly imageId?: string;
  /** The template's instance profile (ARN or name): launching from the template passes its role. */
  readonly instanceProfile?: string;
  /** The network interfaces the template defines: groups and subnet then go into NetworkInterfaces. */
  readonly networkInterfaces: readonly {
    readonly deviceIndex: number;
    readonly associatePublicIpAddress?: boolean;
    readonly deleteOnTermination?: boolean;
  }[];
}

export type ReplacementSource = "launch-template" | "configuration";

/**
 * The RunInstances request for a replacement (pure): the launch template when the instance came from one,
 * otherwise its own configuration; in both cases the ORIGINAL security groups of its primary ENI (the compromised
 * instance now sits in the isolation group) and its subnet. A template that defines network interfaces takes
 * groups and subnet only inside NetworkInterfaces: RunInstances refuses instance-level SubnetId or
 * SecurityGroupIds beside them (InvalidParameterCombination). The profile is only ever the configuration's,
 * and only when its role may be passed (the caller decides); a template's profile comes with the template.
 */
export function replacementRequest(
  instance: InstanceFacts,
  incidentId: string,
  originalProfileArn: string | undefined,
  options: { from?: ReplacementSource; template?: LaunchTemplateFacts; tokenPurpose?: string } = {},
): RunInstancesCommandInput {
  const primary = instance.networkInterfaces[0];
  const from = options.from ?? (instance.launchTemplate !== undefined ? "launch-template" : "configuration");
  const responderTags = [
    { Key: TAG_RESPONDER_MADE, Value: "replacement" },
    { Key: TAG_INCIDENT, Value: incidentId },
    { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
  ];
  const tags = [
    ...replacementTags(instance.tags, EC2_MAX_USER_TAGS - responderTags.length),
    ...responderTags,
  ];
  const subnetId = primary?.subnetId ?? instance.subnetId;
  const groupIds = primary?.originalGroupIds.length ? [...primary.originalGroupIds] : undefined;
  const templateInterfaces = from === "launch-template" ? (options.template?.networkInterfaces ?? []) : [];
  let placement: Partial<RunInstancesCommandInput> = { SubnetId: subnetId, SecurityGroupIds: groupIds };
  if (templateInterfaces.length > 0) {
    const own = templateInterfaces.find((eni) => eni.deviceIndex === 0);
    placement = {
      NetworkInterfaces: [
        {
          DeviceIndex: 0,
          SubnetId: subnetId,
          Groups: groupIds,
          ...(own?.associatePublicIpAddress === undefined
            ? {}
            : { AssociatePublicIpAddress: own.associatePublicIpAddress }),
          ...(own?.deleteOnTermination === undefined ? {} : { DeleteOnTermination: own.deleteOnTermination }),
        },
      ],
    };
  }
  const common: RunInstancesCommandInput = {
    ClientToken: clientToken(incidentId, options.tokenPurpose ?? "replacement"),
    MinCount: 1,
    MaxCount: 1,
    ...placement,
    TagSpecifications: [{ ResourceType: "instance", Tags: tags }],
  };
  if (from === "launch-template" && instance.launchTemplate !== undefined) {
    return {
      ...common,
      LaunchTemplate: {
        LaunchTemplateId: instance.launchTemplate.id,
        Version: instance.launchTemplate.version ?? "$Default",
      },
    };
  }
  return {
    ...common,
    ImageId: instance.imageId,
    InstanceType: instance.instanceType as never,
    KeyName: instance.keyName,
    IamInstanceProfile: originalProfileArn === undefined ? undefined : { Arn: originalProfileArn },
  };
}

/**
 * Why no replacement may be launched (pure), or undefined: never without the original's own security groups
 * (EC2 would put it in the VPC's default group, or the template's), and never into one of the responder's own
 * groups (untrack, isolation, forensic): a replacement there would be open to the world or cut off.
 */
export function launchRefusal(
  instance: Pick<InstanceFacts, "networkInterfaces">,
  responderGroupIds: ReadonlySet<string>,
): string | undefined {
  const primary = instance.networkInterfaces[0];
  const groups = primary?.originalGroupIds ?? [];
  if (groups.length === 0) return "the original security groups of the primary interface are not known";
  const ours = groups.filter((group) => responderGroupIds.has(group));
  if (ours.length > 0) return `the recorded original groups include the responder's own ${ours.join(", ")}`;
  return undefined;
}

/**
 * Whether the replacement may carry a profile (pure): RunInstances with a profile needs iam:PassRole on its role,
 * which the responder is granted only for REPLACEMENT_PASSABLE_ROLE_ARNS. A profile without a role passes
 * nothing. `roleArns` undefined: the profile could not be read, so it is not passed either.
 */
export function passRoleDecision(
  profile: string,
  roleArns: readonly string[] | undefined,
  passable: readonly string[],
): { pass: true } | { pass: false; note: string } {
  if (roleArns === undefined)
    return { pass: false, note: `instance profile ${profile} not passed: its role could not be read` };
  const refused = roleArns.filter((arn) => !passable.includes(arn));
  if (refused.length === 0) return { pass: true };
  return {
    pass: false,
    note: `instance profile ${profile} not passed: role ${refused.join(", ")} is not in REPLACEMENT_PASSABLE_ROLE_ARNS`,
  };
}
