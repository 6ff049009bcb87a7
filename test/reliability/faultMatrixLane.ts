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

import type { CallRecord, CreatedInstance } from "../../simulator";
import type { HistoryEvent } from "../../simulator/stepFunctions/history";
import { stepStates } from "../../infra/workflowDefinition";
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";
import {
  KNOWN_DEFECTS,
  STEP_FAULT_ROWS,
  caseKey,
  type LaneMessage,
  type LaneOrder,
  type MatrixCase,
  type ScenarioName,
  type StepFaultRow,
} from "./faultMatrix.rows";
import { SHORT_DURATIONS, scenarioFamilies, type Family } from "./faultMatrix.families";
import { failedTaskStep, faultFired, injectFault, madeByTheFindingsInvocation } from "./faultMatrix.faults";
import { expectCorrectResponse, isReadOnlyAction } from "./support/invariants";
import { deliverLikeLambda, type Delivery } from "../../testkit/lambdaDelivery";
import { ResponseLosingProxy, type LostResponse } from "./support/responseLosingProxy";

export class FaultMatrixLane {
  /** The calls of one fault-free response per scenario: what `hits` rows count their skip from. */
  private readonly references = new Map<ScenarioName, readonly CallRecord[]>();

  private constructor(
    private readonly proxy: ResponseLosingProxy,
    private readonly base: Harness,
    private readonly timeScale: number,
    private readonly families: ReadonlyMap<ScenarioName, Family>,
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
    const lane = new FaultMatrixLane(proxy, base, timeScale, scenarioFamilies(base, timeScale));
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
    const deniedBefore = sim.iam.stats.denials.length;
    const lostBefore = proxy.lost.length;
    const lostTasks: LostResponse[] = [];
    injectFault(proxy, kind, row, skip, harness, lostTasks);

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
    // A response must pass IAM as AWS evaluates it, faults or not (the lane's harness is stopped only at the end).
    const denials = sim.iam.stats.denials.slice(deniedBefore);
    expect(
      denials.map((d) => `${d.check.action} on ${d.check.resource}`),
      "requests IAM denied",
    ).to.deep.equal([]);
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
