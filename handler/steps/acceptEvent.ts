import type { Instance } from "@aws-sdk/client-ec2";

import {
  acceptFindingEvent,
  acceptLiveInstance,
  type Acceptance,
  type InstanceFinding,
} from "../findingEvent";
import { tagsOf } from "../instanceDescription";
import type { Settings } from "../settings";

export type EventAcceptance =
  | {
      readonly accepted: true;
      readonly finding: InstanceFinding;
      readonly receivedAt: string;
      readonly acceptedAt: string;
    }
  | Extract<Acceptance, { accepted: false }>;

/**
 * Step 0: accept or reject a finding event on the event alone (shape, sample, severity, account, region, and the
 * exclusion and responder-made tags as the finding lists them). No AWS call: containment must not wait for one.
 * The live instance is checked in parallel with the first network change (`acceptLiveDescription`, called by
 * isolateNetwork), and a late rejection there undoes that change. A rejection never changes anything and never
 * throws.
 */
export function acceptEvent(event: unknown, settings: Settings): EventAcceptance {
  const receivedAt = new Date().toISOString();
  const fromEvent = acceptFindingEvent(event, settings);
  if (!fromEvent.accepted) return fromEvent;
  return {
    accepted: true,
    finding: fromEvent.finding,
    receivedAt,
    acceptedAt: new Date().toISOString(),
  };
}

/**
 * Step 0, second half: the finding against the instance as DescribeInstances shows it now (undefined: EC2 no
 * longer knows it). Tags added since GuardDuty looked count; a gone instance leaves nothing to contain.
 */
export function acceptLiveDescription(
  finding: InstanceFinding,
  instance: Instance | undefined,
  settings: Settings,
): Acceptance {
  return acceptLiveInstance(
    finding,
    instance === undefined
      ? undefined
      : { state: instance.State?.Name ?? "unknown", tags: tagsOf(instance.Tags) },
    settings.exclusionTag,
  );
}
