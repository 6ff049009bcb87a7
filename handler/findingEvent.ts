import {
  array,
  boolean,
  is,
  literal,
  nullable,
  number,
  optional,
  pattern,
  refine,
  size,
  string,
  type as shape,
  union,
  validate,
  type Infer,
} from "superstruct";

import { isResponderGroup } from "./securityGroups";
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
 * How much of a finding's lists the incident record copies. EC2 allows 50 user tags; ENIs the copy leaves out are
 * found by isolateNetwork's describe. The checks at acceptance see the whole lists, and the raw finding
 * (evidence) keeps them; the copy is bounded so a hostile list cannot push the record past DynamoDB's 400 KB item
 * limit.
 */
export const FINDING_COPY_LIMITS = { tags: 64, networkInterfaces: 64 } as const;

/** EC2's limit of security groups per network interface: a finding listing more for one ENI is malformed. */
export const MAX_GROUPS_PER_INTERFACE = 16;

/** GuardDuty's severity range (its user guide: 1.0-10.0; 0 reserved). Anything outside is not a finding's. */
export const SEVERITY_RANGE = { min: 0, max: 10 } as const;

/**
 * Whether a number is a severity GuardDuty could have written and DynamoDB can store (pure): finite, in
 * GuardDuty's range, and printed as a plain decimal of at most 17 fraction digits (what a double prints as), so
 * DynamoDB's number type (38 digits, magnitude 1e-130 to 1e126) always holds it. Exponent forms (1e-7; a raw
 * 1e309, which JSON.parse makes Infinity), NaN and 1e308 are refused.
 */
export function isStorableSeverity(value: number): boolean {
  return (
    Number.isFinite(value) &&
    value >= SEVERITY_RANGE.min &&
    value <= SEVERITY_RANGE.max &&
    /^(?:10|[0-9](?:\.[0-9]{1,17})?)$/.test(String(value))
  );
}

/**
 * EC2's resource id formats: the prefix and 8 or 17 lowercase hex digits. Identifiers the response sends EC2 are
 * checked against these at acceptance, so a doubled, empty, `Infinity` or foreign id never reaches an AWS call
 * (nor the record, where a garbage "original group" could never be restored).
 */
export function ec2IdPattern(prefix: "i" | "eni" | "sg" | "vpc" | "subnet" | "snap"): RegExp {
  return new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);
}

/** The text with every lone surrogate (half a UTF-16 pair) replaced by U+FFFD: what UTF-8 (DynamoDB) can hold. */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

/** Where the first `max` code points of `text` end (a UTF-16 index that never splits a surrogate pair). */
function codePointCut(text: string, max: number): number {
  let index = 0;
  for (let count = 0; count < max && index < text.length; count += 1) {
    const unit = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    index += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return index;
}

/** How many code points `text` holds from `start` (a surrogate pair counts once, a lone half once). */
function codePointsFrom(text: string, start: number): number {
  let count = 0;
  for (let index = start; index < text.length; count += 1) {
    const unit = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    index += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return count;
}

/**
 * The schemas, built on call: superstruct's Struct objects hold closures over `this` that Pulumi's closure
 * serialization cannot capture, so no Struct may live at module scope in the Lambda's code (README.md here, "Closure serialization").
 */
function findingSchemas() {
  const Ec2Id = (prefix: Parameters<typeof ec2IdPattern>[0]) => pattern(string(), ec2IdPattern(prefix));
  const InstanceId = Ec2Id("i");
  // Strings the record copies and AWS calls or DynamoDB keys reuse: AWS never sends them longer (EC2 tag keys
  // 128, values 256, IAM ARNs 2048); a longer one is not a GuardDuty finding.
  const Text = (max: number, min = 0) => size(string(), min, max);

  const Tag = shape({ key: Text(128, 1), value: nullable(optional(Text(256))) });

  // Every id here may reach EC2 (the ENI moves, the group a moved ENI is restored to, the VPC whose groups are
  // looked up or made): EC2's formats only. An ENI has at most 16 groups.
  const FindingNetworkInterface = shape({
    networkInterfaceId: Ec2Id("eni"),
    subnetId: optional(nullable(Ec2Id("subnet"))),
    vpcId: optional(nullable(Ec2Id("vpc"))),
    securityGroups: optional(
      nullable(
        size(
          array(shape({ groupId: Ec2Id("sg"), groupName: optional(nullable(Text(255))) })),
          0,
          MAX_GROUPS_PER_INTERFACE,
        ),
      ),
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
    severity: refine(
      number(),
      "severity",
      (value) =>
        isStorableSeverity(value) ||
        `a severity is a plain decimal from ${SEVERITY_RANGE.min} to ${SEVERITY_RANGE.max} (GuardDuty's range)`,
    ),
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
  /**
   * The ENI's own groups as the finding lists them: each once, never one of the responder's (untrack,
   * isolation, forensic). Empty when the finding lists none, or lists one of the responder's groups (the ENI
   * was already in a response when GuardDuty looked): then the finding does not know the ENI's own groups, and
   * isolateNetwork takes them from the live description before it moves the ENI.
   */
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
  | "foreign-network-interface"
  | "instance-gone"
  | "malformed-event";

export type Acceptance =
  | { readonly accepted: true; readonly finding: InstanceFinding }
  | { readonly accepted: false; readonly reason: RejectionReason; readonly detail: string };

function reject(reason: RejectionReason, detail: string): Acceptance {
  return { accepted: false, reason, detail };
}

/**
 * `text`, or its first `max` characters (code points: a surrogate pair is never cut in half) and how many more
 * there were; lone surrogates become U+FFFD. The result is always well-formed, so DynamoDB can store it.
 */
export function capText(text: string, max: number = ECHO_LIMIT): string {
  const cut = codePointCut(text, max);
  if (cut >= text.length) return wellFormed(text);
  return `${wellFormed(text.slice(0, cut))}… (${codePointsFrom(text, cut)} more characters)`;
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
 * stack here. It runs before anything else looks at an event (handleEvent, acceptFindingEvent): superstruct
 * recurses once per level, and even its failure message prints the value it refused (`${value}`, which joins a
 * nested array recursively), so a 100 000-deep value anywhere it looks overflows the stack. It refuses what
 * JSON cannot carry and what makes JSON.stringify throw (BigInt, a circular reference) or blow up (an object met
 * twice): Lambda only ever hands the handler parsed JSON, and the claim stores the event serialized.
 */
export function structuralProblem(event: unknown): string | undefined {
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

/** Whether the event names itself a GuardDuty finding, read without any schema (safe on any structure). */
export function claimsToBeAFinding(event: unknown): boolean {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return false;
  return Object.getOwnPropertyDescriptor(event, "detail-type")?.value === FINDING_DETAIL_TYPE;
}

/**
 * Events that only AWS services can have sent. EventBridge refuses PutEvents entries whose source starts with
 * "aws.", so an aws.guardduty finding is GuardDuty's; anything else (ir.drill) is written by whoever may call
 * events:PutEvents, and is checked against the live instance before the first change.
 */
export function sentByAws(finding: Pick<InstanceFinding, "source">): boolean {
  return finding.source === GUARDDUTY_SOURCE;
}

/**
 * Decides from the event alone whether to respond. Pure: the live-instance re-check is `acceptLiveInstance`.
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

  // The copy the record keeps: bounded, and every string well-formed (DynamoDB refuses a lone surrogate, and a
  // claim that cannot be written contains nothing).
  const limits = FINDING_COPY_LIMITS;
  const ours = (group: { groupId: string; groupName?: string | null }) =>
    isResponderGroup(group.groupId, group.groupName ?? undefined, settings.vpcSecurityGroups);
  const optionalText = (text: string | null | undefined) =>
    text === null || text === undefined ? undefined : wellFormed(text);
  return {
    accepted: true,
    finding: {
      eventId: wellFormed(valid.id),
      source: valid.source,
      findingId: wellFormed(detail.id),
      type: wellFormed(detail.type),
      severity: detail.severity,
      title: capText(detail.title ?? detail.type, TITLE_LIMIT),
      accountId: detail.accountId,
      region: detail.region,
      updatedAt: wellFormed(detail.updatedAt ?? valid.time ?? ""),
      instanceId: details.instanceId,
      availabilityZone: optionalText(details.availabilityZone),
      instanceProfileArn: optionalText(details.iamInstanceProfile?.arn),
      networkInterfaces: listed.slice(0, limits.networkInterfaces).map((eni) => {
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
): Acceptance {
  if (live === undefined || live.state === "terminated" || live.state === "shutting-down") {
    return reject("instance-gone", `instance ${finding.instanceId} is ${echo(live?.state ?? "not found")}`);
  }
  const byTags = rejectByTags(finding.source, finding.instanceId, live.tags, exclusionTag);
  if (byTags !== undefined) return byTags;
  if (!sentByAws(finding) && live.networkInterfaceIds !== undefined) {
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
