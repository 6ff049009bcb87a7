// One lane of the fault matrix: its own simulator (behind the response-losing proxy), incident table, state machine
// and responders, running the (row, fault kind) cases it is given one after the other. faultMatrix.test.ts starts a
// few lanes as child processes and runs them side by side: a case spends most of its wall time waiting (SDK
// back-off, Lambda's retry delay, the state machine's Retry and Wait states), so lanes cut the matrix's wall time
// without changing what a case does.
//
// Who carries a fault on: the SDK's own retries first; then, for containment and the execution's start (the
// finding's invocation), Lambda's asynchronous retry of the finding (deliverLikeLambda); for every Task pass, the
// state machine's Retry (States.TaskFailed, Lambda.*) as infra/workflowRetries.ts writes it.
import { expect } from "chai";

import type { CallRecord, CreatedInstance, FaultKind as SimulatorFault } from "../../simulator";
import type { HistoryEvent } from "../../simulator/stepFunctions/history";
import {
  workflowDependencies,
  type StepTask,
  type StepTaskResult,
  type WorkflowStep,
} from "../../handler/workflow";
import { stepStates } from "../../infra/workflowDefinition";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import {
  KNOWN_DEFECTS,
  STEP_FAULT_ROWS,
  caseKey,
  type FaultKindName,
  type LaneMessage,
  type LaneOrder,
  type MatrixCase,
  type ScenarioName,
  type StepFaultRow,
} from "./faultMatrix.rows";
import { expectCorrectResponse, isReadOnlyAction } from "./support/invariants";
import { deliverLikeLambda, type Delivery } from "../../testkit/lambdaDelivery";
import { ResponseLosingProxy, type LostResponse } from "./support/responseLosingProxy";

/** Wait states the "long waits" family must show for captureMemory (its row's fault comes after them). */
const LONG_WAITS_AT_LEAST = 10;

/**
 * State durations shortened (simulated ms) so a row costs little wall time; their order of magnitude is kept:
 * kdump and stop take seconds, snapshots longer than the stop.
 */
const SHORT_DURATIONS = {
  instancePendingMs: 10_000,
  instanceStoppingMs: 10_000,
  kdumpBaseMs: 5_000,
  kdumpPerGiBMs: 2_000,
  snapshotBaseMs: 10_000,
  snapshotPerGiBMs: 1_000,
  volumeCreateMs: 3_000,
  targetHealthyMs: 20_000,
  defaultDeregistrationDelayMs: 30_000,
  asgHealthCheckMs: 30_000,
};

/** The steps the finding's invocation runs, before the execution: their faults are Lambda's retry to carry on. */
const FINDING_INVOCATION_STEPS: readonly string[] = ["acceptEvent", "claimIncident", "isolateNetwork"];

/** Whether the row's call is made by the finding's invocation (containment, then the execution's start). */
function madeByTheFindingsInvocation(row: StepFaultRow): boolean {
  return FINDING_INVOCATION_STEPS.includes(row.step) || (row.step === "workflow" && row.service === "states");
}

/**
 * Whether the row's call is a Task's: the state machine invoking the responder for a pass. Step Functions calls
 * the function on the simulator's own front, not through the proxy (only the responder's endpoint is the proxy's).
 */
function isTaskCall(row: StepFaultRow): boolean {
  return row.service === "lambda" && row.action === "Invoke";
}

/** The simulator's fault of a kind for a row; undefined for "response lost" (the proxy's, or the lane's). */
function simulatorFault(kind: FaultKindName, row: StepFaultRow): SimulatorFault | undefined {
  switch (kind) {
    case "throttling":
      // The service's own throttling answer: the SDK backs off and retries (a Task: Lambda.TooManyRequests...).
      return { type: "throttle" };
    case "server error":
      return { type: "internalError" };
    case "timeout":
      // The request hangs and the connection drops before AWS executed it.
      return { type: "timeout", holdMs: 100 };
    case "response lost":
      // AWS executed the request; its answer never arrives (the other half of a timeout).
      return undefined;
    case "AWS error":
      return { type: "error", code: row.awsError.code, httpStatus: row.awsError.httpStatus };
  }
}

/** The step a Task's payload runs a pass of (undefined: not a pass, e.g. a caught failure being recorded). */
function passOf(payload: unknown): string | undefined {
  const task = (payload as Partial<StepTask> | undefined)?.["ir:step"];
  return task?.failure === undefined ? task?.step : undefined;
}

/** The step of the Task whose failure is the history's `index`-th event, from the TaskScheduled it follows. */
function failedTaskStep(history: readonly HistoryEvent[], index: number): string | undefined {
  let event = history[index];
  while (event !== undefined && event.type !== "TaskScheduled")
    event = history.find((candidate) => candidate.id === event!.previousEventId);
  const parameters = (event?.taskScheduledEventDetails as { parameters?: string } | undefined)?.parameters;
  return passOf((JSON.parse(parameters ?? "{}") as { Payload?: unknown }).Payload);
}

/** Whether the fault reached the responder: a row whose fault never fired would prove nothing. */
function faultFired(
  kind: FaultKindName,
  row: StepFaultRow,
  harness: Harness,
  lost: readonly LostResponse[],
  from: number,
): boolean {
  const hits = (text: string) => row.hits === undefined || row.hits.test(text);
  if (kind === "response lost")
    return lost.some((entry) => entry.action === row.action && hits(entry.request));
  return harness.sim.calls
    .slice(from)
    .some(
      (call) =>
        call.action === row.action && call.errorCode !== undefined && hits(JSON.stringify(call.params)),
    );
}

interface Family {
  /** Settings of the family's responder (a fresh one per row: like a fresh Lambda environment). */
  readonly settings: Record<string, string>;
  readonly build: () => CreatedInstance;
  /** A step the state machine must hold in Wait states at least this often: what the family is for. */
  readonly waits?: { readonly step: WorkflowStep; readonly atLeast: number };
}

export class FaultMatrixLane {
  private readonly families = new Map<ScenarioName, Family>();
  /** The calls of one fault-free response per scenario: what `hits` rows count their skip from. */
  private readonly references = new Map<ScenarioName, readonly CallRecord[]>();

  private constructor(
    private readonly proxy: ResponseLosingProxy,
    private readonly base: Harness,
    private readonly timeScale: number,
  ) {}

  /** A lane at `timeScale` (simulated ms per wall ms), with the fault-free references of `scenarios` taken. */
  static async start(timeScale: number, scenarios: readonly ScenarioName[]): Promise<FaultMatrixLane> {
    const proxy = await ResponseLosingProxy.start();
    // One simulator for every scenario, and every responder talks to it through the proxy: the SDK reads
    // AWS_ENDPOINT_URL lazily and process-wide, so responders built for different endpoints must not coexist.
    const base = await startHarness({
      timeScale,
      simulator: { durations: SHORT_DURATIONS },
      // Waits poll every 5 simulated seconds instead of 2: fewer passes per response, same decisions.
      settings: { AWS_ENDPOINT_URL: proxy.endpoint, POLL_INTERVAL_SECONDS: String(5 / timeScale) },
    });
    proxy.target = base.sim.endpoint;
    const lane = new FaultMatrixLane(proxy, base, timeScale);
    lane.defineFamilies();
    for (const scenario of scenarios) await lane.reference(scenario);
    return lane;
  }

  /** For each `hits` row of a scenario referenced so far: the calls of its action before the one it hits. */
  async skips(): Promise<Record<number, number>> {
    const skips: Record<number, number> = {};
    for (const [index, row] of STEP_FAULT_ROWS.entries())
      if (row.hits !== undefined && this.references.has(row.scenario)) skips[index] = await this.skipFor(row);
    return skips;
  }

  /** The mutating calls ("service:action") each scenario's fault-free response made. */
  mutatingCalls(): Record<string, string[]> {
    const calls: Record<string, string[]> = {};
    for (const [name, list] of this.references)
      calls[name] = [
        ...new Set(
          list
            // The incident table's own failures are the resilience tests' subject, not the matrix's.
            .filter((call) => call.service !== "dynamodb" && !isReadOnlyAction(call.action))
            .map((call) => `${call.service}:${call.action}`),
        ),
      ];
    return calls;
  }

  async stop(): Promise<void> {
    await this.base.stop();
    await this.proxy.stop();
    await stopDynamo();
  }

  private defineFamilies(): void {
    const { base } = this;
    const families = this.families;
    const { sim, world } = base;
    let serial = 0;
    const next = () => (serial += 1);

    const webTier = (): CreatedInstance => {
      const name = `web-${next()}`;
      const targetGroupArn = sim.scenario.targetGroup({ name, vpcId: world.vpcId, port: 443 });
      const template = sim.scenario.launchTemplate({
        name,
        imageId: world.kdumpImage,
        instanceType: "t3.small",
      });
      sim.scenario.autoScalingGroup({
        name,
        launchTemplate: template.name,
        subnetIds: [world.subnetA],
        targetGroupArns: [targetGroupArn],
      });
      return sim.scenario.instance({
        instanceType: "t3.small",
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        imageId: world.kdumpImage,
        instanceProfile: world.appProfile.arn,
        autoScalingGroup: name,
        targetGroupArns: [targetGroupArn],
        dataVolumes: [{ sizeGiB: 4 }],
      });
    };
    const standalone = (): CreatedInstance => {
      const name = `api-${next()}`;
      const targetGroupArn = sim.scenario.targetGroup({ name, vpcId: world.vpcId, port: 8080 });
      const template = sim.scenario.launchTemplate({
        name,
        imageId: world.kdumpImage,
        instanceType: "t3.small",
        securityGroupIds: [world.appGroup],
      });
      return sim.scenario.instance({
        instanceType: "t3.small",
        subnetId: world.subnetA,
        securityGroupIds: [world.appGroup],
        imageId: world.kdumpImage,
        targetGroupArns: [targetGroupArn],
        dataVolumes: [{ sizeGiB: 4 }],
        tags: { "aws:ec2launchtemplate:id": template.launchTemplateId, "aws:ec2launchtemplate:version": "1" },
      });
    };
    const plain = (imageId: string, subnetId = world.subnetA, instanceType = "t3.small", dataGiB = 4) =>
      sim.scenario.instance({
        instanceType,
        subnetId,
        imageId,
        instanceProfile: world.appProfile.arn,
        dataVolumes: [{ sizeGiB: dataGiB }],
      });
    const unknownVpc = (): CreatedInstance => {
      // A fresh VPC per row: the on-demand groups are created anew each time.
      const vpc = sim.scenario.vpc({
        cidrBlock: `10.${100 + (next() % 100)}.0.0/16`,
        subnets: [{ availabilityZone: `${sim.region}a` }],
      });
      return plain(world.kdumpImage, vpc.subnets[0]!.subnetId);
    };

    families.set("web tier", { settings: {}, build: webTier });
    families.set("standalone", { settings: {}, build: standalone });
    families.set("no kdump", { settings: {}, build: () => plain(world.plainImage) });
    families.set("unknown VPC", { settings: {}, build: unknownVpc });
    // The copies are made once the snapshots complete: attachEvidenceVolumes answers "waiting" until then, and the
    // state machine holds it in Wait states (nothing announces the completion). The data volume's snapshot takes
    // about a quarter of a wall second at any time scale: far longer than the passes from the snapshots to the
    // first look, so the wait is never skipped.
    const snapshotGiB = Math.ceil((0.25 * this.timeScale) / (SHORT_DURATIONS.snapshotPerGiBMs / 1000));
    families.set("snapshot copies", {
      settings: { ATTACH_SNAPSHOT_COPIES: "true" },
      build: () => plain(world.kdumpImage, world.subnetA, "t3.small", snapshotGiB),
      waits: { step: "attachEvidenceVolumes", atLeast: 1 },
    });
    // 64 GiB to dump: the kdump's power-off takes over two simulated minutes, looked at every 5 s at first and then
    // less often (nextLook), so the execution runs some twenty Task passes with Wait states between them when a pass
    // is short next to the poll interval (at 1:100, the test's slow lanes; at 1:500 a pass costs more simulated
    // time, fewer waits happen, and the family's check says so).
    families.set("long waits", {
      settings: {},
      build: () => plain(world.kdumpImage, world.subnetA, "r6i.2xlarge"),
      waits: { step: "captureMemory", atLeast: LONG_WAITS_AT_LEAST },
    });
  }

  /** The calls of a fault-free response of the scenario, taken once (and kept) when first asked for. */
  private async reference(scenario: ScenarioName): Promise<readonly CallRecord[]> {
    const taken = this.references.get(scenario);
    if (taken !== undefined) return taken;
    const { sim } = this.base;
    const family = this.families.get(scenario)!;
    const harness = await this.responderFor(family);
    const from = sim.calls.length;
    const { delivery } = await this.respondOnce(family, harness);
    if (delivery.outcome?.outcome !== "completed")
      throw new Error(
        `fault-free ${scenario} response did not complete: ${JSON.stringify(delivery.outcome)} ${delivery.errors.join("; ")}`,
      );
    const calls = sim.calls.slice(from);
    this.references.set(scenario, calls);
    return calls;
  }

  /** A fresh responder of the family (a cold Lambda environment: no client-side retry state carried over). */
  private async responderFor(family: Family): Promise<Harness> {
    // The latest responder is the one the state machine's Tasks invoke (the harness registers it).
    return this.base.withSettings(family.settings);
  }

  /** The finding, delivered as Lambda delivers it; then everything it set going (the execution, its Tasks). */
  private async respondOnce(
    family: Family,
    harness: Harness,
  ): Promise<{ created: CreatedInstance; delivery: Delivery }> {
    const created = family.build();
    const event = harness.sim.scenario.findingFor(created.instanceId, { severity: 8 });
    const delivery = await deliverLikeLambda(harness, event);
    await harness.settle();
    return { created, delivery };
  }

  /** Calls of the row's action to let through before the fault: explicit, or counted in the reference run. */
  private async skipFor(row: StepFaultRow): Promise<number> {
    if (row.skip !== undefined) return row.skip;
    if (row.hits === undefined) return 0;
    const calls = (await this.reference(row.scenario)).filter((call) => call.action === row.action);
    const index = calls.findIndex((call) => row.hits!.test(JSON.stringify(call.params)));
    if (index < 0)
      throw new Error(`no fault-free ${row.scenario} response sends ${row.action} matching ${row.hits}`);
    return index;
  }

  /**
   * Sets the case's fault up. The responder's calls meet the simulator's fault or the proxy's lost answer. A Task's
   * call is Step Functions': its front-side faults are the simulator's too; its lost answer is made in the function
   * the Task invokes, since the proxy does not see that call: the pass runs to its end, then the state machine gets
   * no answer (Lambda.SdkClientException, as it reports a call that got none). Lost answers of Tasks are added to
   * `lostTasks`.
   */
  private injectFault(
    kind: FaultKindName,
    row: StepFaultRow,
    skip: number,
    harness: Harness,
    lostTasks: LostResponse[],
  ): void {
    const { sim } = harness;
    const fault = simulatorFault(kind, row);
    const simulate = (skipCalls: number) =>
      sim.faults.add({ service: row.service, action: row.action, skip: skipCalls, count: 1, fault: fault! });
    if (!isTaskCall(row)) {
      if (fault !== undefined) return simulate(skip);
      return this.proxy.loseResponses({ action: row.action, count: 1, skip });
    }
    if (row.task === undefined) {
      if (fault !== undefined) return simulate(skip);
      let calls = 0;
      harness.interceptTasks(async (payload, run) => {
        calls += 1;
        return calls === skip + 1 ? loseAnswer(payload, run) : run(payload);
      });
      return;
    }
    // The fault for the row's Task: its lost answer exactly; a front-side fault armed once every step it follows
    // has ended, so it meets the next call, the Task's own in a family where nothing else runs by then.
    const before = new Set(workflowDependencies()[row.task]);
    let fired = false;
    harness.interceptTasks(async (payload, run) => {
      const step = passOf(payload);
      if (fault === undefined && !fired && step === row.task) {
        fired = true;
        return loseAnswer(payload, run);
      }
      const answer = await run(payload);
      const status = (answer as Partial<StepTaskResult>).status;
      if (step !== undefined && status !== undefined && status !== "waiting")
        before.delete(step as WorkflowStep);
      if (fault !== undefined && !fired && before.size === 0) {
        fired = true;
        simulate(0);
      }
      return answer;
    });
    /** The pass runs to its end; then the state machine gets no answer, as from a call that got none. */
    async function loseAnswer(payload: unknown, run: (payload: unknown) => Promise<unknown>): Promise<never> {
      const answer = await run(payload);
      lostTasks.push({ action: row.action, request: JSON.stringify(payload), status: 200 });
      throw Object.assign(new Error(`the pass ran; its answer was lost: ${JSON.stringify(answer)}`), {
        name: "Lambda.SdkClientException",
      });
    }
  }

  /**
   * One case: the fault, the finding delivered as Lambda delivers it, then every invariant (throws if one fails).
   * `counted`: the row's skip as another lane counted it (else counted here, from a reference of this lane's).
   */
  async runCase(matrixCase: MatrixCase, counted?: number): Promise<void> {
    const row = STEP_FAULT_ROWS[matrixCase.row]!;
    const { kind } = matrixCase;
    const known = KNOWN_DEFECTS[`${row.action}/${kind}`];
    const family = this.families.get(row.scenario)!;
    const skip = counted ?? (await this.skipFor(row));
    const harness = await this.responderFor(family);
    const { sim, world } = harness;
    const { proxy } = this;
    sim.faults.clear();
    proxy.clear();
    const from = sim.calls.length;
    const lostBefore = proxy.lost.length;
    const lostTasks: LostResponse[] = [];
    this.injectFault(kind, row, skip, harness, lostTasks);

    const { created, delivery } = await this.respondOnce(family, harness).finally(() => {
      sim.faults.clear();
      proxy.clear();
      harness.interceptTasks(undefined);
    });

    expect(
      faultFired(kind, row, harness, [...proxy.lost.slice(lostBefore), ...lostTasks], from),
      "the fault reached the responder",
    ).to.equal(true);
    expect(delivery.deadLettered, `dead-lettered: ${delivery.errors.join("; ")}`).to.equal(false);
    if (!madeByTheFindingsInvocation(row)) {
      // After containment every fault is the state machine's to carry on: the finding is never delivered again.
      expect(delivery.attempts, "deliveries of the finding").to.equal(1);
    }
    const incident = await harness.record(created.instanceId);
    const history: readonly HistoryEvent[] =
      sim.stepFunctions.execution(incident?.execution?.arn ?? "")?.history ?? [];
    // A pass that outlives its Task's TimeoutSeconds (simulated) runs on beside its retry; in AWS the function's
    // own, shorter timeout ends it first. Here the function runs in wall time: too slow a machine for the scale.
    const limit = (
      history.find((event) => event.type === "TaskScheduled")?.taskScheduledEventDetails as
        { timeoutInSeconds?: number } | undefined
    )?.timeoutInSeconds;
    expect(
      history.filter((event) => event.type === "TaskTimedOut").length,
      `Tasks timed out: a pass ran over ${limit} simulated s, ${((limit ?? 0) * 1000) / this.timeScale} wall ms`,
    ).to.equal(0);
    await expectCorrectResponse(harness, created, {
      quarantineProfileArn: world.quarantineProfileArn,
      evidence: row.scenario === "snapshot copies" ? "copy" : "original",
      snapshotsPerVolume: known?.snapshotsPerVolume ?? 1,
    });

    if (row.task !== undefined) {
      // The fault surfaced in the state machine as the Task's failure (then its Retry), where the row says.
      const failed = history.findIndex((event) => event.type === "TaskFailed");
      expect(failed, "a Task failed (the fault)").to.be.at.least(0);
      expect(failedTaskStep(history, failed), "the failed Task's step").to.equal(row.task);
      expect(
        history.slice(0, failed).filter((event) => event.type === "WaitStateExited").length,
        "Wait states before the fault",
      ).to.be.at.least(row.afterWaits ?? 0);
    }
    if (family.waits !== undefined) {
      const { step, atLeast } = family.waits;
      const entered = history.filter(
        (event) =>
          event.type === "WaitStateEntered" &&
          (event.stateEnteredEventDetails as { name?: string } | undefined)?.name === stepStates(step).wait,
      );
      expect(entered.length, `${step} held in Wait states`).to.be.at.least(atLeast);
    }
  }
}

/**
 * As a child process: start a lane, then run each case the test sends and report it as it ends, until told to stop.
 * Cases come one at a time, so a lane that is done early takes over cases from slower ones.
 */
if (require.main === module) {
  const send = (message: LaneMessage) => process.send?.(message);
  let lane: FaultMatrixLane | undefined;
  const stop = async () => {
    await lane?.stop().catch(() => undefined);
    process.disconnect?.();
    process.exit(0);
  };
  send({ kind: "loaded" });
  let work = Promise.resolve();
  process.on("message", (message: LaneOrder) => {
    work = work.then(async () => {
      if (message.kind === "start") {
        try {
          lane = await FaultMatrixLane.start(message.timeScale, message.references);
          send({ kind: "started", mutatingCalls: lane.mutatingCalls(), skips: await lane.skips() });
        } catch (error) {
          send({
            kind: "failed",
            error: error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error),
          });
          await stop();
        }
      } else if (message.kind === "run") {
        const started = Date.now();
        const key = caseKey(message.case);
        try {
          await lane!.runCase(message.case, message.skip);
          send({ kind: "case", key, ms: Date.now() - started });
        } catch (error) {
          const text =
            error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : JSON.stringify(error);
          send({ kind: "case", key, error: text, ms: Date.now() - started });
        }
      } else {
        await stop();
      }
    });
  });
}
