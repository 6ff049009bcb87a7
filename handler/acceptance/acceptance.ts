// Step 0: a finding event accepted or rejected on the event alone. The live re-check is liveCheck.ts.
import { validate } from "superstruct";

import { isResponderGroup } from "../securityGroups";
import type { Settings } from "../settings";
import { TAG_DRILL, TAG_RESPONDER_MADE, TRUE_VALUE } from "../tags";
import {
  DRILL_SOURCE,
  findingSchemas,
  GUARDDUTY_FINDING_ARN,
  GUARDDUTY_SOURCE,
  type FindingEvent,
  type InstanceFinding,
} from "./finding";
import { claimsToBeAFinding, looksLikeFindingEvent, structuralProblem } from "./structure";
import { capText, echo, pathText, wellFormed } from "./text";

/** The finding's title is kept for the report and the notification; a person reads this much of it. */
export const TITLE_LIMIT = 256;

/**
 * How much of a finding's lists the incident record copies. EC2 allows 50 user tags; ENIs the copy leaves out are
 * found by isolateNetwork's describe. The checks at acceptance see the whole lists, and the raw finding
 * (evidence) keeps them; the copy is bounded so a hostile list cannot push the record past DynamoDB's 400 KB item
 * limit.
 */
export const FINDING_COPY_LIMITS = { tags: 64, networkInterfaces: 64 } as const;

export type RejectionReason =
  | "not-a-finding-event"
  | "malformed-finding"
  | "not-an-instance-finding"
  | "sample-finding"
  | "below-severity-threshold"
  | "other-account"
  | "other-region"
  | "excluded-by-tag"
  | "responder-made-instance"
  | "not-a-drill-target"
  | "foreign-network-interface"
  | "instance-gone"
  | "malformed-event"
  /** A direct-invoke or Security Hub request that is not what it must be (requested.ts). */
  | "malformed-request";

export type Acceptance =
  | { readonly accepted: true; readonly finding: InstanceFinding }
  | { readonly accepted: false; readonly reason: RejectionReason; readonly detail: string };

export type Rejection = Extract<Acceptance, { accepted: false }>;

/** An accepted event with the times of its acceptance (the acceptEvent entry of the timeline). */
export type EventAcceptance =
  | {
      readonly accepted: true;
      readonly finding: InstanceFinding;
      readonly receivedAt: string;
      readonly acceptedAt: string;
    }
  | Rejection;

export function reject(reason: RejectionReason, detail: string): Rejection {
  return { accepted: false, reason, detail };
}

/**
 * Step 0: accept or reject a finding event on the event alone (acceptFindingEvent), timed for the timeline. No
 * AWS call: containment must not wait for one. The live instance is checked later (liveCheck.ts): beside the
 * first network change for a GuardDuty finding, before the claim for any other event. A rejection never changes
 * anything and never throws.
 */
export function acceptEvent(event: unknown, settings: Settings): EventAcceptance {
  const receivedAt = new Date().toISOString();
  const fromEvent = acceptFindingEvent(event, settings);
  if (!fromEvent.accepted) return fromEvent;
  return { accepted: true, finding: fromEvent.finding, receivedAt, acceptedAt: new Date().toISOString() };
}

/**
 * Decides from the event alone whether to respond. Pure: the live-instance re-check is liveCheck.ts.
 * Every rejection carries a reason and a human-readable detail; nothing here throws.
 */
export function acceptFindingEvent(event: unknown, settings: Settings): Acceptance {
  // The structure first: nothing else (superstruct included) may look at an event nested 100 000 deep.
  const structure = structuralProblem(event);
  if (structure !== undefined) {
    return reject(claimsToBeAFinding(event) ? "malformed-finding" : "not-a-finding-event", structure);
  }
  if (!looksLikeFindingEvent(event)) return reject("not-a-finding-event", "not a GuardDuty Finding event");
  const source = (event as { source: string }).source;
  if (source !== GUARDDUTY_SOURCE && source !== DRILL_SOURCE) {
    return reject(
      "not-a-finding-event",
      `source ${echo(source)} is neither ${GUARDDUTY_SOURCE} nor ${DRILL_SOURCE}`,
    );
  }
  // Resource type first: other finding kinds (S3, IAM, EKS) legitimately lack instanceDetails.
  const unchecked = event as {
    detail?: { resource?: { resourceType?: unknown }; service?: { additionalInfo?: { sample?: unknown } } };
  };
  const resourceType = unchecked.detail?.resource?.resourceType;
  if (resourceType !== "Instance") {
    return reject("not-an-instance-finding", `resource type ${echo(resourceType)} is not an EC2 instance`);
  }
  // Before the schema: GuardDuty's sample findings carry placeholder ids (GeneratedFindingVPCId), which the
  // schema refuses; what makes them unanswerable from aws.guardduty is that they are samples.
  if (unchecked.detail?.service?.additionalInfo?.sample === true && source !== DRILL_SOURCE) {
    const id = (unchecked.detail as { id?: unknown }).id;
    return reject("sample-finding", `sample finding ${echo(id)} from ${source}`);
  }
  const [error, valid] = validate(event, findingSchemas().FindingEnvelope);
  if (error !== undefined) {
    // superstruct's message quotes the offending value: capped like any echoed input.
    return reject("malformed-finding", `${pathText(error.path)}: ${echo(error.message)}`);
  }
  const detail = valid.detail;
  const details = detail.resource.instanceDetails;
  if (details === undefined || details === null) {
    return reject("not-an-instance-finding", "finding has no instanceDetails");
  }
  const listed = details.networkInterfaces ?? [];
  const twice = listed.find(
    (eni, index) =>
      listed.findIndex((other) => other.networkInterfaceId === eni.networkInterfaceId) !== index,
  );
  if (twice !== undefined) {
    return reject("malformed-finding", `network interface ${twice.networkInterfaceId} is listed twice`);
  }
  if (detail.severity < settings.severityThreshold) {
    return reject(
      "below-severity-threshold",
      `severity ${detail.severity} is under the threshold ${settings.severityThreshold}`,
    );
  }
  if (detail.accountId !== settings.accountId || valid.account !== settings.accountId) {
    return reject(
      "other-account",
      `finding account ${echo(detail.accountId)} (envelope ${echo(valid.account)}), stack account ${settings.accountId}`,
    );
  }
  if (detail.region !== settings.region || valid.region !== settings.region) {
    return reject(
      "other-region",
      `finding region ${echo(detail.region)} (envelope ${echo(valid.region)}), stack region ${settings.region}`,
    );
  }
  const tags: Record<string, string> = {};
  for (const tag of details.tags ?? []) tags[tag.key] = tag.value ?? "";
  const tagVerdict = rejectByTags(valid.source, details.instanceId, tags, settings.exclusionTag);
  if (tagVerdict !== undefined) return tagVerdict;

  return { accepted: true, finding: recordCopy(valid, details, tags, settings) };
}

/**
 * The copy of an accepted finding the record keeps (pure): bounded, and every string well-formed (DynamoDB
 * refuses a lone surrogate, and a claim that cannot be written contains nothing).
 */
function recordCopy(
  valid: FindingEvent,
  details: NonNullable<FindingEvent["detail"]["resource"]["instanceDetails"]>,
  tags: Readonly<Record<string, string>>,
  settings: Settings,
): InstanceFinding {
  const { detail } = valid;
  const limits = FINDING_COPY_LIMITS;
  const ours = (group: { groupId: string; groupName?: string | null }) =>
    isResponderGroup(group.groupId, group.groupName ?? undefined, settings.vpcSecurityGroups);
  const optionalText = (text: string | null | undefined) =>
    text === null || text === undefined ? undefined : wellFormed(text);
  return {
    eventId: wellFormed(valid.id),
    source: valid.source,
    findingId: wellFormed(detail.id),
    findingArn: findingArnOf(detail),
    type: wellFormed(detail.type),
    severity: detail.severity,
    title: capText(detail.title ?? detail.type, TITLE_LIMIT),
    accountId: detail.accountId,
    region: detail.region,
    updatedAt: wellFormed(detail.updatedAt ?? valid.time ?? ""),
    instanceId: details.instanceId,
    availabilityZone: optionalText(details.availabilityZone),
    instanceProfileArn: optionalText(details.iamInstanceProfile?.arn),
    networkInterfaces: (details.networkInterfaces ?? []).slice(0, limits.networkInterfaces).map((eni) => {
      const groups = eni.securityGroups ?? [];
      return {
        networkInterfaceId: eni.networkInterfaceId,
        vpcId: eni.vpcId ?? undefined,
        subnetId: eni.subnetId ?? undefined,
        // A finding that saw the ENI in one of the responder's groups does not know its own groups.
        securityGroupIds: groups.some(ours) ? [] : [...new Set(groups.map((group) => group.groupId))],
      };
    }),
    tags: Object.fromEntries(
      Object.entries(tags)
        .slice(0, limits.tags)
        .map(([key, value]) => [wellFormed(key), wellFormed(value)]),
    ),
  };
}

/** The finding's ARN when it is one GuardDuty could have written (the schema does not ask for it). */
function findingArnOf(detail: object): string | undefined {
  const arn = (detail as { arn?: unknown }).arn;
  return typeof arn === "string" && GUARDDUTY_FINDING_ARN.test(arn) ? arn : undefined;
}

/**
 * The tag rules, for the finding's tags and again for the live instance's. A drill event (source ir.drill) may
 * act only on an instance tagged ir:drill=true: anyone allowed events:PutEvents can send one, and it skips the
 * sample-finding rule.
 */
export function rejectByTags(
  source: InstanceFinding["source"],
  instanceId: string,
  tags: Readonly<Record<string, string>>,
  exclusionTag: string,
  /** A person asked to respond despite the exclusion tag (ir respond --override-exclusion; recorded). */
  overrideExclusion = false,
): Rejection | undefined {
  if (!overrideExclusion && tags[exclusionTag]?.toLowerCase() === TRUE_VALUE) {
    return reject("excluded-by-tag", `instance ${instanceId} carries ${exclusionTag}=true`);
  }
  const madeBy = tags[TAG_RESPONDER_MADE];
  if (madeBy !== undefined && madeBy !== "") {
    return reject(
      "responder-made-instance",
      `instance ${instanceId} is the responder's own ${echo(madeBy)} instance`,
    );
  }
  // Exactly "true", as the drill runner writes it: this tag grants, so it is not read leniently.
  if (source === DRILL_SOURCE && tags[TAG_DRILL] !== TRUE_VALUE) {
    return reject(
      "not-a-drill-target",
      `a drill event (source ${DRILL_SOURCE}) for instance ${instanceId}, which is not tagged ${TAG_DRILL}=${TRUE_VALUE}`,
    );
  }
  return undefined;
}
