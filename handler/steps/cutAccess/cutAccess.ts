import { InstanceGoneError, StepFailedError, describeError, instanceGoneError } from "../../errors";
import { type InstanceFacts, recordedInstance, recordProblem } from "../../incidentRecord";
import { ec2Mutation, isAlreadyDone, plainMutation, type ResponseContext } from "../../responseContext";
import { TAG_INCIDENT } from "../../tags";
import { done, type StepResult } from "../stepResult";
import { recordAttributesAsFound } from "./asFound";
import { replaceInstanceProfile } from "./instanceProfile";
import { deregisterFromTargetGroups } from "./targetGroups";

const SPOT_SHUTDOWN_REFUSALS = [
  "UnsupportedOperation",
  "InvalidParameterCombination",
  "UnsupportedInstanceAttribute",
];

/**
 * EC2's answer to termination protection on a Spot instance: "You can't enable termination protection for Spot
 * Instances" (ModifyInstanceAttribute), UnsupportedOperation "Modifying 'disableApiTermination' is not supported
 * for spot instances."
 */
const SPOT_TERMINATION_PROTECTION_REFUSALS = ["UnsupportedOperation"];

/** Which instance attribute changes are possible (pure): instance-store roots cannot shut down to "stop". */
export function attributeChanges(instance: InstanceFacts): {
  shutdownToStop: boolean;
  volumesToKeep: string[];
} {
  return {
    shutdownToStop: instance.rootDeviceType === "ebs",
    volumesToKeep: instance.volumes.map((volume) => volume.deviceName),
  };
}

/**
 * Step 3: cut every other path, in parallel (each part is independent of the others):
 * Auto Scaling (detach, desired capacity kept: a stopped member would be terminated and the evidence lost),
 * load-balancer target groups, the instance profile and the role's live sessions, termination protection,
 * shutdown behaviour, DeleteOnTermination, the metadata service, and the incident tag.
 */
export async function cutAccess(context: ResponseContext): Promise<StepResult> {
  const { record } = context;
  const instance = recordedInstance(record);
  // One DescribeAutoScalingInstances, shared: the detach needs the group, and so does the target-group lookup.
  const autoScalingGroup = autoScalingGroupOf(context);
  const parts: Record<string, () => Promise<string>> = {
    autoScaling: () => detachFromAutoScaling(context, autoScalingGroup),
    targetGroups: () => deregisterFromTargetGroups(context, instance, autoScalingGroup),
    instanceProfile: () => replaceInstanceProfile(context, instance),
    instanceAttributes: () => protectInstance(context, instance),
    tags: () => tagInstance(context),
  };
  const names = Object.keys(parts);
  const results = await Promise.allSettled(names.map((name) => parts[name]!()));
  const detail: Record<string, string> = {};
  const errors: unknown[] = [];
  results.forEach((result, index) => {
    const name = names[index]!;
    if (result.status === "fulfilled") detail[name] = result.value;
    else {
      detail[name] = `failed: ${describeError(result.reason)}`;
      errors.push(result.reason);
    }
  });
  // Every part is a containment measure: thrown, so the state machine asks again; failed for good, the steps
  // that would power the instance off see it (a stopped Auto Scaling member may be terminated) and hold back.
  if (errors.length > 0)
    throw new StepFailedError("cutAccess", { cause: new AggregateError(errors, JSON.stringify(detail)) });
  return done(
    [
      detail.autoScaling,
      detail.targetGroups,
      detail.instanceProfile,
      record.facts.incidentTag === undefined ? "" : detail.tags,
    ]
      .filter((text) => text !== "")
      .join("; "),
    detail,
  );
}

/**
 * The instance's Auto Scaling group now (undefined when it is not a member), or the one recorded by an earlier
 * attempt that already detached it. Rejections are handled by the parts that use it.
 */
function autoScalingGroupOf(context: ResponseContext): Promise<{ current?: string; recorded?: string }> {
  const { record, aws } = context;
  const answer = aws.autoScaling.describeAutoScalingInstances({ InstanceIds: [record.instanceId] });
  const membership = answer.then((result) => ({
    current: result.AutoScalingInstances?.[0]?.AutoScalingGroupName,
    recorded: record.facts.autoScalingGroupName,
  }));
  membership.catch(() => undefined); // awaited by both parts; an unobserved copy must not crash the process
  return membership;
}

async function detachFromAutoScaling(
  context: ResponseContext,
  autoScalingGroup: Promise<{ current?: string; recorded?: string }>,
): Promise<string> {
  const { record, aws } = context;
  const groupName = (await autoScalingGroup).current;
  if (groupName === undefined) {
    return record.facts.autoScalingGroupName === undefined
      ? "not in an Auto Scaling group"
      : `detached from ${record.facts.autoScalingGroupName}`;
  }
  record.facts.autoScalingGroupName = groupName;
  const detached = await plainMutation(context, `detach from Auto Scaling group ${groupName}`, () =>
    aws.autoScaling.detachInstances({
      AutoScalingGroupName: groupName,
      InstanceIds: [record.instanceId],
      ShouldDecrementDesiredCapacity: false,
    }),
  );
  return detached.made ? `detached from ${groupName} (capacity kept)` : `would detach from ${groupName}`;
}

async function protectInstance(context: ResponseContext, instance: InstanceFacts): Promise<string> {
  const { record, aws } = context;
  const ec2 = aws.ec2;
  const InstanceId = record.instanceId;
  const changes = attributeChanges(instance);
  // Read first, one round trip beside the other parts: a release restores what was there.
  await recordAttributesAsFound(context);
  let terminationProtection = true;
  // One attribute per ModifyInstanceAttribute call (an EC2 rule), so these run in parallel.
  await Promise.all([
    ec2Mutation(context, "enable termination protection", (DryRun) =>
      ec2.modifyInstanceAttribute({ DryRun, InstanceId, DisableApiTermination: { Value: true } }),
    ).catch((error: unknown) => {
      // A Spot instance cannot be protected: EC2 refuses. Nothing the response does can change that, and the
      // rest of containment does not depend on it: recorded (the API can still terminate it), and on.
      if (
        instance.instanceLifecycle !== "spot" ||
        !isAlreadyDone(error, SPOT_TERMINATION_PROTECTION_REFUSALS)
      )
        throw error;
      terminationProtection = false;
      recordProblem(
        record.facts,
        "cutAccess",
        `termination protection refused for a Spot instance (${describeError(error)}): it can still be terminated through the API`,
      );
    }),
    changes.shutdownToStop
      ? ec2Mutation(context, "set shutdown behaviour to stop", (DryRun) =>
          ec2.modifyInstanceAttribute({
            DryRun,
            InstanceId,
            InstanceInitiatedShutdownBehavior: { Value: "stop" },
          }),
        ).then(
          () => (record.facts.shutdownBehaviorStop = true),
          (error: unknown) => {
            // One-time Spot instances cannot shut down to "stop": recorded, so no NMI makes kdump's power-off
            // terminate the instance (the memory capture step reads this).
            if (instance.instanceLifecycle !== "spot" || !isAlreadyDone(error, SPOT_SHUTDOWN_REFUSALS))
              throw error;
            record.facts.shutdownBehaviorStop = false;
          },
        )
      : Promise.resolve((record.facts.shutdownBehaviorStop = false)),
    changes.volumesToKeep.length > 0
      ? ec2Mutation(context, "keep volumes on termination", (DryRun) =>
          ec2.modifyInstanceAttribute({
            DryRun,
            InstanceId,
            BlockDeviceMappings: changes.volumesToKeep.map((DeviceName) => ({
              DeviceName,
              Ebs: { DeleteOnTermination: false },
            })),
          }),
        )
      : Promise.resolve(),
    // Without the metadata service, code on the instance cannot fetch (even quarantined) credentials.
    ec2Mutation(context, "disable the instance metadata service", (DryRun) =>
      ec2.modifyInstanceMetadataOptions({ DryRun, InstanceId, HttpEndpoint: "disabled" }),
    ),
  ]);
  const notes = [
    ...(terminationProtection ? [] : ["termination protection refused (Spot)"]),
    ...(record.facts.shutdownBehaviorStop === false ? ["shutdown behaviour stays terminate"] : []),
  ];
  return notes.length === 0 ? "protected" : `protected (${notes.join("; ")})`;
}

/**
 * The incident tag on the instance tells people at a glance that it is under response; nothing in the response
 * depends on it. So a refusal (an instance at EC2's 50-tag limit answers TagLimitExceeded, a tag policy may deny
 * the key) is recorded and the response goes on: it must never cost the stop, the snapshots or the workstation.
 */
async function tagInstance(context: ResponseContext): Promise<string> {
  const { record } = context;
  try {
    await ec2Mutation(context, `tag instance ${TAG_INCIDENT}=${record.incidentId}`, (DryRun) =>
      context.aws.ec2.createTags({
        DryRun,
        Resources: [record.instanceId],
        Tags: [{ Key: TAG_INCIDENT, Value: record.incidentId }],
      }),
    );
    return "tagged";
  } catch (error) {
    // Out of time or lease, or the instance gone: those end the step as they would anywhere else.
    if (instanceGoneError(error, record.instanceId) instanceof InstanceGoneError) throw error;
    const problem = `incident tag not applied: ${describeError(error)}`;
    record.facts.incidentTag = { applied: false, problem };
    context.logger.warn("incident tag not applied; the response goes on", { error: describeError(error) });
    return problem;
  }
}
