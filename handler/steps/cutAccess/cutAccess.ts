import type { TargetDescription } from "@aws-sdk/client-elastic-load-balancing-v2";

import { InstanceGoneError, StepFailedError, describeError, instanceGoneError } from "../errors";
import {
  type InstanceFacts,
  type TargetRegistration,
  recordedInstance,
  recordProblem,
} from "../incidentRecord";
import { ec2Mutation, isAlreadyDone, plainMutation, sleep, type ResponseContext } from "../responseContext";
import { TAG_INCIDENT } from "../tags";
import { done, type StepResult } from "./stepResult";

/** Name of the inline policy that denies the instance role's sessions issued before the incident. */
export const REVOKE_SESSIONS_POLICY_NAME = "ir-revoke-older-sessions";

/**
 * The inline policy that revokes every session of a role issued before `issuedBefore` (pure). This is what the
 * IAM console's "Revoke active sessions" does: stolen instance credentials stop working at once, new ones
 * (issued after the cut-off) are unaffected. Monotone: a later incident only moves the cut-off forward.
 */
export function revokeSessionsPolicy(issuedBefore: Date): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": issuedBefore.toISOString() } },
      },
    ],
  });
}

/** The instance profile name in an ARN (`...:instance-profile/path/name`) (pure). */
export function instanceProfileNameOf(arn: string): string {
  return arn.split("/").pop() ?? arn;
}

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

/** DescribeTargetHealth calls in flight at once when every target group of the VPC must be looked at. */
export const TARGET_GROUP_SCAN_CONCURRENCY = 4;

/** Runs `work` on every item, at most `limit` at a time (pure scheduling; errors propagate). */
export async function forEachAtMost<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function autoScalingTargetGroups(
  context: ResponseContext,
  groupName: string | undefined,
): Promise<string[] | undefined> {
  if (groupName === undefined) return undefined;
  const answer = await context.aws.autoScaling.describeAutoScalingGroups({
    AutoScalingGroupNames: [groupName],
  });
  const group = answer.AutoScalingGroups?.[0];
  if (group === undefined) return undefined; // deleted meanwhile: scan the VPC instead
  const fromTrafficSources = (group.TrafficSources ?? []).flatMap((source) =>
    source.Type === "elbv2" && source.Identifier !== undefined ? [source.Identifier] : [],
  );
  return [...(group.TargetGroupARNs ?? []), ...fromTrafficSources];
}

async function vpcTargetGroups(context: ResponseContext, instance: InstanceFacts): Promise<string[]> {
  const arns: string[] = [];
  let marker: string | undefined;
  do {
    const page = await context.aws.loadBalancing.describeTargetGroups({ Marker: marker });
    marker = page.NextMarker;
    for (const group of page.TargetGroups ?? []) {
      const inVpc = instance.vpcId === undefined || group.VpcId === instance.vpcId;
      if (group.TargetType === "instance" && inVpc && group.TargetGroupArn !== undefined)
        arns.push(group.TargetGroupArn);
    }
  } while (marker !== undefined);
  return arns;
}

/**
 * Deregisters the instance from every target group it is in, recording each registration (with its port) for the
 * replacement. ELBv2 has no "which groups is this instance in": each candidate group is asked (DescribeTargetHealth)
 * — the Auto Scaling group's own groups for a member, else every instance-type group of the VPC, a few at a time
 * so a VPC with hundreds of groups does not burst ELBv2's request limits.
 */
async function deregisterFromTargetGroups(
  context: ResponseContext,
  instance: InstanceFacts,
  autoScalingGroup: Promise<{ current?: string; recorded?: string }>,
): Promise<string> {
  const { record, aws } = context;
  const registrations: TargetRegistration[] = [...(record.facts.targetRegistrations ?? [])];
  const membership = await autoScalingGroup;
  // An Auto Scaling member is registered by its group in the group's target groups: only those are asked. Any other
  // instance (or a member whose group is gone) could be in any instance-type target group of its VPC.
  const ofGroup = await autoScalingTargetGroups(context, membership.current ?? membership.recorded);
  const candidates = ofGroup !== undefined ? [...new Set(ofGroup)] : await vpcTargetGroups(context, instance);
  await forEachAtMost(candidates, TARGET_GROUP_SCAN_CONCURRENCY, async (arn) => {
    const health = await aws.loadBalancing.describeTargetHealth({ TargetGroupArn: arn });
    const ours = (health.TargetHealthDescriptions ?? []).filter((d) => d.Target?.Id === record.instanceId);
    for (const description of ours) {
      const port = description.Target?.Port;
      if (!registrations.some((known) => known.targetGroupArn === arn && known.port === port)) {
        registrations.push({ targetGroupArn: arn, port });
      }
    }
    // A draining target is already on its way out: deregistering it again changes nothing.
    const active: TargetDescription[] = ours
      .filter((d) => d.TargetHealth?.State !== "draining")
      .map((d) => ({ Id: record.instanceId, Port: d.Target?.Port }));
    if (active.length === 0) return;
    await plainMutation(context, `deregister from ${arn}`, () =>
      aws.loadBalancing.deregisterTargets({ TargetGroupArn: arn, Targets: active }),
    );
  });
  record.facts.targetRegistrations = registrations;
  const count = new Set(registrations.map((registration) => registration.targetGroupArn)).size;
  return count === 0 ? "" : `deregistered from ${count} target group${count === 1 ? "" : "s"}`;
}

/** How often the profile is re-examined when EC2 answers that the association changed under us. */
const PROFILE_CONVERGENCE_ROUNDS = 4;

/**
 * Puts the quarantine profile on the instance and returns every other profile seen on it (their roles' sessions
 * are revoked). Converges on what EC2 says rather than trusting one answer: AssociateIamInstanceProfile answers
 * IncorrectState when a profile got associated since we looked (by its owner, or by an intruder racing us), and
 * that profile must not stay; ReplaceIamInstanceProfileAssociation answers IncorrectState while an association
 * is still changing. Either way: describe again, and replace whatever is not the quarantine profile.
 */
export async function quarantineInstanceProfile(
  context: ResponseContext,
): Promise<{ outcome: string; profileAtFirstLook?: string; profilesSeen: string[] }> {
  const { record, aws, settings } = context;
  const quarantine = settings.quarantineInstanceProfileArn;
  const profilesSeen: string[] = [];
  let profileAtFirstLook: string | undefined;
  for (let round = 0; round < PROFILE_CONVERGENCE_ROUNDS; round += 1) {
    if (round > 0) await sleep(500 * round);
    const answer = await aws.ec2.describeIamInstanceProfileAssociations({
      Filters: [{ Name: "instance-id", Values: [record.instanceId] }],
    });
    const association = (answer.IamInstanceProfileAssociations ?? []).find(
      (candidate) => candidate.State === "associated" || candidate.State === "associating",
    );
    const currentArn = association?.IamInstanceProfile?.Arn;
    if (round === 0 && currentArn !== quarantine) profileAtFirstLook = currentArn;
    if (currentArn !== undefined && currentArn !== quarantine && !profilesSeen.includes(currentArn))
      profilesSeen.push(currentArn);
    if (currentArn === quarantine) {
      return { outcome: "instance profile quarantined", profileAtFirstLook, profilesSeen };
    }
    try {
      if (association?.AssociationId !== undefined) {
        const associationId = association.AssociationId;
        // ReplaceIamInstanceProfileAssociation and AssociateIamInstanceProfile have no DryRun parameter.
        const replaced = await plainMutation(context, `replace instance profile with ${quarantine}`, () =>
          aws.ec2.replaceIamInstanceProfileAssociation({
            AssociationId: associationId,
            IamInstanceProfile: { Arn: quarantine },
          }),
        );
        if (!replaced.made)
          return { outcome: "would quarantine the instance profile", profileAtFirstLook, profilesSeen };
        return { outcome: "instance profile quarantined", profileAtFirstLook, profilesSeen };
      }
      // No profile: associate the deny-all one anyway, so nobody can attach a privileged profile to it later.
      const associated = await plainMutation(context, `associate ${quarantine}`, () =>
        aws.ec2.associateIamInstanceProfile({
          InstanceId: record.instanceId,
          IamInstanceProfile: { Arn: quarantine },
        }),
      );
      if (!associated.made)
        return { outcome: "would associate the quarantine profile", profileAtFirstLook, profilesSeen };
      return { outcome: "quarantine profile associated", profileAtFirstLook, profilesSeen };
    } catch (error) {
      // The association changed between our look and our change: look again (never assume it is ours).
      if (!isAlreadyDone(error, ["IncorrectState"])) throw error;
      context.logger.info("instance profile association changed meanwhile; checking again", { round });
    }
  }
  throw new StepFailedError("cutAccess", {
    cause: new Error(`the instance profile did not settle on ${quarantine}`),
  });
}

async function replaceInstanceProfile(context: ResponseContext, instance: InstanceFacts): Promise<string> {
  const { record, aws, settings } = context;
  const quarantine = settings.quarantineInstanceProfileArn;
  const { outcome, profileAtFirstLook, profilesSeen } = await quarantineInstanceProfile(context);
  // The original is what the instance had when we first looked, never a profile raced onto it since: the
  // replacement launches with the original.
  const original =
    record.facts.originalInstanceProfileArn ?? profileAtFirstLook ?? instance.iamInstanceProfileArn;
  if (original !== undefined && original !== quarantine) record.facts.originalInstanceProfileArn = original;

  // Every profile the instance had (its own, and one raced onto it) handed out credentials: revoke them all.
  const toRevoke = [...new Set([original, ...profilesSeen])].filter(
    (arn): arn is string => arn !== undefined && arn !== quarantine,
  );
  if (!settings.revokeRoleSessions || toRevoke.length === 0) return outcome;
  const roleNames: string[] = [];
  for (const profileArn of toRevoke) {
    const profile = await aws.iam.getInstanceProfile({
      InstanceProfileName: instanceProfileNameOf(profileArn),
    });
    for (const role of profile.InstanceProfile?.Roles ?? []) {
      if (role.RoleName === undefined || roleNames.includes(role.RoleName)) continue;
      // The policy denies rewriting a role the responder may pass (else a stolen responder credential could give
      // it any right and launch an instance with it): its sessions stay valid, and the record says so.
      if (role.Arn !== undefined && settings.replacementPassableRoleArns.includes(role.Arn)) {
        recordProblem(
          record.facts,
          "cutAccess",
          `sessions of role ${role.RoleName} not revoked: it is a replacement role (replacementRoleArns), which the responder may pass but never rewrite`,
        );
        continue;
      }
      roleNames.push(role.RoleName);
    }
  }
  const cutOff = new Date();
  for (const roleName of roleNames) {
    await plainMutation(context, `revoke sessions of role ${roleName}`, () =>
      aws.iam.putRolePolicy({
        RoleName: roleName,
        PolicyName: REVOKE_SESSIONS_POLICY_NAME,
        PolicyDocument: revokeSessionsPolicy(cutOff),
      }),
    );
  }
  record.facts.revokedRoleNames = roleNames;
  return roleNames.length === 0 ? outcome : `${outcome}, sessions of ${roleNames.join(", ")} revoked`;
}

async function protectInstance(context: ResponseContext, instance: InstanceFacts): Promise<string> {
  const { record, aws } = context;
  const ec2 = aws.ec2;
  const InstanceId = record.instanceId;
  const changes = attributeChanges(instance);
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
