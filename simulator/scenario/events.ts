// Events the simulated account's services would send about its current state: a GuardDuty finding about an
// instance, and EBS's completion of an instance's snapshots.
import { randomUUID } from "node:crypto";
import type { FindingOptions, GuardDutyEvent } from "../api";
import { guardDutyFindingDetail, instanceDetailsOf } from "../guardDutyFinding";
import { renderInstance } from "../services/ec2/render";
import type { ScenarioState } from "./state";

export function findingFor(
  { world }: ScenarioState,
  instanceId: string,
  options: FindingOptions = {},
): GuardDutyEvent {
  const instance = world.instances.get(instanceId);
  if (!instance) throw new Error(`scenario: instance ${instanceId} does not exist`);
  const image = world.images.get(instance.imageId);
  const accountId = options.accountId ?? world.accountId;
  const region = options.region ?? world.region;
  const now = new Date(world.now()).toISOString();
  // The instance as DescribeInstances answers it, so that a finding's details and the API agree.
  const instanceDetails = instanceDetailsOf(renderInstance(world, instance), {
    description: image?.description ?? "",
  });
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "GuardDuty Finding",
    source: options.source ?? "aws.guardduty",
    account: accountId,
    time: now.replace(/\.\d+Z$/, "Z"),
    region,
    resources: [],
    detail: guardDutyFindingDetail(instanceDetails, {
      accountId,
      region,
      type: options.type,
      severity: options.severity,
      findingId: options.findingId ?? world.random.hex(32),
      seenAt: now,
      additionalInfo: options.sample
        ? { sample: true, type: "default", value: '{"sample":true}' }
        : undefined,
    }),
  };
}

/** EBS's "EBS Multi-Volume Snapshots Completion Status" event (succeeded) for an instance's snapshots. */
export function snapshotsCompletedEvent(
  { world }: ScenarioState,
  instanceId: string,
  snapshots: readonly { snapshotId: string; volumeId: string }[],
): Record<string, unknown> {
  const region = world.region;
  return {
    version: "0",
    id: `completion-${instanceId}`,
    "detail-type": "EBS Multi-Volume Snapshots Completion Status",
    source: "aws.ec2",
    account: world.accountId,
    region,
    time: new Date(world.now()).toISOString(),
    resources: [`arn:aws:ec2:${region}::instance/${instanceId}`],
    detail: {
      event: "createSnapshots",
      result: "succeeded",
      cause: "",
      "request-id": "",
      snapshots: snapshots.map((snapshot) => ({
        snapshot_id: `arn:aws:ec2:${region}::snapshot/${snapshot.snapshotId}`,
        source: `arn:aws:ec2:${region}::volume/${snapshot.volumeId}`,
        status: "completed",
      })),
    },
  };
}
