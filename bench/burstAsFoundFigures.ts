// What the organisation-wide burst's call log says (pure): when each instance's as-found set was requested, and
// the calls each response made before its milestones, sorted into the documented buckets they draw from, for the
// floor those buckets allow (bench/bucketFloor.ts).
import type { CallRecord } from "../simulator";
import type { BucketLimits } from "../simulator/options";
import { EC2_CATEGORY_LIMITS, EC2_UNCATEGORIZED_LIMITS, categorize } from "../simulator/throttling";
import { instanceIdOfIncident } from "../handler/incidentRecord";
import type { BucketDemand } from "./bucketFloor";
import { TAG_EVIDENCE_SET } from "../handler/tags";
import { asFoundRequest, snapshottedInstance } from "./callLog";
import { ENI_MOVE_BUCKET, INSTANCE_MOVE_BUCKET } from "./model";

/** What the bench made for one instance of the burst: its ids. */
export interface BurstInstance {
  readonly instanceId: string;
  readonly networkInterfaceIds: readonly string[];
  readonly volumeIds: readonly string[];
}

/** EC2 reads the as-found step may make before its CreateSnapshots (the incident's snapshots, the volumes' tags). */
const AS_FOUND_STEP_READS = new Set(["DescribeSnapshots", "DescribeVolumes"]);

/** When each instance's as-found CreateSnapshots was first answered (simulated ms since `start`), by instance. */
export function asFoundRequestTimes(
  calls: readonly CallRecord[],
  start: number,
  instances: readonly BurstInstance[],
): Map<string, number> {
  const times = new Map<string, number>();
  const wanted = new Set(instances.map((instance) => instance.instanceId));
  for (const call of calls) {
    if (call.simStart < start || call.status !== 200 || call.action !== "CreateSnapshots") continue;
    const instanceId = snapshottedInstance(call);
    if (instanceId === undefined || !wanted.has(instanceId) || !asFoundRequest(instanceId)(call)) continue;
    const at = call.simEnd - start;
    times.set(instanceId, Math.min(times.get(instanceId) ?? at, at));
  }
  return times;
}

/** The as-found step's first look for its set (DescribeSnapshots filtered by tag:ir:evidence-set = as-found). */
function asFoundLook(call: CallRecord): boolean {
  if (call.action !== "DescribeSnapshots" || !Array.isArray(call.params.Filters)) return false;
  return (call.params.Filters as { Name?: unknown; Values?: unknown }[]).some(
    (filter) =>
      filter.Name === `tag:${TAG_EVIDENCE_SET}` &&
      Array.isArray(filter.Values) &&
      filter.Values.includes("as-found"),
  );
}

/**
 * When each instance's as-found step sent its first call (simulated ms since `start`, the request's arrival): the
 * time before it is the execution's start and the Task's dispatch; after it, the step's own calls.
 */
export function asFoundStepStarts(
  calls: readonly CallRecord[],
  start: number,
  instances: readonly BurstInstance[],
): Map<string, number> {
  const ownerOf = ownerFinder(instances);
  const starts = new Map<string, number>();
  for (const call of calls) {
    if (call.simStart < start || !asFoundLook(call)) continue;
    const owner = ownerOf(call);
    if (owner === undefined) continue;
    const at = call.simStart - start;
    starts.set(owner, Math.min(starts.get(owner) ?? at, at));
  }
  return starts;
}

/** The documented bucket an EC2 call draws from, named as the simulator names it (simulator/throttling.ts). */
function ec2Bucket(call: CallRecord): { key: string; limits: BucketLimits } {
  const params = call.params;
  const filtered =
    params.Filters !== undefined || params.MaxResults !== undefined || params.NextToken !== undefined;
  const category = categorize(call.action, filtered);
  if (category === "uncategorized")
    return { key: call.action, limits: EC2_UNCATEGORIZED_LIMITS[call.action]! };
  const key = category === "unfiltered-non-mutating" ? `${call.action}, unfiltered` : call.action;
  return { key, limits: EC2_CATEGORY_LIMITS[category] };
}

/** The burst instance a call acts on: named directly, by one of its ENIs, or by one of its volumes. */
function ownerFinder(instances: readonly BurstInstance[]) {
  const owners = new Map<string, string>();
  for (const instance of instances) {
    owners.set(instance.instanceId, instance.instanceId);
    for (const id of [...instance.networkInterfaceIds, ...instance.volumeIds])
      owners.set(id, instance.instanceId);
  }
  return (call: CallRecord): string | undefined => {
    const params = call.params;
    if (call.action === "StartExecution" && typeof params.name === "string")
      return owners.get(instanceIdOfIncident(params.name) ?? "");
    const direct = [params.InstanceId, params.NetworkInterfaceId, snapshottedInstance(call)].find(
      (value): value is string => typeof value === "string",
    );
    if (direct !== undefined) return owners.get(direct);
    const named = JSON.stringify(params).match(/\b(?:i|eni|vol)-[0-9a-f]+\b/g) ?? [];
    return named.map((id) => owners.get(id)).find((owner) => owner !== undefined);
  };
}

/** A group change: an ENI's groups (ModifyNetworkInterfaceAttribute) or the primary ENI's (ModifyInstanceAttribute). */
function isGroupMove(call: CallRecord): boolean {
  return (
    (call.action === "ModifyNetworkInterfaceAttribute" || call.action === "ModifyInstanceAttribute") &&
    Array.isArray(call.params.Groups)
  );
}

/**
 * The calls a milestone needs, counted from what the responses actually sent: every successful call of a burst
 * instance answered by the instance's own milestone (`deadlines`, simulated ms since `start`; an instance without
 * one counts nothing). Isolation: the untrack moves (ModifyNetworkInterfaceAttribute only) and all group moves
 * (either action: the handler moves a single-ENI instance with ModifyInstanceAttribute when the ENI move is
 * throttled). With `asFound`, also what comes before the as-found set: StartExecution (the step runs in the
 * execution), the step's reads, and the as-found CreateSnapshots, each against its own bucket.
 */
export function milestoneDemands(
  calls: readonly CallRecord[],
  start: number,
  instances: readonly BurstInstance[],
  deadlines: ReadonlyMap<string, number>,
  options: {
    readonly untrackGroup: string;
    readonly asFound: boolean;
    readonly startExecution: BucketLimits;
  },
): BucketDemand[] {
  const ownerOf = ownerFinder(instances);
  let untrackMoves = 0;
  let groupMoves = 0;
  let startExecutions = 0;
  const byBucket = new Map<string, { limits: BucketLimits; calls: number }>();
  for (const call of calls) {
    if (call.simStart < start || call.status !== 200) continue;
    const owner = ownerOf(call);
    const deadline = owner === undefined ? undefined : deadlines.get(owner);
    if (deadline === undefined || call.simEnd - start > deadline) continue;
    if (call.service === "ec2" && isGroupMove(call)) {
      groupMoves += 1;
      const groups = call.params.Groups as unknown[];
      if (groups.length === 1 && groups[0] === options.untrackGroup) untrackMoves += 1;
      continue;
    }
    if (!options.asFound) continue;
    if (call.service === "states" && call.action === "StartExecution") startExecutions += 1;
    const stepCall =
      call.service === "ec2" && (AS_FOUND_STEP_READS.has(call.action) || asFoundRequest(owner!)(call));
    if (!stepCall) continue;
    const { key, limits } = ec2Bucket(call);
    const entry = byBucket.get(key) ?? { limits, calls: 0 };
    entry.calls += 1;
    byBucket.set(key, entry);
  }
  const demands: BucketDemand[] = [
    {
      label: "ModifyNetworkInterfaceAttribute: untrack moves",
      buckets: [ENI_MOVE_BUCKET],
      calls: untrackMoves,
    },
    {
      label: "group moves: ModifyNetworkInterfaceAttribute or ModifyInstanceAttribute",
      buckets: [ENI_MOVE_BUCKET, INSTANCE_MOVE_BUCKET],
      calls: groupMoves,
    },
  ];
  if (!options.asFound) return demands;
  demands.push({ label: "StartExecution", buckets: [options.startExecution], calls: startExecutions });
  for (const [key, { limits, calls: count }] of byBucket)
    demands.push({ label: key, buckets: [limits], calls: count });
  return demands;
}

/**
 * The demands of the whole burst (pure): the calls per instance made by the `reached` instances that reached the
 * milestone, times `size` (rounded up), so a run in which some never got there is still held to the floor of all.
 */
export function forWholeBurst(
  demands: readonly BucketDemand[],
  reached: number,
  size: number,
): BucketDemand[] {
  if (reached === 0) return demands.map((demand) => ({ ...demand, calls: 0 }));
  return demands.map((demand) => ({ ...demand, calls: Math.ceil((demand.calls * size) / reached) }));
}

/**
 * Who took the group moves' buckets until `untilMs` (simulated ms since `start`; the last isolation): successful
 * calls by action and purpose. Tokens ModifyInstanceAttribute spends on other attributes (cutAccess) are tokens
 * the isolation moves that fall back to it do not get.
 */
export function moveBucketShares(
  calls: readonly CallRecord[],
  start: number,
  untilMs: number,
  untrackGroup: string,
): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const call of calls) {
    if (call.simStart < start || call.status !== 200 || call.simEnd - start > untilMs) continue;
    if (call.action !== "ModifyNetworkInterfaceAttribute" && call.action !== "ModifyInstanceAttribute")
      continue;
    const groups = Array.isArray(call.params.Groups) ? (call.params.Groups as unknown[]) : undefined;
    const purpose =
      groups === undefined
        ? "other attributes"
        : groups.length === 1 && groups[0] === untrackGroup
          ? "untrack moves"
          : "other group moves";
    const key = `${call.action}: ${purpose}`;
    shares[key] = (shares[key] ?? 0) + 1;
  }
  return shares;
}
