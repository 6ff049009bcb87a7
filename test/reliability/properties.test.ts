// Property-based tests (fast-check) of the pure decisions the response rests on: thousands of generated inputs
// per property instead of a handful of examples (test/handler/<step or module>.test.ts have the examples).
import { isIP } from "net";

import { expect } from "chai";
import fc from "fast-check";

import { matchesEventPattern } from "../../simulator/eventPattern";
import { clientToken } from "../../handler/clientToken";
import { acceptFindingEvent } from "../../handler/acceptance/acceptance";
import { isStorableSeverity } from "../../handler/acceptance/finding";
import { capText } from "../../handler/acceptance/text";
import { instanceIdOfIncident, newIncidentId, type IncidentRecord } from "../../handler/incidentRecord";
import { desiredRules, ruleChanges, type FlatRule } from "../../handler/securityGroups";
import { parseSettings, type Settings } from "../../handler/settings";
import {
  memoryGraceMs,
  planMemoryCapture,
  type MemoryCaptureInputs,
} from "../../handler/steps/captureMemory";
import { allocateDeviceNames, evidenceSource } from "../../handler/steps/forensicWorkspace";
import {
  interfacesNeedingIsolation,
  interfacesToIsolate,
  originalGroupsOf,
} from "../../handler/containment/interfaces";
import { replacementRequest } from "../../handler/steps/replacement/launchPlan";
import { notificationOf } from "../../handler/steps/report";
import { planStop } from "../../handler/steps/stopInstance";
import { ConfigError, PROJECT, parseStackConfig } from "../../infra/config";
import { findingEventPattern } from "../../infra/eventPattern";
import { TEST_ENV } from "../../testkit/testSettings";
import { loadEvent } from "../support/fixtures";
import { isWellFormed } from "./support/storable";

/** Runs per property: enough to find edge cases, cheap enough for every `npm test`. */
const RUNS = { numRuns: 500 };

const settings: Settings = parseSettings(TEST_ENV);

// ---- arbitraries -------------------------------------------------------------------------------------------

const hex = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: min, maxLength: max });
const instanceIdArb = hex(8, 17).map((digits) => `i-${digits}`);
const groupIdArb = hex(8, 17).map((digits) => `sg-${digits}`);
const vpcIdArb = fc.constantFrom("vpc-0aaaaaaa", "vpc-0bbbbbbb", "vpc-0ccccccc");
const letters = "abcdefghijklmnopqrstuvwxyz".split("");
const deviceNameArb = fc
  .tuple(
    fc.constantFrom("/dev/sd", "/dev/xvd"),
    fc.constantFrom(...letters),
    fc.option(fc.integer({ min: 1, max: 9 })),
  )
  .map(([prefix, letter, partition]) => `${prefix}${letter}${partition ?? ""}`);
const graceSettingsArb = fc.record({
  memoryGraceBaseSeconds: fc.integer({ min: 0, max: 3600 }),
  memoryGraceSecondsPerGib: fc.integer({ min: 0, max: 600 }),
});
const ipv4CidrArb = fc
  .tuple(fc.ipV4(), fc.integer({ min: 1, max: 32 }))
  .map(([ip, prefix]) => `${ip}/${prefix}`);
// Hexadecimal notation only: the mixed form with an embedded IPv4 (::ffff:1.2.3.4) is left out on purpose.
const ipv6CidrArb = fc
  .tuple(
    fc.ipV6().filter((ip) => !ip.includes(".")),
    fc.integer({ min: 1, max: 128 }),
  )
  .map(([ip, prefix]) => `${ip}/${prefix}`);

/** The slot a device name occupies (/dev/sdf and /dev/xvdf are one slot). */
const slotOf = (deviceName: string) => /^\/dev\/(?:sd|xvd)([a-z])/.exec(deviceName)?.[1];

/** A stack config with everything required and `values` on top (keys in the project namespace). */
function stackConfig(values: Record<string, string>): Record<string, string> {
  return {
    "aws:region": "eu-central-1",
    [`${PROJECT}:forensicAmiId`]: "ami-0a1b2c3d4e5f60718",
    ...Object.fromEntries(Object.entries(values).map(([key, value]) => [`${PROJECT}:${key}`, value])),
  };
}

function stackAcceptsSourceCidr(cidr: string): boolean {
  try {
    parseStackConfig(stackConfig({ forensicSourceCidrs: JSON.stringify([cidr]) }));
    return true;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

function handlerAcceptsSourceCidr(cidr: string): boolean {
  try {
    parseSettings({ ...TEST_ENV, FORENSIC_SOURCE_CIDRS: JSON.stringify([cidr]) });
    return true;
  } catch {
    return false;
  }
}

// ---- the properties ----------------------------------------------------------------------------------------

describe("reliability: properties of the pure decisions (fast-check)", () => {
  describe("device names on the forensic workstation", () => {
    it("distinct, free (sdX and xvdX are one slot), never the root slot, as many as asked or as remain", () => {
      fc.assert(
        fc.property(
          fc.array(deviceNameArb, { maxLength: 30 }),
          fc.integer({ min: 0, max: 30 }),
          (used, count) => {
            const names = allocateDeviceNames(used, count);
            const usedSlots = new Set(used.map(slotOf));
            const slots = names.map(slotOf);
            expect(new Set(slots).size, "distinct").to.equal(names.length);
            for (const name of names) expect(name).to.match(/^\/dev\/sd[b-z]$/);
            for (const slot of slots) expect(usedSlots.has(slot), `slot ${slot} is used`).to.equal(false);
            const free = letters.filter((letter) => letter !== "a" && !usedSlots.has(letter)).length;
            expect(names.length).to.equal(Math.min(count, free));
          },
        ),
        RUNS,
      );
    });

    it("takes EC2's recommended data-volume range /dev/sd[f-p] first while it has room", () => {
      fc.assert(
        fc.property(
          fc.array(deviceNameArb, { maxLength: 30 }),
          fc.integer({ min: 0, max: 30 }),
          (used, count) => {
            const usedSlots = new Set(used.map(slotOf));
            const recommendedFree = "fghijklmnop".split("").filter((letter) => !usedSlots.has(letter)).length;
            const names = allocateDeviceNames(used, count);
            const inRange = names.filter((name) => /sd[f-p]$/.test(name)).length;
            expect(inRange).to.equal(Math.min(names.length, recommendedFree));
          },
        ),
        RUNS,
      );
    });
  });

  describe("memory capture", () => {
    it("grace = base + per GiB x memory: at least the base, growing with memory, never negative", () => {
      fc.assert(
        fc.property(
          fc.option(fc.integer({ min: 0, max: 24 * 1024 * 1024 }), { nil: undefined }),
          fc.integer({ min: 0, max: 1024 * 1024 }),
          graceSettingsArb,
          (memoryMiB, more, grace) => {
            const base = memoryGraceMs(memoryMiB, grace);
            expect(base).to.be.at.least(grace.memoryGraceBaseSeconds * 1000);
            expect(Number.isFinite(base)).to.equal(true);
            expect(memoryGraceMs((memoryMiB ?? 0) + more, grace)).to.be.at.least(base);
            expect(base).to.equal(
              Math.round(
                (grace.memoryGraceBaseSeconds + (grace.memoryGraceSecondsPerGib * (memoryMiB ?? 0)) / 1024) *
                  1000,
              ),
            );
          },
        ),
        RUNS,
      );
    });

    const inputsArb: fc.Arbitrary<MemoryCaptureInputs> = fc.record({
      state: fc.constantFrom("pending", "running", "stopping", "stopped", "shutting-down", "terminated"),
      architectures: fc.subarray(["x86_64", "arm64", "i386"]),
      hypervisor: fc.option(fc.constantFrom("nitro", "xen"), { nil: undefined }),
      bareMetal: fc.option(fc.boolean(), { nil: undefined }),
      instanceType: fc.option(fc.constantFrom("m6i.large", "m7g.large", "a1.large", "a1.metal", "m5.metal"), {
        nil: undefined,
      }),
      memoryMiB: fc.option(fc.integer({ min: 512, max: 24 * 1024 * 1024 }), { nil: undefined }),
      kdumpReady: fc.boolean(),
      hibernationConfigured: fc.boolean(),
      rootDeviceType: fc.constantFrom("ebs", "instance-store"),
      powerOffStops: fc.boolean(),
    });

    it("an NMI exactly when it can produce a dump: running, x86_64 or arm64, Nitro-based (or bare metal) but not A1, kdump-ready, EBS root, power-off stops", () => {
      fc.assert(
        fc.property(inputsArb, graceSettingsArb, (inputs, grace) => {
          const plan = planMemoryCapture(inputs, grace);
          const nmiPossible =
            inputs.state === "running" &&
            (inputs.architectures.includes("x86_64") || inputs.architectures.includes("arm64")) &&
            (inputs.hypervisor === "nitro" || inputs.bareMetal === true) &&
            !(inputs.instanceType ?? "").startsWith("a1.") &&
            inputs.kdumpReady &&
            inputs.rootDeviceType === "ebs" &&
            inputs.powerOffStops;
          expect(plan.method === "nmi", JSON.stringify(plan)).to.equal(nmiPossible);
          if (plan.method === "nmi") expect(plan.graceMs).to.equal(memoryGraceMs(inputs.memoryMiB, grace));
          if (plan.method === "hibernate") {
            expect(inputs.state).to.equal("running");
            expect(inputs.hibernationConfigured).to.equal(true);
            expect(inputs.rootDeviceType).to.equal("ebs");
          }
          expect(plan.reason).to.be.a("string").and.not.equal("");
        }),
        RUNS,
      );
    });
  });

  describe("stop", () => {
    const isoAt = (ms: number) => new Date(ms).toISOString();
    const sentArb = fc.record(
      {
        requestedAt: fc.integer({ min: 0, max: 10_000_000 }),
        forcedAt: fc.integer({ min: 0, max: 10_000_000 }),
      },
      { requiredKeys: [] },
    );

    it("bounded: a stop is sent once, forced once after the timeout, and the wait always has a future deadline", () => {
      fc.assert(
        fc.property(
          fc.constantFrom("ebs", "instance-store"),
          fc.constantFrom("pending", "running", "stopping", "stopped", "shutting-down", "terminated"),
          sentArb,
          fc.integer({ min: 0, max: 20_000_000 }),
          fc.integer({ min: 1, max: 3_600_000 }),
          (rootDeviceType, state, sent, now, timeoutMs) => {
            const sentIso = {
              requestedAt: sent.requestedAt === undefined ? undefined : isoAt(sent.requestedAt),
              forcedAt: sent.forcedAt === undefined ? undefined : isoAt(sent.forcedAt),
            };
            const plan = planStop({ rootDeviceType }, state, sentIso, now, timeoutMs);
            if (state === "stopped") expect(plan).to.deep.include({ action: "none", cannotStop: false });
            if (plan.action === "stop")
              expect(sent.requestedAt === undefined && sent.forcedAt === undefined).to.equal(true);
            if (plan.action === "force") {
              expect(sent.forcedAt).to.equal(undefined);
              expect(now).to.be.at.least(sent.requestedAt! + timeoutMs);
            }
            if (plan.action === "wait") expect(plan.deadline).to.be.greaterThan(now);
            if (rootDeviceType === "instance-store" && state !== "stopped")
              expect(plan).to.deep.include({ action: "none", cannotStop: true });
          },
        ),
        RUNS,
      );
    });
  });

  describe("network containment", () => {
    const eniArb = fc.record({
      networkInterfaceId: hex(8, 17).map((digits) => `eni-${digits}`),
      vpcId: vpcIdArb,
      groupIds: fc.array(fc.oneof(groupIdArb, fc.constantFrom("sg-isolation-a", "sg-untrack-a")), {
        maxLength: 4,
      }),
    });
    const pairs = {
      "vpc-0aaaaaaa": { untrack: "sg-untrack-a", isolation: "sg-isolation-a", createdOnDemand: false },
      "vpc-0bbbbbbb": { untrack: "sg-untrack-b", isolation: "sg-isolation-b", createdOnDemand: false },
    };

    it("the fix-up moves every ENI that is not exactly in its VPC's isolation group, and only those", () => {
      fc.assert(
        fc.property(fc.array(eniArb, { maxLength: 8 }), (enis) => {
          const pending = new Set(interfacesNeedingIsolation(enis, pairs));
          for (const eni of enis) {
            const isolation = pairs[eni.vpcId as keyof typeof pairs]?.isolation;
            const isolated = eni.groupIds.length === 1 && eni.groupIds[0] === isolation;
            expect(pending.has(eni.networkInterfaceId), JSON.stringify(eni)).to.equal(!isolated);
          }
        }),
        RUNS,
      );
    });

    it("the recorded original groups never contain the responder's own groups (a release restores real ones), each once", () => {
      const responder = new Set(["sg-untrack-a", "sg-isolation-a"]);
      const someGroups = fc.array(fc.oneof(groupIdArb, fc.constantFrom("sg-0aaaaaaa", "sg-0bbbbbbb")), {
        maxLength: 4,
      });
      fc.assert(
        fc.property(
          fc.array(fc.oneof(groupIdArb, fc.constantFrom(...responder), fc.constantFrom("sg-0aaaaaaa")), {
            maxLength: 4,
          }),
          fc.option(fc.oneof(someGroups, fc.array(fc.constantFrom(...responder), { maxLength: 2 })), {
            nil: undefined,
          }),
          (live, fromFinding) => {
            const original = originalGroupsOf(live, fromFinding, responder);
            for (const group of original) expect(responder.has(group), group).to.equal(false);
            expect(new Set(original).size, "each group once").to.equal(original.length);
            if (live.length > 0 && !live.some((group) => responder.has(group)))
              expect(original).to.deep.equal([...new Set(live)]);
          },
        ),
        RUNS,
      );
    });

    it("the first wave moves only ENIs whose original groups the finding knows (usable to restore), never into nothing", () => {
      const responder = new Set(["sg-untrack-a", "sg-isolation-a"]);
      const findingEniArb = fc.record({
        networkInterfaceId: hex(8, 17).map((digits) => `eni-${digits}`),
        vpcId: fc.option(vpcIdArb, { nil: undefined }),
        securityGroupIds: fc.array(fc.oneof(groupIdArb, fc.constantFrom(...responder)), { maxLength: 4 }),
      });
      fc.assert(
        fc.property(fc.array(findingEniArb, { maxLength: 6 }), (enis) => {
          const wave = interfacesToIsolate({ networkInterfaces: enis } as never, [], responder);
          for (const eni of wave) {
            expect(eni.originalGroupIds.length, "something to restore to").to.be.greaterThan(0);
            for (const group of eni.originalGroupIds) expect(responder.has(group)).to.equal(false);
            expect(new Set(eni.originalGroupIds).size).to.equal(eni.originalGroupIds.length);
          }
          const moved = new Set(wave.map((eni) => eni.networkInterfaceId));
          for (const eni of enis) {
            const knows =
              eni.vpcId !== undefined &&
              eni.securityGroupIds.length > 0 &&
              !eni.securityGroupIds.some((group) => responder.has(group));
            if (knows) expect(moved.has(eni.networkInterfaceId), eni.networkInterfaceId).to.equal(true);
            else if (
              !enis.some((other) => other !== eni && other.networkInterfaceId === eni.networkInterfaceId)
            )
              expect(moved.has(eni.networkInterfaceId), eni.networkInterfaceId).to.equal(false);
          }
        }),
        RUNS,
      );
    });

    const ruleArb: fc.Arbitrary<FlatRule> = fc.oneof(
      fc.constantFrom<FlatRule>(
        { protocol: "-1", cidr: "0.0.0.0/0" },
        { protocol: "-1", cidr: "::/0" },
        { protocol: "tcp", fromPort: 22, toPort: 22, cidr: "192.0.2.0/24" },
      ),
      fc.record({
        protocol: fc.constantFrom("tcp", "udp"),
        fromPort: fc.integer({ min: 0, max: 65535 }),
        toPort: fc.integer({ min: 0, max: 65535 }),
        cidr: ipv4CidrArb,
      }),
    );
    const key = (rule: FlatRule) => JSON.stringify([rule.protocol, rule.fromPort, rule.toPort, rule.cidr]);

    it("on-demand groups converge: after the changes, every wanted rule is there and egress is exactly as wanted", () => {
      fc.assert(
        fc.property(
          fc.constantFrom("untrack" as const, "isolation" as const, "forensic" as const),
          fc.array(ruleArb, { maxLength: 6 }),
          fc.array(ruleArb, { maxLength: 6 }),
          (role, ingress, egress) => {
            const desired = desiredRules(role, ["192.0.2.0/24"]);
            const changes = ruleChanges({ ingress, egress }, desired);
            const revoked = new Set(changes.revokeEgress.map(key));
            const finalIngress = new Set([...ingress, ...changes.authorizeIngress].map(key));
            const finalEgress = new Set(
              [...egress.filter((rule) => !revoked.has(key(rule))), ...changes.authorizeEgress].map(key),
            );
            for (const rule of desired.ingress) expect(finalIngress.has(key(rule)), key(rule)).to.equal(true);
            expect([...finalEgress].sort()).to.deep.equal([...new Set(desired.egress.map(key))].sort());
            if (role === "isolation") expect(finalEgress.size, "isolation egress").to.equal(0);
          },
        ),
        RUNS,
      );
    });
  });

  describe("what acceptance lets through to AWS calls and the record", () => {
    const base = () =>
      structuredClone(loadEvent("guardduty-ec2-backdoor-two-enis")) as {
        detail: Record<string, unknown> & {
          resource: { instanceDetails: { networkInterfaces: Record<string, unknown>[] } };
        };
      };
    const lowThreshold = { ...settings, severityThreshold: 0 };
    const idLike = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc
        .tuple(
          fc.constantFrom("sg-", "vpc-", "subnet-", "eni-", "i-", ""),
          fc.string({ unit: fc.constantFrom(..."0123456789abcdefABX-"), maxLength: 20 }),
        )
        .map(([prefix, rest]) => prefix + rest),
      fc.constantFrom("Infinity", "NaN", "", "sg-0a1a2a3a4a5a6a7a8sg-0a1a2a3a4a5a6a7a8"),
    );
    const ec2Id = (prefix: string) => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);

    it("any group, VPC, subnet or ENI id that is accepted is the prefix and 8 or 17 lowercase hex digits", () => {
      fc.assert(
        fc.property(
          fc.constantFrom("groupId", "vpcId", "subnetId", "networkInterfaceId"),
          idLike,
          (field, value) => {
            const event = base();
            const eni = event.detail.resource.instanceDetails.networkInterfaces[0]!;
            if (field === "groupId") eni.securityGroups = [{ groupId: value }];
            else eni[field] = value;
            const result = acceptFindingEvent(event, settings);
            if (!result.accepted) return;
            const accepted = result.finding.networkInterfaces[0]!;
            const prefix = { groupId: "sg", vpcId: "vpc", subnetId: "subnet", networkInterfaceId: "eni" }[
              field
            ];
            const seen = field === "groupId" ? accepted.securityGroupIds : [accepted[field]];
            for (const id of seen) expect(id, `${field} ${JSON.stringify(value)}`).to.match(ec2Id(prefix));
          },
        ),
        RUNS,
      );
    });

    it("any severity that is accepted is finite, in GuardDuty's range 0-10, and a number DynamoDB stores", () => {
      const severityArb = fc.oneof(
        fc.double(),
        fc.double({ min: 0, max: 10 }),
        fc.integer({ min: -20, max: 20 }),
        fc.constantFrom(
          1e308,
          1e-200,
          Number("123456789012345678901234567890"),
          Infinity,
          -Infinity,
          NaN,
          -0,
          1e-7,
        ),
      );
      fc.assert(
        fc.property(severityArb, (severity) => {
          const event = base();
          event.detail.severity = severity;
          const result = acceptFindingEvent(event, lowThreshold);
          if (!result.accepted) return;
          const stored = result.finding.severity;
          expect(Number.isFinite(stored)).to.equal(true);
          expect(stored).to.be.within(0, 10);
          // DynamoDB: at most 38 significant digits, magnitude 1e-130 to 9.99e125 (or 0), no exponent needed.
          const text = String(stored);
          expect(text, "a plain decimal").to.match(/^\d+(\.\d+)?$/);
          expect(text.replace(/^0\.?0*|\./g, "").length).to.be.at.most(38);
        }),
        RUNS,
      );
    });

    it("a severity GuardDuty writes (one decimal, 0.0-10.0) is always accepted", () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 100 }), (tenths) => {
          const event = base();
          event.detail.severity = tenths / 10;
          expect(acceptFindingEvent(event, lowThreshold).accepted, String(tenths / 10)).to.equal(true);
        }),
        RUNS,
      );
    });

    it("capText: well-formed, at most `max` code points before the cut mark, never half a surrogate pair, a prefix of the text", () => {
      const textArb = fc.oneof(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.string({
          unit: fc.oneof(
            fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
            fc.constantFrom("😀", "a"),
          ),
          maxLength: 300,
        }),
      );
      fc.assert(
        fc.property(textArb, fc.integer({ min: 0, max: 300 }), (text, max) => {
          const capped = capText(text, max);
          expect(isWellFormed(capped)).to.equal(true);
          const cut = / … \(\d+ more characters\)$|… \(\d+ more characters\)$/.exec(capped);
          const head = cut === null ? capped : capped.slice(0, cut.index);
          expect([...head].length).to.be.at.most(max);
          if (cut === null) expect([...head].length).to.equal([...text].length);
          // The head is the text's beginning, lone surrogates shown as U+FFFD.
          const original = [...text].slice(0, [...head].length);
          expect([...head]).to.deep.equal(original.map((char) => (isWellFormed(char) ? char : "\ufffd")));
        }),
        RUNS,
      );
    });
  });

  describe("identity and idempotency", () => {
    it("an incident id always leads back to its instance (a Task finds the record from it)", () => {
      fc.assert(
        fc.property(
          instanceIdArb,
          fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }),
          (instanceId, at) => {
            expect(instanceIdOfIncident(newIncidentId(instanceId, at))).to.equal(instanceId);
          },
        ),
        RUNS,
      );
    });

    it("client tokens: deterministic, within EC2's 64 ASCII characters, different for different purposes", () => {
      fc.assert(
        fc.property(
          fc.string({ maxLength: 200 }),
          fc.string({ maxLength: 80 }),
          fc.string({ maxLength: 80 }),
          (incident, a, b) => {
            const token = clientToken(incident, a);
            expect(token).to.equal(clientToken(incident, a));
            expect(token.length).to.be.at.most(64);
            expect(token).to.match(/^[\x21-\x7e]+$/);
            if (a !== b) expect(clientToken(incident, b)).to.not.equal(token);
          },
        ),
        RUNS,
      );
    });

    it("evidence goes to the workstation as copies exactly when configured or when the instance did not stop", () => {
      fc.assert(
        fc.property(
          fc.boolean(),
          fc.option(fc.constantFrom("stopped", "running", "stopping", "terminated"), { nil: undefined }),
          (copies, finalState) => {
            const source = evidenceSource(
              { stop: finalState === undefined ? undefined : { finalState } },
              { attachSnapshotCopies: copies },
            );
            expect(source).to.equal(copies || finalState !== "stopped" ? "copy" : "original");
          },
        ),
        RUNS,
      );
    });
  });

  describe("the event pattern (simulator/eventPattern.ts evaluating the pattern infra/eventPattern.ts builds)", () => {
    const base = loadEvent("guardduty-ec2-cryptomining");
    const withSeverity = (severity: unknown, source = "aws.guardduty") => ({
      ...base,
      source,
      detail: { ...(base.detail as Record<string, unknown>), severity },
    });
    const thresholdArb = fc.oneof(
      fc.integer({ min: 1, max: 10 }),
      fc.double({ min: 1, max: 10, noNaN: true }),
    );
    const severityArb = fc.double({ min: 0, max: 10, noNaN: true });

    it("a JSON-number severity matches exactly when it is at or above the threshold", () => {
      fc.assert(
        fc.property(thresholdArb, severityArb, fc.boolean(), (threshold, severity, drills) => {
          const pattern = findingEventPattern(threshold, drills) as unknown as Record<string, unknown>;
          expect(matchesEventPattern(pattern, withSeverity(severity))).to.equal(severity >= threshold);
        }),
        RUNS,
      );
    });

    it("a string severity never matches, whatever it says", () => {
      fc.assert(
        fc.property(
          thresholdArb,
          fc.oneof(severityArb.map(String), fc.string(), fc.constantFrom("10", "8.9", "1e3", "Infinity")),
          (threshold, severity) => {
            const pattern = findingEventPattern(threshold, true) as unknown as Record<string, unknown>;
            expect(matchesEventPattern(pattern, withSeverity(severity))).to.equal(false);
          },
        ),
        RUNS,
      );
    });

    it("drill events pass only when the stack accepts them; other sources never", () => {
      fc.assert(
        fc.property(fc.boolean(), fc.oneof(fc.constant("ir.drill"), fc.string()), (drills, source) => {
          const pattern = findingEventPattern(7, drills) as unknown as Record<string, unknown>;
          const expected = source === "aws.guardduty" || (source === "ir.drill" && drills);
          expect(matchesEventPattern(pattern, withSeverity(8, source))).to.equal(expected);
        }),
        RUNS,
      );
    });

    it("the rule and the handler agree on severity: what the rule delivers the handler does not refuse as too low", () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 10 }), severityArb, (threshold, severity) => {
          const pattern = findingEventPattern(threshold, true) as unknown as Record<string, unknown>;
          const delivered = matchesEventPattern(pattern, withSeverity(severity));
          const verdict = acceptFindingEvent(withSeverity(severity), {
            ...settings,
            severityThreshold: threshold,
          });
          if (!isStorableSeverity(severity)) {
            // Not a severity GuardDuty writes (5e-324, 7.000000000000000001e-20...): refused whatever the rule.
            expect(verdict).to.deep.include({ accepted: false, reason: "malformed-finding" });
            return;
          }
          const tooLow = !verdict.accepted && verdict.reason === "below-severity-threshold";
          expect(delivered, JSON.stringify(verdict)).to.equal(!tooLow);
        }),
        RUNS,
      );
    });

    it("a stack's threshold by name (low/medium/high/critical) builds a rule with GuardDuty's numeric bounds", () => {
      const bounds: Record<string, number> = { low: 1, medium: 4, high: 7, critical: 9 };
      fc.assert(
        fc.property(fc.constantFrom(...Object.keys(bounds)), severityArb, (name, severity) => {
          const config = parseStackConfig(stackConfig({ severityThreshold: name }));
          const pattern = findingEventPattern(config.severityThreshold, true) as unknown as Record<
            string,
            unknown
          >;
          expect(matchesEventPattern(pattern, withSeverity(severity))).to.equal(severity >= bounds[name]!);
        }),
        RUNS,
      );
    });
  });

  describe("forensic source CIDRs (stack config and handler settings)", () => {
    it("the stack accepts every IPv4 and IPv6 CIDR narrower than /0", () => {
      fc.assert(
        fc.property(fc.oneof(ipv4CidrArb, ipv6CidrArb), (cidr) => {
          expect(stackAcceptsSourceCidr(cidr), cidr).to.equal(true);
        }),
        RUNS,
      );
    });

    it("the stack refuses any /0 (the whole Internet) and any IPv4 with an octet over 255 or a prefix over 32", () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.ipV4().map((ip) => `${ip}/0`),
            fc.ipV6().map((ip) => `${ip}/0`),
            fc
              .tuple(
                fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 4, maxLength: 4 }),
                fc.integer({ min: 0, max: 99 }),
              )
              .filter(([octets, prefix]) => octets.some((octet) => octet > 255) || prefix > 32)
              .map(([octets, prefix]) => `${octets.join(".")}/${prefix}`),
          ),
          (cidr) => {
            expect(stackAcceptsSourceCidr(cidr), cidr).to.equal(false);
          },
        ),
        RUNS,
      );
    });

    it("the handler accepts exactly the IPv4 and IPv6 CIDRs the stack accepts (one parser: handler/cidr.ts)", () => {
      fc.assert(
        fc.property(fc.oneof(ipv4CidrArb, ipv6CidrArb), (cidr) => {
          expect(handlerAcceptsSourceCidr(cidr), cidr).to.equal(stackAcceptsSourceCidr(cidr));
        }),
        RUNS,
      );
    });

    it("the stack accepts an IPv6-looking CIDR only when its address is an IPv6 address", () => {
      const colons = fc
        .tuple(
          fc.string({ unit: fc.constantFrom(..."0123456789abcdef:"), minLength: 1, maxLength: 45 }),
          fc.integer({ min: 1, max: 128 }),
        )
        .map(([address, prefix]) => `${address}/${prefix}`);
      fc.assert(
        fc.property(colons, (cidr) => {
          expect(stackAcceptsSourceCidr(cidr), cidr).to.equal(isIP(cidr.split("/")[0]!) === 6);
        }),
        RUNS,
      );
    });

    it("the handler refuses what is no address (999.999.999.999/99, :::/64, a prefix over 128) and any /0, as the stack does", () => {
      const notAddresses = fc.oneof(
        fc.constantFrom(
          "999.999.999.999/99",
          ":::/64",
          "2001:db8::/129",
          "office",
          "10.0.0.0",
          "10.0.0.0/33",
        ),
        fc.ipV4().map((ip) => `${ip}/0`),
        fc.ipV6().map((ip) => `${ip}/0`),
        fc
          .tuple(
            fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 4, maxLength: 4 }),
            fc.integer({ min: 0, max: 99 }),
          )
          .filter(([octets, prefix]) => octets.some((octet) => octet > 255) || prefix > 32)
          .map(([octets, prefix]) => `${octets.join(".")}/${prefix}`),
      );
      fc.assert(
        fc.property(notAddresses, (cidr) => {
          expect(handlerAcceptsSourceCidr(cidr), cidr).to.equal(false);
          expect(stackAcceptsSourceCidr(cidr), cidr).to.equal(false);
        }),
        RUNS,
      );
    });
  });

  describe("what the responder sends AWS about the instance", () => {
    /** A completed record about an instance with this Name tag and finding type. */
    function recordWith(name: string, type: string, tags: Record<string, string> = {}): IncidentRecord {
      const instanceId = "i-0123456789abcdef0";
      const createdAt = "2026-11-20T08:14:03.000Z";
      const instance = {
        instanceType: "m6i.large",
        state: "running",
        availabilityZone: "eu-central-1a",
        subnetId: "subnet-0aa11bb22cc33dd44",
        vpcId: "vpc-0123456789abcdef0",
        imageId: "ami-0a1b2c3d4e5f60718",
        rootDeviceType: "ebs",
        hibernationConfigured: false,
        launchTemplate: { id: "lt-0123456789abcdef0", version: "1" },
        tags: { ...tags, Name: name },
        networkInterfaces: [
          {
            networkInterfaceId: "eni-0123456789abcdef0",
            vpcId: "vpc-0123456789abcdef0",
            originalGroupIds: ["sg-0123456789abcdef0"],
          },
        ],
        volumes: [],
      };
      return {
        pk: `111122223333#eu-central-1#${instanceId}`,
        incidentId: newIncidentId(instanceId, new Date(createdAt)),
        instanceId,
        createdAt,
        dryRun: false,
        finding: {
          eventId: "e",
          source: "aws.guardduty",
          findingId: "f",
          type,
          severity: 8,
          title: type,
          accountId: "111122223333",
          region: "eu-central-1",
          updatedAt: createdAt,
          instanceId,
          networkInterfaces: [],
          tags: {},
        },
        rawFinding: "{}",
        rawInstance: "{}",
        findings: {},
        status: "completed",
        claimedBy: "request-1",
        claimExpiresAt: 0,
        steps: {},
        facts: { instance },
      };
    }
    const snsSubjectValid = (subject: string) =>
      subject.length > 0 && subject.length <= 100 && /^[\x20-\x7e]+$/.test(subject);
    const printableAscii = fc.string({ unit: "grapheme-ascii", maxLength: 120 });

    it("the notification subject is valid for SNS (1-100 printable characters) for any printable-ASCII Name and type", () => {
      fc.assert(
        fc.property(printableAscii, printableAscii, (name, type) => {
          expect(snsSubjectValid(notificationOf(recordWith(name, type), "bucket").subject)).to.equal(true);
        }),
        RUNS,
      );
    });

    it("the notification subject is valid for SNS whatever the Name tag and type hold (any UTF-8, line breaks, controls)", () => {
      // EC2 tag values are UTF-8; SNS refuses subjects with line breaks or control characters (and, in the
      // simulator and SNS's older documentation, non-ASCII). One function (handler/notification.ts) makes it valid.
      const anyText = fc.string({ unit: "binary", maxLength: 200 });
      fc.assert(
        fc.property(anyText, anyText, (name, type) => {
          const subject = notificationOf(recordWith(name, type), "bucket").subject;
          expect(snsSubjectValid(subject), JSON.stringify(subject)).to.equal(true);
        }),
        RUNS,
      );
    });

    it("the subject keeps the printable part of a Name (a line break becomes a space); the message keeps it whole", () => {
      const name = "web-1\nowner: payments";
      const { subject, message } = notificationOf(recordWith(name, "Backdoor:EC2/C&CActivity.B"), "b");
      expect(subject).to.include("web-1 owner: payments");
      expect(message).to.include(name);
    });

    it("a replacement never asks for more than EC2's 50 user tags, keeps Name, and keeps as many of the instance's tags as fit", () => {
      const userTags = (count: number) =>
        Object.fromEntries(Array.from({ length: count }, (_, index) => [`team:k${index}`, "v"]));
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 60 }), (count) => {
          const request = replacementRequest(
            recordWith("web", "t", userTags(count)).facts.instance!,
            "inc-1",
            undefined,
          );
          const tags = (request.TagSpecifications ?? []).flatMap((spec) => spec.Tags ?? []);
          const user = tags.filter((tag) => !tag.Key?.startsWith("aws:"));
          expect(user.length, `${count} tags`).to.be.at.most(50);
          expect(tags.map((tag) => tag.Key)).to.include.members(["Name", "ir:responder-made", "ir:incident"]);
          // The instance's own tags (Name + count) are kept up to the room left beside the responder's three.
          expect(user.length).to.equal(Math.min(50, count + 1 + 3));
        }),
        RUNS,
      );
    });
  });
});
