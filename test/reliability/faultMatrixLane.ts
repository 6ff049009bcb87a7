// One lane of the fault matrix: its own simulator (behind the response-losing proxy), incident table and
// responders, running the (row, fault kind) cases it is given one after the other. faultMatrix.test.ts starts a few
// lanes as child processes and runs them side by side: a case spends most of its wall time waiting (SDK back-off,
// Lambda's retry delay), so lanes cut the matrix's wall time without changing what a case does.
import { expect } from "chai";

import type {
  CallRecord,
  CreatedInstance,
  FaultKind as SimulatorFault,
  Simulator,
} from "../../drill/simulator";
import { FUNCTION_NAME, startHarness, stopDynamo, type Harness } from "../handler/harness";
import { STEP_FAULT_ROWS, type ScenarioName, type StepFaultRow } from "./faultMatrix.rows";
import { expectCorrectResponse, isReadOnlyAction } from "./support/invariants";
import { deliverContinuationsLikeLambda, deliverLikeLambda, type Delivery } from "./support/lambdaDelivery";
import { ResponseLosingProxy, type LostResponse } from "./support/responseLosingProxy";

/** Simulated ms per wall ms: a response takes well under a second of wall time. */
const TIME_SCALE = 500;

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

/** The kinds of fault, each as it reaches the responder. */
export const FAULT_KINDS = ["throttling", "server error", "timeout", "response lost", "AWS error"] as const;
export type FaultKindName = (typeof FAULT_KINDS)[number];

/** The simulator fault (or the proxy rule) of a kind for a row, letting `skip` calls of the action through. */
function injectFault(
  kind: FaultKindName,
  row: StepFaultRow,
  skip: number,
  sim: Simulator,
  proxy: ResponseLosingProxy,
): void {
  const on = { service: row.service, action: row.action, skip };
  const simulate = (fault: SimulatorFault, count: number) => sim.faults.add({ ...on, fault, count });
  switch (kind) {
    case "throttling":
      // The service's own throttling answer: the SDK backs off and retries.
      return simulate({ type: "throttle" }, 1);
    case "server error":
      return simulate({ type: "internalError" }, 1);
    case "timeout":
      // The request hangs and the connection drops before AWS executed it.
      return simulate({ type: "timeout", holdMs: 100 }, 1);
    case "response lost":
      // AWS executed the request; its answer never arrives (the other half of a timeout).
      return proxy.loseResponses({ action: row.action, count: 1, skip });
    case "AWS error":
      return simulate({ type: "error", code: row.awsError.code, httpStatus: row.awsError.httpStatus }, 1);
  }
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
  /** Extra invocations the scenario needs after the finding's delivery (snapshot completion, continuations). */
  readonly finish: (harness: Harness, created: CreatedInstance, first: Delivery) => Promise<void>;
  /** Wall ms the finding's invocation gets (default: the harness's). */
  readonly firstInvocationMs?: number;
}

/**
 * KNOWN DEFECTS in handler/: combinations where the response is wrong today. Each entry makes its row assert the
 * CURRENT behaviour, so the suite stays green and the row fails the day the defect is fixed (delete the entry
 * then). Reported in bench/README.md and to the handler's owner.
 */
export const KNOWN_DEFECTS: Readonly<
  Record<string, { readonly defect: string; readonly snapshotsPerVolume: number }>
> = {};

/** A case: one row of the table crossed with one kind of fault. */
export interface MatrixCase {
  readonly row: number;
  readonly kind: FaultKindName;
}

export function caseKey(matrixCase: MatrixCase): string {
  return `${matrixCase.row}/${matrixCase.kind}`;
}

/** What a lane reports: each case as it ends, and the mutating calls of its fault-free reference responses. */
export type LaneMessage =
  | { readonly kind: "started"; readonly mutatingCalls: Readonly<Record<string, readonly string[]>> }
  | { readonly kind: "case"; readonly key: string; readonly error?: string; readonly ms: number }
  | { readonly kind: "failed"; readonly error: string };

export class FaultMatrixLane {
  private readonly families = new Map<ScenarioName, Family>();
  /** The calls of one fault-free response per scenario: what `hits` rows count their skip from. */
  private readonly references = new Map<ScenarioName, readonly CallRecord[]>();
  private readonly continuationsOf = new Map<Harness, { settled(): Promise<void> }>();

  private constructor(
    private readonly proxy: ResponseLosingProxy,
    private readonly base: Harness,
  ) {}

  static async start(): Promise<FaultMatrixLane> {
    const proxy = await ResponseLosingProxy.start();
    // One simulator for every scenario, and every responder talks to it through the proxy: the SDK reads
    // AWS_ENDPOINT_URL lazily and process-wide, so responders built for different endpoints must not coexist.
    const base = await startHarness({
      timeScale: TIME_SCALE,
      simulator: { durations: SHORT_DURATIONS },
      // Waits poll every 5 simulated seconds instead of 2: fewer calls per response, same decisions.
      settings: { AWS_ENDPOINT_URL: proxy.endpoint, POLL_INTERVAL_SECONDS: String(5 / TIME_SCALE) },
    });
    proxy.target = base.sim.endpoint;
    const lane = new FaultMatrixLane(proxy, base);
    lane.defineFamilies();
    await lane.takeReferences();
    return lane;
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
    const plain = (imageId: string, subnetId = world.subnetA) =>
      sim.scenario.instance({
        instanceType: "t3.small",
        subnetId,
        imageId,
        instanceProfile: world.appProfile.arn,
        dataVolumes: [{ sizeGiB: 4 }],
      });
    const unknownVpc = (): CreatedInstance => {
      // A fresh VPC per row: the on-demand groups are created anew each time.
      const vpc = sim.scenario.vpc({
        cidrBlock: `10.${100 + (next() % 100)}.0.0/16`,
        subnets: [{ availabilityZone: `${sim.region}a` }],
      });
      return plain(world.kdumpImage, vpc.subnets[0]!.subnetId);
    };

    const nothingMore = () => Promise.resolve();
    families.set("web tier", { settings: {}, build: webTier, finish: nothingMore });
    families.set("standalone", { settings: {}, build: standalone, finish: nothingMore });
    families.set("no kdump", { settings: {}, build: () => plain(world.plainImage), finish: nothingMore });
    families.set("unknown VPC", { settings: {}, build: unknownVpc, finish: nothingMore });
    families.set("snapshot copies", {
      settings: { ATTACH_SNAPSHOT_COPIES: "true", SNAPSHOT_WAIT_SECONDS: String(2 / TIME_SCALE) },
      build: () => plain(world.kdumpImage),
      finish: async (harness, created, first) => {
        // Snapshots done by the time the response came to rest: it continued in a fresh invocation itself.
        await this.continuationsOf.get(harness)?.settled();
        if (first.outcome?.outcome !== "waiting-for-snapshots") return;
        // EBS sends its completion event once the snapshots are done; Lambda delivers it like any event.
        await sim.sleep(SHORT_DURATIONS.snapshotBaseMs + 10 * SHORT_DURATIONS.snapshotPerGiBMs);
        const resting = await harness.record(created.instanceId);
        const completion = sim.scenario.snapshotsCompletedEvent(
          created.instanceId,
          resting?.facts.snapshots ?? [],
        );
        const delivery = await deliverLikeLambda(harness, completion);
        expect(delivery.deadLettered, `completion event: ${delivery.errors.join("; ")}`).to.equal(false);
      },
    });
    // The finding's invocation gets a short Lambda deadline, so the response continues in a fresh invocation;
    // continuations are delivered (and retried) as Lambda delivers them, with the full budget.
    families.set("continuation", {
      settings: { TIME_BUDGET_RESERVE_SECONDS: String(5 / TIME_SCALE) },
      build: () => plain(world.kdumpImage),
      // 200 ms, not more: on a quiet machine the whole (shortened) response fit in 300 ms, no continuation was
      // sent and the row's fault never fired (about one run in four).
      firstInvocationMs: 200,
      finish: async (harness) => {
        await this.continuationsOf.get(harness)?.settled();
      },
    });
  }

  private async takeReferences(): Promise<void> {
    const { sim } = this.base;
    for (const [name, family] of this.families) {
      const harness = await this.responderFor(family);
      const from = sim.calls.length;
      const { delivery } = await this.respondOnce(family, harness);
      if (delivery.deadLettered)
        throw new Error(`fault-free ${name} response failed: ${delivery.errors.join("; ")}`);
      this.references.set(name, sim.calls.slice(from));
    }
  }

  /** A fresh responder of the family (a cold Lambda environment: no client-side retry state carried over). */
  private async responderFor(family: Family): Promise<Harness> {
    const harness = await this.base.withSettings(family.settings);
    this.continuationsOf.set(harness, deliverContinuationsLikeLambda(harness, FUNCTION_NAME));
    return harness;
  }

  private async respondOnce(
    family: Family,
    harness: Harness,
  ): Promise<{ created: CreatedInstance; delivery: Delivery }> {
    const created = family.build();
    const event = harness.sim.scenario.findingFor(created.instanceId, { severity: 8 });
    const delivery = await deliverLikeLambda(harness, event, { invocationMs: family.firstInvocationMs });
    await family.finish(harness, created, delivery);
    return { created, delivery };
  }

  /** Calls of the row's action to let through before the fault: explicit, or counted in the reference run. */
  private skipFor(row: StepFaultRow): number {
    if (row.skip !== undefined) return row.skip;
    if (row.hits === undefined) return 0;
    const calls = (this.references.get(row.scenario) ?? []).filter((call) => call.action === row.action);
    const index = calls.findIndex((call) => row.hits!.test(JSON.stringify(call.params)));
    if (index < 0)
      throw new Error(`no fault-free ${row.scenario} response sends ${row.action} matching ${row.hits}`);
    return index;
  }

  /** One case: the fault, the finding delivered as Lambda delivers it, then every invariant (throws if one fails). */
  async runCase(matrixCase: MatrixCase): Promise<void> {
    const row = STEP_FAULT_ROWS[matrixCase.row]!;
    const { kind } = matrixCase;
    const known = KNOWN_DEFECTS[`${row.action}/${kind}`];
    const family = this.families.get(row.scenario)!;
    const harness = await this.responderFor(family);
    const { sim, world } = harness;
    const { proxy } = this;
    sim.faults.clear();
    proxy.clear();
    const from = sim.calls.length;
    const lostBefore = proxy.lost.length;
    injectFault(kind, row, this.skipFor(row), sim, proxy);

    const { created, delivery } = await this.respondOnce(family, harness);
    sim.faults.clear();
    proxy.clear();

    expect(
      faultFired(kind, row, harness, proxy.lost.slice(lostBefore), from),
      "the fault reached the responder",
    ).to.equal(true);
    expect(delivery.deadLettered, `dead-lettered: ${delivery.errors.join("; ")}`).to.equal(false);
    await expectCorrectResponse(harness, created, {
      quarantineProfileArn: world.quarantineProfileArn,
      evidence: row.scenario === "snapshot copies" ? "copy" : "original",
      snapshotsPerVolume: known?.snapshotsPerVolume ?? 1,
    });
  }
}

/** As a child process: start a lane, run the cases sent, report each as it ends. */
if (require.main === module) {
  const send = (message: LaneMessage) => process.send?.(message);
  process.once("message", (cases: readonly MatrixCase[]) => {
    void (async () => {
      let lane: FaultMatrixLane | undefined;
      try {
        lane = await FaultMatrixLane.start();
        send({ kind: "started", mutatingCalls: lane.mutatingCalls() });
        for (const matrixCase of cases) {
          const started = Date.now();
          try {
            await lane.runCase(matrixCase);
            send({ kind: "case", key: caseKey(matrixCase), ms: Date.now() - started });
          } catch (error) {
            const text =
              error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : JSON.stringify(error);
            send({ kind: "case", key: caseKey(matrixCase), error: text, ms: Date.now() - started });
          }
        }
      } catch (error) {
        send({
          kind: "failed",
          error: error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error),
        });
      } finally {
        await lane?.stop().catch(() => undefined);
        process.disconnect?.();
        process.exit(0);
      }
    })();
  });
}
