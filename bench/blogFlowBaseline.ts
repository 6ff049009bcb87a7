// The BASELINE: the automated EC2 response of the AWS Security Blog post "How to automate incident response in
// the AWS Cloud for EC2 instances", followed literally and serially, as its Lambda does it with boto3: isolate by
// replacing the instance's security groups (ModifyInstanceAttribute Groups), send the diagnostic interrupt, sleep a
// fixed 30 s, stop and wait (boto3's instance_stopped waiter: a describe every 15 s), snapshot each volume one
// after the other, detach them, launch the forensic instance and wait (instance_running waiter, every 15 s), then
// attach the first volume. Where the post is silent it is given the benefit of the doubt: it does not wait for
// snapshots or detaches to complete.
import { EC2, type Instance } from "@aws-sdk/client-ec2";

import type { Simulator } from "../simulator";

/** boto3's EC2 waiters poll every 15 s (instance_running, instance_stopped). */
const BOTO3_WAITER_DELAY_MS = 15_000;
/** The post's fixed pause after the NMI, meant for the memory capture. */
const BLOG_FIXED_SLEEP_MS = 30_000;

export interface BlogFlowTarget {
  readonly instanceId: string;
  readonly isolationGroupId: string;
  readonly forensicAmiId: string;
  readonly forensicInstanceType: string;
  readonly forensicSubnetId: string;
  readonly forensicInstanceProfileArn: string;
}

/** Simulated epoch ms when each stage of the flow was reached. */
export interface BlogFlowTimeline {
  start: number;
  isolated?: number;
  evidenceSecured?: number;
  forensicInstanceId?: string;
  workstationReady?: number;
  complete?: number;
}

export class BlogFlowResponder {
  private readonly ec2: EC2;

  constructor(private readonly sim: Simulator) {
    // The SDK's default (standard) retries, as the post's Lambda gets them; the simulator's endpoint explicitly.
    this.ec2 = new EC2({
      endpoint: sim.endpoint,
      region: sim.region,
      // The post gives its Lambda broad EC2 rights: the simulator's administrator credentials stand for them.
      credentials: {
        accessKeyId: sim.env().AWS_ACCESS_KEY_ID ?? "",
        secretAccessKey: sim.env().AWS_SECRET_ACCESS_KEY ?? "",
      },
    });
  }

  destroy(): void {
    this.ec2.destroy();
  }

  /** Only the first step: the containment of the flow. */
  async isolate(target: BlogFlowTarget, timeline: BlogFlowTimeline): Promise<void> {
    await this.ec2.modifyInstanceAttribute({
      InstanceId: target.instanceId,
      Groups: [target.isolationGroupId],
    });
    timeline.isolated = this.sim.now();
  }

  /** The whole flow, serially. */
  async respond(target: BlogFlowTarget): Promise<BlogFlowTimeline> {
    const timeline: BlogFlowTimeline = { start: this.sim.now() };
    const { ec2, sim } = this;
    const InstanceId = target.instanceId;
    await this.isolate(target, timeline);
    // Termination protection, as the post sets it while isolating.
    await ec2.modifyInstanceAttribute({ InstanceId, DisableApiTermination: { Value: true } });
    await ec2.sendDiagnosticInterrupt({ InstanceId });
    await sim.sleep(BLOG_FIXED_SLEEP_MS);
    await ec2.stopInstances({ InstanceIds: [InstanceId] });
    await this.waitFor(InstanceId, "stopped");

    const described = await this.describe(InstanceId);
    const volumes = (described?.BlockDeviceMappings ?? []).flatMap((mapping) =>
      mapping.Ebs?.VolumeId ? [{ volumeId: mapping.Ebs.VolumeId, device: mapping.DeviceName }] : [],
    );
    const rootDevice = described?.RootDeviceName;
    for (const volume of volumes) {
      // One volume per request (the post calls create_snapshot per volume; the simulator offers CreateSnapshots,
      // restricted here to that one volume: the same request count and latency).
      await ec2.createSnapshots({
        InstanceSpecification: {
          InstanceId,
          ExcludeBootVolume: volume.device !== rootDevice,
          ExcludeDataVolumeIds: volumes
            .filter((other) => other.volumeId !== volume.volumeId && other.device !== rootDevice)
            .map((other) => other.volumeId),
        },
        Description: `Forensic snapshot of ${volume.volumeId}`,
      });
    }
    timeline.evidenceSecured = sim.now();
    for (const volume of volumes) await ec2.detachVolume({ VolumeId: volume.volumeId, InstanceId });

    const launched = await ec2.runInstances({
      ImageId: target.forensicAmiId,
      InstanceType: target.forensicInstanceType as never,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: target.forensicSubnetId,
      IamInstanceProfile: { Arn: target.forensicInstanceProfileArn },
    });
    const forensicId = launched.Instances?.[0]?.InstanceId;
    if (forensicId === undefined) throw new Error("baseline: RunInstances returned no instance");
    timeline.forensicInstanceId = forensicId;
    await this.waitFor(forensicId, "running");
    const first = volumes[0];
    if (first !== undefined) {
      await ec2.attachVolume({ VolumeId: first.volumeId, InstanceId: forensicId, Device: "/dev/sdf" });
      timeline.workstationReady = sim.now();
    }
    timeline.complete = sim.now();
    return timeline;
  }

  private async describe(instanceId: string): Promise<Instance | undefined> {
    const answer = await this.ec2.describeInstances({ InstanceIds: [instanceId] });
    return answer.Reservations?.[0]?.Instances?.[0];
  }

  /** boto3's waiter: describe, and if not there yet, sleep 15 s and describe again (at most 40 times). */
  private async waitFor(instanceId: string, state: "stopped" | "running"): Promise<void> {
    for (let attempt = 0; attempt < 40; attempt += 1) {
      if ((await this.describe(instanceId))?.State?.Name === state) return;
      await this.sim.sleep(BOTO3_WAITER_DELAY_MS);
    }
    throw new Error(`baseline: ${instanceId} never reached ${state}`);
  }
}
