// Reading the as-found milestone and the burst's demands out of a call log (bench/callLog.ts,
// bench/burstAsFoundFigures.ts): pure functions on hand-made call records.
import { expect } from "chai";

import { asFoundRequestTimes, forWholeBurst, milestoneDemands } from "../../bench/burstAsFoundFigures";
import { asFoundSecuredMs, otherSnapshotRequest, tagsAtCreation } from "../../bench/callLog";
import type { CallRecord } from "../../simulator";

let seq = 0;

function call(
  action: string,
  params: Record<string, unknown>,
  simStart: number,
  simEnd: number,
  extra: Partial<CallRecord> = {},
): CallRecord {
  seq += 1;
  return { seq, service: "ec2", action, params, simStart, simEnd, status: 200, ...extra };
}

const evidenceSet = (value: string) => [
  {
    ResourceType: "snapshot",
    Tags: [
      { Key: "ir:incident", Value: "inc-1" },
      { Key: "ir:evidence-set", Value: value },
    ],
  },
];

const snapshots = (
  instanceId: string,
  set: string | undefined,
  at: number,
  extra: Partial<CallRecord> = {},
) =>
  call(
    "CreateSnapshots",
    {
      InstanceSpecification: { InstanceId: instanceId },
      ...(set === undefined ? {} : { TagSpecifications: evidenceSet(set) }),
    },
    at - 50,
    at,
    extra,
  );

const lock = (snapshotId: string, at: number, extra: Partial<CallRecord> = {}) =>
  call("LockSnapshot", { SnapshotId: snapshotId, LockMode: "governance" }, at - 50, at, extra);

describe("bench: the as-found milestone from the call log", () => {
  const start = 1_000;

  it("finds a tag given at creation, and only with its value", () => {
    const asFound = snapshots("i-1", "as-found", 2_000);
    expect(tagsAtCreation(asFound, "ir:evidence-set", "as-found")).to.equal(true);
    expect(tagsAtCreation(asFound, "ir:evidence-set", "after-stop")).to.equal(false);
    expect(tagsAtCreation(snapshots("i-1", undefined, 2_000), "ir:evidence-set", "as-found")).to.equal(false);
    expect(
      tagsAtCreation(
        call("CreateSnapshots", { TagSpecifications: "junk" }, 0, 1),
        "ir:evidence-set",
        "as-found",
      ),
    ).to.equal(false);
  });

  it("is the as-found request answered, then the last lock of its snapshots", () => {
    const calls = [
      snapshots("i-1", "as-found", 1_400),
      lock("snap-a", 1_500),
      lock("snap-b", 1_700),
      snapshots("i-1", "after-stop", 9_000),
      lock("snap-c", 9_100),
    ];
    expect(asFoundSecuredMs(calls, start, "i-1", ["snap-a", "snap-b"])).to.equal(700);
    // Without locking, the request alone.
    expect(asFoundSecuredMs(calls, start, "i-1", undefined)).to.equal(400);
  });

  it("is not reached while a lock is missing or failed, nor by another instance's or the later set", () => {
    const calls = [
      snapshots("i-2", "as-found", 1_200),
      snapshots("i-1", "after-stop", 1_300),
      snapshots("i-1", "as-found", 1_400),
      lock("snap-a", 1_500),
      lock("snap-b", 1_600, { status: 400, errorCode: "IncorrectState" }),
    ];
    expect(asFoundSecuredMs(calls, start, "i-1", ["snap-a", "snap-b"])).to.equal(undefined);
    expect(asFoundSecuredMs(calls, start, "i-1", [])).to.equal(undefined);
    expect(asFoundSecuredMs(calls, start, "i-3", undefined)).to.equal(undefined);
    // A throttled request is not the set.
    const throttled = [
      snapshots("i-1", "as-found", 1_100, { status: 503, errorCode: "RequestLimitExceeded" }),
    ];
    expect(asFoundSecuredMs(throttled, start, "i-1", undefined)).to.equal(undefined);
  });

  it("the evidence after the stop is every other CreateSnapshots of the instance (the old engine's untagged too)", () => {
    const after = otherSnapshotRequest("i-1");
    expect(after(snapshots("i-1", "after-stop", 2_000))).to.equal(true);
    expect(after(snapshots("i-1", undefined, 2_000))).to.equal(true);
    expect(after(snapshots("i-1", "as-found", 2_000))).to.equal(false);
    expect(after(snapshots("i-2", "after-stop", 2_000))).to.equal(false);
  });
});

describe("bench: the organisation-wide burst's call counts", () => {
  const start = 0;
  const instances = [
    { instanceId: "i-00000001", networkInterfaceIds: ["eni-1"], volumeIds: ["vol-1a", "vol-1b"] },
    { instanceId: "i-00000002", networkInterfaceIds: ["eni-2"], volumeIds: ["vol-2a"] },
  ];
  const move = (eni: string, group: string, at: number, extra: Partial<CallRecord> = {}) =>
    call("ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: eni, Groups: [group] }, at - 50, at, extra);
  const calls = [
    move("eni-1", "sg-untrack", 100),
    move("eni-2", "sg-untrack", 100),
    move("eni-1", "sg-isolation", 200),
    move("eni-2", "sg-isolation", 300, { status: 503, errorCode: "RequestLimitExceeded" }),
    call("ModifyInstanceAttribute", { InstanceId: "i-00000002", Groups: ["sg-isolation"] }, 350, 400),
    call("StartExecution", { name: "inc-20261207-i-00000001" }, 400, 450, { service: "states" }),
    call("StartExecution", { name: "inc-20261207-i-00000002" }, 400, 450, { service: "states" }),
    call("DescribeSnapshots", { Filters: [{ Name: "volume-id", Values: ["vol-1a", "vol-1b"] }] }, 500, 550),
    snapshots("i-00000001", "as-found", 600),
    snapshots("i-00000002", "as-found", 2_000),
    snapshots("i-00000001", "after-stop", 5_000),
    // Beside the response, not on its path: another instance, and a call that comes after.
    move("eni-9", "sg-untrack", 150),
    call(
      "ModifyInstanceAttribute",
      { InstanceId: "i-00000001", DisableApiTermination: { Value: true } },
      300,
      350,
    ),
  ];
  const options = {
    untrackGroup: "sg-untrack",
    startExecution: { capacity: 800, refillPerSecond: 150 },
  };

  it("the as-found requests: the first answered per instance, the later set apart", () => {
    const times = asFoundRequestTimes(calls, start, instances);
    expect([...times.entries()]).to.deep.equal([
      ["i-00000001", 600],
      ["i-00000002", 2_000],
    ]);
  });

  it("isolation: the successful group moves until each instance's own isolation, the untrack ones apart", () => {
    const isolated = new Map([
      ["i-00000001", 200],
      ["i-00000002", 400],
    ]);
    const demands = milestoneDemands(calls, start, instances, isolated, { ...options, asFound: false });
    expect(demands.map((demand) => [demand.label.split(":")[0], demand.calls])).to.deep.equal([
      ["ModifyNetworkInterfaceAttribute", 2],
      ["group moves", 4],
    ]);
  });

  it("as found: also StartExecution, the step's reads and the as-found CreateSnapshots, each in its bucket", () => {
    const asFound = asFoundRequestTimes(calls, start, instances);
    const demands = milestoneDemands(calls, start, instances, asFound, { ...options, asFound: true });
    const byLabel = Object.fromEntries(demands.map((demand) => [demand.label, demand]));
    expect(Object.keys(byLabel)).to.have.members([
      "ModifyNetworkInterfaceAttribute: untrack moves",
      "group moves: ModifyNetworkInterfaceAttribute or ModifyInstanceAttribute",
      "StartExecution",
      "DescribeSnapshots",
      "CreateSnapshots",
    ]);
    expect(byLabel.CreateSnapshots!.calls).to.equal(2);
    expect(byLabel.CreateSnapshots!.buckets).to.deep.equal([{ capacity: 100, refillPerSecond: 5 }]);
    expect(byLabel.DescribeSnapshots!.calls).to.equal(1);
    // Filtered: the non-mutating bucket.
    expect(byLabel.DescribeSnapshots!.buckets).to.deep.equal([{ capacity: 100, refillPerSecond: 20 }]);
    expect(byLabel.StartExecution!.calls).to.equal(2);
  });

  it("an instance without its milestone counts nothing", () => {
    const demands = milestoneDemands(calls, start, instances, new Map([["i-00000002", 400]]), {
      ...options,
      asFound: false,
    });
    expect(demands.map((demand) => demand.calls)).to.deep.equal([1, 2]);
  });

  it("the whole burst's demand: the calls per instance of those that got there, times the burst, rounded up", () => {
    const demands = [
      { label: "CreateSnapshots", buckets: [{ capacity: 100, refillPerSecond: 5 }], calls: 453 },
    ];
    expect(forWholeBurst(demands, 453, 500)[0]!.calls).to.equal(500);
    expect(forWholeBurst(demands, 300, 500)[0]!.calls).to.equal(755);
    expect(forWholeBurst(demands, 0, 500)[0]!.calls).to.equal(0);
  });
});
