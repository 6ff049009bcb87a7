// The GuardDuty finding as EventBridge delivers it (its schema) and as the response keeps it (InstanceFinding).
import {
  array,
  boolean,
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
  type Infer,
} from "superstruct";

/** Event sources whose GuardDuty findings are answered; sample findings only from the drill source. */
export const GUARDDUTY_SOURCE = "aws.guardduty";
export const DRILL_SOURCE = "ir.drill";
export const FINDING_DETAIL_TYPE = "GuardDuty Finding";
/** Responses without a GuardDuty event: asked for by a person (ir respond), or by Security Hub's custom action. */
export const REQUESTED_SOURCE = "ir.respond";
export const SECURITY_HUB_SOURCE = "aws.securityhub";

/** EC2's limit of security groups per network interface: a finding listing more for one ENI is malformed. */
export const MAX_GROUPS_PER_INTERFACE = 16;

/** GuardDuty's severity range (its user guide: 1.0-10.0; 0 reserved). Anything outside is not a finding's. */
const SEVERITY_RANGE = { min: 0, max: 10 } as const;

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

/** A GuardDuty finding's ARN as GuardDuty writes it (anything else is not kept). */
export const GUARDDUTY_FINDING_ARN =
  /^arn:aws[a-z-]*:guardduty:[a-z0-9-]+:\d{12}:detector\/[0-9a-z]{1,64}\/finding\/[0-9a-z]{1,64}$/;

/**
 * EC2's resource id formats: the prefix and 8 or 17 lowercase hex digits. Identifiers the response sends EC2 are
 * checked against these at acceptance, so a doubled, empty, `Infinity` or foreign id never reaches an AWS call
 * (nor the record, where a garbage "original group" could never be restored).
 */
export function ec2IdPattern(prefix: "i" | "eni" | "sg" | "vpc" | "subnet" | "snap"): RegExp {
  return new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);
}

/**
 * The schemas, built on call: superstruct's Struct objects hold closures over `this` that Pulumi's closure
 * serialization cannot capture, so no Struct may live at module scope in the Lambda's code (README.md here, "Closure serialization").
 */
export function findingSchemas() {
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

/** A finding event as the schema accepts it. */
export type FindingEvent = Infer<ReturnType<typeof findingSchemas>["FindingEnvelope"]>;

/** What the response needs from an accepted finding, in a flat shape that is stored in the incident record. */
export interface InstanceFinding {
  readonly eventId: string;
  readonly source:
    typeof GUARDDUTY_SOURCE | typeof DRILL_SOURCE | typeof REQUESTED_SOURCE | typeof SECURITY_HUB_SOURCE;
  readonly findingId: string;
  /** The GuardDuty finding's ARN: its Security Hub copy's Id (handler/securityHub.ts). */
  readonly findingArn?: string;
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

interface FindingInterface {
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
