// ir release: undo every change a response recorded, and nothing else, after a false positive. Refusals come
// first, before any change; then each change is made only where the live state still differs from the instance
// as found, so a release interrupted half-way is finished by running it again.
import { recordedInstance, type OperatorRelease } from "../../handler/incidentRecord";
import type { OperatorContext } from "../context";
import { refused } from "../exitCodes";
import { findIncident } from "../incidents";
import { restoreDeleteOnTermination, restoreInstanceAttributes } from "./attributes";
import {
  archiveFinding,
  keptEvidence,
  markStarted,
  noteSecurityHubFinding,
  notifyRelease,
  recordRelease,
} from "./finish";
import { restoreInstanceProfile, restoreRoleSessions } from "./identity";
import {
  describeLive,
  describeOwnVolumes,
  refuseGoneInstance,
  refuseUnfinished,
  volumeRefusal,
} from "./incident";
import { restoreInterfaceGroups } from "./network";
import type { ReleasableRecord, ReleaseOptions, ReleaseRun } from "./run";
import { rejoinAutoScalingGroup, reregisterTargets, startIfRunningWhenFound } from "./service";
import { restoreVolumes } from "./volumes";

export interface ReleaseResult {
  incidentId: string;
  instanceId: string;
  dryRun: boolean;
  release: OperatorRelease;
  notes: string[];
  /** The calls that changed AWS (with --dry-run: that would). */
  calls: string[];
}

/** In order: credentials and network while stopped, volumes before the start, service once running. */
const RESTORE_STEPS: ((run: ReleaseRun) => Promise<void>)[] = [
  restoreRoleSessions,
  restoreInstanceProfile,
  restoreInterfaceGroups,
  restoreInstanceAttributes,
  restoreVolumes,
  restoreDeleteOnTermination,
  startIfRunningWhenFound,
  rejoinAutoScalingGroup,
  reregisterTargets,
];

/** A group that is gone, or full, cannot take the instance back: refused unless it stays standalone. */
async function refuseAutoScaling(context: OperatorContext, run: ReleaseRun): Promise<void> {
  const name = run.record.facts.autoScalingGroupName;
  if (name === undefined || run.options.standalone) return;
  const { AutoScalingGroups = [] } = await context.clients.autoScaling.describeAutoScalingGroups({
    AutoScalingGroupNames: [name],
  });
  const group = AutoScalingGroups[0];
  if (group === undefined) throw refused(`Auto Scaling group ${name} is gone: release with --standalone`);
  const member = group.Instances?.some((instance) => instance.InstanceId === run.record.instanceId) ?? false;
  if (!member && (group.DesiredCapacity ?? 0) + 1 > (group.MaxSize ?? 0))
    throw refused(
      `Auto Scaling group ${name} is at its maximum size (${group.MaxSize ?? 0}): raise it, or release with --standalone`,
    );
}

export async function releaseIncident(
  context: OperatorContext,
  reference: string,
  options: ReleaseOptions,
): Promise<ReleaseResult> {
  const record: ReleasableRecord = await findIncident(context, reference);
  await refuseUnfinished(context, record);
  refuseGoneInstance(record, await describeLive(context, record.instanceId));
  const volumes = volumeRefusal(record, await describeOwnVolumes(context, record));
  if (volumes !== undefined) throw refused(volumes);
  const run: ReleaseRun = {
    context,
    record,
    instance: recordedInstance(record),
    options,
    undone: [],
    kept: [],
    notes: [],
    calls: [],
  };
  await refuseAutoScaling(context, run);

  const by = (await context.clients.sts.getCallerIdentity({})).Arn ?? "unknown caller";
  await markStarted(run, by);
  for (const step of RESTORE_STEPS) await step(run);
  if (options.archiveFinding) await archiveFinding(run);
  await noteSecurityHubFinding(run, by);
  keptEvidence(run);
  const release: OperatorRelease = {
    by,
    reason: options.reason,
    at: new Date().toISOString(),
    undone: run.undone,
    kept: run.kept,
  };
  if (!context.dryRun) {
    await recordRelease(run, release);
    await notifyRelease(run, release);
  }
  return {
    incidentId: record.incidentId,
    instanceId: record.instanceId,
    dryRun: context.dryRun,
    release,
    notes: run.notes,
    calls: run.calls,
  };
}
