import type { RunInstancesCommandInput } from "@aws-sdk/client-ec2";

import { clientToken } from "../clientToken";
import { type InstanceFacts, type TargetRegistration, recordedInstance } from "../incidentRecord";
import { describeInstance } from "../instanceDescription";
import { ec2Mutation, plainMutation, pollUntil, type ResponseContext } from "../responseContext";
import type { ReplacementMode } from "../settings";
import { MANAGED_BY_VALUE, TAG_INCIDENT, TAG_MANAGED_BY, TAG_RESPONDER_MADE } from "../tags";
import { done, failed, skipped, type StepResult } from "./stepResult";

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

/**
 * The RunInstances request for a replacement (pure): the launch template when the instance came from one,
 * otherwise its own configuration; in both cases the ORIGINAL security groups of its primary ENI (the compromised
 * instance now sits in the isolation group) and its subnet.
 */
export function replacementRequest(
  instance: InstanceFacts,
  incidentId: string,
  originalProfileArn: string | undefined,
): RunInstancesCommandInput {
  const primary = instance.networkInterfaces[0];
  const responderTags = [
    { Key: TAG_RESPONDER_MADE, Value: "replacement" },
    { Key: TAG_INCIDENT, Value: incidentId },
    { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
  ];
  const tags = [
    ...replacementTags(instance.tags, EC2_MAX_USER_TAGS - responderTags.length),
    ...responderTags,
  ];
  const common: RunInstancesCommandInput = {
    ClientToken: clientToken(incidentId, "replacement"),
    MinCount: 1,
    MaxCount: 1,
    SubnetId: primary?.subnetId ?? instance.subnetId,
    SecurityGroupIds: primary?.originalGroupIds.length ? [...primary.originalGroupIds] : undefined,
    TagSpecifications: [{ ResourceType: "instance", Tags: tags }],
  };
  if (instance.launchTemplate !== undefined) {
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

const SOURCE_LABEL = { "launch-template": "launch template", configuration: "configuration" } as const;

const REPLACEMENT_BOOT_TIMEOUT_MS = 15 * 60 * 1000;

/**
 * Step 8: keep the service running. Started as soon as containment is done. With an Auto Scaling group the
 * group launches the replacement (the instance was detached with capacity kept); otherwise, when configured,
 * the responder launches one and registers it in the target groups the original was in.
 */
export async function replacement(context: ResponseContext): Promise<StepResult> {
  const { record, aws, settings } = context;
  const facts = record.facts;
  const instance = recordedInstance(record);
  const plan = planReplacement(facts.autoScalingGroupName, settings.replacement, instance);
  const source = plan.by === "launch" ? SOURCE_LABEL[plan.from] : "";
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

  let replacementId = facts.replacement?.instanceId;
  if (replacementId === undefined) {
    const request = replacementRequest(instance, record.incidentId, facts.originalInstanceProfileArn);
    const launched = await ec2Mutation(context, `launch a replacement from its ${source}`, (DryRun) =>
      aws.ec2.runInstances({ ...request, DryRun }),
    );
    if (!launched.made) return done(`would launch a replacement from its ${source}`);
    replacementId = launched.value.Instances?.[0]?.InstanceId;
    if (replacementId === undefined) throw new Error("RunInstances answered without an instance id");
    facts.replacement = { by: "launch", instanceId: replacementId, reason: `launched from its ${source}` };
    await context.checkpoint();
  }

  const registrations: TargetRegistration[] = facts.targetRegistrations ?? [];
  if (registrations.length === 0) return done(`replacement ${replacementId} launched from its ${source}`);
  // Targets must be running to register.
  const launchedAt = Date.parse(record.steps.replacement?.startedAt ?? new Date().toISOString());
  const newId = replacementId;
  const state = await pollUntil(context, launchedAt + REPLACEMENT_BOOT_TIMEOUT_MS, async () => {
    // Just launched: not visible yet (eventual consistency) reads as still pending.
    const current = (await describeInstance(aws, newId))?.State?.Name ?? "pending";
    return current === "pending" ? undefined : current;
  });
  if (state !== "running")
    return failed(`replacement ${newId} is ${state ?? "still pending"}: not registered`);
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
    `replacement ${newId} launched from its ${source} and registered in ${registrations.length} target group(s)`,
  );
}
