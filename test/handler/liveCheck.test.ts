// The live re-check of acceptance (handler/acceptance/liveCheck.ts): the finding against the instance as it is now.
import { expect } from "chai";

import type { Instance } from "@aws-sdk/client-ec2";

import { acceptFindingEvent } from "../../handler/acceptance/acceptance";
import type { InstanceFinding } from "../../handler/acceptance/finding";
import {
  acceptLiveInstance,
  checkLiveInstance,
  liveCheckComesFirst,
} from "../../handler/acceptance/liveCheck";
import { parseSettings, type Settings } from "../../handler/settings";
import { TEST_ENV } from "../../testkit/testSettings";
import { loadEvent } from "../support/fixtures";

const settings: Settings = parseSettings(TEST_ENV);

/** GuardDuty's cryptomining fixture as acceptance copies it. */
function guardDutyFinding(): InstanceFinding {
  const accepted = acceptFindingEvent(loadEvent("guardduty-ec2-cryptomining"), settings);
  return (accepted as { finding: InstanceFinding }).finding;
}

/** The same finding sent by the drill source, its event tagging the instance ir:drill=true. */
function drillFinding(): InstanceFinding {
  const finding = guardDutyFinding();
  return { ...finding, source: "ir.drill", tags: { ...finding.tags, "ir:drill": "true" } };
}

describe("handler: the live re-check of acceptance", () => {
  describe("the live re-check", () => {
    const finding = guardDutyFinding();
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

  describe("the live re-check of a drill", () => {
    it("accepts an instance that carries ir:drill=true", () => {
      const live = { state: "running", tags: { "ir:drill": "true" } };
      expect(acceptLiveInstance(drillFinding(), live, "ir:exclude").accepted).to.equal(true);
    });

    it("rejects an instance whose ir:drill=true is only in the event: not-a-drill-target", () => {
      const finding = drillFinding();
      expect(finding.tags["ir:drill"]).to.equal("true");
      expect(acceptLiveInstance(finding, { state: "running", tags: {} }, "ir:exclude")).to.deep.include({
        accepted: false,
        reason: "not-a-drill-target",
      });
    });

    it("rejects an instance whose ir:drill is not exactly true", () => {
      const live = { state: "running", tags: { "ir:drill": "yes" } };
      expect(acceptLiveInstance(drillFinding(), live, "ir:exclude")).to.deep.include({
        reason: "not-a-drill-target",
      });
    });

    it("leaves GuardDuty's own findings alone: they need no drill tag", () => {
      const live = { state: "running", tags: {} };
      expect(acceptLiveInstance(guardDutyFinding(), live, "ir:exclude").accepted).to.equal(true);
    });
  });

  describe("the described instance", () => {
    const described = (finding: InstanceFinding, extraEni?: string): Instance => ({
      InstanceId: finding.instanceId,
      State: { Name: "running" },
      Tags: [{ Key: "ir:drill", Value: "true" }],
      NetworkInterfaces: [
        ...finding.networkInterfaces.map((eni) => ({ NetworkInterfaceId: eni.networkInterfaceId })),
        ...(extraEni === undefined ? [] : [{ NetworkInterfaceId: extraEni }]),
      ],
    });

    it("checks the live instance first for every event AWS did not send", () => {
      expect(liveCheckComesFirst(guardDutyFinding())).to.equal(false);
      expect(liveCheckComesFirst(drillFinding())).to.equal(true);
    });

    it("answers the described instance when it accepts", () => {
      const finding = drillFinding();
      const instance = described(finding, "eni-0123456789abcdef0");
      expect(checkLiveInstance(finding, instance, settings)).to.deep.equal({ accepted: true, instance });
    });

    it("refuses an instance EC2 no longer knows: instance-gone", () => {
      expect(checkLiveInstance(guardDutyFinding(), undefined, settings)).to.deep.include({
        accepted: false,
        reason: "instance-gone",
      });
    });

    it("refuses a drill naming an ENI the instance does not have: foreign-network-interface", () => {
      const finding = drillFinding();
      const foreign = { networkInterfaceId: "eni-0fedcba9876543210", securityGroupIds: [] };
      const forged = { ...finding, networkInterfaces: [...finding.networkInterfaces, foreign] };
      expect(checkLiveInstance(forged, described(finding), settings)).to.deep.include({
        accepted: false,
        reason: "foreign-network-interface",
      });
    });

    it("lets a GuardDuty finding name ENIs the description lacks (detached since): isolateNetwork moves them back", () => {
      const finding = guardDutyFinding();
      const instance = { ...described(finding), NetworkInterfaces: [] };
      expect(checkLiveInstance(finding, instance, settings).accepted).to.equal(true);
    });
  });
});
