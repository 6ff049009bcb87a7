// Reading figures out of the simulator's call log: every figure the benchmark prints about AWS calls is derived
// here from what the responder actually sent, never from what it is supposed to send.
import type { CallRecord } from "../simulator";
import { TAG_EVIDENCE_SET, type EvidenceSet } from "../handler/tags";

/** The evidence set taken right after isolation, before anything can change the disks. */
const AS_FOUND: EvidenceSet = "as-found";

interface PathCall {
  readonly action: string;
  /** What the call did, for a person (e.g. "eni-0a... -> sg-untrack"). */
  readonly what: string;
  /** Simulated ms since the handler started. */
  readonly startMs: number;
  readonly endMs: number;
}

export interface ContainmentPath {
  /** Simulated ms from handler start until the last isolating call was answered. */
  readonly isolatedMs: number;
  /** The chain of calls, each waiting for the one before: the critical path to isolation. */
  readonly path: readonly PathCall[];
  /** Part of `isolatedMs` spent inside those calls (AWS latency). */
  readonly awsMs: number;
  /** The rest: the handler's own work between calls (CPU, the incident-table claim on local dynalite). */
  readonly localMs: number;
  /** Every call answered before isolation, on the path or not. */
  readonly callsBeforeIsolated: number;
}

/**
 * The calls to the AWS APIs the latency model covers. The incident table's calls also pass through the simulator
 * (to be authorized) but run on local dynalite: the model counts them as the handler's local work, not AWS calls.
 */
export function modelledCalls(calls: readonly CallRecord[]): CallRecord[] {
  return calls.filter((call) => call.service !== "dynamodb");
}

/**
 * The response's own calls (EC2, Auto Scaling, ELBv2, IAM, S3, SNS): the modelled calls without the orchestration
 * (Step Functions' API, and Lambda's Invoke, by which the state machine runs each step pass and the old engine sent
 * its continuations).
 */
export function responseCalls(calls: readonly CallRecord[]): CallRecord[] {
  return modelledCalls(calls).filter((call) => call.service !== "states" && call.service !== "lambda");
}

function describeCall(call: CallRecord): string {
  const params = call.params;
  const groups = Array.isArray(params.Groups) ? (params.Groups as unknown[]).join(",") : undefined;
  const target = [
    params.NetworkInterfaceId,
    params.InstanceId,
    (params.InstanceIds as unknown[] | undefined)?.[0],
  ].find((value): value is string => typeof value === "string");
  return [call.action, target ?? "", groups === undefined ? "" : `-> ${groups}`]
    .filter((part) => part !== "")
    .join(" ");
}

/**
 * The critical path to containment: from the last isolating call back to the handler's start, each step the
 * call that ended last before the next one began (what it had to wait for). `isolating` says which calls
 * isolate; all of them must have succeeded for the instance to count as isolated.
 */
export function containmentPath(
  calls: readonly CallRecord[],
  startSim: number,
  isolating: (call: CallRecord) => boolean,
): ContainmentPath | undefined {
  const window = calls.filter((call) => call.simStart >= startSim);
  const isolatingCalls = window.filter((call) => isolating(call) && call.status === 200);
  if (isolatingCalls.length === 0) return undefined;
  let current = isolatingCalls.reduce((latest, call) => (call.simEnd > latest.simEnd ? call : latest));
  const isolatedAt = current.simEnd;
  const chain: CallRecord[] = [current];
  for (;;) {
    const before = window.filter((call) => call.simEnd <= current.simStart && call !== current);
    if (before.length === 0) break;
    current = before.reduce((latest, call) => (call.simEnd > latest.simEnd ? call : latest));
    chain.unshift(current);
  }
  const path = chain.map((call) => ({
    action: call.action,
    what: describeCall(call),
    startMs: call.simStart - startSim,
    endMs: call.simEnd - startSim,
  }));
  const awsMs = path.reduce((sum, call) => sum + (call.endMs - call.startMs), 0);
  return {
    isolatedMs: isolatedAt - startSim,
    path,
    awsMs,
    localMs: isolatedAt - startSim - awsMs,
    callsBeforeIsolated: window.filter((call) => call.simEnd <= isolatedAt).length,
  };
}

/**
 * The responder's isolating calls: an ENI moved into one of the isolation groups, by ModifyNetworkInterfaceAttribute
 * or (an instance of one interface, when that call is throttled) ModifyInstanceAttribute Groups.
 */
export function movesIntoIsolation(isolationGroups: ReadonlySet<string>) {
  return (call: CallRecord): boolean =>
    (call.action === "ModifyNetworkInterfaceAttribute" || call.action === "ModifyInstanceAttribute") &&
    Array.isArray(call.params.Groups) &&
    (call.params.Groups as unknown[]).length === 1 &&
    isolationGroups.has(String((call.params.Groups as unknown[])[0]));
}

/** The blog flow's isolating call: the instance's groups replaced by the isolation group. */
export function instanceGroupsReplaced(call: CallRecord): boolean {
  return call.action === "ModifyInstanceAttribute" && Array.isArray(call.params.Groups);
}

/** Simulated ms (since start) when each successful call matching `which` was answered. Pure. */
function answeredAt(
  calls: readonly CallRecord[],
  startSim: number,
  which: (call: CallRecord) => boolean,
): number[] {
  return calls
    .filter((call) => call.simStart >= startSim && call.status === 200 && which(call))
    .map((call) => call.simEnd - startSim);
}

/** Simulated ms (since start) when the last successful call matching `which` was answered. */
export function lastAnswered(
  calls: readonly CallRecord[],
  startSim: number,
  which: (call: CallRecord) => boolean,
): number | undefined {
  const answered = answeredAt(calls, startSim, which);
  return answered.length === 0 ? undefined : Math.max(...answered);
}

export function naming(id: string) {
  return (call: CallRecord): boolean => JSON.stringify(call.params).includes(id);
}

/** Whether a create call tags what it creates with `key` = `value` at creation (TagSpecifications). Pure. */
export function tagsAtCreation(call: CallRecord, key: string, value: string): boolean {
  const specifications = call.params.TagSpecifications;
  if (!Array.isArray(specifications)) return false;
  return specifications.some((specification: unknown) => {
    const tags = (specification as { Tags?: unknown } | null)?.Tags;
    return Array.isArray(tags) && tags.some((tag: unknown) => isTag(tag, key, value));
  });
}

function isTag(tag: unknown, key: string, value: string): boolean {
  return (
    typeof tag === "object" &&
    tag !== null &&
    (tag as { Key?: unknown }).Key === key &&
    (tag as { Value?: unknown }).Value === value
  );
}

/** The instance a CreateSnapshots call snapshots (InstanceSpecification.InstanceId). */
export function snapshottedInstance(call: CallRecord): string | undefined {
  const specification = call.params.InstanceSpecification as { InstanceId?: unknown } | undefined;
  return typeof specification?.InstanceId === "string" ? specification.InstanceId : undefined;
}

/** A CreateSnapshots call of `instanceId` whose snapshots carry TAG_EVIDENCE_SET = as-found. Pure. */
export function asFoundRequest(instanceId: string) {
  return (call: CallRecord): boolean =>
    call.action === "CreateSnapshots" &&
    snapshottedInstance(call) === instanceId &&
    tagsAtCreation(call, TAG_EVIDENCE_SET, AS_FOUND);
}

/** Any CreateSnapshots call of `instanceId` that is not of the as-found set (ours after the stop, the blog flow's). */
export function otherSnapshotRequest(instanceId: string) {
  const asFound = asFoundRequest(instanceId);
  return (call: CallRecord): boolean =>
    call.action === "CreateSnapshots" && snapshottedInstance(call) === instanceId && !asFound(call);
}

/** Simulated ms (since start) when the first successful call matching `which` was answered. Pure. */
export function firstAnswered(
  calls: readonly CallRecord[],
  startSim: number,
  which: (call: CallRecord) => boolean,
): number | undefined {
  const answered = answeredAt(calls, startSim, which);
  return answered.length === 0 ? undefined : Math.min(...answered);
}

/**
 * When the disks' as-found state was secured (simulated ms since start; pure): the as-found CreateSnapshots of the
 * instance answered and, when snapshots are locked (`lockedSnapshotIds`: the set's snapshot ids), a successful
 * LockSnapshot of each of them answered. Undefined while any of that is missing.
 */
export function asFoundSecuredMs(
  calls: readonly CallRecord[],
  startSim: number,
  instanceId: string,
  lockedSnapshotIds: readonly string[] | undefined,
): number | undefined {
  const requested = firstAnswered(calls, startSim, asFoundRequest(instanceId));
  if (requested === undefined || lockedSnapshotIds === undefined) return requested;
  if (lockedSnapshotIds.length === 0) return undefined;
  let secured = requested;
  for (const snapshotId of lockedSnapshotIds) {
    const locked = firstAnswered(
      calls,
      startSim,
      (call) => call.action === "LockSnapshot" && call.params.SnapshotId === snapshotId,
    );
    if (locked === undefined) return undefined;
    secured = Math.max(secured, locked);
  }
  return secured;
}
