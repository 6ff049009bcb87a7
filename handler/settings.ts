import { brotliDecompressSync } from "zlib";
import { array, assert, record, string, type as objectType, optional, type Infer } from "superstruct";

import { isWholeInternet, parseCidr } from "./cidr";
import { DEFAULT_EXCLUSION_TAG } from "./tags";
import { InvalidSettingError } from "./errors";

// Built on call: superstruct Structs at module scope do not survive closure serialization (handler/README.md, "Closure serialization").
function vpcSecurityGroupsSchema() {
  return record(
    string(),
    objectType({ untrack: optional(string()), isolation: optional(string()), forensic: optional(string()) }),
  );
}
export type VpcSecurityGroups = Infer<ReturnType<typeof vpcSecurityGroupsSchema>>;

export type SnapshotLockMode = "none" | "governance" | "compliance";
export type ReplacementMode = "off" | "launch";

/** Everything the handler reads from its environment, parsed once at cold start. */
export interface Settings {
  readonly accountId: string;
  readonly region: string;
  readonly incidentTable: string;
  readonly evidenceBucket: string;
  readonly notificationTopicArn: string;
  readonly severityThreshold: number;
  readonly vpcSecurityGroups: VpcSecurityGroups;
  readonly forensicSourceCidrs: readonly string[];
  readonly forensicAmiId: string;
  readonly forensicInstanceType: string;
  readonly forensicInstanceProfileArn: string;
  readonly forensicSubnets: Readonly<Record<string, string>>;
  readonly quarantineInstanceProfileArn: string;
  readonly exclusionTag: string;
  readonly dryRun: boolean;
  readonly snapshotLock: SnapshotLockMode;
  readonly snapshotLockDays: number;
  readonly attachSnapshotCopies: boolean;
  readonly replacement: ReplacementMode;
  /**
   * Roles the responder may pass to a replacement (iam:PassRole): an original whose profile's role is not listed
   * gets a replacement without the profile, and the record names the role.
   */
  readonly replacementPassableRoleArns: readonly string[];
  readonly revokeRoleSessions: boolean;
  /** Isolate through the untrack group (2 moves per ENI, open connections cut) or directly (1 move, they live on). */
  readonly cutTrackedConnections: boolean;
  readonly pollIntervalSeconds: number;
  readonly stopTimeoutSeconds: number;
  readonly memoryGraceBaseSeconds: number;
  readonly memoryGraceSecondsPerGib: number;
  /** The longest interval between two looks of a waiting step (snapshot copies take hours for large volumes). */
  readonly maxPollIntervalSeconds: number;
  /** The Step Functions state machine that runs the response after containment. */
  readonly stateMachineArn: string;
  readonly timeScale: number;
}

/**
 * The settings that are durations in seconds, with the field that holds each one's effective value: a drill or a
 * benchmark that runs AWS time faster divides exactly these by its time scale.
 */
export const DURATION_SETTINGS: readonly (readonly [string, keyof Settings])[] = [
  ["POLL_INTERVAL_SECONDS", "pollIntervalSeconds"],
  ["STOP_TIMEOUT_SECONDS", "stopTimeoutSeconds"],
  ["MEMORY_GRACE_BASE_SECONDS", "memoryGraceBaseSeconds"],
  ["MEMORY_GRACE_SECONDS_PER_GIB", "memoryGraceSecondsPerGib"],
  ["MAX_POLL_INTERVAL_SECONDS", "maxPollIntervalSeconds"],
];

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Parses the handler's settings. A bad or missing value throws InvalidSettingError naming the variable,
 * so a misconfigured stack fails loudly at cold start instead of half-responding to an incident.
 */
export function parseSettings(env: Environment): Settings {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (value === undefined || value === "") throw new InvalidSettingError(name, "is required");
    return value;
  };
  const optionalText = (name: string, fallback: string): string => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? fallback : value;
  };
  const numberSetting = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name]?.trim();
    if (text === undefined || text === "") return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new InvalidSettingError(name, `must be a number from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };
  const booleanSetting = (name: string, fallback: boolean): boolean => {
    const text = env[name]?.trim().toLowerCase();
    if (text === undefined || text === "") return fallback;
    if (text === "true") return true;
    if (text === "false") return false;
    throw new InvalidSettingError(name, `must be "true" or "false", got "${text}"`);
  };
  const choice = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const text = optionalText(name, fallback);
    if (!(allowed as readonly string[]).includes(text)) {
      throw new InvalidSettingError(name, `must be one of ${allowed.join(", ")}, got "${text}"`);
    }
    return text as T;
  };
  const json = <T>(name: string, fallback: T, check: (value: unknown) => asserts value is T): T => {
    const text = env[name]?.trim();
    if (text === undefined || text === "") return fallback;
    let value: unknown;
    try {
      // The stack compresses a value that would not fit Lambda's 4 KB environment (infra/responder.ts).
      value = JSON.parse(
        text.startsWith("br:")
          ? brotliDecompressSync(Buffer.from(text.slice(3), "base64")).toString("utf8")
          : text,
      );
    } catch (error) {
      throw new InvalidSettingError(name, `is not valid JSON (${(error as Error).message})`);
    }
    try {
      check(value);
    } catch (error) {
      throw new InvalidSettingError(name, (error as Error).message);
    }
    return value;
  };
  const pattern = (name: string, value: string, regex: RegExp): string => {
    if (!regex.test(value)) throw new InvalidSettingError(name, `"${value}" does not match ${regex.source}`);
    return value;
  };

  const vpcSecurityGroups = json<VpcSecurityGroups>("VPC_SECURITY_GROUPS", {}, (value) =>
    assert(value, vpcSecurityGroupsSchema()),
  );
  const forensicSourceCidrs = json<string[]>("FORENSIC_SOURCE_CIDRS", [], (value) =>
    assert(value, array(string())),
  );
  for (const cidr of forensicSourceCidrs) {
    // The stack's config check uses the same parser (handler/cidr.ts): what it accepts, the Lambda accepts.
    const parsed = parseCidr(cidr);
    if (parsed === undefined)
      throw new InvalidSettingError("FORENSIC_SOURCE_CIDRS", `"${cidr}" is not an IPv4 or IPv6 CIDR block`);
    // The isolation group must never be open to the world: that would undo the containment.
    if (isWholeInternet(parsed))
      throw new InvalidSettingError("FORENSIC_SOURCE_CIDRS", `${cidr} opens isolation`);
  }
  const forensicSubnets = json<Record<string, string>>("FORENSIC_SUBNETS", {}, (value) =>
    assert(value, record(string(), string())),
  );
  const replacementPassableRoleArns = json<string[]>("REPLACEMENT_PASSABLE_ROLE_ARNS", [], (value) =>
    assert(value, array(string())),
  );
  for (const arn of replacementPassableRoleArns)
    pattern("REPLACEMENT_PASSABLE_ROLE_ARNS", arn, /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/);

  return {
    accountId: pattern("RESPONDER_ACCOUNT_ID", required("RESPONDER_ACCOUNT_ID"), /^\d{12}$/),
    region: required("AWS_REGION"),
    incidentTable: required("INCIDENT_TABLE"),
    evidenceBucket: required("EVIDENCE_BUCKET"),
    notificationTopicArn: pattern(
      "NOTIFICATION_TOPIC_ARN",
      required("NOTIFICATION_TOPIC_ARN"),
      /^arn:aws[\w-]*:sns:/,
    ),
    severityThreshold: numberSetting("SEVERITY_THRESHOLD", 7, 0, 10),
    vpcSecurityGroups,
    forensicSourceCidrs,
    forensicAmiId: pattern("FORENSIC_AMI_ID", required("FORENSIC_AMI_ID"), /^ami-[0-9a-f]+$/),
    forensicInstanceType: optionalText("FORENSIC_INSTANCE_TYPE", "m6i.large"),
    forensicInstanceProfileArn: pattern(
      "FORENSIC_INSTANCE_PROFILE_ARN",
      required("FORENSIC_INSTANCE_PROFILE_ARN"),
      /^arn:aws[\w-]*:iam::\d{12}:instance-profile\//,
    ),
    forensicSubnets,
    quarantineInstanceProfileArn: pattern(
      "QUARANTINE_INSTANCE_PROFILE_ARN",
      required("QUARANTINE_INSTANCE_PROFILE_ARN"),
      /^arn:aws[\w-]*:iam::\d{12}:instance-profile\//,
    ),
    exclusionTag: optionalText("EXCLUSION_TAG", DEFAULT_EXCLUSION_TAG),
    dryRun: booleanSetting("DRY_RUN", false),
    snapshotLock: choice<SnapshotLockMode>("SNAPSHOT_LOCK", ["none", "governance", "compliance"], "none"),
    snapshotLockDays: numberSetting("SNAPSHOT_LOCK_DAYS", 30, 1, 36500),
    attachSnapshotCopies: booleanSetting("ATTACH_SNAPSHOT_COPIES", false),
    replacement: choice<ReplacementMode>("REPLACEMENT", ["off", "launch"], "off"),
    replacementPassableRoleArns,
    revokeRoleSessions: booleanSetting("REVOKE_ROLE_SESSIONS", true),
    cutTrackedConnections: booleanSetting("CUT_TRACKED_CONNECTIONS", true),
    pollIntervalSeconds: numberSetting("POLL_INTERVAL_SECONDS", 2, 0.001, 60),
    stopTimeoutSeconds: numberSetting("STOP_TIMEOUT_SECONDS", 300, 0.001, 3600),
    memoryGraceBaseSeconds: numberSetting("MEMORY_GRACE_BASE_SECONDS", 60, 0, 3600),
    memoryGraceSecondsPerGib: numberSetting("MEMORY_GRACE_SECONDS_PER_GIB", 10, 0, 600),
    maxPollIntervalSeconds: numberSetting("MAX_POLL_INTERVAL_SECONDS", 60, 0.001, 3600),
    stateMachineArn: pattern(
      "STATE_MACHINE_ARN",
      required("STATE_MACHINE_ARN"),
      /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
    ),
    timeScale: numberSetting("TIME_SCALE", 1, 1, 1000),
  };
}
