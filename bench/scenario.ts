// The benchmark's workload and the responder's settings as the example stack deploys them (Pulumi.dev.yaml and
// the handler's defaults), with every duration divided by the time scale.
import type { CreatedInstance, StateDurations } from "../simulator";
import { scaledDurations } from "../handler/settings";
import { startHarness, type Harness } from "../testkit/harness";
import { TEST_ENV } from "../testkit/testSettings";
import { CALL_LATENCY_MS, REFERENCE_INSTANCE, isolationSetting } from "./model";

/** The handler's own defaults for every timing, in simulated seconds, converted to wall seconds. */
function deployedTimings(timeScale: number, overrides: Record<string, number> = {}): Record<string, string> {
  const simulated = Object.entries(overrides).map(([variable, seconds]) => [variable, String(seconds)]);
  return scaledDurations({ ...TEST_ENV, ...Object.fromEntries(simulated) }, timeScale);
}

/** Lambda's maximum timeout, the example stack's responderTimeoutSeconds. */
export const LAMBDA_TIMEOUT_MS = 900_000;

export interface BenchOptions {
  readonly timeScale: number;
  readonly durations: StateDurations;
  /** Extra handler settings (wall units where they are durations). */
  readonly settings?: Record<string, string>;
  /** Timings in simulated seconds that differ from the handler's defaults. */
  readonly timingOverrides?: Record<string, number>;
}

/** Pulumi.dev.yaml's snapshot lock: the as-found set counts as secured once its snapshots are locked too. */
export const SNAPSHOT_LOCK = "governance";

/** IAM evaluation over every simulator the bench started: requests evaluated and denied (any denial also fails). */
export const iamTotals = { evaluated: 0, denied: 0 };

/** A simulator with the latency model, a real DynamoDB-compatible table, and the responder as deployed. */
export async function startBench(options: BenchOptions): Promise<Harness> {
  const harness = await startHarness({
    timeScale: options.timeScale,
    simulator: { latency: { meanMs: CALL_LATENCY_MS, jitterMs: 0 }, durations: options.durations },
    // One invocation gets Lambda's 900 s, in wall time at this scale.
    invocationMs: LAMBDA_TIMEOUT_MS / options.timeScale,
    settings: {
      // Pulumi.dev.yaml: governance lock for 7 days, replacement launched by the responder.
      SNAPSHOT_LOCK,
      SNAPSHOT_LOCK_DAYS: "7",
      REPLACEMENT: "launch",
      // The stack's default (untrack hop); a run of the direct mode overrides it.
      ...isolationSetting(true),
      ...deployedTimings(options.timeScale, options.timingOverrides),
      ...options.settings,
    },
  });
  return {
    ...harness,
    async stop() {
      iamTotals.evaluated += harness.sim.iam.stats.evaluated;
      iamTotals.denied += harness.sim.iam.stats.denied;
      await harness.stop();
    },
  };
}

/** Runs `measure` on a fresh bench, stopped afterwards whatever happens. */
export async function withBench<T>(
  options: BenchOptions,
  measure: (harness: Harness) => Promise<T>,
): Promise<T> {
  const harness = await startBench(options);
  try {
    return await measure(harness);
  } finally {
    await harness.stop();
  }
}

export interface ReferenceWorkload {
  readonly created: CreatedInstance;
  readonly targetGroupArn: string;
}

/** What instances of one service share: the target group behind the load balancer and the launch template. */
export interface Fleet {
  readonly targetGroupArn: string;
  readonly template: { readonly launchTemplateId: string; readonly name: string };
}

export function webFleet(harness: Harness, name: string, imageId: string): Fleet {
  const { sim, world } = harness;
  return {
    targetGroupArn: sim.scenario.targetGroup({ name, vpcId: world.vpcId, port: 443, protocol: "HTTPS" }),
    template: sim.scenario.launchTemplate({
      name,
      imageId,
      instanceType: REFERENCE_INSTANCE.instanceType,
      securityGroupIds: [world.appGroup],
      instanceProfileArn: world.appProfile.arn,
    }),
  };
}

let serial = 0;

/**
 * The reference workload: a web server (m6i.large, 8 GiB root + 100 GiB data) launched from a launch template and
 * registered in a target group, so a replacement has something to restore. `kdumpReady` decides whether its
 * kernel writes a memory dump on NMI. Extra ENIs sit in a second subnet of the same AZ.
 */
export function referenceWorkload(
  harness: Harness,
  options: { kdumpReady: boolean; networkInterfaces?: number; fleet?: Fleet },
): ReferenceWorkload {
  const { sim, world } = harness;
  serial += 1;
  const name = `web-${serial}`;
  const imageId = options.kdumpReady ? world.kdumpImage : world.plainImage;
  const { targetGroupArn, template } = options.fleet ?? webFleet(harness, name, imageId);
  const created = sim.scenario.instance({
    instanceType: REFERENCE_INSTANCE.instanceType,
    subnetId: world.subnetA,
    imageId,
    securityGroupIds: [world.appGroup],
    instanceProfile: world.appProfile.arn,
    targetGroupArns: [targetGroupArn],
    rootVolume: { sizeGiB: REFERENCE_INSTANCE.rootGiB },
    dataVolumes: [{ sizeGiB: REFERENCE_INSTANCE.dataGiB }],
    extraNetworkInterfaces: Array.from({ length: (options.networkInterfaces ?? 1) - 1 }, () => ({
      subnetId: world.subnetA2,
      securityGroupIds: [world.appGroup],
    })),
    tags: {
      Name: name,
      "aws:ec2launchtemplate:id": template.launchTemplateId,
      "aws:ec2launchtemplate:version": "1",
    },
  });
  return { created, targetGroupArn };
}
