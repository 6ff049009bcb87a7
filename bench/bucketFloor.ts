// The least time documented token buckets allow for a burst's calls (pure): the floor a burst's figures are held
// against. A bucket starts full (capacity tokens) and refills at refillPerSecond; each successful call takes one
// token (a throttled call takes none). So C calls that may only draw from buckets b1..bk need at least
//
//     floor = max(0, C - (capacity(b1) + ... + capacity(bk))) / (refill(b1) + ... + refill(bk))   seconds,
//
// and a milestone that needs several such demands needs at least the largest of their floors. It is a lower bound:
// it ignores the calls' latency, the order calls must come in, and other calls that draw from the same buckets.
import type { BucketLimits } from "../simulator/options";

export interface BucketDemand {
  /** What the calls are, for a person (e.g. "CreateSnapshots (as-found sets)"). */
  readonly label: string;
  /** The buckets any of the calls may draw from (two when the responder can fall back to another action). */
  readonly buckets: readonly BucketLimits[];
  /** Successful calls the milestone needs. */
  readonly calls: number;
}

export interface DemandFloor extends BucketDemand {
  readonly floorMs: number;
}

/** One demand's floor, in ms (the formula above). */
export function demandFloorMs(demand: BucketDemand): number {
  if (!Number.isInteger(demand.calls) || demand.calls < 0)
    throw new Error(`${demand.label}: calls must be a whole number of at least 0, got ${demand.calls}`);
  if (demand.buckets.length === 0) throw new Error(`${demand.label}: no bucket to draw from`);
  const capacity = demand.buckets.reduce((sum, bucket) => sum + bucket.capacity, 0);
  const refill = demand.buckets.reduce((sum, bucket) => sum + bucket.refillPerSecond, 0);
  if (!(refill > 0)) throw new Error(`${demand.label}: the buckets never refill`);
  return (Math.max(0, demand.calls - capacity) / refill) * 1000;
}

/** Every demand's floor and the milestone's: the largest of them (0 without demands). */
export function bucketFloor(demands: readonly BucketDemand[]): {
  readonly floorMs: number;
  readonly demands: readonly DemandFloor[];
} {
  const floors = demands.map((demand) => ({ ...demand, floorMs: demandFloorMs(demand) }));
  return { floorMs: Math.max(0, ...floors.map((demand) => demand.floorMs)), demands: floors };
}
