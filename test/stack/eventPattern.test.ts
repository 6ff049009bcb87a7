import { expect } from "chai";
import { matchesEventPattern } from "../../simulator/eventPattern";
import { DRILL_SOURCE, findingEventPattern } from "../../infra/eventPattern";
import { loadEvent } from "../support/fixtures";

function withSeverity(event: Record<string, unknown>, severity: unknown): Record<string, unknown> {
  const detail = event.detail as Record<string, unknown>;
  return { ...event, detail: { ...detail, severity } };
}

describe("finding event pattern (evaluated with EventBridge semantics)", () => {
  const pattern = findingEventPattern(7, true) as unknown as Record<string, unknown>;

  it("matches the EC2 fixtures at or above the threshold", () => {
    expect(matchesEventPattern(pattern, loadEvent("guardduty-ec2-backdoor-two-enis"))).to.equal(true); // 8.9
    expect(matchesEventPattern(pattern, loadEvent("guardduty-ec2-cryptomining"))).to.equal(true); // 8
    expect(matchesEventPattern(pattern, withSeverity(loadEvent("guardduty-ec2-cryptomining"), 7))).to.equal(
      true,
    );
    expect(matchesEventPattern(pattern, withSeverity(loadEvent("guardduty-ec2-cryptomining"), 10))).to.equal(
      true,
    );
  });

  it("rejects the S3 finding and findings below the threshold", () => {
    expect(matchesEventPattern(pattern, loadEvent("guardduty-s3-not-an-instance"))).to.equal(false);
    expect(matchesEventPattern(pattern, loadEvent("guardduty-sample-finding"))).to.equal(false); // severity 2
    expect(matchesEventPattern(pattern, withSeverity(loadEvent("guardduty-ec2-cryptomining"), 6.9))).to.equal(
      false,
    );
  });

  it("compares severity as a number, never as text", () => {
    // A string comparison would order "10" before "7" and let "8.9" through as text.
    expect(
      matchesEventPattern(pattern, withSeverity(loadEvent("guardduty-ec2-cryptomining"), "8.9")),
    ).to.equal(false);
    expect(
      matchesEventPattern(
        findingEventPattern(10, false) as never,
        withSeverity(loadEvent("guardduty-ec2-cryptomining"), 9.9),
      ),
    ).to.equal(false);
  });

  it("lets drill events through only when the stack accepts them", () => {
    const drill = { ...loadEvent("guardduty-ec2-cryptomining"), source: DRILL_SOURCE };
    expect(matchesEventPattern(pattern, drill)).to.equal(true);
    expect(matchesEventPattern(findingEventPattern(7, false) as never, drill)).to.equal(false);
  });

  it("rejects other sources and detail types", () => {
    const event = loadEvent("guardduty-ec2-cryptomining");
    expect(matchesEventPattern(pattern, { ...event, source: "custom.guardduty" })).to.equal(false);
    expect(matchesEventPattern(pattern, { ...event, "detail-type": "GuardDuty Runtime Finding" })).to.equal(
      false,
    );
  });
});

describe("the local EventBridge matcher itself", () => {
  const cases: [string, Record<string, unknown>, unknown, boolean][] = [
    ["exact string", { a: ["x"] }, { a: "x" }, true],
    ["exact string mismatch", { a: ["x"] }, { a: "y" }, false],
    ["missing field", { a: ["x"] }, {}, false],
    ["array in the event matches any element", { a: ["x"] }, { a: ["y", "x"] }, true],
    ["prefix", { a: [{ prefix: "eu-" }] }, { a: "eu-central-1" }, true],
    ["suffix", { a: [{ suffix: ".json" }] }, { a: "report.md" }, false],
    ["anything-but a list", { a: [{ "anything-but": ["x", "y"] }] }, { a: "z" }, true],
    ["anything-but a prefix", { a: [{ "anything-but": { prefix: "i-" } }] }, { a: "i-1" }, false],
    ["numeric range", { n: [{ numeric: [">", 0, "<=", 5] }] }, { n: 5 }, true],
    ["numeric range outside", { n: [{ numeric: [">", 0, "<=", 5] }] }, { n: 5.1 }, false],
    ["exists true", { a: [{ exists: true }] }, { a: 1 }, true],
    ["exists false", { a: [{ exists: false }] }, { b: 1 }, true],
    ["exists false on a present field", { a: [{ exists: false }] }, { a: 1 }, false],
    ["nested objects", { d: { e: ["1"] } }, { d: { e: "1" } }, true],
    ["nested object where the event has a scalar", { d: { e: ["1"] } }, { d: "1" }, false],
    ["equals-ignore-case", { a: [{ "equals-ignore-case": "INSTANCE" }] }, { a: "Instance" }, true],
    ["wildcard", { a: [{ wildcard: "Backdoor:EC2/*" }] }, { a: "Backdoor:EC2/C&CActivity.B!DNS" }, true],
    ["null value", { a: [null] }, { a: null }, true],
  ];
  for (const [what, pattern, event, expected] of cases) {
    it(`${what} -> ${expected}`, () => expect(matchesEventPattern(pattern, event)).to.equal(expected));
  }

  it("refuses operators it does not know rather than guessing", () => {
    expect(() => matchesEventPattern({ a: [{ cidr: "10.0.0.0/8" }] }, { a: "10.0.0.1" })).to.throw(
      /unsupported/,
    );
  });
});
