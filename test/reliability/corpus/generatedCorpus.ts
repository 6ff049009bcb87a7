// Hostile inputs that cannot live in JSON files: megabyte strings, nesting tens of thousands deep, and values JSON
// cannot carry (undefined, functions, symbols, BigInt, NaN, circular references, class instances). Lambda only
// ever hands the handler parsed JSON, so the non-JSON values test robustness beyond what Lambda can deliver.
import type { CaseExpectation, KnownDefect } from "./corpusCase";

export interface GeneratedCase {
  readonly name: string;
  /** Builds the event from a JSON copy of the live finding (mutable). */
  readonly build: (liveFinding: () => Record<string, unknown>) => unknown;
  readonly expect: CaseExpectation;
  readonly knownDefect?: KnownDefect;
}

/** One mebibyte of text: four times what EventBridge accepts as a whole event. */
const MEBIBYTE = 1 << 20;

/** `depth` arrays nested in one another. */
function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
}

/** `depth` objects nested under "a". */
function nestedObjects(depth: number): unknown {
  let value: unknown = {};
  for (let level = 0; level < depth; level += 1) value = { a: value };
  return value;
}

type Finding = Record<string, unknown> & {
  detail: Record<string, unknown> & {
    resource: Record<string, unknown> & { instanceDetails: Record<string, unknown> };
    service: Record<string, unknown>;
  };
};

function patched(liveFinding: () => Record<string, unknown>, change: (finding: Finding) => void): unknown {
  const finding = liveFinding() as Finding;
  change(finding);
  return finding;
}

export const GENERATED_CASES: readonly GeneratedCase[] = [
  // Huge strings.
  {
    name: "a 1 MiB instance id",
    build: (live) =>
      patched(live, (f) => (f.detail.resource.instanceDetails.instanceId = `i-${"0".repeat(MEBIBYTE)}`)),
    expect: { reason: "malformed-finding", detailCapped: true },
  },
  {
    name: "a 1 MiB source",
    build: (live) => patched(live, (f) => (f.source = `aws.guardduty${"x".repeat(MEBIBYTE)}`)),
    expect: { reason: "not-a-finding-event", detailCapped: true },
  },
  {
    name: "a 1 MiB detail-type",
    build: (live) => patched(live, (f) => (f["detail-type"] = "GuardDuty Finding".repeat(MEBIBYTE / 16))),
    expect: { reason: "unknown-event" },
  },
  {
    name: "a 1 MiB region",
    build: (live) => patched(live, (f) => (f.detail.region = "eu-central-1".repeat(MEBIBYTE / 12))),
    expect: { reason: "other-region", detailCapped: true },
  },
  {
    name: "a 1 MiB account id of digits",
    build: (live) => patched(live, (f) => (f.detail.accountId = "1".repeat(MEBIBYTE))),
    expect: { reason: "malformed-finding", detailCapped: true },
  },
  {
    name: "a 1 MiB resource type",
    build: (live) =>
      patched(live, (f) => (f.detail.resource.resourceType = `Instance${" ".repeat(MEBIBYTE)}`)),
    expect: { reason: "not-an-instance-finding", detailCapped: true },
  },
  {
    name: "100 000 tags, the exclusion tag last",
    build: (live) =>
      patched(live, (f) => {
        const tags = Array.from({ length: 100_000 }, (_, index) => ({ key: `k${index}`, value: "v" }));
        f.detail.resource.instanceDetails.tags = [...tags, { key: "ir:exclude", value: "true" }];
      }),
    expect: { reason: "excluded-by-tag" },
  },
  {
    name: "10 000 network interfaces in another account's finding",
    build: (live) =>
      patched(live, (f) => {
        f.detail.accountId = "444455556666";
        f.detail.resource.instanceDetails.networkInterfaces = Array.from({ length: 10_000 }, (_, index) => ({
          networkInterfaceId: `eni-${index.toString(16).padStart(17, "0")}`,
          securityGroups: [],
        }));
      }),
    expect: { reason: "other-account" },
  },
  // Deep nesting.
  {
    name: "detail nested 100 000 arrays deep",
    build: (live) => patched(live, (f) => (f.detail = nestedArrays(100_000) as Finding["detail"])),
    expect: { reason: "malformed-finding" },
  },
  // Nested 100 000 deep where a schema looks before the finding's own checks: superstruct prints the value it
  // refuses (`${value}` joins a nested array recursively), so each of these overflowed the stack and threw.
  {
    name: "the source nested 100 000 arrays deep",
    build: (live) => patched(live, (f) => (f.source = nestedArrays(100_000))),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "the detail-type nested 100 000 arrays deep",
    build: (live) => patched(live, (f) => (f["detail-type"] = nestedArrays(100_000))),
    expect: { reason: "malformed-event" },
  },
  {
    name: "the whole event an array nested 100 000 deep",
    build: () => nestedArrays(100_000),
    expect: { reason: "malformed-event" },
  },
  {
    name: "a step task whose incident id is nested 100 000 arrays deep",
    build: () => ({ "ir:step": { incidentId: nestedArrays(100_000), recordKey: "k", step: "report" } }),
    expect: { reason: "malformed-event" },
  },
  {
    name: "a step task whose failure cause is nested 100 000 objects deep",
    build: () => ({
      "ir:step": {
        incidentId: "inc-20260101T000000000Z-i-0123456789abcdef0",
        recordKey: "k",
        step: "captureMemory",
        failure: { Error: "Error", Cause: nestedObjects(100_000) },
      },
    }),
    expect: { reason: "malformed-event" },
  },
  {
    name: "a continuation whose incident id is nested 100 000 arrays deep",
    build: () => ({ "ir:continue": { incidentId: nestedArrays(100_000) } }),
    expect: { reason: "malformed-event" },
  },
  {
    name: "a continuation with an unknown field nested 100 000 arrays deep",
    build: () => ({
      "ir:continue": { incidentId: "inc-20260101T000000Z-i-0123456789abcdef0" },
      junk: nestedArrays(100_000),
    }),
    expect: { reason: "malformed-event" },
  },
  {
    name: "a snapshot-completion event whose snapshots are nested 100 000 arrays deep",
    build: () => ({
      source: "aws.ec2",
      "detail-type": "EBS Multi-Volume Snapshots Completion Status",
      detail: { event: "createSnapshots", result: "succeeded", snapshots: nestedArrays(100_000) },
    }),
    expect: { reason: "malformed-event" },
  },
  {
    name: "a snapshot-completion event whose result is nested 100 000 objects deep",
    build: () => ({
      source: "aws.ec2",
      "detail-type": "EBS Multi-Volume Snapshots Completion Status",
      detail: { event: "createSnapshots", result: nestedObjects(100_000), snapshots: [] },
    }),
    expect: { reason: "malformed-event" },
  },
  {
    name: "instanceDetails nested 100 000 objects deep",
    build: (live) =>
      patched(
        live,
        (f) => (f.detail.resource.instanceDetails = nestedObjects(100_000) as Record<string, unknown>),
      ),
    expect: { reason: "malformed-finding" },
  },
  // Nesting deeper than MAX_EVENT_DEPTH (64) is refused before validation, whatever else the event says: the
  // check runs before the rules that read it, by an iterative walk that no depth can overflow.
  {
    name: "an unknown field nested 100 000 deep in another region's finding",
    build: (live) =>
      patched(live, (f) => {
        f.detail.region = "ap-southeast-7";
        f.detail.junk = nestedArrays(100_000);
      }),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "an unknown field nested 100 000 arrays deep in a valid finding",
    build: (live) => patched(live, (f) => (f.detail.junk = nestedArrays(100_000))),
    expect: { reason: "malformed-finding" },
  },
  // Values JSON cannot carry.
  {
    name: "undefined source",
    build: (live) => patched(live, (f) => (f.source = undefined)),
    expect: { reason: "unknown-event" },
  },
  {
    name: "a function as the detail",
    build: (live) => patched(live, (f) => ((f as Record<string, unknown>).detail = () => "Instance")),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a symbol as the instance id",
    build: (live) =>
      patched(live, (f) => (f.detail.resource.instanceDetails.instanceId = Symbol("i-0123456789abcdef0"))),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a BigInt severity",
    build: (live) => patched(live, (f) => (f.detail.severity = 8n)),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a NaN severity",
    build: (live) => patched(live, (f) => (f.detail.severity = Number.NaN)),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a -Infinity severity",
    build: (live) => patched(live, (f) => (f.detail.severity = Number.NEGATIVE_INFINITY)),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "an Infinity severity (what JSON.parse makes of 1e309)",
    build: (live) => patched(live, (f) => (f.detail.severity = Number.POSITIVE_INFINITY)),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a Date as the account id",
    build: (live) => patched(live, (f) => (f.detail.accountId = new Date())),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a Map as the detail",
    build: (live) =>
      patched(
        live,
        (f) =>
          ((f as Record<string, unknown>).detail = new Map([["resource", { resourceType: "Instance" }]])),
      ),
    expect: { reason: "not-an-instance-finding" },
  },
  {
    name: "a Buffer holding a finding",
    build: (live) => Buffer.from(JSON.stringify(live())),
    expect: { reason: "unknown-event" },
  },
  // Values JSON cannot carry in an otherwise valid finding: refused (Lambda never delivers them; the claim
  // stores the event serialized, and JSON.stringify throws on them).
  {
    name: "a circular reference in an unknown field of a valid finding",
    build: (live) =>
      patched(live, (f) => {
        f.detail.junk = f.detail;
      }),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a BigInt in an unknown field of a valid finding",
    build: (live) => patched(live, (f) => (f.detail.junk = 1n)),
    expect: { reason: "malformed-finding" },
  },
  {
    name: "a circular reference in place of instanceDetails' network interfaces, in a sample finding",
    build: (live) =>
      patched(live, (f) => {
        const details = f.detail.resource.instanceDetails;
        details.networkInterfaces = [details];
        f.detail.service.additionalInfo = { sample: true };
      }),
    expect: { reason: "malformed-finding" },
  },
];

/**
 * Hostile payloads around an otherwise valid finding about a live instance: answering it or rejecting it are
 * both acceptable, throwing is not (Lambda would retry it, then dead-letter it, and the instance would never be
 * contained).
 */
export const VALID_BUT_HOSTILE_CASES: readonly GeneratedCase[] = [
  {
    // The record keeps a copy of the title capped at TITLE_LIMIT and the raw event once, bounded.
    name: "a 200 KiB title (EventBridge's 256 KB event limit allows it)",
    build: (live) => patched(live, (f) => (f.detail.title = "T".repeat(200 * 1024))),
    expect: {},
  },
  // Strings DynamoDB refuses (not valid UTF-8) in the fields the record copies: a claim that cannot be written
  // contains nothing, and every retry fails the same way. The test also requires the stored record to hold
  // only well-formed strings.
  {
    name: "a lone surrogate in the title",
    build: (live) => patched(live, (f) => (f.detail.title = `Backdoor \ud83d on the instance`)),
    expect: {},
  },
  {
    name: "an emoji the 256-character title cap would cut in half",
    build: (live) => patched(live, (f) => (f.detail.title = `${"t".repeat(255)}😀😀 and more`)),
    expect: {},
  },
  {
    name: "a lone low surrogate in the finding type",
    build: (live) => patched(live, (f) => (f.detail.type = "Backdoor:EC2/C&CActivity.B\udc00")),
    expect: {},
  },
  {
    name: "a lone surrogate in the finding id and the event id",
    build: (live) =>
      patched(live, (f) => {
        f.detail.id = "0a1b2c3d\ud800";
        f.id = "\udfff";
      }),
    expect: {},
  },
  {
    name: "a lone surrogate in a tag key and value",
    build: (live) =>
      patched(live, (f) => {
        const tags = (f.detail.resource.instanceDetails.tags ?? []) as unknown[];
        f.detail.resource.instanceDetails.tags = [...tags, { key: "Owner\ud800", value: "\udbffteam" }];
      }),
    expect: {},
  },
  {
    name: "an ENI whose finding lists no security groups",
    build: (live) =>
      patched(live, (f) => {
        const enis = f.detail.resource.instanceDetails.networkInterfaces as Record<string, unknown>[];
        enis[0]!.securityGroups = [];
      }),
    expect: {},
  },
  {
    name: "an ENI whose finding lists its group three times",
    build: (live) =>
      patched(live, (f) => {
        const enis = f.detail.resource.instanceDetails.networkInterfaces as { securityGroups: unknown[] }[];
        const group = enis[0]!.securityGroups[0];
        // Copies: Lambda's JSON.parse never hands over one object twice.
        enis[0]!.securityGroups = [group, structuredClone(group), structuredClone(group)];
      }),
    expect: {},
  },
];
