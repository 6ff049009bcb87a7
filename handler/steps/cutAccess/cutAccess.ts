import type { ModifyInstanceAttributeRequest } from "@aws-sdk/client-ec2";

import { InstanceGoneError, StepFailedError, describeError, instanceGoneError } from "../../errors";
import { type InstanceFacts, recordedInstance, recordProblem } from "../../incidentRecord";
import { ec2Mutation, isAlreadyDone, plainMutation, type ResponseContext } from "../../responseContext";
import { TAG_INCIDENT } from "../../tags";
import { askWhileThrottled, jitteredMs } from "../../throttling";
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

/**
 * How long cutAccess's instance-attribute changes keep asking while throttled, all three together, in poll
 * intervals: 90 s at the default 2 s, below the function's shortest timeout (120 s, infra/config.ts). Then the step
 * fails and the state machine asks again.
 */
const ATTRIBUTE_WINDOW_POLLS = 45;

/**
 * The pause before a throttled instance-attribute change is asked again (pure; `random` in [0, 1)): 15 to 45 poll
 * intervals, 30 to 90 s at the default 2 s, some 300 times an isolation move's (containment/eniMoves.ts), so in a
 * burst the bucket's tokens go to the isolation moves. In poll intervals, so a drill or test that runs AWS time
 * faster shortens it as it does every other wait.
 */
export function throttledAttributePauseMs(
  pollIntervalSeconds: number,
  random: number = Math.random(),
): number {
  return jitteredMs(pollIntervalSeconds * 15_000, pollIntervalSeconds * 30_000, random);
}

/**
 * The instance attributes that keep the evidence: termination protection, shutdown to "stop", volumes kept on
 * termination, and the metadata service off. ModifyInstanceAttribute's bucket (mutating actions: 50, refilled at 5
 * a second) is the one an isolation move falls back to when ENI moves are throttled, so in a burst every token an
 * isolated instance's attribute change takes leaves another instance's ENI waiting, in the allow-all untrack group
 * or in its original groups. These changes give way: one at a time (one attribute per call is an EC2 rule), without
 * the SDK's retries, and a throttled one is asked again only after throttledAttributePauseMs. In an account that
 * is not being throttled they cost two round trips more than in parallel, beside the step's slower parts.
 */
async function protectInstance(context: ResponseContext, instance: InstanceFacts): Promise<string> {
  const { record, aws } = context;
  const InstanceId = record.instanceId;
  const changes = attributeChanges(instance);
  // Read first, one round trip beside the other parts: a release restores what was there.
  await recordAttributesAsFound(context);
  const { pollIntervalSeconds } = context.settings;
  const askUntil = Date.now() + ATTRIBUTE_WINDOW_POLLS * pollIntervalSeconds * 1000;
  const modify = (
    description: string,
    request: Omit<ModifyInstanceAttributeRequest, "InstanceId" | "DryRun">,
  ) =>
    ec2Mutation(context, description, (DryRun) =>
      askWhileThrottled(
        () => aws.ec2Unretried.modifyInstanceAttribute({ ...request, DryRun, InstanceId }),
        askUntil - Date.now(),
        () => throttledAttributePauseMs(pollIntervalSeconds),
      ),
    );
  // Without the metadata service, code on the instance cannot fetch (even quarantined) credentials. Its own bucket.
  const metadataOff = ec2Mutation(context, "disable the instance metadata service", (DryRun) =>
    aws.ec2.modifyInstanceMetadataOptions({ DryRun, InstanceId, HttpEndpoint: "disabled" }),
  );
  metadataOff.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  let terminationProtection = true;
  await modify("enable termination protection", { DisableApiTermination: { Value: true } }).catch(
    (error: unknown) => {
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
    },
  );
  if (changes.shutdownToStop) {
    await modify("set shutdown behaviour to stop", {
      InstanceInitiatedShutdownBehavior: { Value: "stop" },
    }).then(
      () => (record.facts.shutdownBehaviorStop = true),
      (error: unknown) => {
        // One-time Spot instances cannot shut down to "stop": recorded, so no NMI makes kdump's power-off
        // terminate the instance (the memory capture step reads this).
        if (instance.instanceLifecycle !== "spot" || !isAlreadyDone(error, SPOT_SHUTDOWN_REFUSALS))
          throw error;
        record.facts.shutdownBehaviorStop = false;
      },
    );
  } else record.facts.shutdownBehaviorStop = false;
  if (changes.volumesToKeep.length > 0) {
    await modify("keep volumes on termination", {
      BlockDeviceMappings: changes.volumesToKeep.map((DeviceName) => ({
        DeviceName,
        Ebs: { DeleteOnTermination: false },
      })),
    });
  }
  await metadataOff;
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
