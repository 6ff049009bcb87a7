// What a burst's call log, executions and incident records say: isolation and untrack times, throttling,
// StartExecution against its documented bucket, the executions' figures (all pure, or reading the simulator).
import type { CallRecord, Simulator } from "../simulator";
import { stepFunctionsApiLimits } from "../simulator/services/stepFunctions";
import { instanceIdOfIncident } from "../handler/incidentRecord";
import type { Harness } from "../testkit/harness";
import type { WorkerDelivery } from "./burstWorker";
import type { BurstRun } from "./burstRun";
import { bucketFloor } from "./bucketFloor";
import { movesIntoIsolation } from "./callLog";
import { ENI_MOVE_BUCKET, INSTANCE_MOVE_BUCKET } from "./model";
import type { ReferenceWorkload } from "./scenario";
import { median } from "./stats";
import { executionFigures, type ExecutionFigures } from "./workflowFigures";

/** StartExecution in a burst, against Step Functions' documented bucket for the Region. */
export interface StartExecutionFigures {
  /** Every StartExecution the responders sent (a retried finding sends it again: same name, same execution). */
  readonly calls: number;
  readonly succeeded: number;
  /** Answered ThrottlingException. */
  readonly throttled: number;
  /** The documented bucket (simulator/services/stepFunctions.ts stepFunctionsApiLimits). */
  readonly bucket: { readonly capacity: number; readonly refillPerSecond: number };
  /** The least time the bucket allows for N StartExecution calls: max(0, N - capacity) / refill. */
  readonly bucketFloorMs: number;
  /** From the findings' delivery to the last StartExecution answered, simulated ms. */
  readonly lastAnsweredMs?: number;
}

/** The executions of a completion run, per incident (medians) and in all. */
export interface BurstExecutions {
  readonly count: number;
  /** Executions by final status (SUCCEEDED, FAILED, ABORTED: stopped at the cap...). */
  readonly statuses: Readonly<Record<string, number>>;
  readonly transitionsMedian: number;
  readonly transitionsTotal: number;
  /** transitionCost per incident (median) and for the whole burst. */
  readonly usdMedian: number;
  readonly usdTotal: number;
  readonly taskPassesMedian: number;
  /** Tasks that failed (the state machine retried or caught each). */
  readonly failedTasks: number;
  /** Lambda billed seconds per incident (simulated): the finding's invocations + the Tasks' durations. */
  readonly billedSecondsMedian: number;
}

/**
 * The least time EC2's documented buckets allow for containing `size` instances of one ENI each (pure). Direct:
 * one ENI move each, from the ModifyNetworkInterfaceAttribute bucket. With the untrack hop: the untrack moves draw
 * from that bucket, and each isolation move from it or, as the handler does when it is throttled, from
 * ModifyInstanceAttribute's bucket (mutating actions). Nothing else precedes them on EC2 (the live
 * DescribeInstances goes out beside the isolation move), but the mutating bucket also serves the later steps of
 * responses already isolated: a lower bound.
 */
export function bucketLowerBoundMs(size: number, cutTrackedConnections: boolean): number {
  if (!cutTrackedConnections)
    return bucketFloor([{ label: "isolation moves", buckets: [ENI_MOVE_BUCKET], calls: size }]).floorMs;
  return bucketFloor([
    { label: "untrack moves", buckets: [ENI_MOVE_BUCKET], calls: size },
    { label: "all moves", buckets: [ENI_MOVE_BUCKET, INSTANCE_MOVE_BUCKET], calls: 2 * size },
  ]).floorMs;
}

export function throttled(sim: Simulator, from: number): number {
  return sim.calls.slice(from).filter((call) => call.errorCode === "RequestLimitExceeded").length;
}

/** Instance -> its primary ENI (the one ModifyInstanceAttribute Groups changes). */
function primaryOf(workloads: readonly ReferenceWorkload[]): Map<string, string> {
  return new Map(workloads.map(({ created }) => [created.instanceId, created.networkInterfaceIds[0]!]));
}

/** The ENI a successful group change moved: named, or the instance's primary (ModifyInstanceAttribute Groups). */
function movedInterface(call: CallRecord, primary: ReadonlyMap<string, string>): string | undefined {
  if (call.action === "ModifyNetworkInterfaceAttribute") return String(call.params.NetworkInterfaceId);
  if (call.action === "ModifyInstanceAttribute" && Array.isArray(call.params.Groups))
    return primary.get(String(call.params.InstanceId));
  return undefined;
}

/**
 * How long each ENI stayed in the allow-all untrack group (simulated ms): from its move into it to its next
 * successful group change (into isolation, or back out). An ENI still there at the end counts until then. Also
 * when each entered it (ms since start).
 */
export function untrackStays(
  harness: Harness,
  workloads: readonly ReferenceWorkload[],
  start: number,
): { stays: number[]; entries: number[] } {
  const primary = primaryOf(workloads);
  const enteredAt = new Map<string, number>();
  const stays: number[] = [];
  const entries: number[] = [];
  const moves = harness.sim.calls
    .filter((call) => call.simStart >= start && call.status === 200)
    .sort((a, b) => a.simEnd - b.simEnd);
  for (const call of moves) {
    const eni = movedInterface(call, primary);
    if (eni === undefined) continue;
    const entered = enteredAt.get(eni);
    if (entered !== undefined) {
      stays.push(call.simEnd - entered);
      enteredAt.delete(eni);
    }
    const groups = call.params.Groups as unknown[];
    if (groups.length === 1 && groups[0] === harness.world.untrackGroup) {
      enteredAt.set(eni, call.simEnd);
      entries.push(call.simEnd - start);
    }
  }
  const end = harness.sim.now();
  for (const entered of enteredAt.values()) stays.push(end - entered);
  return { stays, entries };
}

/** When each instance had every ENI in the isolation group (simulated ms since start), by instance. */
export function isolationTimes(
  harness: Harness,
  workloads: readonly ReferenceWorkload[],
  start: number,
): Map<string, number> {
  const isolating = movesIntoIsolation(new Set([harness.world.isolationGroup]));
  const doneAt = new Map<string, number>();
  for (const call of harness.sim.calls) {
    if (call.simStart < start || call.status !== 200 || !isolating(call)) continue;
    const eni = movedInterface(call, primaryOf(workloads));
    if (eni === undefined) continue;
    doneAt.set(eni, Math.max(doneAt.get(eni) ?? 0, call.simEnd - start));
  }
  const times = new Map<string, number>();
  for (const { created } of workloads) {
    const enis = created.networkInterfaceIds.map((eni) => doneAt.get(eni));
    if (enis.every((at) => at !== undefined)) times.set(created.instanceId, Math.max(...enis));
  }
  return times;
}

/** The least time Step Functions' documented StartExecution bucket allows for `size` calls (pure). */
function startExecutionFloorMs(
  size: number,
  bucket: { readonly capacity: number; readonly refillPerSecond: number },
): number {
  return (Math.max(0, size - bucket.capacity) / bucket.refillPerSecond) * 1000;
}

export function startExecutionFigures(sim: Simulator, run: BurstRun, size: number): StartExecutionFigures {
  const calls = sim.calls
    .slice(run.from)
    .filter((call) => call.service === "states" && call.action === "StartExecution");
  const succeeded = calls.filter((call) => call.status === 200);
  const bucket = stepFunctionsApiLimits(sim.region).StartExecution!;
  return {
    calls: calls.length,
    succeeded: succeeded.length,
    throttled: calls.filter((call) => call.errorCode === "ThrottlingException").length,
    bucket: { capacity: bucket.capacity, refillPerSecond: bucket.refillPerSecond },
    bucketFloorMs: startExecutionFloorMs(size, bucket),
    ...(succeeded.length > 0
      ? { lastAnsweredMs: Math.max(...succeeded.map((call) => call.simEnd)) - run.start }
      : {}),
  };
}

export function burstExecutions(
  sim: Simulator,
  workloads: readonly ReferenceWorkload[],
  deliveries: readonly WorkerDelivery[],
  timeScale: number,
): BurstExecutions {
  const statuses: Record<string, number> = {};
  const figures: ExecutionFigures[] = [];
  const billed: number[] = [];
  workloads.forEach(({ created }, index) => {
    // The incident's execution (named by the incident id, which ends with the instance id).
    const execution = sim.stepFunctions.executions.find(
      (candidate) => instanceIdOfIncident(candidate.name) === created.instanceId,
    );
    const triggerSeconds = ((deliveries[index]?.wallMs ?? 0) * timeScale) / 1000;
    if (execution === undefined) {
      billed.push(triggerSeconds);
      return;
    }
    statuses[execution.status] = (statuses[execution.status] ?? 0) + 1;
    const figure = executionFigures(execution);
    figures.push(figure);
    billed.push(triggerSeconds + figure.taskSeconds);
  });
  const of = (value: (figure: ExecutionFigures) => number) => figures.map(value);
  const total = (values: number[]) => values.reduce((sum, value) => sum + value, 0);
  return {
    count: figures.length,
    statuses,
    transitionsMedian: median(of((figure) => figure.transitions)),
    transitionsTotal: total(of((figure) => figure.transitions)),
    usdMedian: median(of((figure) => figure.usd)),
    usdTotal: total(of((figure) => figure.usd)),
    taskPassesMedian: median(of((figure) => figure.taskPasses)),
    failedTasks: total(of((figure) => figure.failedTasks)),
    billedSecondsMedian: median(billed),
  };
}

/** A few distinct errors the invocations threw (what made Lambda retry), for the report. */
export function distinctErrors(deliveries: readonly WorkerDelivery[]): string[] {
  return [
    ...new Set(deliveries.flatMap((delivery) => delivery.errors).map((error) => error.slice(0, 160))),
  ].slice(0, 5);
}
