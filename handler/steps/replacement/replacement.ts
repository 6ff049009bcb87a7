import type { RunInstancesCommandInput, RunInstancesCommandOutput } from "@aws-sdk/client-ec2";

import { clientToken } from "../clientToken";
import {
  type InstanceFacts,
  type TargetRegistration,
  recordedInstance,
  recordProblem,
} from "../incidentRecord";
import { describeError } from "../errors";
import { describeInstance } from "../instanceDescription";
import {
  ec2Mutation,
  plainMutation,
  nextLook,
  type Mutation,
  type ResponseContext,
} from "../responseContext";
import type { ReplacementMode } from "../settings";
import { MANAGED_BY_VALUE, TAG_INCIDENT, TAG_MANAGED_BY, TAG_RESPONDER_MADE } from "../tags";
import { instanceProfileNameOf } from "./cutAccess";
import { failureOutcome } from "./snapshotVolumes";
import { done, failed, skipped, waiting, type StepResult } from "./stepResult";

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
export const EC2_MAX_USER_TAGS = 50;

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

const SOURCE_LABEL = { "launch-template": "launch template", configuration: "configuration" } as const;

const REPLACEMENT_BOOT_TIMEOUT_MS = 15 * 60 * 1000;

/** The responder's own groups: configured for the VPCs and made on demand for this incident (pure). */
function responderGroupIds(context: ResponseContext): Set<string> {
  const ids = new Set<string>();
  for (const groups of Object.values(context.settings.vpcSecurityGroups))
    for (const id of [groups.untrack, groups.isolation, groups.forensic]) if (id) ids.add(id);
  for (const pair of Object.values(context.record.facts.isolationGroups ?? {})) {
    ids.add(pair.untrack);
    ids.add(pair.isolation);
  }
  return ids;
}

async function describeTemplate(
  context: ResponseContext,
  template: { id: string; version?: string },
): Promise<LaunchTemplateFacts> {
  const answer = await context.aws.ec2.describeLaunchTemplateVersions({
    LaunchTemplateId: template.id,
    Versions: [template.version ?? "$Default"],
  });
  const data = answer.LaunchTemplateVersions?.[0]?.LaunchTemplateData;
  if (data === undefined) throw new Error(`launch template ${template.id} answered without its data`);
  return {
    imageId: data.ImageId,
    instanceProfile: data.IamInstanceProfile?.Arn ?? data.IamInstanceProfile?.Name,
    networkInterfaces: (data.NetworkInterfaces ?? []).map((eni) => ({
      deviceIndex: eni.DeviceIndex ?? 0,
      associatePublicIpAddress: eni.AssociatePublicIpAddress,
      deleteOnTermination: eni.DeleteOnTermination,
    })),
  };
}

/** The role ARNs of an instance profile; undefined when IAM does not answer. */
async function roleArnsOf(context: ResponseContext, profile: string): Promise<string[] | undefined> {
  try {
    const answer = await context.aws.iam.getInstanceProfile({
      InstanceProfileName: instanceProfileNameOf(profile),
    });
    return (answer.InstanceProfile?.Roles ?? []).flatMap((role) =>
      role.Arn === undefined ? [] : [role.Arn],
    );
  } catch (error) {
    context.logger.warn("instance profile not readable; the replacement goes without it", {
      profile,
      error: describeError(error),
    });
    return undefined;
  }
}

/** The template's profile carries a role the responder may not pass: the template cannot be used. */
class TemplateProfileNotPassable extends Error {}

/**
 * Launches the replacement: from the launch template when the instance came from one and the template can be
 * used, else from the instance's configuration. The template cannot be used when it cannot be read, when its
 * profile's role may not be passed (a template's profile cannot be left out), or when EC2 refuses the launch (a
 * Systems Manager parameter that does not resolve, for example); each reason is noted.
 */
async function launchReplacement(
  context: ResponseContext,
  initial: ReplacementSource,
  notes: string[],
): Promise<{ launched: Mutation<RunInstancesCommandOutput>; from: ReplacementSource }> {
  const { record, aws, settings } = context;
  const instance = recordedInstance(record);
  const attempt = async (from: ReplacementSource, tokenPurpose: string) => {
    const template =
      from === "launch-template" && instance.launchTemplate !== undefined
        ? await describeTemplate(context, instance.launchTemplate)
        : undefined;
    const profile =
      from === "launch-template" ? template?.instanceProfile : record.facts.originalInstanceProfileArn;
    let passedProfile: string | undefined;
    if (profile !== undefined) {
      const decision = passRoleDecision(
        profile,
        await roleArnsOf(context, profile),
        settings.replacementPassableRoleArns,
      );
      if (decision.pass) passedProfile = profile;
      else {
        notes.push(decision.note);
        if (from === "launch-template") throw new TemplateProfileNotPassable(decision.note);
      }
    }
    const request = replacementRequest(
      instance,
      record.incidentId,
      from === "configuration" ? passedProfile : undefined,
      {
        from,
        template,
        tokenPurpose,
      },
    );
    return ec2Mutation(context, `launch a replacement from its ${SOURCE_LABEL[from]}`, (DryRun) =>
      aws.ec2.runInstances({ ...request, DryRun }),
    );
  };
  if (initial === "launch-template") {
    try {
      return { launched: await attempt("launch-template", "replacement"), from: "launch-template" };
    } catch (error) {
      if (instance.imageId === undefined) throw error;
      // Only a refusal means nothing was launched: a lost answer (5xx, timeout) is not followed by a second launch.
      const refused = error instanceof TemplateProfileNotPassable || failureOutcome(error) === "refused";
      if (!refused) throw error;
      notes.push(
        error instanceof TemplateProfileNotPassable
          ? "the launch template carries that profile: launched from the instance's configuration"
          : `launch template not usable (${describeError(error)}): launched from the instance's configuration`,
      );
      return { launched: await attempt("configuration", "replacement:configuration"), from: "configuration" };
    }
  }
  return { launched: await attempt("configuration", "replacement"), from: "configuration" };
}

/**
 * Step 8: keep the service running. Started as soon as containment is done. With an Auto Scaling group the
 * group launches the replacement (the instance was detached with capacity kept); otherwise, when configured,
 * the responder launches one and registers it in the target groups the original was in. A replacement that
 * cannot be launched, or dies on launch, is recorded (step failed, a problem in the report): it never stops the
 * response, whose evidence and containment do not depend on it.
 */
export async function replacement(context: ResponseContext): Promise<StepResult> {
  const { record, settings } = context;
  const facts = record.facts;
  const instance = recordedInstance(record);
  const plan = planReplacement(facts.autoScalingGroupName, settings.replacement, instance);
  if (plan.by === "auto-scaling-group") {
    facts.replacement = {
      by: "auto-scaling-group",
      reason: `Auto Scaling group ${plan.groupName} launches the replacement`,
    };
    return done(`replaced by Auto Scaling group ${plan.groupName} (capacity kept)`);
  }
  if (plan.by === "none") {
    facts.replacement = { by: "none", reason: plan.reason };
    return skipped(plan.reason);
  }
  try {
    return await launchAndRegister(context, plan.from);
  } catch (error) {
    const reason = `replacement failed: ${describeError(error)}`;
    facts.replacement = { ...facts.replacement, by: "launch", reason };
    context.logger.warn("replacement failed; the response goes on", { error: describeError(error) });
    return failed(reason);
  }
}

async function launchAndRegister(context: ResponseContext, initial: ReplacementSource): Promise<StepResult> {
  const { record, aws } = context;
  const facts = record.facts;
  const instance = recordedInstance(record);
  let replacementId = facts.replacement?.instanceId;
  if (replacementId === undefined) {
    const refusal = launchRefusal(instance, responderGroupIds(context));
    if (refusal !== undefined) {
      const reason = `no replacement launched: ${refusal}`;
      facts.replacement = { by: "launch", reason };
      return failed(reason);
    }
    const notes: string[] = [];
    const { launched, from } = await launchReplacement(context, initial, notes);
    for (const note of notes) recordProblem(facts, "replacement", note);
    const noted = notes.length === 0 ? "" : ` (${notes.join("; ")})`;
    if (!launched.made) return done(`would launch a replacement from its ${SOURCE_LABEL[from]}${noted}`);
    replacementId = launched.value.Instances?.[0]?.InstanceId;
    if (replacementId === undefined) throw new Error("RunInstances answered without an instance id");
    facts.replacement = {
      by: "launch",
      instanceId: replacementId,
      reason: `launched from its ${SOURCE_LABEL[from]}${noted}`,
    };
  }
  const launchedFrom = facts.replacement?.reason ?? "launched";

  // Running is what counts: a launch EC2 accepted can still end at once (Client.InternalError when it cannot
  // use the image's KMS key), and targets must be running to register.
  const launchedAt = Date.parse(record.steps.replacement?.startedAt ?? new Date().toISOString());
  const newId = replacementId;
  // Just launched: not visible yet (eventual consistency) reads as still pending.
  const current = await describeInstance(aws, newId);
  const state = current?.State?.Name ?? "pending";
  const bootDeadline = launchedAt + REPLACEMENT_BOOT_TIMEOUT_MS;
  if (state === "pending" && Date.now() < bootDeadline) {
    return waiting(`replacement ${newId} pending`, nextLook(context, launchedAt, bootDeadline));
  }
  if (state !== "running") {
    const why = current?.StateReason?.Message ? ` (${current.StateReason.Message})` : "";
    const reason = `replacement ${newId} is ${state}${why}`;
    facts.replacement = { by: "launch", instanceId: newId, reason: `${launchedFrom}; then ${state}${why}` };
    return failed(reason);
  }

  const registrations: TargetRegistration[] = facts.targetRegistrations ?? [];
  if (registrations.length === 0) return done(`replacement ${newId} ${launchedFrom}`);
  await Promise.all(
    registrations.map((registration) =>
      plainMutation(context, `register ${newId} in ${registration.targetGroupArn}`, () =>
        aws.loadBalancing.registerTargets({
          TargetGroupArn: registration.targetGroupArn,
          Targets: [{ Id: newId, Port: registration.port }],
        }),
      ),
    ),
  );
  return done(
    `replacement ${newId} ${launchedFrom} and registered in ${registrations.length} target group(s)`,
  );
}
