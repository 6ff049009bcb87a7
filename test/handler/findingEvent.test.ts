// Event acceptance (DESIGN.md step 0), table-driven: the shared fixtures and many hand-written malformed events.
// Every rejection has a reason and never throws.
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";

import {
  acceptFindingEvent,
  acceptLiveInstance,
  isContinuationEvent,
  isSnapshotCompletionEvent,
  snapshotIdsOf,
  type InstanceFinding,
} from "../../handler/findingEvent";
import { parseSettings, type Settings } from "../../handler/settings";
import { TEST_ENV } from "./testSettings";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8")) as Record<string, unknown>;

const settings: Settings = parseSettings(TEST_ENV);

/** The fixture's shape, loosely typed so a case can break any field of it. */
interface MutableFinding {
  [key: string]: unknown;
  detail: {
    [key: string]: unknown;
    service?: { additionalInfo: { sample?: unknown } };
    resource?: {
      resourceType?: unknown;
      instanceDetails?: {
        [key: string]: unknown;
        networkInterfaces: { networkInterfaceId?: unknown; securityGroups: { groupId?: unknown }[] }[];
        tags: { key?: string; value?: string | null }[];
      } | null;
    };
  };
}
type Details = NonNullable<NonNullable<MutableFinding["detail"]["resource"]>["instanceDetails"]>;

/** A deep copy of the C&C fixture with `change` applied: the base of the hand-written cases. */
function mutated(change: (event: MutableFinding, details: Details) => void): unknown {
  const event = structuredClone(fixture("guardduty-ec2-backdoor-two-enis.json")) as MutableFinding;
  change(event, event.detail.resource!.instanceDetails!);
  return event;
}

describe("handler: event acceptance (step 0)", () => {
  describe("shared fixtures", () => {
    it("accepts an EC2 finding with two ENIs and keeps both ENIs with their groups", () => {
      const result = acceptFindingEvent(fixture("guardduty-ec2-backdoor-two-enis.json"), settings);
      expect(result.accepted).to.equal(true);
      const finding = (result as { finding: InstanceFinding }).finding;
      expect(finding.instanceId).to.equal("i-0123abcd4567ef890");
      expect(
        finding.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.securityGroupIds]),
      ).to.deep.equal([
        ["eni-0f1e2d3c4b5a69788", ["sg-0a1a2a3a4a5a6a7a8"]],
        ["eni-0c0c0c0c0c0c0c0c1", ["sg-0b1b2b3b4b5b6b7b8", "sg-0c1c2c3c4c5c6c7c8"]],
      ]);
      expect(finding.tags).to.deep.equal({ Name: "batch-worker-7" });
      expect(finding.availabilityZone).to.equal("eu-central-1a");
    });

    it("accepts the cryptomining finding at severity 8", () => {
      expect(acceptFindingEvent(fixture("guardduty-ec2-cryptomining.json"), settings).accepted).to.equal(
        true,
      );
    });

    it("rejects the S3 finding: not an EC2 instance", () => {
      expect(acceptFindingEvent(fixture("guardduty-s3-not-an-instance.json"), settings)).to.deep.include({
        accepted: false,
        reason: "not-an-instance-finding",
      });
    });

    it("rejects the GuardDuty sample finding from aws.guardduty", () => {
      const lowThreshold = { ...settings, severityThreshold: 1 };
      expect(acceptFindingEvent(fixture("guardduty-sample-finding.json"), lowThreshold)).to.deep.include({
        reason: "sample-finding",
      });
    });

    it("accepts a sample finding when it comes from the drill source", () => {
      const drill = { ...fixture("guardduty-sample-finding.json"), source: "ir.drill" };
      expect(acceptFindingEvent(drill, { ...settings, severityThreshold: 1 }).accepted).to.equal(true);
    });
  });

  describe("hand-written events", () => {
    const cases: [string, unknown, string][] = [
      ["undefined", undefined, "not-a-finding-event"],
      ["null", null, "not-a-finding-event"],
      ["a string", "GuardDuty Finding", "not-a-finding-event"],
      ["a number", 42, "not-a-finding-event"],
      ["an array", [fixture("guardduty-ec2-cryptomining.json")], "not-a-finding-event"],
      ["an empty object", {}, "not-a-finding-event"],
      [
        "another detail-type",
        mutated((e) => (e["detail-type"] = "EC2 Instance State-change Notification")),
        "not-a-finding-event",
      ],
      ["another source", mutated((e) => (e.source = "aws.securityhub")), "not-a-finding-event"],
      ["a forged source", mutated((e) => (e.source = "evil.guardduty")), "not-a-finding-event"],
      ["no detail", mutated((e) => delete (e as Record<string, unknown>).detail), "not-an-instance-finding"],
      [
        "detail is a string",
        mutated((e) => ((e as Record<string, unknown>).detail = "{}")),
        "not-an-instance-finding",
      ],
      ["no resource", mutated((e) => delete e.detail.resource), "not-an-instance-finding"],
      [
        "resource type EKSCluster",
        mutated((e) => (e.detail.resource!.resourceType = "EKSCluster")),
        "not-an-instance-finding",
      ],
      [
        "resource type AccessKey",
        mutated((e) => (e.detail.resource!.resourceType = "AccessKey")),
        "not-an-instance-finding",
      ],
      [
        "resource type in lower case",
        mutated((e) => (e.detail.resource!.resourceType = "instance")),
        "not-an-instance-finding",
      ],
      [
        "Instance without instanceDetails",
        mutated((e) => delete e.detail.resource!.instanceDetails),
        "not-an-instance-finding",
      ],
      [
        "instanceDetails null",
        mutated((e) => (e.detail.resource!.instanceDetails = null)),
        "not-an-instance-finding",
      ],
      ["no instance id", mutated((e, d) => delete d.instanceId), "malformed-finding"],
      ["instance id not an id", mutated((e, d) => (d.instanceId = "web-1")), "malformed-finding"],
      [
        "instance id with injection",
        mutated((e, d) => (d.instanceId = "i-0123abcd; rm -rf /")),
        "malformed-finding",
      ],
      [
        "instance id upper case",
        mutated((e, d) => (d.instanceId = "i-0123ABCD4567EF890")),
        "malformed-finding",
      ],
      [
        "instance id too long",
        mutated((e, d) => (d.instanceId = "i-0123abcd4567ef89012345")),
        "malformed-finding",
      ],
      ["instance id a number", mutated((e, d) => (d.instanceId = 123)), "malformed-finding"],
      ["severity as a string", mutated((e) => (e.detail.severity = "8")), "malformed-finding"],
      ["severity missing", mutated((e) => delete e.detail.severity), "malformed-finding"],
      ["account id not 12 digits", mutated((e) => (e.detail.accountId = "1111")), "malformed-finding"],
      [
        "ENI id not an ENI",
        mutated((e, d) => (d.networkInterfaces[0]!.networkInterfaceId = "sg-123")),
        "malformed-finding",
      ],
      [
        "networkInterfaces an object",
        mutated((e, d) => ((d as Record<string, unknown>).networkInterfaces = { id: "eni-1" })),
        "malformed-finding",
      ],
      [
        "security group without id",
        mutated((e, d) => delete d.networkInterfaces[0]!.securityGroups[0]!.groupId),
        "malformed-finding",
      ],
      [
        "tags not a list",
        mutated((e, d) => ((d as Record<string, unknown>).tags = { Name: "x" })),
        "malformed-finding",
      ],
      ["tag without key", mutated((e, d) => (d.tags = [{ value: "x" }])), "malformed-finding"],
      ["finding id missing", mutated((e) => delete e.detail.id), "malformed-finding"],
      ["event id missing", mutated((e) => delete e.id), "malformed-finding"],
      [
        "sample true from aws.guardduty",
        mutated((e) => (e.detail.service!.additionalInfo.sample = true)),
        "sample-finding",
      ],
      ["severity under the threshold", mutated((e) => (e.detail.severity = 6.9)), "below-severity-threshold"],
      ["severity 0", mutated((e) => (e.detail.severity = 0)), "below-severity-threshold"],
      [
        "another account in the detail",
        mutated((e) => (e.detail.accountId = "444455556666")),
        "other-account",
      ],
      ["another account in the envelope", mutated((e) => (e.account = "444455556666")), "other-account"],
      ["another region in the detail", mutated((e) => (e.detail.region = "us-east-1")), "other-region"],
      ["another region in the envelope", mutated((e) => (e.region = "us-east-1")), "other-region"],
      [
        "exclusion tag",
        mutated((e, d) => d.tags.push({ key: "ir:exclude", value: "true" })),
        "excluded-by-tag",
      ],
      [
        "exclusion tag TRUE",
        mutated((e, d) => d.tags.push({ key: "ir:exclude", value: "TRUE" })),
        "excluded-by-tag",
      ],
      [
        "responder's forensic instance",
        mutated((e, d) => d.tags.push({ key: "ir:responder-made", value: "forensic" })),
        "responder-made-instance",
      ],
      [
        "responder's replacement",
        mutated((e, d) => d.tags.push({ key: "ir:responder-made", value: "replacement" })),
        "responder-made-instance",
      ],
    ];
    for (const [name, event, reason] of cases) {
      it(`rejects ${name}: ${reason}`, () => {
        const result = acceptFindingEvent(event, settings);
        expect(result).to.deep.include({ accepted: false, reason });
        expect((result as { detail: string }).detail)
          .to.be.a("string")
          .and.not.equal("");
      });
    }

    const accepted: [string, unknown][] = [
      [
        "extra unknown fields everywhere",
        mutated((e, d) => {
          e.extra = 1;
          e.detail.extra = { a: 1 };
          d.extra = [];
        }),
      ],
      ["no ENIs listed (the fix-up describe finds them)", mutated((e, d) => (d.networkInterfaces = []))],
      ["null iamInstanceProfile", mutated((e, d) => (d.iamInstanceProfile = null))],
      ["exclusion tag set to false", mutated((e, d) => d.tags.push({ key: "ir:exclude", value: "false" }))],
      ["severity exactly at the threshold", mutated((e) => (e.detail.severity = 7))],
      ["a critical severity (10)", mutated((e) => (e.detail.severity = 10))],
      ["a tag with a null value", mutated((e, d) => d.tags.push({ key: "Owner", value: null }))],
      ["sample false", mutated((e) => (e.detail.service!.additionalInfo.sample = false))],
      ["no service block", mutated((e) => delete e.detail.service)],
    ];
    for (const [name, event] of accepted) {
      it(`accepts ${name}`, () => {
        expect(acceptFindingEvent(event, settings).accepted).to.equal(true);
      });
    }

    it("honours a renamed exclusion tag (EXCLUSION_TAG)", () => {
      const event = mutated((e, d) => d.tags.push({ key: "soc:skip", value: "true" }));
      expect(acceptFindingEvent(event, settings).accepted).to.equal(true);
      expect(acceptFindingEvent(event, { ...settings, exclusionTag: "soc:skip" })).to.deep.include({
        reason: "excluded-by-tag",
      });
    });
  });

  describe("the live re-check", () => {
    const finding = (
      acceptFindingEvent(fixture("guardduty-ec2-cryptomining.json"), settings) as { finding: InstanceFinding }
    ).finding;
    const table: [string, { state: string; tags: Record<string, string> } | undefined, boolean | string][] = [
      ["running, untagged", { state: "running", tags: {} }, true],
      ["stopped (still evidence)", { state: "stopped", tags: {} }, true],
      ["gone from EC2", undefined, "instance-gone"],
      ["terminated", { state: "terminated", tags: {} }, "instance-gone"],
      ["shutting down", { state: "shutting-down", tags: {} }, "instance-gone"],
      [
        "exclusion tag added since the finding",
        { state: "running", tags: { "ir:exclude": "true" } },
        "excluded-by-tag",
      ],
      [
        "responder-made tag",
        { state: "running", tags: { "ir:responder-made": "forensic" } },
        "responder-made-instance",
      ],
    ];
    for (const [name, live, expected] of table) {
      it(`${name}: ${expected === true ? "accepted" : expected}`, () => {
        const result = acceptLiveInstance(finding, live, "ir:exclude");
        if (expected === true) expect(result.accepted).to.equal(true);
        else expect(result).to.deep.include({ accepted: false, reason: expected });
      });
    }
  });

  describe("the handler's other events", () => {
    it("recognises its own continuation and nothing else as one", () => {
      expect(isContinuationEvent({ "ir:continue": { incidentId: "inc-1" } })).to.equal(true);
      expect(isContinuationEvent({ "ir:continue": {} })).to.equal(false);
      expect(isContinuationEvent({ "ir:continue": { incidentId: "inc-1" }, extra: true })).to.equal(false);
      expect(isContinuationEvent(fixture("guardduty-ec2-cryptomining.json"))).to.equal(false);
    });

    it("reads snapshot ids from EBS's multi-volume completion event", () => {
      const event = {
        source: "aws.ec2",
        "detail-type": "EBS Multi-Volume Snapshots Completion Status",
        detail: {
          event: "createSnapshots",
          result: "succeeded",
          snapshots: [
            {
              snapshot_id: "arn:aws:ec2:eu-central-1::snapshot/snap-01234567",
              source: "arn:aws:ec2:eu-central-1::volume/vol-1",
              status: "completed",
            },
          ],
        },
      };
      expect(isSnapshotCompletionEvent(event)).to.equal(true);
      expect(snapshotIdsOf(event as never)).to.deep.equal(["snap-01234567"]);
      expect(isSnapshotCompletionEvent({ ...event, source: "aws.guardduty" })).to.equal(false);
    });
  });
});
