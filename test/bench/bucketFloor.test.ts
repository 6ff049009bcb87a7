// The floor a burst is held against (bench/bucketFloor.ts) and the isolation floor built on it
// (bench/burstFigures.ts bucketLowerBoundMs): pure arithmetic on EC2's documented buckets.
import { expect } from "chai";

import { bucketFloor, demandFloorMs } from "../../bench/bucketFloor";
import { bucketLowerBoundMs } from "../../bench/burstFigures";
import { EC2_CATEGORY_LIMITS, EC2_UNCATEGORIZED_LIMITS } from "../../simulator/throttling";

const eniMoves = EC2_UNCATEGORIZED_LIMITS.ModifyNetworkInterfaceAttribute!;
const instanceMoves = EC2_CATEGORY_LIMITS.mutating;
const createSnapshots = EC2_UNCATEGORIZED_LIMITS.CreateSnapshots!;

describe("bench: the bucket floor", () => {
  it("is 0 while the calls fit in the full bucket", () => {
    expect(demandFloorMs({ label: "x", buckets: [createSnapshots], calls: 0 })).to.equal(0);
    expect(demandFloorMs({ label: "x", buckets: [createSnapshots], calls: 100 })).to.equal(0);
  });

  it("is the calls beyond the capacity over the refill: 500 CreateSnapshots need 80 s", () => {
    // (500 - 100) / 5 per second
    expect(demandFloorMs({ label: "as-found", buckets: [createSnapshots], calls: 500 })).to.equal(80_000);
    expect(demandFloorMs({ label: "as-found", buckets: [createSnapshots], calls: 101 })).to.equal(200);
  });

  it("pools the buckets calls may draw from: capacities and refills add up", () => {
    // (1000 - 100 - 50) / (5 + 5)
    expect(demandFloorMs({ label: "moves", buckets: [eniMoves, instanceMoves], calls: 1000 })).to.equal(
      85_000,
    );
  });

  it("takes the largest demand's floor, and keeps every demand's", () => {
    const floor = bucketFloor([
      { label: "untrack moves", buckets: [eniMoves], calls: 500 },
      { label: "group moves", buckets: [eniMoves, instanceMoves], calls: 1000 },
      { label: "as-found", buckets: [createSnapshots], calls: 500 },
    ]);
    expect(floor.floorMs).to.equal(85_000);
    expect(floor.demands.map((demand) => demand.floorMs)).to.deep.equal([80_000, 85_000, 80_000]);
    expect(bucketFloor([]).floorMs).to.equal(0);
  });

  it("refuses calls that are not a whole number of at least 0, no bucket, or buckets that never refill", () => {
    expect(() => demandFloorMs({ label: "x", buckets: [createSnapshots], calls: -1 })).to.throw(
      /whole number/,
    );
    expect(() => demandFloorMs({ label: "x", buckets: [createSnapshots], calls: 1.5 })).to.throw(
      /whole number/,
    );
    expect(() => demandFloorMs({ label: "x", buckets: [], calls: 1 })).to.throw(/no bucket/);
    expect(() =>
      demandFloorMs({ label: "x", buckets: [{ capacity: 1, refillPerSecond: 0 }], calls: 2 }),
    ).to.throw(/never refill/);
  });

  it("the isolation floor: 5 s for 100 with the untrack hop, 85 s for 500, direct (500 - 100) / 5", () => {
    expect(bucketLowerBoundMs(100, true)).to.equal(5_000);
    expect(bucketLowerBoundMs(500, true)).to.equal(85_000);
    expect(bucketLowerBoundMs(100, false)).to.equal(0);
    expect(bucketLowerBoundMs(500, false)).to.equal(80_000);
  });
});
