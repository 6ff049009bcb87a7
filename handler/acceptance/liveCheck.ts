// The second half of acceptance: the finding against the instance as DescribeInstances shows it now. When it runs
// depends on who sent the event (liveCheckComesFirst); its rules are the same either way.
import type { Instance } from "@aws-sdk/client-ec2";

import type { ResponseTrigger } from "../incidentRecord";
import { tagsOf } from "../instanceDescription";
import type { Settings } from "../settings";
import { reject, rejectByTags, type Acceptance, type Rejection } from "./acceptance";
import { GUARDDUTY_SOURCE, type InstanceFinding } from "./finding";
import { echo } from "./text";

/**
 * Whether the live instance must be checked before the first change (pure): for every event that AWS cannot
 * have sent. EventBridge refuses PutEvents entries whose source starts with "aws.", so an aws.guardduty finding
 * is GuardDuty's, decided on the event alone (containment must not wait for a describe) and checked live beside
 * the first network change. Anyone allowed events:PutEvents can put an ir.drill finding on the bus naming any
 * instance and any ENIs; moving those ENIs first (into the allow-all untrack group) and checking after would let
 * a forger flap a production instance.
 */
export function liveCheckComesFirst(finding: Pick<InstanceFinding, "source">): boolean {
  return finding.source !== GUARDDUTY_SOURCE;
}

/** What the live check needs to know about the instance (from DescribeInstances). */
interface LiveInstanceView {
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The ENIs attached to it (checked against the finding's list for events AWS did not send). */
  readonly networkInterfaceIds?: readonly string[];
}

/**
 * Re-checks the finding against the instance as it is now: tags may have been added since GuardDuty looked,
 * and an instance that is gone (or going) leaves nothing to contain. A drill needs ir:drill=true on the live
 * instance: the event's tags are whatever its sender wrote. So are its ENIs: an event AWS did not send may name
 * only ENIs the instance has (a forger could name another instance's), and is refused otherwise.
 */
export function acceptLiveInstance(
  finding: InstanceFinding,
  live: LiveInstanceView | undefined,
  exclusionTag: string,
  overrideExclusion = false,
): Acceptance {
  if (live === undefined || live.state === "terminated" || live.state === "shutting-down") {
    return reject("instance-gone", `instance ${finding.instanceId} is ${echo(live?.state ?? "not found")}`);
  }
  const byTags = rejectByTags(finding.source, finding.instanceId, live.tags, exclusionTag, overrideExclusion);
  if (byTags !== undefined) return byTags;
  if (liveCheckComesFirst(finding) && live.networkInterfaceIds !== undefined) {
    const attached = new Set(live.networkInterfaceIds);
    const foreign = finding.networkInterfaces
      .map((eni) => eni.networkInterfaceId)
      .filter((id) => !attached.has(id));
    if (foreign.length > 0) {
      return reject(
        "foreign-network-interface",
        `a ${finding.source} event names ${foreign.length} network interface(s) that instance ${finding.instanceId} does not have (${echo(foreign.join(", "))})`,
      );
    }
  }
  return { accepted: true, finding };
}

/** The live check's answer: the described instance when it is accepted. */
export type LiveVerdict = { readonly accepted: true; readonly instance: Instance } | Rejection;

/**
 * The finding against the instance as DescribeInstances shows it now (undefined: EC2 no longer knows it). Tags
 * added since GuardDuty looked count; a gone instance leaves nothing to contain; an event AWS did not send may
 * name only the instance's own ENIs.
 */
export function checkLiveInstance(
  finding: InstanceFinding,
  instance: Instance | undefined,
  settings: Pick<Settings, "exclusionTag">,
  /** The response's trigger: a person may have overridden the exclusion tag (recorded there). */
  trigger?: Pick<ResponseTrigger, "overrideExclusion">,
): LiveVerdict {
  const verdict = acceptLiveInstance(
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
    trigger?.overrideExclusion === true,
  );
  if (!verdict.accepted) return verdict;
  if (instance === undefined) return reject("instance-gone", `instance ${finding.instanceId} not found`);
  return { accepted: true, instance };
}
