// cutAccess, load balancing: the instance leaves every target group it is in (the ports are recorded for the
// replacement).
import type { TargetDescription } from "@aws-sdk/client-elastic-load-balancing-v2";

import type { InstanceFacts, TargetRegistration } from "../../incidentRecord";
import { plainMutation, type ResponseContext } from "../../responseContext";

/** DescribeTargetHealth calls in flight at once when every target group of the VPC must be looked at. */
const TARGET_GROUP_SCAN_CONCURRENCY = 4;

/** Runs `work` on every item, at most `limit` at a time (pure scheduling; errors propagate). */
async function forEachAtMost<T>(
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
export async function deregisterFromTargetGroups(
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
