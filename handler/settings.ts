import { brotliDecompressSync } from "zlib";
import {
  array,
  coerce,
  create,
  define,
  optional,
  record,
  refine,
  string,
  type as objectType,
  type Struct,
} from "superstruct";

import { isWholeInternet, parseCidr } from "./cidr";
import { DEFAULT_EXCLUSION_TAG } from "./tags";
import { InvalidSettingError } from "./errors";

/** A JSON value the stack sent brotli-compressed in base64, to fit Lambda's 4 KB environment (infra/responder.ts). */
export const COMPRESSED_SETTING_PREFIX = "br:";

// Struct's refiner is contravariant in T, so a table of differently typed structs needs `any` here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStruct<T> = Struct<T, any>;

/**
 * A forensic source (an IPv4 or IPv6 CIDR block allowed into isolation), one rule for the handler's setting and the
 * stack's config (infra/config.ts): what the stack accepts, the Lambda accepts. Built on call (closure serialization).
 */
export function forensicSourceCidr() {
  return refine(string(), "cidr", (text) => {
    const cidr = parseCidr(text);
    if (cidr === undefined) return `${text} is not a CIDR block`;
    // The isolation group must never be open to the world: that would undo the containment.
    return !isWholeInternet(cidr) || `${text} would open the isolation group to the whole Internet`;
  });
}

interface Setting<T> {
  /** The environment variable that carries it. */
  readonly variable: string;
  /** Parses the variable's trimmed text; its message becomes the InvalidSettingError's. */
  readonly struct: AnyStruct<T>;
  /** The value of an unset or empty variable; none: the variable is required. */
  readonly fallback?: T;
  /** A duration in seconds: a drill or a benchmark that runs AWS time faster divides it (scaledDurations). */
  readonly duration: boolean;
}

/**
 * The one table of the handler's settings, from which parseSettings reads the Lambda's environment and
 * settingsEnvironment writes it (the stack, infra/responder.ts); handler/README.md explains each variable.
 * Built on call: superstruct Structs at module scope do not survive closure serialization (handler/README.md,
 * "Closure serialization").
 */
function settingsSchema() {
  const setting = <T>(variable: string, struct: AnyStruct<T>, fallback?: NoInfer<T>): Setting<T> => ({
    variable,
    struct,
    fallback,
    duration: false,
  });
  const matching = (regex: RegExp) =>
    refine(string(), "pattern", (value) => regex.test(value) || `"${value}" does not match ${regex.source}`);
  const between = (min: number, max: number) =>
    coerce(
      define<number>(
        "number",
        (value) =>
          (typeof value === "number" && value >= min && value <= max) ||
          `must be a number from ${min} to ${max}, got "${String(value)}"`,
      ),
      string(),
      (text) => (Number.isFinite(Number(text)) ? Number(text) : text),
    );
  const duration = (variable: string, min: number, max: number, fallback: number): Setting<number> => ({
    ...setting(variable, between(min, max), fallback),
    duration: true,
  });
  const flag = coerce(
    define<boolean>(
      "flag",
      (value) => typeof value === "boolean" || `must be "true" or "false", got "${String(value)}"`,
    ),
    string(),
    (text) => {
      const word = text.toLowerCase();
      return word === "true" ? true : word === "false" ? false : word;
    },
  );
  const oneOf = <T extends string>(allowed: readonly T[]) =>
    define<T>(
      "oneOf",
      (value) =>
        (allowed as readonly unknown[]).includes(value) ||
        `must be one of ${allowed.join(", ")}, got "${String(value)}"`,
    );
  const json = <T>(struct: AnyStruct<T>) =>
    coerce(struct, string(), (text) => {
      try {
        return JSON.parse(
          text.startsWith(COMPRESSED_SETTING_PREFIX)
            ? brotliDecompressSync(
                Buffer.from(text.slice(COMPRESSED_SETTING_PREFIX.length), "base64"),
              ).toString()
            : text,
        ) as unknown;
      } catch (error) {
        throw new Error(`is not valid JSON (${(error as Error).message})`, { cause: error });
      }
    });
  const instanceProfileArn = matching(/^arn:aws[\w-]*:iam::\d{12}:instance-profile\//);

  return {
    accountId: setting("RESPONDER_ACCOUNT_ID", matching(/^\d{12}$/)),
    region: setting("AWS_REGION", string()),
    incidentTable: setting("INCIDENT_TABLE", string()),
    evidenceBucket: setting("EVIDENCE_BUCKET", string()),
    notificationTopicArn: setting("NOTIFICATION_TOPIC_ARN", matching(/^arn:aws[\w-]*:sns:/)),
    severityThreshold: setting("SEVERITY_THRESHOLD", between(0, 10), 7),
    vpcSecurityGroups: setting(
      "VPC_SECURITY_GROUPS",
      json(
        record(
          string(),
          objectType({
            untrack: optional(string()),
            isolation: optional(string()),
            forensic: optional(string()),
          }),
        ),
      ),
      {},
    ),
    forensicSourceCidrs: setting("FORENSIC_SOURCE_CIDRS", json(array(forensicSourceCidr())), []),
    forensicAmiId: setting("FORENSIC_AMI_ID", matching(/^ami-[0-9a-f]+$/)),
    forensicInstanceType: setting("FORENSIC_INSTANCE_TYPE", string(), "m6i.large"),
    forensicInstanceProfileArn: setting("FORENSIC_INSTANCE_PROFILE_ARN", instanceProfileArn),
    forensicSubnets: setting("FORENSIC_SUBNETS", json(record(string(), string())), {}),
    quarantineInstanceProfileArn: setting("QUARANTINE_INSTANCE_PROFILE_ARN", instanceProfileArn),
    exclusionTag: setting("EXCLUSION_TAG", string(), DEFAULT_EXCLUSION_TAG),
    dryRun: setting("DRY_RUN", flag, false),
    snapshotLock: setting("SNAPSHOT_LOCK", oneOf(["none", "governance", "compliance"] as const), "none"),
    snapshotLockDays: setting("SNAPSHOT_LOCK_DAYS", between(1, 36500), 30),
    attachSnapshotCopies: setting("ATTACH_SNAPSHOT_COPIES", flag, false),
    /** The snapshot set copies are made from: after the stop (it holds the memory dump) or as found. */
    snapshotCopiesFrom: setting(
      "SNAPSHOT_COPIES_FROM",
      oneOf(["after-stop", "as-found"] as const),
      "after-stop",
    ),
    replacement: setting("REPLACEMENT", oneOf(["off", "launch"] as const), "off"),
    /** Roles a replacement may be launched with (iam:PassRole); a profile with any other role is left off it. */
    replacementPassableRoleArns: setting(
      "REPLACEMENT_PASSABLE_ROLE_ARNS",
      json(array(matching(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/))),
      [],
    ),
    revokeRoleSessions: setting("REVOKE_ROLE_SESSIONS", flag, true),
    /** Isolate through the untrack group (2 moves per ENI, open connections cut) or directly (1 move, they live on). */
    cutTrackedConnections: setting("CUT_TRACKED_CONNECTIONS", flag, true),
    /** Update the Security Hub finding of each incident (NOTIFIED when contained, RESOLVED with the report). */
    securityHubUpdates: setting("SECURITY_HUB_UPDATES", flag, false),
    pollIntervalSeconds: duration("POLL_INTERVAL_SECONDS", 0.001, 60, 2),
    /** An instance without a memory capture is stopped forced (no shutdown scripts run) or gracefully. */
    stopMode: setting("STOP_MODE", oneOf(["forced", "graceful"] as const), "forced"),
    stopTimeoutSeconds: duration("STOP_TIMEOUT_SECONDS", 0.001, 3600, 300),
    memoryGraceBaseSeconds: duration("MEMORY_GRACE_BASE_SECONDS", 0, 3600, 60),
    memoryGraceSecondsPerGib: duration("MEMORY_GRACE_SECONDS_PER_GIB", 0, 600, 10),
    /** The triage's SSM Command document (infra/triage.ts); empty: triage is off. */
    triageDocument: setting("TRIAGE_DOCUMENT", matching(/^([a-zA-Z0-9_.-]{3,128})?$/), ""),
    /** How long the response follows the triage before it reports it as still running. */
    triageTimeoutSeconds: duration("TRIAGE_TIMEOUT_SECONDS", 0.001, 86400, 1800),
    /** Passed to ir-triage (the workstation's own clock: not scaled in a drill). */
    triageHashBudgetSeconds: setting("TRIAGE_HASH_BUDGET_SECONDS", between(0, 86400), 600),
    triageTimelineHours: setting("TRIAGE_TIMELINE_HOURS", between(1, 99999), 72),
    /** The longest interval between two looks of a waiting step (snapshot copies take hours for large volumes). */
    maxPollIntervalSeconds: duration("MAX_POLL_INTERVAL_SECONDS", 0.001, 3600, 60),
    stateMachineArn: setting(
      "STATE_MACHINE_ARN",
      matching(/^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/),
    ),
    /** Simulated seconds per second of the function's clock, 1 on AWS: a drill that runs AWS time faster sets its
     * time scale, so the report's seconds are on the simulated clock of the drill's timeline. */
    timeScale: setting("TIME_SCALE", between(1, 1000), 1),
  };
}

type Schema = ReturnType<typeof settingsSchema>;

/** Everything the handler reads from its environment, parsed once at cold start. */
export type Settings = { readonly [K in keyof Schema]: Schema[K] extends Setting<infer T> ? T : never };
export type VpcSecurityGroups = Settings["vpcSecurityGroups"];
export type ReplacementMode = Settings["replacement"];

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Parses the handler's settings. A bad or missing value throws InvalidSettingError naming the variable,
 * so a misconfigured stack fails loudly at cold start instead of half-responding to an incident.
 */
export function parseSettings(env: Environment): Settings {
  const settings: Record<string, unknown> = {};
  for (const [key, { variable, struct, fallback }] of Object.entries(settingsSchema())) {
    const text = env[variable]?.trim();
    if (text === undefined || text === "") {
      if (fallback === undefined) throw new InvalidSettingError(variable, "is required");
      settings[key] = fallback;
      continue;
    }
    try {
      settings[key] = create(text, struct as AnyStruct<unknown>);
    } catch (error) {
      throw new InvalidSettingError(variable, (error as Error).message);
    }
  }
  return settings as Settings;
}

/** The environment variables that parseSettings reads back as these settings; one left out keeps its default. */
export function settingsEnvironment(settings: Partial<Settings>): Record<string, string> {
  const schema = settingsSchema();
  const environment: Record<string, string> = {};
  for (const key of Object.keys(schema) as (keyof Schema)[]) {
    const value = settings[key];
    if (value !== undefined)
      environment[schema[key].variable] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return environment;
}

/**
 * The duration settings of an environment (set or default), each divided by timeScale: what a drill or a benchmark
 * that runs AWS time faster gives the handler.
 */
export function scaledDurations(env: Environment, timeScale: number): Record<string, string> {
  const settings = parseSettings(env);
  return Object.fromEntries(
    Object.entries(settingsSchema())
      .filter(([, { duration }]) => duration)
      .map(([key, { variable }]) => [
        variable,
        String((settings[key as keyof Schema] as number) / timeScale),
      ]),
  );
}
