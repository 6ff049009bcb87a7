import type { Instance } from "@aws-sdk/client-ec2";

import type { AwsClients } from "../awsClients";
import {
  acceptFindingEvent,
  acceptLiveInstance,
  type Acceptance,
  type InstanceFinding,
} from "../findingEvent";
import { describeInstance, tagsOf } from "../instanceDescription";
import type { Settings } from "../settings";

export type EventAcceptance =
  | {
      readonly accepted: true;
      readonly finding: InstanceFinding;
      /** The live instance, described before any change: its ENIs' groups are the originals. */
      readonly instance: Instance;
      readonly receivedAt: string;
      readonly acceptedAt: string;
    }
  | Extract<Acceptance, { accepted: false }>;

/**
 * Step 0: accept or reject a finding event. The pure check of the event first (no AWS call for a malformed,
 * sample, low-severity, foreign or excluded finding), then one DescribeInstances: tags added since GuardDuty
 * looked count, and an instance that is gone leaves nothing to contain. A rejection never changes anything
 * and never throws.
 */
export async function acceptEvent(
  event: unknown,
  settings: Settings,
  aws: AwsClients,
): Promise<EventAcceptance> {
  const receivedAt = new Date().toISOString();
  const fromEvent = acceptFindingEvent(event, settings);
  if (!fromEvent.accepted) return fromEvent;
  const instance = await describeInstance(aws, fromEvent.finding.instanceId);
  const live = acceptLiveInstance(
    fromEvent.finding,
    instance === undefined
      ? undefined
      : { state: instance.State?.Name ?? "unknown", tags: tagsOf(instance.Tags) },
    settings.exclusionTag,
  );
  if (!live.accepted) return live;
  if (instance === undefined)
    throw new Error("acceptLiveInstance accepted an instance that was not described");
  return {
    accepted: true,
    finding: live.finding,
    instance,
    receivedAt,
    acceptedAt: new Date().toISOString(),
  };
}
