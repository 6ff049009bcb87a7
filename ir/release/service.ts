// Back in service: started if it was running when found, back in its Auto Scaling group (unless --standalone),
// and registered again in each target group on its port.
import { waitUntilInstanceRunning, waitUntilInstanceStopped } from "@aws-sdk/client-ec2";

import { describeLive } from "./incident";
import { change, waitFor, type ReleaseRun } from "./run";

export async function startIfRunningWhenFound(run: ReleaseRun): Promise<void> {
  const InstanceIds = [run.record.instanceId];
  if (run.instance.state !== "running") {
    run.undone.push(`state: left ${run.instance.state}, as found`);
    return;
  }
  const state = (await describeLive(run.context, run.record.instanceId))?.State?.Name;
  if (state === "stopping")
    await waitFor(run, `${run.record.instanceId} to stop`, waitUntilInstanceStopped, { InstanceIds });
  if (state === "stopping" || state === "stopped")
    await change(run, "ec2:StartInstances", { InstanceIds }, () =>
      run.context.clients.ec2.startInstances({ InstanceIds }),
    );
  await waitFor(run, `${run.record.instanceId} to run`, waitUntilInstanceRunning, { InstanceIds });
  run.undone.push("state: running");
}

export async function rejoinAutoScalingGroup(run: ReleaseRun): Promise<void> {
  const AutoScalingGroupName = run.record.facts.autoScalingGroupName;
  if (AutoScalingGroupName === undefined) return;
  if (run.options.standalone) {
    run.kept.push(
      `left out of Auto Scaling group ${AutoScalingGroupName} (--standalone): its replacement serves`,
    );
    return;
  }
  const InstanceIds = [run.record.instanceId];
  const answer = await run.context.clients.autoScaling.describeAutoScalingInstances({ InstanceIds });
  const member = answer.AutoScalingInstances?.[0]?.AutoScalingGroupName;
  if (member !== AutoScalingGroupName)
    await change(run, "autoscaling:AttachInstances", { AutoScalingGroupName, InstanceIds }, () =>
      run.context.clients.autoScaling.attachInstances({ AutoScalingGroupName, InstanceIds }),
    );
  run.undone.push(`Auto Scaling group: ${AutoScalingGroupName} (its desired capacity grows by one)`);
}

/** A target not registered (or draining out) is registered again; one registered already is left alone. */
export async function reregisterTargets(run: ReleaseRun): Promise<void> {
  const elbv2 = run.context.clients.elbv2;
  for (const { targetGroupArn: TargetGroupArn, port: Port } of run.record.facts.targetRegistrations ?? []) {
    const Targets = [{ Id: run.record.instanceId, ...(Port === undefined ? {} : { Port }) }];
    const health = await elbv2.describeTargetHealth({ TargetGroupArn, Targets });
    const state = health.TargetHealthDescriptions?.[0]?.TargetHealth;
    const registered = state?.State !== "draining" && state?.Reason !== "Target.NotRegistered";
    if (!registered)
      await change(run, "elasticloadbalancing:RegisterTargets", { TargetGroupArn, Targets }, () =>
        elbv2.registerTargets({ TargetGroupArn, Targets }),
      );
    run.undone.push(`target group ${TargetGroupArn}: registered on port ${Port ?? "(the group's)"}`);
  }
}
