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
  string,
  type as shape,
  union,
  validate,
  type Infer,
} from "superstruct";

import type { Settings } from "./settings";
import { TAG_RESPONDER_MADE, TRUE_VALUE } from "./tags";

/** Event sources whose GuardDuty findings are answered; sample findings only from the drill source. */
export const GUARDDUTY_SOURCE = "aws.guardduty";
export const DRILL_SOURCE = "ir.drill";
export const FINDING_DETAIL_TYPE = "GuardDuty Finding";

/**
 * The schemas, built on call: superstruct's Struct objects hold closures over `this` that Pulumi's closure
 * serialization cannot capture, so no Struct may live at module scope in the Lambda's code (TOOLCHAIN.md).
 */
function findingSchemas() {
  const InstanceId = pattern(string(), /^i-[0-9a-f]{8,17}$/);

  const Tag = shape({ key: string(), value: nullable(optional(string())) });

  const FindingNetworkInterface = shape({
    networkInterfaceId: pattern(string(), /^eni-[0-9a-f]+$/),
    subnetId: optional(nullable(string())),
    vpcId: optional(nullable(string())),
    securityGroups: optional(
      nullable(array(shape({ groupId: string(), groupName: optional(nullable(string())) }))),
    ),
  });

  const InstanceDetails = shape({
    instanceId: InstanceId,
    instanceType: optional(nullable(string())),
    availabilityZone: optional(nullable(string())),
    imageId: optional(nullable(string())),
    iamInstanceProfile: optional(nullable(shape({ arn: optional(nullable(string())) }))),
    networkInterfaces: optional(nullable(array(FindingNetworkInterface))),
    tags: optional(nullable(array(Tag))),
  });

  const FindingDetail = shape({
    schemaVersion: optional(string()),
    accountId: pattern(string(), /^\d{12}$/),
    region: string(),
    id: string(),
    type: string(),
    severity: number(),
    title: optional(string()),
    description: optional(string()),
    createdAt: optional(string()),
    updatedAt: optional(string()),
    resource: shape({ resourceType: string(), instanceDetails: optional(nullable(InstanceDetails)) }),
    service: optional(
      nullable(
        shape({ additionalInfo: optional(nullable(shape({ sample: optional(nullable(boolean())) }))) }),
      ),
    ),
  });

  const FindingEnvelope = shape({
    version: optional(string()),
    id: string(),
    "detail-type": literal(FINDING_DETAIL_TYPE),
    source: union([literal(GUARDDUTY_SOURCE), literal(DRILL_SOURCE)]),
    account: string(),
    region: string(),
    time: optional(string()),
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
  | "instance-gone";

export type Acceptance =
  | { readonly accepted: true; readonly finding: InstanceFinding }
  | { readonly accepted: false; readonly reason: RejectionReason; readonly detail: string };

function reject(reason: RejectionReason, detail: string): Acceptance {
  return { accepted: false, reason, detail };
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
      `source ${source} is neither ${GUARDDUTY_SOURCE} nor ${DRILL_SOURCE}`,
    );
  }
  // Resource type first: other finding kinds (S3, IAM, EKS) legitimately lack instanceDetails.
  const resourceType = (event as { detail?: { resource?: { resourceType?: unknown } } }).detail?.resource
    ?.resourceType;
  if (resourceType !== "Instance") {
    return reject("not-an-instance-finding", `resource type ${String(resourceType)} is not an EC2 instance`);
  }
  const [error, valid] = validate(event, findingSchemas().FindingEnvelope);
  if (error !== undefined) {
    const path = error.path.length > 0 ? error.path.join(".") : "event";
    return reject("malformed-finding", `${path}: ${error.message}`);
  }
  const detail = valid.detail;
  const details = detail.resource.instanceDetails;
  if (details === undefined || details === null) {
    return reject("not-an-instance-finding", "finding has no instanceDetails");
  }
  if (detail.service?.additionalInfo?.sample === true && valid.source !== DRILL_SOURCE) {
    return reject("sample-finding", `sample finding ${detail.id} from ${valid.source}`);
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
      `finding account ${detail.accountId}, stack account ${settings.accountId}`,
    );
  }
  if (detail.region !== settings.region || valid.region !== settings.region) {
    return reject("other-region", `finding region ${detail.region}, stack region ${settings.region}`);
  }
  const tags: Record<string, string> = {};
  for (const tag of details.tags ?? []) tags[tag.key] = tag.value ?? "";
  const tagVerdict = rejectByTags(details.instanceId, tags, settings.exclusionTag);
  if (tagVerdict !== undefined) return tagVerdict;

  return {
    accepted: true,
    finding: {
      eventId: valid.id,
      source: valid.source,
      findingId: detail.id,
      type: detail.type,
      severity: detail.severity,
      title: detail.title ?? detail.type,
      accountId: detail.accountId,
      region: detail.region,
      updatedAt: detail.updatedAt ?? valid.time ?? "",
      instanceId: details.instanceId,
      availabilityZone: details.availabilityZone ?? undefined,
      instanceProfileArn: details.iamInstanceProfile?.arn ?? undefined,
      networkInterfaces: (details.networkInterfaces ?? []).map((eni) => ({
        networkInterfaceId: eni.networkInterfaceId,
        vpcId: eni.vpcId ?? undefined,
        subnetId: eni.subnetId ?? undefined,
        securityGroupIds: (eni.securityGroups ?? []).map((group) => group.groupId),
      })),
      tags,
    },
  };
}

function rejectByTags(
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
      `instance ${instanceId} is the responder's own ${madeBy} instance`,
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
 * and an instance that is gone (or going) leaves nothing to contain.
 */
export function acceptLiveInstance(
  finding: InstanceFinding,
  live: LiveInstanceView | undefined,
  exclusionTag: string,
): Acceptance {
  if (live === undefined || live.state === "terminated" || live.state === "shutting-down") {
    return reject("instance-gone", `instance ${finding.instanceId} is ${live?.state ?? "not found"}`);
  }
  return rejectByTags(finding.instanceId, live.tags, exclusionTag) ?? { accepted: true, finding };
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
