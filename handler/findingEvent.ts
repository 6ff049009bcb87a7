import {
  array,
  boolean,
  is,
  literal,
  nullable,
  number,
  object,
  optional,
  pattern,
  size,
  string,
  type as shape,
  union,
  validate,
  type Infer,
} from "superstruct";

import type { Settings } from "./settings";
import { TAG_DRILL, TAG_RESPONDER_MADE, TRUE_VALUE } from "./tags";

/** Event sources whose GuardDuty findings are answered; sample findings only from the drill source. */
export const GUARDDUTY_SOURCE = "aws.guardduty";
export const DRILL_SOURCE = "ir.drill";
export const FINDING_DETAIL_TYPE = "GuardDuty Finding";

/**
 * How deep an event may nest. A GuardDuty finding nests about 8 levels; superstruct recurses once per level, so
 * an event nested deeper is refused before validation, by an iterative walk.
 */
export const MAX_EVENT_DEPTH = 64;

/** The longest piece of input a rejection detail (and so a log line) repeats: hostile input is never echoed whole. */
export const ECHO_LIMIT = 120;

/** The finding's title is kept for the report and the notification; a person reads this much of it. */
export const TITLE_LIMIT = 256;

/**
 * How much of a finding's lists the incident record copies. EC2 allows 50 user tags and 16 groups per ENI; ENIs
 * the copy leaves out are found by isolateNetwork's describe. The checks at acceptance see the whole lists, and the
 * raw finding (evidence) keeps them; the copy is bounded so a hostile list cannot push the record past DynamoDB's
 * 400 KB item limit.
 */
export const FINDING_COPY_LIMITS = { tags: 64, networkInterfaces: 64, securityGroups: 16 } as const;

/**
 * The schemas, built on call: superstruct's Struct objects hold closures over `this` that Pulumi's closure
 * serialization cannot capture, so no Struct may live at module scope in the Lambda's code (TOOLCHAIN.md).
 */
function findingSchemas() {
  const InstanceId = pattern(string(), /^i-[0-9a-f]{8,17}$/);
  // Strings the record copies and AWS calls or DynamoDB keys reuse: AWS never sends them longer (EC2 tag keys
  // 128, values 256, IAM ARNs 2048); a longer one is not a GuardDuty finding.
  const Text = (max: number) => size(string(), 0, max);

  const Tag = shape({ key: Text(128), value: nullable(optional(Text(256))) });

  const FindingNetworkInterface = shape({
    networkInterfaceId: pattern(string(), /^eni-[0-9a-f]{1,32}$/),
    subnetId: optional(nullable(Text(64))),
    vpcId: optional(nullable(Text(64))),
    securityGroups: optional(
      nullable(array(shape({ groupId: Text(64), groupName: optional(nullable(Text(255))) }))),
    ),
  });

  const InstanceDetails = shape({
    instanceId: InstanceId,
    instanceType: optional(nullable(Text(64))),
    availabilityZone: optional(nullable(Text(64))),
    imageId: optional(nullable(Text(64))),
    iamInstanceProfile: optional(nullable(shape({ arn: optional(nullable(Text(2048))) }))),
    networkInterfaces: optional(nullable(array(FindingNetworkInterface))),
    tags: optional(nullable(array(Tag))),
  });

  const FindingDetail = shape({
    schemaVersion: optional(string()),
    accountId: pattern(string(), /^\d{12}$/),
    region: string(),
    id: Text(128),
    type: Text(128),
    severity: number(),
    // Free text: any length is accepted, the copy is capped (TITLE_LIMIT).
    title: optional(string()),
    description: optional(string()),
    createdAt: optional(Text(64)),
    updatedAt: optional(Text(64)),
    resource: shape({ resourceType: string(), instanceDetails: optional(nullable(InstanceDetails)) }),
    service: optional(
      nullable(
        shape({ additionalInfo: optional(nullable(shape({ sample: optional(nullable(boolean())) }))) }),
      ),
    ),
  });

  const FindingEnvelope = shape({
    version: optional(string()),
    id: Text(128),
    "detail-type": literal(FINDING_DETAIL_TYPE),
    source: union([literal(GUARDDUTY_SOURCE), literal(DRILL_SOURCE)]),
    account: string(),
    region: string(),
    time: optional(Text(64)),
    detail: FindingDetail,
  });
  return { FindingEnvelope };
}

export type FindingEvent = Infer<ReturnType<typeof findingSchemas>["FindingEnvelope"]>;

/** What the response needs from an accepted finding, in a flat shape that is stored in the incident record. */
export interface InstanceFinding {
  readonly eventId: string;
  readonly source: typeof GUARDDUTY_SOURCE | typeof DRILL_SOURCE;
  readonly findingId: string;
  readonly type: string;
  readonly severity: number;
  readonly title: string;
  readonly accountId: string;
  readonly region: string;
  readonly updatedAt: string;
  readonly instanceId: string;
  readonly availabilityZone?: string;
  readonly instanceProfileArn?: string;
  readonly networkInterfaces: readonly FindingInterface[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface FindingInterface {
  readonly networkInterfaceId: string;
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly securityGroupIds: readonly string[];
}

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
  | "instance-gone";

export type Acceptance =
  | { readonly accepted: true; readonly finding: InstanceFinding }
  | { readonly accepted: false; readonly reason: RejectionReason; readonly detail: string };

function reject(reason: RejectionReason, detail: string): Acceptance {
  return { accepted: false, reason, detail };
}

/** `text`, or its first `max` characters and how many more there were. */
export function capText(text: string, max: number = ECHO_LIMIT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * A piece of input as a rejection detail may repeat it: capped, and never converted through the input's own
 * toString (a parsed {"toString": "x"} makes String() throw).
 */
function echo(value: unknown): string {
  if (typeof value === "string") return capText(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "symbol") return "a symbol";
  return capText(String(value));
}

function pathText(path: readonly (string | number)[]): string {
  return path.length > 0 ? echo(path.join(".")) : "event";
}

/**
 * Why the event is not a plain JSON tree of sane depth, or undefined. Iterative, so no event can overflow the
 * stack here (superstruct, which runs next, recurses once per level). It refuses what JSON cannot carry and what
 * makes JSON.stringify throw (BigInt, a circular reference) or blow up (an object met twice): Lambda only ever
 * hands the handler parsed JSON, and the claim stores the event serialized.
 */
function structuralProblem(event: unknown): string | undefined {
  interface Node {
    readonly value: unknown;
    readonly key: string | number | undefined;
    readonly parent: Node | undefined;
    readonly depth: number;
  }
  const where = (node: Node): string => {
    const keys: (string | number)[] = [];
    for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
    return pathText(keys);
  };
  const seen = new Set<object>();
  const pending: Node[] = [{ value: event, key: undefined, parent: undefined, depth: 0 }];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const { value } = node;
    if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol")
      return `${where(node)}: a ${typeof value} is not JSON`;
    if (typeof value !== "object" || value === null) continue;
    if (node.depth >= MAX_EVENT_DEPTH) return `${where(node)}: nested deeper than ${MAX_EVENT_DEPTH} levels`;
    if (seen.has(value)) return `${where(node)}: a circular or repeated reference is not JSON`;
    seen.add(value);
    const depth = node.depth + 1;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index += 1)
        pending.push({ value: value[index] as unknown, key: index, parent: node, depth });
    } else {
      for (const [key, child] of Object.entries(value))
        pending.push({ value: child as unknown, key, parent: node, depth });
    }
  }
  return undefined;
}

/** True for anything shaped like an EventBridge GuardDuty finding event (before the detail is validated). */
export function looksLikeFindingEvent(event: unknown): boolean {
  return is(event, shape({ "detail-type": literal(FINDING_DETAIL_TYPE), source: string() }));
}

/**
 * Decides from the event alone whether to respond. Pure: the live-instance re-check is `acceptLiveInstance`.
 * Every rejection carries a reason and a human-readable detail; nothing here throws.
 */
export function acceptFindingEvent(event: unknown, settings: Settings): Acceptance {
  if (!looksLikeFindingEvent(event)) return reject("not-a-finding-event", "not a GuardDuty Finding event");
  const source = (event as { source: string }).source;
  if (source !== GUARDDUTY_SOURCE && source !== DRILL_SOURCE) {
    return reject(
      "not-a-finding-event",
      `source ${echo(source)} is neither ${GUARDDUTY_SOURCE} nor ${DRILL_SOURCE}`,
    );
  }
  // Resource type first: other finding kinds (S3, IAM, EKS) legitimately lack instanceDetails.
  const resourceType = (event as { detail?: { resource?: { resourceType?: unknown } } }).detail?.resource
    ?.resourceType;
  if (resourceType !== "Instance") {
    return reject("not-an-instance-finding", `resource type ${echo(resourceType)} is not an EC2 instance`);
  }
  const structure = structuralProblem(event);
  if (structure !== undefined) return reject("malformed-finding", structure);
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
  if (detail.service?.additionalInfo?.sample === true && valid.source !== DRILL_SOURCE) {
    return reject("sample-finding", `sample finding ${echo(detail.id)} from ${valid.source}`);
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

  const limits = FINDING_COPY_LIMITS;
  return {
    accepted: true,
    finding: {
      eventId: valid.id,
      source: valid.source,
      findingId: detail.id,
      type: detail.type,
      severity: detail.severity,
      title: capText(detail.title ?? detail.type, TITLE_LIMIT),
      accountId: detail.accountId,
      region: detail.region,
      updatedAt: detail.updatedAt ?? valid.time ?? "",
      instanceId: details.instanceId,
      availabilityZone: details.availabilityZone ?? undefined,
      instanceProfileArn: details.iamInstanceProfile?.arn ?? undefined,
      networkInterfaces: (details.networkInterfaces ?? []).slice(0, limits.networkInterfaces).map((eni) => ({
        networkInterfaceId: eni.networkInterfaceId,
        vpcId: eni.vpcId ?? undefined,
        subnetId: eni.subnetId ?? undefined,
        securityGroupIds: (eni.securityGroups ?? [])
          .slice(0, limits.securityGroups)
          .map((group) => group.groupId),
      })),
      tags: Object.fromEntries(Object.entries(tags).slice(0, limits.tags)),
    },
  };
}

/**
 * The tag rules, for the finding's tags and again for the live instance's. A drill event (source ir.drill) may
 * act only on an instance tagged ir:drill=true: anyone allowed events:PutEvents can send one, and it skips the
 * sample-finding rule.
 */
function rejectByTags(
  source: InstanceFinding["source"],
  instanceId: string,
  tags: Readonly<Record<string, string>>,
  exclusionTag: string,
): Acceptance | undefined {
  if (tags[exclusionTag]?.toLowerCase() === TRUE_VALUE) {
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

/** What the live check needs to know about the instance (from DescribeInstances). */
export interface LiveInstanceView {
  readonly state: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Re-checks the finding against the instance as it is now: tags may have been added since GuardDuty looked,
 * and an instance that is gone (or going) leaves nothing to contain. A drill needs ir:drill=true on the live
 * instance: the event's tags are whatever its sender wrote.
 */
export function acceptLiveInstance(
  finding: InstanceFinding,
  live: LiveInstanceView | undefined,
  exclusionTag: string,
): Acceptance {
  if (live === undefined || live.state === "terminated" || live.state === "shutting-down") {
    return reject("instance-gone", `instance ${finding.instanceId} is ${echo(live?.state ?? "not found")}`);
  }
  return (
    rejectByTags(finding.source, finding.instanceId, live.tags, exclusionTag) ?? { accepted: true, finding }
  );
}

/** The payload the handler sends itself (async Invoke) to continue a response in a fresh invocation. */
function continuationSchema() {
  return object({ "ir:continue": shape({ incidentId: string() }) });
}
export type ContinuationEvent = Infer<ReturnType<typeof continuationSchema>>;

export function isContinuationEvent(event: unknown): event is ContinuationEvent {
  return is(event, continuationSchema());
}

/**
 * EBS "EBS Multi-Volume Snapshots Completion Status": resumes a response that waits for its snapshots
 * (ATTACH_SNAPSHOT_COPIES) without holding a Lambda invocation while EBS copies the data.
 */
function snapshotCompletionSchema() {
  return shape({
    source: literal("aws.ec2"),
    "detail-type": literal("EBS Multi-Volume Snapshots Completion Status"),
    detail: shape({
      event: literal("createSnapshots"),
      result: string(),
      snapshots: array(shape({ snapshot_id: string() })),
    }),
  });
}
export type SnapshotCompletionEvent = Infer<ReturnType<typeof snapshotCompletionSchema>>;

export function isSnapshotCompletionEvent(event: unknown): event is SnapshotCompletionEvent {
  return is(event, snapshotCompletionSchema());
}

/** Snapshot ids (snap-...) from the completion event; its entries are ARNs. */
export function snapshotIdsOf(event: SnapshotCompletionEvent): string[] {
  return event.detail.snapshots.map((entry) => entry.snapshot_id.split("/").pop() ?? entry.snapshot_id);
}
