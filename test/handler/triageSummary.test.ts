// Reading ir-triage's summary.json and telling it in the report and the notification (handler/steps/triageSummary.ts).
import { createHash } from "crypto";
import { expect } from "chai";

import {
  readTriageSummary,
  triageMarkdown,
  triageNotificationLines,
  type TriageFacts,
} from "../../handler/steps/triageSummary";

const summary = (extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      incidentId: "inc-1",
      status: "partial",
      devices: [
        { source: "vol-0123456789abcdef0", bytes: 1, sha256: null, hash: "continuing", seconds: 600 },
      ],
      memoryDump: {
        found: true,
        path: "/var/crash/x",
        kernel: "6.1.0-28-amd64",
        dmesg: true,
        processes: 97,
        symbols: null,
      },
      findings: [
        { severity: "low", category: "timeline", title: "recent change", path: "/usr/bin/ls" },
        {
          severity: "high",
          category: "persistence",
          title: "ld.so.preload entry",
          path: "/etc/ld.so.preload",
        },
      ],
      files: [{ name: "hashes.txt", sha256: "00", bytes: 1 }],
      ...extra,
    }),
  );

describe("handler: the triage summary", () => {
  it("keeps status, counts, devices and the findings high first", () => {
    const read = readTriageSummary(summary(), "inc-1", undefined);
    if (!read.ok) throw new Error(read.reason);
    expect(read.facts).to.deep.include({
      status: "partial",
      findingCount: 2,
      fileCount: 1,
      memoryDump: true,
    });
    expect(read.facts.findings?.map((f) => f.severity)).to.deep.equal(["high", "low"]);
    expect(read.facts.summarySha256).to.equal(createHash("sha256").update(summary()).digest("hex"));
  });
  it("checks the SHA-256 S3 stored with the upload", () => {
    const good = createHash("sha256").update(summary()).digest("base64");
    expect(readTriageSummary(summary(), "inc-1", good).ok).to.equal(true);
    const other = createHash("sha256").update("x").digest("base64");
    expect(readTriageSummary(summary(), "inc-1", other)).to.deep.equal({
      ok: false,
      reason: "summary.json does not match the SHA-256 stored with its upload",
    });
  });
  it("refuses what is not the contract's summary of this incident", () => {
    expect(readTriageSummary(summary({ status: "done" }), "inc-1", undefined).ok).to.equal(false);
    expect(
      readTriageSummary(
        summary({ findings: [{ severity: "urgent", category: "x", title: "t" }] }),
        "inc-1",
        undefined,
      ).ok,
    ).to.equal(false);
    expect(readTriageSummary(summary(), "inc-2", undefined)).to.deep.equal({
      ok: false,
      reason: "summary.json is for inc-1, not this incident",
    });
  });
  it("every string it keeps is storable: no lone surrogate, even where a long title is cut", () => {
    const title = `${"🔥".repeat(250)}`;
    const body = summary({
      findings: [{ severity: "high", category: "yara", title: `${title}`, path: "/tmp/\ud800x" }],
    });
    const read = readTriageSummary(body, "inc-1", undefined);
    if (!read.ok) throw new Error(read.reason);
    const [finding] = read.facts.findings!;
    const wellFormed = (text: string) =>
      !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
    expect(wellFormed(finding!.title) && wellFormed(finding!.path)).to.equal(true);
    expect(finding!.path).to.equal("/tmp/\ufffdx");
    expect(Array.from(finding!.title)).to.have.length(200);
  });
  it("the notification carries the ten findings, one line each; failures say why", () => {
    const read = readTriageSummary(summary({ simulated: true }), "inc-1", undefined);
    if (!read.ok) throw new Error(read.reason);
    const facts = { workstation: "i-1", ...read.facts } as TriageFacts;
    expect(triageNotificationLines(facts)).to.deep.equal([
      "Triage (simulated): partial, 2 finding(s), 1 hash(es) continuing; the most important:",
      "  [high] ld.so.preload entry (/etc/ld.so.preload)",
      "  [low] recent change (/usr/bin/ls)",
    ]);
    expect(triageNotificationLines(undefined)).to.deep.equal([]);
    expect(triageNotificationLines({ workstation: "i-1", status: "failed", reason: "exit 4" })).to.deep.equal(
      ["Triage: failed: exit 4"],
    );
    expect(
      triageMarkdown({ ...facts, summaryKey: "incidents/inc-1/triage/summary.json" }, "b").join("\n"),
    ).to.include("- [high] ld.so.preload entry (/etc/ld.so.preload)");
  });
});
