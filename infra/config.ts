// The stack's configuration: every key, its type, its default, and the checks that refuse a bad value with a
// message naming the key. index.ts reads the raw values once and passes the parsed object down; components never
// read config themselves.
import {
  array,
  boolean,
  coerce,
  enums,
  integer,
  max,
  min,
  number,
  object,
  pattern,
  record,
  refine,
  size,
  string,
  Struct,
  StructError,
  validate,
} from "superstruct";
import { parseCidr } from "../handler/cidr";
import { forensicSourceCidr, type Settings } from "../handler/settings";

export const PROJECT = "ec2-incident-response";

export type ObjectLockMode = "GOVERNANCE" | "COMPLIANCE";

export interface StackConfig {
  region: string;
  /** Findings below this GuardDuty severity (1.0-10.0) are not answered. */
  severityThreshold: number;
  /** Adopt this existing GuardDuty detector instead of creating one (a region has at most one). */
  guardDutyDetectorId?: string;
  findingPublishingFrequency: "FIFTEEN_MINUTES" | "ONE_HOUR" | "SIX_HOURS";
  /** Let `ir.drill` events through the rule (drills act only on instances tagged ir:drill=true). */
  acceptDrillEvents: boolean;
  /** Instances with this tag set to `true` are never responded to. */
  exclusionTagKey: string;
  /** VPCs that get a provisioned untrack/isolation/forensic group set; other VPCs get one on demand. */
  vpcIds: string[];
  /** Availability Zone -> subnet for the forensic workstation; the compromised instance's subnet otherwise. */
  forensicSubnets: Record<string, string>;
  /** The only sources allowed into an isolated instance (never 0.0.0.0/0). */
  forensicSourceCidrs: string[];
  forensicIngressPorts: number[];
  /** Where the forensic workstation may connect (HTTPS only): SSM and S3 endpoints. */
  forensicEgressCidrs: string[];
  forensicAmiId: string;
  forensicInstanceType: string;
  /** Base AMI the kdump-ready workload AMI is built from (Packer / Image Builder). */
  workloadBaseAmiId?: string;
  kdumpImagePipeline: boolean;
  kdumpPrepareTagKey: string;
  kdumpRebootIfNeeded: boolean;
  kdumpTagInstanceWhenReady: boolean;
  notificationEmail?: string;
  evidenceRetention: "retain" | "destroy";
  /** A key ARN or an alias ARN; index.ts resolves an alias to its key (a policy's Resource must name the key). */
  evidenceKmsKeyArn?: string;
  /** Customer-managed keys of the EBS volumes, snapshots and AMIs the responder copies or launches from. */
  ebsKmsKeyArns: string[];
  evidenceObjectLock?: { mode: ObjectLockMode; days: number };
  evidenceExpirationDays?: number;
  incidentTtlDays: number;
  logRetentionDays: number;
  dryRun: boolean;
  /** Handed to the handler as SNAPSHOT_LOCK and SNAPSHOT_LOCK_DAYS. */
  snapshotLock: { mode: Settings["snapshotLock"]; days: number };
  attachSnapshotCopies: boolean;
  snapshotCopiesFrom: Settings["snapshotCopiesFrom"];
  replacement: Settings["replacement"];
  /**
   * Roles the responder may pass when it launches a replacement with the original instance profile. The responder
   * may never rewrite these roles' policies (a stolen credential could make one `Allow *` and launch it), so it
   * cannot revoke their sessions either.
   */
  replacementRoleArns: string[];
  revokeRoleSessions: boolean;
  /** Move each ENI through the allow-all untrack group first, so connections already open are cut too. */
  cutTrackedConnections: boolean;
  /** Security Hub in the loop: the "Contain EC2 instance" custom action, and finding workflow updates. */
  securityHub: boolean;
  responderMemoryMb: number;
  responderTimeoutSeconds: number;
  /** Override for partitions without the Powertools public SSM parameter. */
  powertoolsLayerArn?: string;
  pollIntervalSeconds: number;
  stopMode: Settings["stopMode"];
  stopTimeoutSeconds: number;
  memoryGraceBaseSeconds: number;
  memoryGraceSecondsPerGib: number;
  /** First-hour triage on the forensic workstation (infra/triage.ts, handler/steps/triage.ts). */
  triage: boolean;
  triageTimeoutSeconds: number;
  triageHashBudgetSeconds: number;
  triageTimelineHours: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

const SEVERITY_NAMES: Record<string, number> = { low: 1, medium: 4, high: 7, critical: 9 };
// CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const vpcId = pattern(string(), /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/);
const subnetId = pattern(string(), /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/);
const amiId = pattern(string(), /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/);
const detectorId = pattern(string(), /^[0-9a-f]{32}$/);
const availabilityZone = pattern(string(), /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/);
const instanceType = pattern(string(), /^[a-z][a-z0-9-]*\.[a-z0-9]+$/);
const email = pattern(string(), /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
const kmsKeyArn = pattern(string(), /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/);
// IAM matches a policy's Resource against the key's ARN only: an alias ARN there grants nothing on the key.
const kmsKeyOnlyArn = refine(string(), "kmsKeyArn", (value) =>
  /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(value)
    ? true
    : value.includes(":alias/")
      ? `${value} is an alias: give the ARN of its key (arn:...:key/...), which is what IAM matches a policy's Resource against`
      : `${value} is not a KMS key ARN`,
);
const roleArn = pattern(string(), /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/);
const layerArn = pattern(string(), /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[\w-]+:\d+$/);
const tagKey = pattern(string(), /^(?!aws:)[\w .:/=+@-]{1,128}$/);
const port = refine(integer(), "port", (p) => (p >= 1 && p <= 65535) || `${p} is not a TCP port`);

// Egress for the forensic workstation may be 0.0.0.0/0 (HTTPS to the SSM and S3 endpoints), so only the syntax.
const egressCidr = refine(string(), "egressCidr", (value) =>
  parseCidr(value) ? true : `${value} is not a CIDR block`,
);

// Config values arrive as strings; structured values as JSON text.
const json = <T, S>(struct: Struct<T, S>) =>
  coerce(struct, string(), (text) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  });
const flag = coerce(boolean(), string(), (text) =>
  text === "true" ? true : text === "false" ? false : text,
);
const wholeNumber = (low: number, high: number) =>
  coerce(max(min(integer(), low), high), string(), (text) => (/^-?\d+$/.test(text) ? Number(text) : text));

const severity = coerce(
  refine(number(), "severity", (n) => (n >= 1 && n <= 10) || `${n} is outside GuardDuty's 1.0-10.0 range`),
  string(),
  (text) => SEVERITY_NAMES[text.toLowerCase()] ?? (/^\d+(\.\d+)?$/.test(text) ? Number(text) : text),
);

// Struct's refiner is contravariant in T, so a table of differently typed structs needs `any` here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStruct<T> = Struct<T, any>;

interface KeySpec<T> {
  struct: AnyStruct<T>;
  default?: T;
  required?: boolean;
  /** What a person should do, appended to the error. */
  hint?: string;
}

function key<T>(struct: AnyStruct<T>, options: Omit<KeySpec<NoInfer<T>>, "struct"> = {}): KeySpec<T> {
  return { struct, ...options };
}

// One entry per key in the project namespace; `default: undefined` with no default makes a key optional.
const KEYS = {
  severityThreshold: key(severity, {
    default: 7,
    hint: "a number from 1 to 10, or low|medium|high|critical",
  }),
  guardDutyDetectorId: key(detectorId, { hint: "the 32-hex-digit detector id" }),
  findingPublishingFrequency: key(enums(["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"]), {
    default: "FIFTEEN_MINUTES",
  }),
  acceptDrillEvents: key(flag, { default: true }),
  exclusionTagKey: key(tagKey, { default: "ir:exclude" }),
  vpcIds: key(json(array(vpcId)), { default: [], hint: 'a JSON list such as ["vpc-0123456789abcdef0"]' }),
  forensicSubnets: key(json(record(availabilityZone, subnetId)), {
    default: {},
    hint: 'a JSON map of Availability Zone to subnet, e.g. {"eu-central-1a":"subnet-0123456789abcdef0"}',
  }),
  forensicSourceCidrs: key(json(array(forensicSourceCidr())), {
    default: [],
    hint: "narrow CIDRs of your forensic network",
  }),
  forensicIngressPorts: key(json(size(array(port), 1, 10)), { default: [22] }),
  forensicEgressCidrs: key(json(size(array(egressCidr), 1, 20)), { default: ["0.0.0.0/0"] }),
  forensicAmiId: key(amiId, { required: true, hint: "the forensic workstation AMI (see forensics-ami/)" }),
  forensicInstanceType: key(instanceType, { default: "m6i.large" }),
  workloadBaseAmiId: key(amiId),
  kdumpImagePipeline: key(flag, { default: false }),
  kdumpPrepareTagKey: key(tagKey, { default: "ir:prepare-kdump" }),
  kdumpRebootIfNeeded: key(flag, { default: false }),
  kdumpTagInstanceWhenReady: key(flag, { default: true }),
  notificationEmail: key(email),
  evidenceRetention: key(enums(["retain", "destroy"]), {
    default: "retain",
    hint: "destroy only for drill stacks: pulumi destroy then deletes the evidence",
  }),
  evidenceKmsKeyArn: key(kmsKeyArn, {
    hint: "a key ARN or an alias ARN (resolved to its key at deployment)",
  }),
  ebsKmsKeyArns: key(json(array(kmsKeyOnlyArn)), {
    default: [],
    hint: 'a JSON list of key ARNs, e.g. ["arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]',
  }),
  evidenceObjectLock: key(
    json(object({ mode: enums(["GOVERNANCE", "COMPLIANCE"]), days: max(min(integer(), 1), 36500) })),
    { hint: '{"mode":"GOVERNANCE","days":365}' },
  ),
  evidenceExpirationDays: key(wholeNumber(1, 36500)),
  incidentTtlDays: key(wholeNumber(1, 3650), { default: 400 }),
  logRetentionDays: key(
    refine(wholeNumber(1, 3653), "retention", (d) =>
      LOG_RETENTION_DAYS.includes(d) ? true : `${d} is not a CloudWatch Logs retention period`,
    ),
    { default: 365, hint: `one of ${LOG_RETENTION_DAYS.join(", ")}` },
  ),
  dryRun: key(flag, { default: false }),
  snapshotLock: key(
    json(object({ mode: enums(["none", "governance", "compliance"]), days: max(min(integer(), 1), 36500) })),
    { default: { mode: "none", days: 1 }, hint: '{"mode":"governance","days":30}' },
  ),
  attachSnapshotCopies: key(flag, { default: false }),
  snapshotCopiesFrom: key(enums(["after-stop", "as-found"]), { default: "after-stop" }),
  replacement: key(enums(["off", "launch"]), { default: "launch" }),
  replacementRoleArns: key(json(array(roleArn)), { default: [] }),
  revokeRoleSessions: key(flag, { default: true }),
  cutTrackedConnections: key(flag, { default: true }),
  securityHub: key(flag, { default: false }),
  responderMemoryMb: key(wholeNumber(128, 10240), { default: 512 }),
  responderTimeoutSeconds: key(wholeNumber(120, 900), { default: 900 }),
  powertoolsLayerArn: key(layerArn),
  pollIntervalSeconds: key(wholeNumber(1, 60), { default: 2 }),
  stopMode: key(enums(["forced", "graceful"]), { default: "forced" }),
  stopTimeoutSeconds: key(wholeNumber(30, 3600), { default: 300 }),
  memoryGraceBaseSeconds: key(wholeNumber(0, 3600), { default: 60 }),
  memoryGraceSecondsPerGib: key(wholeNumber(0, 600), { default: 10 }),
  triage: key(flag, { default: true }),
  triageTimeoutSeconds: key(wholeNumber(60, 86400), { default: 1800 }),
  triageHashBudgetSeconds: key(wholeNumber(0, 86400), { default: 600 }),
  triageTimelineHours: key(wholeNumber(1, 99999), { default: 72 }),
} satisfies Record<string, KeySpec<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

type Keys = typeof KEYS;
type Parsed = { [K in keyof Keys]: Keys[K] extends KeySpec<infer T> ? T : never };

export const CONFIG_KEYS = Object.keys(KEYS) as (keyof Keys)[];

/**
 * Parses the whole stack configuration (as `pulumi.runtime.allConfig()` returns it: `namespace:key` -> string).
 * Collects every problem before failing, so one `pulumi up` shows them all.
 */
export function parseStackConfig(all: Record<string, string>): StackConfig {
  const problems: string[] = [];
  const region = all["aws:region"];
  if (region === undefined)
    problems.push("aws:region is required (pulumi config set aws:region eu-central-1)");
  else if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    problems.push(`aws:region: ${region} is not a region name`);

  for (const name of Object.keys(all)) {
    const [namespace, bare] = name.split(":", 2);
    if (namespace === PROJECT && bare !== undefined && !(bare in KEYS)) {
      const near = CONFIG_KEYS.find((k) => k.toLowerCase() === bare.toLowerCase() || closeTo(k, bare));
      problems.push(`${name} is not a known key${near ? ` (did you mean ${PROJECT}:${near}?)` : ""}`);
    }
  }

  const parsed: Partial<Record<keyof Keys, unknown>> = {};
  for (const name of CONFIG_KEYS) {
    const spec: KeySpec<unknown> = KEYS[name] as KeySpec<unknown>;
    const raw = all[`${PROJECT}:${name}`];
    if (raw === undefined) {
      if (spec.required) problems.push(`${PROJECT}:${name} is required${spec.hint ? `: ${spec.hint}` : ""}`);
      parsed[name] = spec.default;
      continue;
    }
    const [error, value] = validate(raw, spec.struct, { coerce: true });
    if (error) problems.push(describe(name, raw, error, spec.hint));
    else parsed[name] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const p = parsed as Parsed;
  return { region: region as string, ...p };
}

function describe(name: string, raw: string, error: StructError, hint?: string): string {
  const failure = error.failures()[0] ?? error;
  const where = failure.path.length > 0 ? `[${failure.path.join("][")}]` : "";
  // Refinements return their own sentence; type mismatches get superstruct's wording plus the hint.
  const reason = failure.refinement
    ? failure.message
    : `${JSON.stringify(raw)} is not valid (${failure.message})`;
  return `${PROJECT}:${name}${where}: ${reason}${hint ? `; expected ${hint}` : ""}`;
}

/** A one-edit typo (insertion, deletion or substitution). */
function closeTo(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i);
}
