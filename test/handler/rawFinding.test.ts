// The raw finding the incident record keeps (handler/rawFinding.ts): verbatim, or bounded and marked.
import { createHash } from "crypto";

import { expect } from "chai";

import {
  boundedRawFinding,
  RAW_FINDING_HEAD_BYTES,
  RAW_FINDING_MAX_BYTES,
  TRUNCATED_MARK,
} from "../../handler/rawFinding";
import { loadEvent } from "../support/fixtures";

/** The C&C fixture, serialized, with its title replaced by `title`. */
function rawWithTitle(title: string): string {
  const event = structuredClone(loadEvent("guardduty-ec2-backdoor-two-enis")) as {
    detail: { title?: string };
  };
  event.detail.title = title;
  return JSON.stringify(event);
}

describe("handler: the raw finding the incident record keeps (evidence)", () => {
  it("keeps an event of up to 256 KiB verbatim", () => {
    const raw = rawWithTitle("T".repeat(200 * 1024));
    expect(boundedRawFinding(raw)).to.equal(raw);
  });

  it("cuts a bigger event to a marked head that says how big the whole was and its SHA-256", () => {
    const raw = rawWithTitle("é".repeat(300 * 1024));
    const bytes = Buffer.byteLength(raw);
    const kept = boundedRawFinding(raw);
    expect(Buffer.byteLength(kept), "fits the record").to.be.at.most(RAW_FINDING_MAX_BYTES);
    const marked = JSON.parse(kept) as Record<
      string,
      { bytes: number; keptBytes: number; sha256: string }
    > & {
      head: string;
    };
    expect(marked[TRUNCATED_MARK]).to.deep.include({
      bytes,
      keptBytes: RAW_FINDING_HEAD_BYTES,
      sha256: createHash("sha256").update(raw).digest("hex"),
    });
    expect(raw.startsWith(marked.head.slice(0, -1)), "the head is the original's").to.equal(true);
  });
});
