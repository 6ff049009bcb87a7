// The fault matrix's scenarios: each a family of instances its lane builds afresh for every row (a fresh
// responder each, like a fresh Lambda environment), and the state durations the lanes' simulators run with.
import type { CreatedInstance } from "../../simulator";
import type { WorkflowStep } from "../../handler/workflow";
import type { Harness } from "../../testkit/harness";
import type { ScenarioName } from "./faultMatrix.rows";

/**
 * Wait states the "long waits" family must show for captureMemory (its row's fault comes after them). About 20 on
 * a quiet machine; each pass costs simulated time in proportion to the machine's load, and CI under load saw 5.
 * Three still means "a wait of several looks", which is what the family is for.
 */
const LONG_WAITS_AT_LEAST = 3;

/**
 * State durations shortened (simulated ms) so a row costs little wall time; their order of magnitude is kept:
 * kdump and stop take seconds, snapshots longer than the stop.
 */
export const SHORT_DURATIONS = {
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

export interface Family {
  /** Settings of the family's responder (a fresh one per row: like a fresh Lambda environment). */
  readonly settings: Record<string, string>;
  readonly build: () => CreatedInstance;
  /** A step the state machine must hold in Wait states at least this often: what the family is for. */
  readonly waits?: { readonly step: WorkflowStep; readonly atLeast: number };
}

/** The scenarios' families, whose instances are built in the lane's simulator (`base`) at its time scale. */
export function scenarioFamilies(base: Harness, timeScale: number): Map<ScenarioName, Family> {
  const families = new Map<ScenarioName, Family>();
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
  const snapshotGiB = Math.ceil((0.25 * timeScale) / (SHORT_DURATIONS.snapshotPerGiBMs / 1000));
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
  return families;
}
