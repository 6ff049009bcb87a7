// One response, ours or the blog flow's, on a fresh reference workload, with its milestones read from the
// simulator's call log and state (simulated ms since the handler started). Ours is the finding's invocation
// (acceptance, claim, isolation, StartExecution) and then the Step Functions execution it started, which invokes
// the responder once per step pass.
import type { CallRecord, Simulator } from "../simulator";
import type { InvocationOutcome } from "../handler";
import { TAG_EVIDENCE_SET } from "../handler/tags";
import type { Harness } from "../testkit/harness";
import { BlogFlowResponder } from "./blogFlowBaseline";
import {
  asFoundSecuredMs,
  containmentPath,
  firstAnswered,
  instanceGroupsReplaced,
  lastAnswered,
  modelledCalls,
  movesIntoIsolation,
  naming,
  otherSnapshotRequest,
  responseCalls,
  type ContainmentPath,
} from "./callLog";
import { SNAPSHOT_LOCK, type ReferenceWorkload } from "./scenario";
import { executionFigures, type ExecutionFigures } from "./workflowFigures";

export interface Milestones {
  /** Every ENI in the isolation group (the last isolating call answered). */
  isolated?: number;
  /**
   * The disks as found: ours, the as-found CreateSnapshots answered and its snapshots locked (callLog.ts
   * asFoundSecuredMs); the blog flow, its first snapshot answered (the first disk state it fixes). Undefined for
   * the old engine, which took no such set.
   */
  asFoundSecured?: number;
  /** The memory dump written (the simulator's kdump model; the power-off follows). Undefined without a dump. */
  memoryCaptured?: number;
  /** Snapshots after the stop requested: the point in time of that evidence is fixed (the blog flow: its last). */
  evidenceSecured?: number;
  /** The last evidence volume attached to the forensic workstation. */
  workstationReady?: number;
  /** A replacement healthy in the target group. */
  serviceRestored?: number;
  /** The response's last call answered (ours: the notification; the blog flow: its attach). */
  complete?: number;
}

export interface ResponseRun {
  readonly milestones: Milestones;
  readonly containment?: ContainmentPath;
  /** CPU of this process during the run (handler, simulator and dynalite share it), in ms. */
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly outcome: string;
  readonly memoryDumped: boolean;
  readonly volumesOnWorkstation: number;
  readonly volumes: number;
  /** The response's own AWS calls (EC2, Auto Scaling, ELBv2, IAM, S3, SNS): callLog.ts responseCalls. */
  readonly awsCalls: number;
  /** Ours: the finding's invocation and the execution it started. */
  readonly workflow?: WorkflowRun;
}

interface WorkflowRun {
  /** Simulated ms the finding's invocation ran (acceptance, claim, isolation, StartExecution). */
  readonly triggerMs: number;
  readonly execution?: ExecutionFigures;
  /**
   * Lambda billed seconds of the incident (simulated): the finding's invocation plus every Task's duration. The
   * handler's CPU is wall time, multiplied by the time scale like everything else.
   */
  readonly billedSeconds: number;
  /** Lambda invocations of the incident: the finding's, and one per Task pass. */
  readonly lambdaInvocations: number;
  readonly startExecutionCalls: number;
}

/** What a run cost this process: CPU and wall ms since `started`. */
function spentSince(started: { cpu: NodeJS.CpuUsage; wall: number }): { cpuMs: number; wallMs: number } {
  const used = process.cpuUsage(started.cpu);
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started.wall };
}

function volumesAttachedTo(sim: Simulator, instanceId: string | undefined): number {
  if (instanceId === undefined) return 0;
  const root = sim.state.instance(instanceId)?.rootDeviceName;
  return sim.state
    .volumes()
    .filter((volume) => volume.attachment?.instanceId === instanceId && volume.attachment.device !== root)
    .length;
}

/**
 * What both responders' runs read the same way once they have ended, from the call log and the simulator's state
 * (simulated ms since `start`): containment through `isolating` calls, the evidence, the workstation.
 */
function responseFigures(
  sim: Simulator,
  workload: ReferenceWorkload,
  start: number,
  forensicId: string | undefined,
  isolating: (call: CallRecord) => boolean,
) {
  const { instanceId, volumeIds } = workload.created;
  const calls = modelledCalls(sim.calls);
  const containment = containmentPath(calls, start, isolating);
  return {
    calls,
    milestones: {
      isolated: containment?.isolatedMs,
      memoryCaptured: dumpWrittenMs(sim, instanceId, start),
      evidenceSecured: lastAnswered(calls, start, otherSnapshotRequest(instanceId)),
      workstationReady:
        forensicId === undefined
          ? undefined
          : lastAnswered(calls, start, (call) => call.action === "AttachVolume" && naming(forensicId)(call)),
    },
    run: {
      containment,
      memoryDumped: (sim.state.instance(instanceId)?.memoryDumps.length ?? 0) > 0,
      volumesOnWorkstation: volumesAttachedTo(sim, forensicId),
      volumes: volumeIds.length,
      awsCalls: responseCalls(calls).filter((call) => call.simStart >= start).length,
    },
  };
}

/** When the instance's first memory dump since `start` was written (simulated ms since `start`), if one was. */
function dumpWrittenMs(sim: Simulator, instanceId: string, start: number): number | undefined {
  const dump = sim.state.instance(instanceId)?.memoryDumps.find((written) => written.completedAt >= start);
  return dump === undefined ? undefined : dump.completedAt - start;
}

/** The as-found snapshots of the workload's volumes (simulator state), when the bench locks snapshots. */
function asFoundSnapshotIds(sim: Simulator, workload: ReferenceWorkload): string[] | undefined {
  if ((SNAPSHOT_LOCK as string) === "none") return undefined;
  const volumes = new Set(workload.created.volumeIds);
  return sim.state
    .snapshots()
    .filter(
      (snapshot) => volumes.has(snapshot.volumeId) && snapshot.tags.get(TAG_EVIDENCE_SET) === "as-found",
    )
    .map((snapshot) => snapshot.snapshotId);
}

/**
 * Our responder, in a fresh Lambda environment (a new responder), answering a finding about the workload;
 * `settings` on top of the harness's (e.g. the isolation mode).
 */
export async function runOurs(
  harness: Harness,
  workload: ReferenceWorkload,
  settings: Record<string, string> = {},
): Promise<ResponseRun> {
  const { sim, world } = harness;
  const { created } = workload;
  const responder = await harness.withSettings(settings);
  const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
  const started = { cpu: process.cpuUsage(), wall: performance.now() };
  const start = sim.now();
  let triggered: InvocationOutcome | undefined;
  let triggerMs = 0;
  let outcome: string;
  let execution: ExecutionFigures | undefined;
  try {
    // As EventBridge delivers it: one invocation, which answers once the execution has started.
    triggered = await responder.trigger(event);
    triggerMs = sim.now() - start;
    if ("executionArn" in triggered) {
      const ended = await sim.stepFunctions.waitForExecution(triggered.executionArn);
      await responder.settle();
      execution = executionFigures(ended);
      const record = await harness.record(created.instanceId);
      outcome =
        record?.status === "completed"
          ? "completed"
          : `not completed (execution ${ended.status}${ended.error === undefined ? "" : `: ${ended.error}`})`;
    } else {
      outcome = "step" in triggered ? `answered like a step: ${triggered.step}` : triggered.outcome;
    }
  } catch (error) {
    outcome = `threw: ${error instanceof Error ? error.message : JSON.stringify(error)}`;
  }
  const spent = spentSince(started);
  const record = await harness.record(created.instanceId);
  const forensicId = record?.facts.forensic?.instanceId;
  const isolationGroups = new Set(
    Object.values(record?.facts.isolationGroups ?? {}).map((pair) => pair.isolation),
  );
  if (isolationGroups.size === 0) isolationGroups.add(world.isolationGroup);
  const { calls, milestones, run } = responseFigures(
    sim,
    workload,
    start,
    forensicId,
    movesIntoIsolation(isolationGroups),
  );
  const replacementId = record?.facts.replacement?.instanceId;
  const replacementTarget = sim.state
    .targetGroup(workload.targetGroupArn)
    ?.targets.find((target) => target.id === replacementId);
  return {
    ...run,
    ...spent,
    outcome,
    milestones: {
      ...milestones,
      asFoundSecured: asFoundSecuredMs(calls, start, created.instanceId, asFoundSnapshotIds(sim, workload)),
      serviceRestored:
        replacementTarget !== undefined && sim.state.instance(replacementId!)?.state === "running"
          ? replacementTarget.transitionAt - start
          : undefined,
      complete: lastAnswered(
        calls,
        start,
        (call) => call.action === "Publish" && naming(created.instanceId)(call),
      ),
    },
    workflow: {
      triggerMs,
      ...(execution === undefined ? {} : { execution }),
      billedSeconds: triggerMs / 1000 + (execution?.taskSeconds ?? 0),
      lambdaInvocations: 1 + (execution?.taskPasses ?? 0),
      startExecutionCalls: calls.filter((call) => call.simStart >= start && call.action === "StartExecution")
        .length,
    },
  };
}

/** The blog flow on the same kind of workload, in the same simulator. `isolateOnly`: stop after containment. */
export async function runBaseline(
  harness: Harness,
  workload: ReferenceWorkload,
  options: { isolateOnly?: boolean } = {},
): Promise<ResponseRun> {
  const { sim, world } = harness;
  const { created } = workload;
  const baseline = new BlogFlowResponder(sim);
  const target = {
    instanceId: created.instanceId,
    isolationGroupId: world.isolationGroup,
    forensicAmiId: world.plainImage,
    forensicInstanceType: "m6i.large",
    forensicSubnetId: world.subnetA,
    forensicInstanceProfileArn: world.forensicProfileArn,
  };
  const started = { cpu: process.cpuUsage(), wall: performance.now() };
  const start = sim.now();
  let outcome = "completed";
  let forensicId: string | undefined;
  try {
    if (options.isolateOnly === true) await baseline.isolate(target, { start });
    else forensicId = (await baseline.respond(target)).forensicInstanceId;
  } catch (error) {
    outcome = `threw: ${error instanceof Error ? error.message : JSON.stringify(error)}`;
  } finally {
    baseline.destroy();
  }
  const spent = spentSince(started);
  const { calls, milestones, run } = responseFigures(
    sim,
    workload,
    start,
    forensicId,
    instanceGroupsReplaced,
  );
  const firstSnapshot = firstAnswered(calls, start, otherSnapshotRequest(created.instanceId));
  // The blog flow's last call is its attach.
  return {
    ...run,
    ...spent,
    outcome,
    milestones: { ...milestones, asFoundSecured: firstSnapshot, complete: milestones.workstationReady },
  };
}
