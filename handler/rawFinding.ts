import { createHash } from "crypto";

/**
 * The most of the event the incident record keeps verbatim. DynamoDB refuses items over 400 KB and the record
 * also holds the instance description, the timeline and the facts; an EventBridge event of up to 256 KB fits
 * whole.
 */
export const RAW_FINDING_MAX_BYTES = 256 * 1024;

/** The head kept of a bigger event: JSON-escaped in the marker, it takes at most twice this. */
export const RAW_FINDING_HEAD_BYTES = 96 * 1024;

/** The key that marks a cut event, in the record and in the evidence bucket's finding.json. */
export const TRUNCATED_MARK = "ir:truncated";

/**
 * The event as the record (and so the evidence bucket's finding.json) keeps it: verbatim when it fits; else a
 * JSON object that says it was cut, how big the whole was and its SHA-256 (to check a copy from elsewhere, such
 * as an EventBridge archive), with the head of the original. Evidence is never cut silently.
 */
export function boundedRawFinding(raw: string): string {
  const bytes = Buffer.byteLength(raw, "utf8");
  if (bytes <= RAW_FINDING_MAX_BYTES) return raw;
  const whole = Buffer.from(raw, "utf8");
  return JSON.stringify(
    {
      [TRUNCATED_MARK]: {
        why: `the event has ${bytes} bytes; the incident record keeps at most ${RAW_FINDING_MAX_BYTES} (DynamoDB's 400 KB item limit)`,
        bytes,
        keptBytes: RAW_FINDING_HEAD_BYTES,
        sha256: createHash("sha256").update(whole).digest("hex"),
      },
      head: whole.subarray(0, RAW_FINDING_HEAD_BYTES).toString("utf8"),
    },
    null,
    2,
  );
}

/**
 * The marker the record keeps instead of an event it could not store (incidentStore's plain claim): its size and
 * SHA-256, so the evidence says the event was not kept and how to check a copy from elsewhere.
 */
export function unstorableRawFinding(raw: string): string {
  const whole = Buffer.from(raw, "utf8");
  return JSON.stringify(
    {
      [TRUNCATED_MARK]: {
        why: "DynamoDB refused the incident record with this event in it; the record keeps only its size and hash",
        bytes: whole.length,
        keptBytes: 0,
        sha256: createHash("sha256").update(whole).digest("hex"),
      },
    },
    null,
    2,
  );
}
