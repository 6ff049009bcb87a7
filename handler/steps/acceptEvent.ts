import type { Instance } from "@aws-sdk/client-ec2";

import {
  acceptFindingEvent,
  acceptLiveInstance,
  sentByAws,
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
 * For a GuardDuty finding the live instance is checked in parallel with the first network change
 * (`acceptLiveDescription`, called by isolateNetwork), and a late rejection there undoes that change; any other
 * event is checked on the live instance before the claim (`acceptBeforeFirstChange`, called by the invocation).
 * A rejection never changes anything and never throws.
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
 * longer knows it). Tags added since GuardDuty looked count; a gone instance leaves nothing to contain; an event
 * AWS did not send may name only the instance's own ENIs.
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
      : {
          state: instance.State?.Name ?? "unknown",
          tags: tagsOf(instance.Tags),
          networkInterfaceIds: (instance.NetworkInterfaces ?? []).flatMap((eni) =>
            eni.NetworkInterfaceId === undefined ? [] : [eni.NetworkInterfaceId],
          ),
        },
    settings.exclusionTag,
  );
}

/**
 * Whether the live instance must be checked before the first change (pure): for every event that AWS cannot
 * have sent. Anyone allowed events:PutEvents can put an ir.drill finding on the bus naming any instance and any
 * ENIs; moving those ENIs first (into the allow-all untrack group) and checking after would let a forger flap
 * a production instance. Only aws.guardduty findings keep the describe-free critical path.
 */
export function liveCheckComesFirst(finding: InstanceFinding): boolean {
  return !sentByAws(finding);
}

/**
 * Step 0 for an event AWS did not send: the live instance (DescribeInstances, before the claim and before any
 * change) must exist, carry ir:drill=true (and no exclusion or responder-made tag), and have every ENI the
 * finding names. Rejected otherwise, with nothing claimed and nothing changed.
 */
export function acceptBeforeFirstChange(
  finding: InstanceFinding,
  instance: Instance | undefined,
  settings: Settings,
): Acceptance {
  return acceptLiveDescription(finding, instance, settings);
}
