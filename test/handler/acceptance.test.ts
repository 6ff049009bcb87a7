// Over 400 lines because it is one table: each hand-written event is a row, and the rows are the test.
// Event acceptance (handler/README.md, step 0), table-driven: the shared fixtures and many hand-written malformed events.
// Every rejection has a reason and never throws.
import { expect } from "chai";

import { acceptFindingEvent, FINDING_COPY_LIMITS, TITLE_LIMIT } from "../../handler/acceptance/acceptance";
import { MAX_GROUPS_PER_INTERFACE, type InstanceFinding } from "../../handler/acceptance/finding";
import { MAX_EVENT_DEPTH } from "../../handler/acceptance/structure";
import { capText, ECHO_LIMIT } from "../../handler/acceptance/text";
import { parseSettings, type Settings } from "../../handler/settings";
import { TEST_ENV } from "../../testkit/testSettings";
import { loadEvent } from "../support/fixtures";

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

/** `depth` arrays nested in one another. */
function nested(depth: number): unknown {
  let value: unknown = [];
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
}

/** `event` sent by the drill source, its instance tagged ir:drill=`drillTag` (undefined: no such tag). */
function drillEvent(event: Record<string, unknown>, drillTag: string | undefined): unknown {
  const copy = structuredClone(event) as MutableFinding;
  copy.source = "ir.drill";
  const details = copy.detail.resource!.instanceDetails!;
  if (drillTag !== undefined) details.tags.push({ key: "ir:drill", value: drillTag });
  return copy;
}

/**
 * GuardDuty's sample finding with its placeholder ids (GeneratedFindingVPCId, GeneratedFindingSecurityId, ...)
 * replaced by real ones, as a drill runner writes it about its instance.
 */
function sampleWithRealIds(): Record<string, unknown> {
  const sample = loadEvent("guardduty-sample-finding") as unknown as MutableFinding;
  const eni = sample.detail.resource!.instanceDetails!.networkInterfaces[0]! as Record<string, unknown>;
  eni.vpcId = "vpc-0123456789abcdef0";
  eni.subnetId = "subnet-0aa11bb22cc33dd44";
  eni.securityGroups = [{ groupName: "web-app", groupId: "sg-0a1a2a3a4a5a6a7a8" }];
  return sample;
}

/** A deep copy of the C&C fixture with `change` applied: the base of the hand-written cases. */
function mutated(change: (event: MutableFinding, details: Details) => void): unknown {
  const event = structuredClone(loadEvent("guardduty-ec2-backdoor-two-enis")) as MutableFinding;
  change(event, event.detail.resource!.instanceDetails!);
  return event;
}

describe("handler: event acceptance (step 0)", () => {
  describe("shared fixtures", () => {
    it("accepts an EC2 finding with two ENIs and keeps both ENIs with their groups", () => {
      const result = acceptFindingEvent(loadEvent("guardduty-ec2-backdoor-two-enis"), settings);
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
      expect(acceptFindingEvent(loadEvent("guardduty-ec2-cryptomining"), settings).accepted).to.equal(true);
    });

    it("rejects the S3 finding: not an EC2 instance", () => {
      expect(acceptFindingEvent(loadEvent("guardduty-s3-not-an-instance"), settings)).to.deep.include({
        accepted: false,
        reason: "not-an-instance-finding",
      });
    });

    it("rejects the GuardDuty sample finding from aws.guardduty", () => {
      const lowThreshold = { ...settings, severityThreshold: 1 };
      expect(acceptFindingEvent(loadEvent("guardduty-sample-finding"), lowThreshold)).to.deep.include({
        reason: "sample-finding",
      });
    });

    it("accepts a sample finding when it comes from the drill source, about an instance tagged ir:drill=true", () => {
      const drill = drillEvent(sampleWithRealIds(), "true");
      expect(acceptFindingEvent(drill, { ...settings, severityThreshold: 1 }).accepted).to.equal(true);
    });

    it("rejects GuardDuty's sample finding as it comes (placeholder ids such as GeneratedFindingVPCId) from the drill source: malformed", () => {
      const drill = drillEvent(loadEvent("guardduty-sample-finding"), "true");
      const result = acceptFindingEvent(drill, { ...settings, severityThreshold: 1 });
      expect(result).to.deep.include({ accepted: false, reason: "malformed-finding" });
      expect((result as { detail: string }).detail).to.match(
        /^detail\.resource\.instanceDetails\.networkInterfaces\.0\./,
      );
    });

    it("rejects a drill sample finding about an instance without ir:drill=true: not-a-drill-target", () => {
      const drill = { ...sampleWithRealIds(), source: "ir.drill" };
      const result = acceptFindingEvent(drill, { ...settings, severityThreshold: 1 });
      expect(result).to.deep.include({ accepted: false, reason: "not-a-drill-target" });
      expect((result as { detail: string }).detail).to.match(/not tagged ir:drill=true/);
    });
  });

  describe("hand-written events", () => {
    const cases: [string, unknown, string][] = [
      ["undefined", undefined, "not-a-finding-event"],
      ["null", null, "not-a-finding-event"],
      ["a string", "GuardDuty Finding", "not-a-finding-event"],
      ["a number", 42, "not-a-finding-event"],
      ["an array", [loadEvent("guardduty-ec2-cryptomining")], "not-a-finding-event"],
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
      // Drills: anyone allowed events:PutEvents can send source ir.drill.
      [
        "a drill event, no ir:drill tag",
        drillEvent(loadEvent("guardduty-ec2-backdoor-two-enis"), undefined),
        "not-a-drill-target",
      ],
      [
        "a drill event, ir:drill=false",
        drillEvent(loadEvent("guardduty-ec2-backdoor-two-enis"), "false"),
        "not-a-drill-target",
      ],
      [
        "a drill event, ir:drill=TRUE (granting tags are read exactly)",
        drillEvent(loadEvent("guardduty-ec2-backdoor-two-enis"), "TRUE"),
        "not-a-drill-target",
      ],
      [
        "a drill event, ir:drill with a null value",
        mutated((e, d) => {
          e.source = "ir.drill";
          d.tags.push({ key: "ir:drill", value: null });
        }),
        "not-a-drill-target",
      ],
      // Nesting and values JSON cannot carry: refused before validation, which recurses once per level.
      [
        `an event nested ${MAX_EVENT_DEPTH + 3} levels deep (an unknown field)`,
        mutated((e) => (e.detail.junk = nested(MAX_EVENT_DEPTH))),
        "malformed-finding",
      ],
      [
        "an unknown field nested 100 000 levels deep",
        mutated((e) => (e.detail.junk = nested(100_000))),
        "malformed-finding",
      ],
      ["a BigInt in an unknown field", mutated((e) => (e.detail.junk = 1n)), "malformed-finding"],
      ["a function in an unknown field", mutated((e) => (e.detail.junk = () => 1)), "malformed-finding"],
      [
        "a circular reference in an unknown field",
        mutated((e) => (e.detail.junk = e.detail)),
        "malformed-finding",
      ],
      [
        "one object referenced twice (JSON.stringify would copy it each time)",
        mutated((e, d) => (e.detail.junk = [d, d])),
        "malformed-finding",
      ],
      // Identifiers the record copies are never longer than AWS makes them.
      [
        "a finding id of 1 000 characters",
        mutated((e) => (e.detail.id = "f".repeat(1_000))),
        "malformed-finding",
      ],
      [
        "a finding type of 1 000 characters",
        mutated((e) => (e.detail.type = "T".repeat(1_000))),
        "malformed-finding",
      ],
      ["an event id of 1 000 characters", mutated((e) => (e.id = "e".repeat(1_000))), "malformed-finding"],
      [
        "a tag value of 1 000 characters",
        mutated((e, d) => d.tags.push({ key: "Owner", value: "v".repeat(1_000) })),
        "malformed-finding",
      ],
      [
        "an ENI id of 1 000 characters",
        mutated((e, d) => (d.networkInterfaces[0]!.networkInterfaceId = `eni-${"0".repeat(996)}`)),
        "malformed-finding",
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
      [
        "a drill event about an instance tagged ir:drill=true",
        drillEvent(loadEvent("guardduty-ec2-backdoor-two-enis"), "true"),
      ],
      [
        `an event nested ${MAX_EVENT_DEPTH} levels deep in all (an unknown field)`,
        mutated((e) => (e.detail.junk = nested(MAX_EVENT_DEPTH - 3))),
      ],
      ["a 200 KiB title", mutated((e) => (e.detail.title = "T".repeat(200 * 1024)))],
    ];
    for (const [name, event] of accepted) {
      it(`accepts ${name}`, () => {
        expect(acceptFindingEvent(event, settings).accepted).to.equal(true);
      });
    }

    it("keeps a bounded copy: the title capped, at most 64 tags and 64 ENIs (each with its 16 groups at most)", () => {
      const event = mutated((e, d) => {
        e.detail.title = "T".repeat(200 * 1024);
        d.tags = Array.from({ length: 1_000 }, (_, index) => ({ key: `k${index}`, value: "v" }));
        d.networkInterfaces = Array.from({ length: 100 }, (_, index) => ({
          networkInterfaceId: `eni-${index.toString(16).padStart(17, "0")}`,
          securityGroups: Array.from({ length: MAX_GROUPS_PER_INTERFACE }, (_, group) => ({
            groupId: `sg-${group.toString(16).padStart(8, "0")}`,
          })),
        }));
      });
      const finding = (acceptFindingEvent(event, settings) as { finding: InstanceFinding }).finding;
      expect(finding.title).to.equal(capText("T".repeat(200 * 1024), TITLE_LIMIT));
      expect(finding.title).to.match(/… \(204544 more characters\)$/);
      expect(Object.keys(finding.tags)).to.have.length(FINDING_COPY_LIMITS.tags);
      expect(finding.networkInterfaces).to.have.length(FINDING_COPY_LIMITS.networkInterfaces);
      expect(finding.networkInterfaces[0]!.securityGroupIds).to.have.length(MAX_GROUPS_PER_INTERFACE);
      expect(JSON.stringify(finding).length, "the copy stays small").to.be.below(40_000);
    });

    describe("every identifier and number the response uses is checked at acceptance", () => {
      const group = (details: Details) => details.networkInterfaces[0]!.securityGroups[0]!;
      const eni = (details: Details) => details.networkInterfaces[0]! as Record<string, unknown>;
      const malformed: [string, unknown][] = [
        [
          "a doubled group id",
          mutated((e, d) => (group(d).groupId = "sg-0a1a2a3a4a5a6a7a8sg-0a1a2a3a4a5a6a7a8")),
        ],
        ["an empty group id", mutated((e, d) => (group(d).groupId = ""))],
        ["a group id Infinity", mutated((e, d) => (group(d).groupId = "Infinity"))],
        ["a group id sg-Infinity", mutated((e, d) => (group(d).groupId = "sg-Infinity"))],
        ["a group id with another prefix", mutated((e, d) => (group(d).groupId = "vpc-0a1a2a3a4a5a6a7a8"))],
        ["a group id of 10 hex digits", mutated((e, d) => (group(d).groupId = "sg-0a1a2a3a4a"))],
        ["a group id in upper case", mutated((e, d) => (group(d).groupId = "sg-0A1A2A3A4A5A6A7A8"))],
        ["a group id that is a number", mutated((e, d) => (group(d).groupId = Infinity))],
        ["an empty VPC id", mutated((e, d) => (eni(d).vpcId = ""))],
        ["a VPC id Infinity", mutated((e, d) => (eni(d).vpcId = "Infinity"))],
        [
          "a doubled VPC id",
          mutated((e, d) => (eni(d).vpcId = "vpc-0123456789abcdef0vpc-0123456789abcdef0")),
        ],
        ["a VPC id of 9 hex digits", mutated((e, d) => (eni(d).vpcId = "vpc-012345678"))],
        ["a subnet id with another prefix", mutated((e, d) => (eni(d).subnetId = "sg-0aa11bb22cc33dd44"))],
        ["an ENI id of 4 hex digits", mutated((e, d) => (eni(d).networkInterfaceId = "eni-0123"))],
        ["an instance id of 9 hex digits", mutated((e, d) => (d.instanceId = "i-012345678"))],
        [
          `an ENI with ${MAX_GROUPS_PER_INTERFACE + 1} groups (EC2 allows ${MAX_GROUPS_PER_INTERFACE})`,
          mutated(
            (e, d) =>
              (d.networkInterfaces[0]!.securityGroups = Array.from(
                { length: MAX_GROUPS_PER_INTERFACE + 1 },
                (_, index) => ({ groupId: `sg-${index.toString(16).padStart(8, "0")}` }),
              )),
          ),
        ],
        [
          "one ENI listed twice",
          mutated((e, d) => d.networkInterfaces.push(structuredClone(d.networkInterfaces[0]!))),
        ],
        ["an empty tag key", mutated((e, d) => d.tags.push({ key: "", value: "x" }))],
        ["severity 1e308", mutated((e) => (e.detail.severity = 1e308))],
        [
          "severity a 30-digit integer",
          mutated((e) => (e.detail.severity = Number("123456789012345678901234567890"))),
        ],
        [
          "severity 1e309 (JSON.parse makes it Infinity)",
          JSON.parse(
            JSON.stringify(mutated((e) => (e.detail.severity = 8))).replace(
              '"severity":8',
              '"severity":1e309',
            ),
          ),
        ],
        ["severity 11 (over GuardDuty's 10)", mutated((e) => (e.detail.severity = 11))],
        ["severity -1", mutated((e) => (e.detail.severity = -1))],
        ["severity 1e-7 (an exponent form)", mutated((e) => (e.detail.severity = 1e-7))],
        ["severity -Infinity", mutated((e) => (e.detail.severity = -Infinity))],
      ];
      for (const [name, event] of malformed) {
        it(`rejects ${name}: malformed-finding`, () => {
          const result = acceptFindingEvent(event, { ...settings, severityThreshold: 0 });
          expect(result).to.deep.include({ accepted: false, reason: "malformed-finding" });
          expect((result as { detail: string }).detail.length).to.be.at.most(400);
        });
      }

      it("accepts severities GuardDuty writes: 0, 1.0, 5.5, 8.9, 10 and 7.000000000000001", () => {
        for (const severity of [0, 1, 5.5, 8.9, 10, 7.000000000000001]) {
          const event = mutated((e) => (e.detail.severity = severity));
          expect(
            acceptFindingEvent(event, { ...settings, severityThreshold: 0 }).accepted,
            String(severity),
          ).to.equal(true);
        }
      });

      it("keeps each group once", () => {
        const event = mutated((e, d) => {
          const first = group(d);
          d.networkInterfaces[0]!.securityGroups = [first, { ...first }, { ...first }];
        });
        const finding = (acceptFindingEvent(event, settings) as { finding: InstanceFinding }).finding;
        expect(finding.networkInterfaces[0]!.securityGroupIds).to.deep.equal(["sg-0a1a2a3a4a5a6a7a8"]);
      });

      it("an ENI the finding shows in one of the responder's groups: its own groups are not known (empty)", () => {
        const ours = {
          ...settings,
          vpcSecurityGroups: {
            "vpc-0123456789abcdef0": { untrack: "sg-0b1b2b3b4b5b6b7b8", isolation: "sg-0d0d0d0d0d0d0d0d0" },
          },
        };
        const configured = (
          acceptFindingEvent(loadEvent("guardduty-ec2-backdoor-two-enis"), ours) as {
            finding: InstanceFinding;
          }
        ).finding;
        // The second ENI lists the configured untrack group beside another: neither is its own.
        expect(configured.networkInterfaces.map((eni) => eni.securityGroupIds)).to.deep.equal([
          ["sg-0a1a2a3a4a5a6a7a8"],
          [],
        ]);
        const onDemand = mutated((e, d) => {
          d.networkInterfaces[0]!.securityGroups = [
            { groupId: "sg-0e0e0e0e0e0e0e0e0", groupName: "ir-isolation-vpc-0123456789abcdef0" } as never,
          ];
        });
        const named = (acceptFindingEvent(onDemand, settings) as { finding: InstanceFinding }).finding;
        expect(named.networkInterfaces[0]!.securityGroupIds, "an on-demand group, by its name").to.deep.equal(
          [],
        );
      });

      it("an ENI the finding lists without groups is accepted (the live description has them)", () => {
        const event = mutated((e, d) => {
          d.networkInterfaces[0]!.securityGroups = [];
          delete (d.networkInterfaces[1] as Record<string, unknown>).securityGroups;
        });
        const finding = (acceptFindingEvent(event, settings) as { finding: InstanceFinding }).finding;
        expect(finding.networkInterfaces.map((eni) => eni.securityGroupIds)).to.deep.equal([[], []]);
      });
    });

    describe("the copy is storable (DynamoDB refuses strings that are not valid UTF-8)", () => {
      const lone = "\ud83d";
      it("a lone surrogate in the title, type, ids and tags becomes U+FFFD", () => {
        const event = mutated((e, d) => {
          e.detail.title = `a${lone}b`;
          e.detail.type = `Backdoor:EC2/C&CActivity.B${lone}`;
          e.detail.id = `f${lone}`;
          e.id = `e${"\udc00"}`;
          e.detail.updatedAt = `2026${lone}`;
          d.tags.push({ key: `k${lone}`, value: `v${lone}` });
        });
        const finding = (acceptFindingEvent(event, settings) as { finding: InstanceFinding }).finding;
        expect(finding.title).to.equal("a\ufffdb");
        expect(finding.type).to.equal("Backdoor:EC2/C&CActivity.B\ufffd");
        expect(finding.findingId).to.equal("f\ufffd");
        expect(finding.eventId).to.equal("e\ufffd");
        expect(finding.updatedAt).to.equal("2026\ufffd");
        expect(finding.tags["k\ufffd"]).to.equal("v\ufffd");
      });

      it("the title cap never cuts an emoji in half", () => {
        const title = `${"a".repeat(TITLE_LIMIT - 1)}😀😀tail`;
        const event = mutated((e) => (e.detail.title = title));
        const finding = (acceptFindingEvent(event, settings) as { finding: InstanceFinding }).finding;
        expect(finding.title).to.equal(`${"a".repeat(TITLE_LIMIT - 1)}😀… (5 more characters)`);
      });

      it("capText counts code points and keeps pairs whole", () => {
        expect(capText("😀😀😀", 2)).to.equal("😀😀… (1 more characters)");
        expect(capText("ab😀", 2)).to.equal("ab… (1 more characters)");
        expect(capText("a😀", 2)).to.equal("a😀");
        expect(capText(`a${"\udc00"}b`, 5)).to.equal("a\ufffdb");
      });
    });

    it("checks the exclusion tag among all tags, not only the copied ones", () => {
      const event = mutated((e, d) => {
        d.tags = Array.from({ length: 1_000 }, (_, index) => ({ key: `k${index}`, value: "v" }));
        d.tags.push({ key: "ir:exclude", value: "true" });
      });
      expect(acceptFindingEvent(event, settings)).to.deep.include({ reason: "excluded-by-tag" });
    });

    it("says where the nesting is too deep, without recursing", () => {
      const result = acceptFindingEvent(
        mutated((e) => (e.detail.junk = nested(1_000_000))),
        settings,
      );
      expect((result as { detail: string }).detail).to.match(
        /^detail\.junk\.0\.0.*nested deeper than 64 levels$/,
      );
    });

    describe("a rejection repeats at most ECHO_LIMIT characters of any input value", () => {
      const huge = "x".repeat(1 << 20);
      const echoing: [string, unknown, string][] = [
        ["a 1 MiB source", mutated((e) => (e.source = `aws.guardduty${huge}`)), "not-a-finding-event"],
        [
          "a 1 MiB resource type",
          mutated((e) => (e.detail.resource!.resourceType = `Instance${huge}`)),
          "not-an-instance-finding",
        ],
        ["a 1 MiB instance id", mutated((e, d) => (d.instanceId = `i-${huge}`)), "malformed-finding"],
        ["a 1 MiB account id", mutated((e) => (e.detail.accountId = huge)), "malformed-finding"],
        ["a 1 MiB region", mutated((e) => (e.detail.region = huge)), "other-region"],
        ["a 1 MiB envelope account", mutated((e) => (e.account = huge)), "other-account"],
        [
          "a 256-character responder-made value",
          mutated((e, d) => d.tags.push({ key: "ir:responder-made", value: huge.slice(0, 256) })),
          "responder-made-instance",
        ],
      ];
      for (const [name, event, reason] of echoing) {
        it(`${name}: ${reason}, the value cut at ${ECHO_LIMIT} characters`, () => {
          const result = acceptFindingEvent(event, settings);
          expect(result).to.deep.include({ accepted: false, reason });
          const detail = (result as { detail: string }).detail;
          expect(detail).to.match(/… \(\d+ more characters\)/);
          expect(detail).not.to.include("x".repeat(ECHO_LIMIT + 1));
          expect(detail.length).to.be.at.most(400);
        });
      }

      it("an object whose toString is not a function: described, not converted", () => {
        const event = mutated((e) => (e.detail.resource!.resourceType = { toString: "x" }));
        expect(acceptFindingEvent(event, settings)).to.deep.include({
          reason: "not-an-instance-finding",
          detail: "resource type an object is not an EC2 instance",
        });
      });
    });

    it("honours a renamed exclusion tag (EXCLUSION_TAG)", () => {
      const event = mutated((e, d) => d.tags.push({ key: "soc:skip", value: "true" }));
      expect(acceptFindingEvent(event, settings).accepted).to.equal(true);
      expect(acceptFindingEvent(event, { ...settings, exclusionTag: "soc:skip" })).to.deep.include({
        reason: "excluded-by-tag",
      });
    });
  });
});
