import type { RunInstancesCommandOutput } from "@aws-sdk/client-ec2";

import { describeError, failureOutcome, ResponderError } from "../../errors";
import { type TargetRegistration, recordedInstance, recordProblem } from "../../incidentRecord";
import { describeInstance } from "../../instanceDescription";
import {
  ec2Mutation,
  plainMutation,
  nextLook,
  type Mutation,
  type ResponseContext,
} from "../../responseContext";
import { configuredResponderGroupIds } from "../../securityGroups";
import { instanceProfileNameOf } from "../cutAccess/instanceProfile";
import { done, failed, skipped, waiting, type StepResult } from "../stepResult";
import {
  launchRefusal,
  passRoleDecision,
  planReplacement,
  replacementRequest,
  type LaunchTemplateFacts,
  type ReplacementSource,
} from "./launchPlan";

const SOURCE_LABEL = { "launch-template": "launch template", configuration: "configuration" } as const;

const REPLACEMENT_BOOT_TIMEOUT_MS = 15 * 60 * 1000;

/** The responder's own groups: configured for the VPCs and made on demand for this incident. */
function responderGroupIds(context: ResponseContext): Set<string> {
  const ids = configuredResponderGroupIds(context.settings.vpcSecurityGroups);
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
class TemplateProfileNotPassable extends ResponderError {}

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
