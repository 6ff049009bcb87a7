// Responses asked for without a GuardDuty event: a person's `{"ir:respond": …}` (ir respond, a direct invoke) and
// Security Hub's "Contain EC2 instance" custom action. Pure: what the request says, checked; the live instance is
// checked before any change by the invocation (requestedResponse.ts).
import type { Instance } from "@aws-sdk/client-ec2";
import {
  array,
  boolean,
  literal,
  nullable,
  number,
  object,
  optional,
  pattern,
  refine,
  size,
  string,
  type as shape,
  validate,
} from "superstruct";

import type { ResponseTrigger } from "../incidentRecord";
import { isResponderGroup } from "../securityGroups";
import type { Settings } from "../settings";
import { reject, TITLE_LIMIT, FINDING_COPY_LIMITS, type Rejection } from "./acceptance";
import {
  ec2IdPattern,
  isStorableSeverity,
  REQUESTED_SOURCE,
  SECURITY_HUB_SOURCE,
  type InstanceFinding,
} from "./finding";
import { capText, echo, pathText, wellFormed } from "./text";

/** The direct-invoke payload's only key (handler/README.md, "Manual response"). */
const RESPOND_KEY = "ir:respond";

/** Security Hub's event for a custom action chosen on findings. */
export const CUSTOM_ACTION_DETAIL_TYPE = "Security Hub Findings - Custom Action";

/** A reason is a sentence or a paragraph for the record and the report, not a document. */
export const REASON_LIMIT = 1000;

/** The identity STS GetCallerIdentity answers (an IAM user, an assumed role's session, root, a federated user). */
const CALLER_ARN =
  /^arn:aws[a-z-]*:(?:iam|sts)::\d{12}:(?:root|(?:user|assumed-role|federated-user)\/[\w+=,.@/-]{1,512})$/;

/** One instance to respond to, and why: what the invocation checks live, claims and records. */
export interface RequestedResponse {
  readonly instanceId: string;
  readonly trigger: ResponseTrigger;
  /** The finding-equivalent's identity (the claim's findings map keys it; a retry repeats it). */
  readonly findingId: string;
  readonly eventId: string;
  readonly updatedAt: string;
  readonly type: string;
  readonly title: string;
  readonly severity: number;
  readonly source: typeof REQUESTED_SOURCE | typeof SECURITY_HUB_SOURCE;
}

/** An instance a Security Hub event names that is not responded to, and why. */
interface RefusedResource {
  readonly resource: string;
  readonly rejection: Rejection;
}

/** Whether the event is a `{"ir:respond": …}` request, read without any schema (safe on any structure). */
export function claimsToBeARequest(event: unknown): boolean {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return false;
  return Object.getOwnPropertyDescriptor(event, RESPOND_KEY) !== undefined;
}

/** Whether the event says it is a Security Hub custom action, read without any schema. */
export function claimsToBeACustomAction(event: unknown): boolean {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return false;
  return Object.getOwnPropertyDescriptor(event, "detail-type")?.value === CUSTOM_ACTION_DETAIL_TYPE;
}

/** The request's schema, built on call (no superstruct Struct at module scope: README.md, "Closure serialization"). */
function requestSchema() {
  const nonBlank = (max: number) =>
    refine(size(string(), 1, max * 2), "text", (text) => {
      if (text.trim() === "") return "must not be blank";
      return [...text].length <= max || `at most ${max} characters`;
    });
  return object({
    [RESPOND_KEY]: object({
      instanceId: pattern(string(), ec2IdPattern("i")),
      reason: nonBlank(REASON_LIMIT),
      requestedBy: pattern(size(string(), 1, 2048), CALLER_ARN),
      overrideExclusion: optional(boolean()),
    }),
  });
}

/**
 * A person's request, checked field by field (pure): an instance id in EC2's format, a reason (not blank, at most
 * REASON_LIMIT characters), the caller's ARN as STS names it, and nothing else. A malformed request is rejected
 * whole, before any AWS call.
 */
export function acceptRespondRequest(
  event: unknown,
  requestId: string,
  now: Date,
): { accepted: true; request: RequestedResponse } | Rejection {
  const [error, valid] = validate(event, requestSchema());
  if (error !== undefined)
    return reject("malformed-request", `${pathText(error.path)}: ${echo(error.message)}`);
  const { instanceId, reason, requestedBy, overrideExclusion } = valid[RESPOND_KEY];
  const text = wellFormed(reason.trim());
  return {
    accepted: true,
    request: {
      instanceId,
      trigger: { kind: "manual", requestedBy, reason: text, overrideExclusion: overrideExclusion === true },
      findingId: `manual:${requestId}`,
      eventId: requestId,
      updatedAt: now.toISOString(),
      type: "Manual response",
      title: capText(`requested by ${requestedBy}: ${text}`, TITLE_LIMIT),
      severity: 0,
      source: REQUESTED_SOURCE,
    },
  };
}

/** The custom action event's schema (Security Hub user guide, "EventBridge event formats"), built on call. */
function customActionSchema() {
  const Text = (max: number, min = 0) => size(string(), min, max);
  const Resource = shape({ Type: Text(256, 1), Id: Text(2048, 1) });
  const Finding = shape({
    Id: Text(512, 1),
    ProductArn: pattern(Text(2048), /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:\d{0,12}:product\//),
    Title: optional(nullable(string())),
    Types: optional(nullable(array(string()))),
    Severity: optional(nullable(shape({ Normalized: optional(nullable(number())) }))),
    Resources: size(array(Resource), 0, 32),
  });
  return shape({
    id: Text(128, 1),
    "detail-type": literal(CUSTOM_ACTION_DETAIL_TYPE),
    source: literal(SECURITY_HUB_SOURCE),
    account: string(),
    region: string(),
    time: optional(Text(64)),
    detail: shape({ actionName: optional(Text(128)), findings: size(array(Finding), 1, 100) }),
  });
}

/** An EC2 instance's ARN: arn:PARTITION:ec2:REGION:ACCOUNT:instance/i-…. */
const INSTANCE_ARN = /^arn:aws[a-z-]*:ec2:([a-z0-9-]+):(\d{12}):instance\/(i-(?:[0-9a-f]{8}|[0-9a-f]{17}))$/;

/**
 * The instances of a Security Hub custom action event (pure): for each finding, each resource of type
 * AwsEc2Instance, whose Id is the instance's ARN. An instance of another account or region is refused (the
 * responder acts only in its own); an instance named twice is responded to once, for its first finding.
 */
export function acceptCustomAction(
  event: unknown,
  settings: Pick<Settings, "accountId" | "region">,
): { accepted: true; requests: RequestedResponse[]; refused: RefusedResource[] } | Rejection {
  const [error, valid] = validate(event, customActionSchema());
  if (error !== undefined)
    return reject("malformed-request", `${pathText(error.path)}: ${echo(error.message)}`);
  if (valid.account !== settings.accountId) {
    return reject(
      "other-account",
      `event account ${echo(valid.account)}, stack account ${settings.accountId}`,
    );
  }
  if (valid.region !== settings.region) {
    return reject("other-region", `event region ${echo(valid.region)}, stack region ${settings.region}`);
  }
  const requests: RequestedResponse[] = [];
  const refused: RefusedResource[] = [];
  for (const finding of valid.detail.findings) {
    const normalized = (finding.Severity?.Normalized ?? 0) / 10;
    for (const resource of finding.Resources.filter((r) => r.Type === "AwsEc2Instance")) {
      const [, region, account, instanceId] = INSTANCE_ARN.exec(resource.Id) ?? [];
      const refuse = (rejection: Rejection) => refused.push({ resource: capText(resource.Id), rejection });
      if (instanceId === undefined)
        refuse(reject("malformed-request", `${echo(resource.Id)} is not an instance ARN`));
      else if (account !== settings.accountId)
        refuse(
          reject(
            "other-account",
            `${instanceId} is in account ${account}, stack account ${settings.accountId}`,
          ),
        );
      else if (region !== settings.region)
        refuse(
          reject("other-region", `${instanceId} is in region ${region}, stack region ${settings.region}`),
        );
      else if (!requests.some((request) => request.instanceId === instanceId)) {
        const id = wellFormed(finding.Id);
        requests.push({
          instanceId,
          trigger: {
            kind: "security-hub",
            reason: `Security Hub custom action ${echo(valid.detail.actionName ?? "")} on finding ${capText(id)}`,
            securityHubFinding: { id, productArn: finding.ProductArn },
          },
          findingId: id,
          eventId: valid.id,
          updatedAt: valid.time ?? "",
          type: capText(wellFormed(finding.Types?.[0] ?? "Security Hub finding"), 128),
          title: capText(finding.Title ?? id, TITLE_LIMIT),
          severity: isStorableSeverity(normalized) ? normalized : 0,
          source: SECURITY_HUB_SOURCE,
        });
      }
    }
  }
  if (requests.length === 0 && refused.length === 0) {
    return reject("not-an-instance-finding", "no finding of the event names an AwsEc2Instance resource");
  }
  return { accepted: true, requests, refused };
}

/**
 * The finding-equivalent of a requested response (pure), from the live description: the instance's ENIs with
 * their groups (none when one is the responder's: the ENI's own groups are then not known), its tags and profile.
 */
export function requestedFinding(
  request: RequestedResponse,
  instance: Instance,
  settings: Pick<Settings, "accountId" | "region" | "vpcSecurityGroups">,
): InstanceFinding {
  const limits = FINDING_COPY_LIMITS;
  const tags: Record<string, string> = {};
  for (const tag of (instance.Tags ?? []).slice(0, limits.tags)) {
    if (tag.Key !== undefined) tags[wellFormed(tag.Key)] = wellFormed(tag.Value ?? "");
  }
  return {
    eventId: request.eventId,
    source: request.source,
    findingId: request.findingId,
    type: request.type,
    severity: request.severity,
    title: request.title,
    accountId: settings.accountId,
    region: settings.region,
    updatedAt: request.updatedAt,
    instanceId: request.instanceId,
    availabilityZone: instance.Placement?.AvailabilityZone,
    instanceProfileArn: instance.IamInstanceProfile?.Arn,
    networkInterfaces: (instance.NetworkInterfaces ?? [])
      .slice(0, limits.networkInterfaces)
      .flatMap((eni) => {
        if (eni.NetworkInterfaceId === undefined) return [];
        const groups = eni.Groups ?? [];
        const ours = groups.some((group) =>
          isResponderGroup(group.GroupId ?? "", group.GroupName, settings.vpcSecurityGroups),
        );
        return [
          {
            networkInterfaceId: eni.NetworkInterfaceId,
            vpcId: eni.VpcId,
            subnetId: eni.SubnetId,
            securityGroupIds: ours ? [] : [...new Set(groups.flatMap((group) => group.GroupId ?? []))],
          },
        ];
      }),
    tags,
  };
}
