// The pure decisions of isolateNetwork (handler/containment/), tested without AWS.
import { expect } from "chai";

import {
  interfacesNeedingIsolation,
  interfacesToIsolate,
  originalGroupsOf,
  usableFindingGroups,
  withOriginalGroups,
} from "../../handler/containment/interfaces";
import {
  isSoleInterface,
  throttledFirstMovePauseMs,
  throttledIsolationPauseMs,
} from "../../handler/containment/eniMoves";
import { configuredPair } from "../../handler/containment/isolation";
import { type InstanceFinding } from "../../handler/acceptance/finding";

describe("handler: isolateNetwork", () => {
  const pairs = { "vpc-1": { untrack: "sg-u", isolation: "sg-i", createdOnDemand: false } };
  it("a configured VPC has its pair; an unknown one gets none (made on demand)", () => {
    expect(
      configuredPair("vpc-1", { "vpc-1": { untrack: "sg-u", isolation: "sg-i", forensic: "sg-f" } }),
    ).to.deep.equal({ untrack: "sg-u", isolation: "sg-i", createdOnDemand: false });
    expect(configuredPair("vpc-2", { "vpc-1": { untrack: "sg-u", isolation: "sg-i" } })).to.equal(undefined);
    expect(configuredPair("vpc-1", { "vpc-1": { untrack: "sg-u" } })).to.equal(undefined);
  });
  it("fix-up: only ENIs that are not exactly in their isolation group", () => {
    const live = [
      { networkInterfaceId: "eni-done", vpcId: "vpc-1", groupIds: ["sg-i"] },
      { networkInterfaceId: "eni-untrack", vpcId: "vpc-1", groupIds: ["sg-u"] },
      { networkInterfaceId: "eni-new", vpcId: "vpc-1", groupIds: ["sg-app"] },
      { networkInterfaceId: "eni-both", vpcId: "vpc-1", groupIds: ["sg-i", "sg-app"] },
    ];
    expect(interfacesNeedingIsolation(live, pairs)).to.deep.equal(["eni-untrack", "eni-new", "eni-both"]);
  });
  it("original groups: the live ones, unless the responder already moved the ENI (then the finding's)", () => {
    const ours = new Set(["sg-u", "sg-i"]);
    expect(originalGroupsOf(["sg-app"], ["sg-old"], ours)).to.deep.equal(["sg-app"]);
    expect(originalGroupsOf(["sg-u"], ["sg-app"], ours)).to.deep.equal(["sg-app"]);
    expect(originalGroupsOf(["sg-i"], undefined, ours)).to.deep.equal([]);
  });
  it("original groups: each once, never ours, empty only when neither the live ENI nor the finding knows", () => {
    const ours = new Set(["sg-u", "sg-i", "sg-f"]);
    expect(originalGroupsOf(["sg-app", "sg-app", "sg-db"], undefined, ours)).to.deep.equal([
      "sg-app",
      "sg-db",
    ]);
    expect(originalGroupsOf(["sg-u"], ["sg-app", "sg-app"], ours)).to.deep.equal(["sg-app"]);
    // The finding names one of ours as the ENI's group: it does not know the ENI's own groups.
    expect(originalGroupsOf(["sg-i"], ["sg-u"], ours)).to.deep.equal([]);
    expect(originalGroupsOf(["sg-i"], ["sg-app", "sg-f"], ours)).to.deep.equal([]);
    expect(originalGroupsOf(["sg-i"], [], ours)).to.deep.equal([]);
    expect(originalGroupsOf([], ["sg-app"], ours)).to.deep.equal(["sg-app"]);
    const eni = { networkInterfaceId: "eni-1", vpcId: "vpc-1", originalGroupIds: ["sg-i"] };
    expect(withOriginalGroups(eni, ["sg-u"], ours).originalGroupsUnknown).to.be.a("string");
    expect(withOriginalGroups(eni, ["sg-app"], ours)).to.deep.equal({
      ...eni,
      originalGroupIds: ["sg-app"],
    });
  });
  it("first wave: only ENIs whose own groups the finding knows move before the describe", () => {
    const finding = {
      networkInterfaces: [
        { networkInterfaceId: "eni-known", vpcId: "vpc-1", securityGroupIds: ["sg-app", "sg-app"] },
        { networkInterfaceId: "eni-none", vpcId: "vpc-1", securityGroupIds: [] },
        { networkInterfaceId: "eni-ours", vpcId: "vpc-1", securityGroupIds: ["sg-u"] },
        { networkInterfaceId: "eni-novpc", securityGroupIds: ["sg-app"] },
      ],
    } as unknown as InstanceFinding;
    expect(interfacesToIsolate(finding, [], new Set(["sg-u", "sg-i"]))).to.deep.equal([
      { networkInterfaceId: "eni-known", vpcId: "vpc-1", originalGroupIds: ["sg-app"] },
    ]);
    expect(usableFindingGroups(["sg-a", "sg-b", "sg-a"], new Set())).to.deep.equal(["sg-a", "sg-b"]);
    expect(usableFindingGroups([], new Set())).to.equal(undefined);
    expect(usableFindingGroups(undefined, new Set())).to.equal(undefined);
  });
  it("throttled first move: three times the isolation move's pause (0.3-0.9 s), so isolation moves get the tokens first", () => {
    expect(throttledFirstMovePauseMs(0)).to.equal(300);
    expect(throttledFirstMovePauseMs(0.5)).to.equal(600);
    for (let index = 0; index < 100; index += 1) expect(throttledFirstMovePauseMs()).to.be.within(300, 897);
  });

  it("throttled isolation move: a pause of 100-300 ms, jittered", () => {
    expect(throttledIsolationPauseMs(0)).to.equal(100);
    expect(throttledIsolationPauseMs(0.5)).to.equal(200);
    expect(throttledIsolationPauseMs(0.9999)).to.be.within(298, 299);
    expect(throttledIsolationPauseMs(7)).to.be.at.most(299);
    for (let index = 0; index < 100; index += 1) expect(throttledIsolationPauseMs()).to.be.within(100, 299);
  });
  it("ModifyInstanceAttribute Groups stands in for an ENI move only on an instance described with that one ENI", () => {
    expect(isSoleInterface(["eni-1"], "eni-1")).to.equal(true);
    expect(isSoleInterface(undefined, "eni-1"), "not described yet").to.equal(false);
    expect(isSoleInterface(["eni-1", "eni-2"], "eni-1"), "several interfaces").to.equal(false);
    expect(isSoleInterface(["eni-2"], "eni-1"), "another instance's ENI").to.equal(false);
    expect(isSoleInterface([], "eni-1")).to.equal(false);
  });
});
