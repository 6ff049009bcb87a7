import { createHash } from "crypto";
import { array, enums, nullable, number, optional, string, type as objectType, validate } from "superstruct";

/**
 * The triage's summary.json as ir-triage writes it (forensics-ami/scripts/ir-triage), read back by the triage step.
 * Its text comes from the workstation, which read the intruder's disks: every string is bounded and stripped of
 * control characters before it reaches the record, the report or the notification.
 */

/** summary.json is a few kB; anything far larger is not what ir-triage writes and is not read. */
export const SUMMARY_MAX_BYTES = 1024 * 1024;
/** The findings the report and the notification carry: "the ten most important". */
const TOP_FINDINGS = 10;
const TEXT_MAX_CHARS = 200;

interface TriageFinding {
  readonly severity: "high" | "medium" | "low";
  readonly category: string;
  readonly title: string;
  readonly path: string;
}

/** What the record keeps of a triage (facts.triage). */
export interface TriageFacts {
  /** running: sent and not over; complete/partial: summary read; still-running: the time bound passed. */
  status: "running" | "complete" | "partial" | "still-running" | "failed";
  workstation: string;
  commandId?: string;
  sentAt?: string;
  volumes?: string[];
  summaryKey?: string;
  /** SHA-256 (hex) of summary.json as read. */
  summarySha256?: string;
  /** ir-triage's own run was simulated (a drill): its hashes are of no data. */
  simulated?: boolean;
  findingCount?: number;
  findings?: TriageFinding[];
  fileCount?: number;
  devices?: { source: string; hash: string; sha256: string | null }[];
  memoryDump?: boolean;
  reason?: string;
}

/**
 * Printable, one line, bounded, storable (pure): control characters become spaces, and a lone surrogate (JSON can
 * carry one as an escape) U+FFFD, because DynamoDB refuses strings that are not valid UTF-8. Cut by code points, so
 * the cut never makes a lone surrogate of a pair.
 */
function clean(text: string): string {
  const line = text
    // eslint-disable-next-line no-control-regex -- control characters from the examined disks are what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ")
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")
    .trim();
  const points = Array.from(line);
  return points.length <= TEXT_MAX_CHARS ? line : `${points.slice(0, TEXT_MAX_CHARS - 3).join("")}...`;
}

/** The summary's schema (built on call: superstruct structs do not survive closure serialization). */
function summarySchema() {
  return objectType({
    incidentId: string(),
    status: enums(["complete", "partial"]),
    devices: array(
      objectType({
        source: string(),
        bytes: optional(number()),
        sha256: nullable(string()),
        hash: enums(["done", "continuing", "failed"]),
      }),
    ),
    findings: array(
      objectType({
        severity: enums(["high", "medium", "low"]),
        category: string(),
        title: string(),
        path: optional(nullable(string())),
      }),
    ),
    files: array(objectType({ name: string() })),
  });
}

const SEVERITY_ORDER = { high: 0, medium: 1, low: 2 } as const;

/**
 * Reads summary.json (pure): its SHA-256 and what the record keeps, or why it cannot be used. `expectedSha256` is
 * the checksum S3 stored with the upload (base64), checked when present.
 */
export function readTriageSummary(
  body: Uint8Array,
  incidentId: string,
  expectedSha256Base64: string | undefined,
): { ok: true; facts: Partial<TriageFacts> } | { ok: false; reason: string } {
  if (body.length > SUMMARY_MAX_BYTES)
    return { ok: false, reason: `summary.json is ${body.length} bytes, over ${SUMMARY_MAX_BYTES}: not read` };
  const digest = createHash("sha256").update(body);
  const sha256 = digest.digest("hex");
  if (
    expectedSha256Base64 !== undefined &&
    Buffer.from(sha256, "hex").toString("base64") !== expectedSha256Base64
  )
    return { ok: false, reason: "summary.json does not match the SHA-256 stored with its upload" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return { ok: false, reason: "summary.json is not JSON" };
  }
  const [error, summary] = validate(parsed, summarySchema());
  if (error !== undefined) return { ok: false, reason: `summary.json: ${clean(error.message)}` };
  if (summary.incidentId !== incidentId)
    return { ok: false, reason: `summary.json is for ${clean(summary.incidentId)}, not this incident` };
  // Fields the schema leaves open (`type` keeps unknown keys): read as given.
  const raw = parsed as { simulated?: unknown; memoryDump?: { found?: unknown } | null };
  // Sorted again (stable): the ten most important whatever order the file used.
  const findings = summary.findings
    .map((finding, index) => ({ finding, index }))
    .sort(
      (a, b) => SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] || a.index - b.index,
    )
    .slice(0, TOP_FINDINGS)
    .map(({ finding }) => ({
      severity: finding.severity,
      category: clean(finding.category),
      title: clean(finding.title),
      path: clean(finding.path ?? ""),
    }));
  return {
    ok: true,
    facts: {
      status: summary.status,
      summarySha256: sha256,
      simulated: raw.simulated === true ? true : undefined,
      findingCount: summary.findings.length,
      findings,
      fileCount: summary.files.length,
      devices: summary.devices.slice(0, 50).map((device) => ({
        source: clean(device.source),
        hash: device.hash,
        sha256: device.sha256 === null ? null : clean(device.sha256),
      })),
      memoryDump: raw.memoryDump?.found === true,
    },
  };
}

/** One line per finding, for the report and the notification (pure). */
function findingLines(findings: readonly TriageFinding[]): string[] {
  return findings.map(
    (finding) => `[${finding.severity}] ${finding.title}${finding.path === "" ? "" : ` (${finding.path})`}`,
  );
}

/** What the notification says of the triage (pure): a line, then the ten findings, one line each. */
export function triageNotificationLines(triage: TriageFacts | undefined): string[] {
  // Not run (off, skipped, dry run): the step's outcome in the timeline says why.
  if (triage === undefined) return [];
  const simulated = triage.simulated ? " (simulated)" : "";
  switch (triage.status) {
    case "complete":
    case "partial": {
      const continuing = (triage.devices ?? []).filter((device) => device.hash === "continuing").length;
      const hashes = continuing === 0 ? "" : `, ${continuing} hash(es) continuing`;
      const findings = triage.findings ?? [];
      return [
        `Triage${simulated}: ${triage.status}, ${triage.findingCount ?? 0} finding(s)${hashes}${findings.length > 0 ? "; the most important:" : "."}`,
        ...findingLines(findings).map((line) => `  ${line}`),
      ];
    }
    case "still-running":
    case "failed":
      return [`Triage: ${triage.status}: ${triage.reason ?? ""}`];
    case "running":
      return ["Triage: running."];
  }
}

/** The report's triage section (pure). */
export function triageMarkdown(triage: TriageFacts | undefined, bucket: string): string[] {
  if (triage === undefined) return [];
  const where = triage.summaryKey === undefined ? "" : ` Summary: s3://${bucket}/${triage.summaryKey}`;
  return [
    "## Triage on the forensic workstation",
    `${triageNotificationLines(triage)[0] ?? ""}${where}${triage.summarySha256 ? ` (SHA-256 ${triage.summarySha256})` : ""}`,
    "",
    ...findingLines(triage.findings ?? []).map((line) => `- ${line.replace(/\|/g, "/")}`),
    ...(triage.devices ?? []).map(
      (device) => `- device ${device.source}: hash ${device.hash}${device.sha256 ? ` ${device.sha256}` : ""}`,
    ),
    "",
  ];
}
