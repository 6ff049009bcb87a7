// Lifecycle behaviour the responder depends on: transitions on the simulated clock, kdump after an NMI,
// shutdown behaviour, Auto Scaling replacement, instances that cannot be stopped, and the SDK's own waiters.
import * as asg from "@aws-sdk/client-auto-scaling";
import * as ec2 from "@aws-sdk/client-ec2";
import { expect } from "chai";
import type { Simulator } from "../../simulator";
import { errorCodeOf, eventually, startTarget, type Target } from "./support";

describe("simulator behaviour", function () {
  let t: Target;
  let sim: Simulator;
  let subnetId: string;

  beforeEach(async function () {
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip(); // these read the simulator's own state
    t = await startTarget();
    if (!t.sim) throw new Error("unreachable");
    sim = t.sim;
    subnetId = sim.scenario.vpc().subnets[0]?.subnetId ?? "";
  });
  afterEach(async function () {
    await t?.stop();
  });

  const stateOf = (instanceId: string) => sim.state.instance(instanceId)?.state;

  it("moves pending -> running and stopping -> stopped after the configured simulated durations", async function () {
    const imageId = sim.scenario.image();
    const run = await t.ec2.send(
      new ec2.RunInstancesCommand({
        ImageId: imageId,
        InstanceType: "m6i.large",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId ?? "";
    sim.advance(sim.durations.instancePendingMs - 1);
    expect(stateOf(instanceId)).to.equal("pending");
    sim.advance(1);
    expect(stateOf(instanceId)).to.equal("running");
    await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
    sim.advance(sim.durations.instanceStoppingMs - 1);
    expect(stateOf(instanceId)).to.equal("stopping");
    sim.advance(1);
    expect(stateOf(instanceId)).to.equal("stopped");
  });

  it("runs simulated time faster than wall time with the time scale, and reports simulated timestamps", async function () {
    const fast = await startTarget({ timeScale: 600, durations: { instanceStoppingMs: 60_000 } });
    try {
      const fastSim = fast.sim;
      if (!fastSim) throw new Error("unreachable");
      const { instanceId } = fastSim.scenario.instance({
        subnetId: fastSim.scenario.vpc().subnets[0]?.subnetId ?? "",
      });
      const wallStart = Date.now();
      await fast.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
      // One simulated minute at x600 is 100 ms of wall time.
      await eventually(() => fastSim.state.instance(instanceId)?.state === "stopped");
      expect(Date.now() - wallStart).to.be.lessThan(10_000);
      const stopCall = fastSim.calls.find((c) => c.action === "StopInstances");
      expect(stopCall?.simEnd).to.be.at.least(stopCall?.simStart ?? Infinity);
      expect(fastSim.now() - (stopCall?.simStart ?? 0)).to.be.at.least(60_000);
    } finally {
      await fast.stop();
    }
  });

  it("kdump: the NMI on a kdump-ready instance dumps for a time proportional to memory, then the instance powers off", async function () {
    const { instanceId } = sim.scenario.instance({ subnetId, instanceType: "r6i.large", kdumpReady: true });
    await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: instanceId }));
    const dumpMs = sim.durations.kdumpBaseMs + 16 * sim.durations.kdumpPerGiBMs; // r6i.large: 16 GiB
    expect(sim.state.instance(instanceId)?.dumpInProgressUntil).to.equal(sim.now() + dumpMs);
    sim.advance(dumpMs - 1);
    expect(stateOf(instanceId)).to.equal("running");
    sim.advance(1 + sim.durations.guestPowerOffMs);
    expect(stateOf(instanceId)).to.equal("stopping");
    expect(sim.state.instance(instanceId)?.stateReason?.code).to.equal("Client.InstanceInitiatedShutdown");
    sim.advance(sim.durations.instanceStoppingMs);
    expect(stateOf(instanceId)).to.equal("stopped");
    expect(sim.state.instance(instanceId)?.memoryDumps).to.have.length(1);
    const console = await t.ec2.send(new ec2.GetConsoleOutputCommand({ InstanceId: instanceId }));
    expect(Buffer.from(console.Output ?? "", "base64").toString()).to.contain("saved vmcore");
  });

  it("kdump's default duration is the physical model: capture boot, then per GiB a scan and the kept pages written at gp3's 125 MiB/s", async function () {
    const { instanceId } = sim.scenario.instance({ subnetId, instanceType: "r6i.large", kdumpReady: true });
    await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: instanceId }));
    // 10 s boot + 16 GiB x (20 ms scan + 0.5 x 1024 MiB / 125 MiB/s) = 75.856 s (the former assumption: 180 s).
    expect(sim.state.instance(instanceId)?.dumpInProgressUntil).to.equal(sim.now() + 75_856);
    sim.advance(75_856);
    // Half of the 16 GiB written (KDUMP_MODEL.writtenFraction).
    expect(sim.state.instance(instanceId)?.memoryDumps.map((dump) => dump.sizeMiB)).to.deep.equal([8192]);
  });

  it("kdump readiness also comes from the AMI tag; a non-ready instance ignores the NMI", async function () {
    const readyImage = sim.scenario.image({ kdumpReady: true });
    const ready = sim.scenario.instance({ subnetId, imageId: readyImage });
    const plain = sim.scenario.instance({ subnetId });
    await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: ready.instanceId }));
    await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: plain.instanceId }));
    sim.advance(3_600_000);
    expect(stateOf(ready.instanceId)).to.equal("stopped");
    expect(stateOf(plain.instanceId)).to.equal("running");
    expect(sim.state.instance(plain.instanceId)?.consoleOutput).to.contain("NMI received for unknown reason");
  });

  it("rejects the NMI on A1 and on Xen instances (every other Nitro type, Graviton included, takes it)", async function () {
    const graviton = sim.scenario.instance({ subnetId, instanceType: "m7g.large", kdumpReady: true });
    const a1 = sim.scenario.instance({ subnetId, instanceType: "a1.large", kdumpReady: true });
    const xen = sim.scenario.instance({ subnetId, instanceType: "m4.large", kdumpReady: true });
    for (const { instanceId } of [a1, xen]) {
      expect(
        await errorCodeOf(t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: instanceId }))),
      ).to.equal("UnsupportedOperation");
    }
    await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: graviton.instanceId }));
    // Console screenshots are not offered on Graviton either.
    expect(
      await errorCodeOf(t.ec2.send(new ec2.GetConsoleScreenshotCommand({ InstanceId: graviton.instanceId }))),
    ).to.equal("UnsupportedOperation");
  });

  it("an OS power-off with shutdown behaviour 'terminate' terminates the instance and deletes DeleteOnTermination volumes", async function () {
    const { instanceId, volumeIds } = sim.scenario.instance({
      subnetId,
      kdumpReady: true,
      shutdownBehavior: "terminate",
      dataVolumes: [{ sizeGiB: 10, deleteOnTermination: true }, { sizeGiB: 10 }],
    });
    await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: instanceId }));
    sim.advance(3_600_000);
    expect(stateOf(instanceId)).to.equal("terminated");
    const [root, doomed, kept] = volumeIds;
    expect(sim.state.volume(root ?? "")).to.equal(undefined);
    expect(sim.state.volume(doomed ?? "")).to.equal(undefined);
    expect(sim.state.volume(kept ?? "")?.state).to.equal("available");
    expect(
      await errorCodeOf(t.ec2.send(new ec2.DescribeVolumesCommand({ VolumeIds: [doomed ?? ""] }))),
    ).to.equal("InvalidVolume.NotFound");
  });

  it("the responder's fix (shutdown behaviour stop, DeleteOnTermination false) keeps instance and volumes", async function () {
    const { instanceId, volumeIds } = sim.scenario.instance({
      subnetId,
      kdumpReady: true,
      shutdownBehavior: "terminate",
    });
    await t.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        InstanceInitiatedShutdownBehavior: { Value: "stop" },
      }),
    );
    await t.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { DeleteOnTermination: false } }],
      }),
    );
    await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: instanceId }));
    sim.advance(3_600_000);
    expect(stateOf(instanceId)).to.equal("stopped");
    expect(sim.state.volume(volumeIds[0] ?? "")?.attachment?.deleteOnTermination).to.equal(false);
  });

  describe("Auto Scaling", function () {
    function groupedInstance() {
      const imageId = sim.scenario.image();
      sim.scenario.launchTemplate({ name: "web-lt", imageId, instanceType: "m6i.large" });
      const targetGroupArn = sim.scenario.targetGroup({
        name: "web",
        vpcId: sim.state.vpcs()[0]?.vpcId ?? "",
      });
      sim.scenario.autoScalingGroup({
        name: "web-asg",
        launchTemplate: "web-lt",
        subnetIds: [subnetId],
        targetGroupArns: [targetGroupArn],
      });
      return sim.scenario.instance({
        subnetId,
        imageId,
        autoScalingGroup: "web-asg",
        dataVolumes: [{ sizeGiB: 10, deleteOnTermination: true }],
      });
    }

    it("a stopped member that was not detached is found unhealthy, terminated (DOT volumes lost) and replaced", async function () {
      const { instanceId, volumeIds } = groupedInstance();
      await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
      sim.advance(sim.durations.instanceStoppingMs);
      expect(stateOf(instanceId)).to.equal("stopped");
      // Found unhealthy one health-check period after it stopped running (the check counts from "stopping").
      sim.advance(sim.durations.asgHealthCheckMs - sim.durations.instanceStoppingMs);
      expect(stateOf(instanceId)).to.equal("shutting-down");
      sim.advance(sim.durations.instanceShuttingDownMs + sim.durations.instancePendingMs);
      expect(stateOf(instanceId)).to.equal("terminated");
      expect(
        sim.state
          .autoScalingGroup("web-asg")
          ?.activities.map((a) => a.description)
          .join("\n"),
      ).to.contain(`Terminating EC2 instance: ${instanceId}`);
      expect(sim.state.volume(volumeIds[1] ?? "")).to.equal(undefined);
      const group = sim.state.autoScalingGroup("web-asg");
      expect(group?.members).to.have.length(1);
      expect(group?.members[0]?.instanceId).to.not.equal(instanceId);
      expect(stateOf(group?.members[0]?.instanceId ?? "")).to.equal("running");
    });

    it("DetachInstances keeping capacity launches a replacement and leaves the detached instance alone", async function () {
      const { instanceId } = groupedInstance();
      await t.autoScaling.send(
        new asg.DetachInstancesCommand({
          AutoScalingGroupName: "web-asg",
          InstanceIds: [instanceId],
          ShouldDecrementDesiredCapacity: false,
        }),
      );
      await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
      sim.advance(3_600_000);
      expect(stateOf(instanceId)).to.equal("stopped");
      const group = sim.state.autoScalingGroup("web-asg");
      expect(group?.desiredCapacity).to.equal(1);
      expect(group?.members.map((m) => m.instanceId)).to.not.include(instanceId);
      expect(group?.members).to.have.length(1);
      // Detaching drained the instance from the group's target group.
      expect(sim.state.targetGroup("web")?.targets.map((x) => x.id)).to.not.include(instanceId);
    });

    it("DetachInstances with decrement shrinks the group and launches nothing", async function () {
      const { instanceId } = groupedInstance();
      sim.scenario.instance({
        subnetId,
        autoScalingGroup: "web-asg",
        imageId: sim.state.images()[0]?.imageId,
      });
      await t.autoScaling.send(
        new asg.DetachInstancesCommand({
          AutoScalingGroupName: "web-asg",
          InstanceIds: [instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      );
      const group = sim.state.autoScalingGroup("web-asg");
      expect(group?.desiredCapacity).to.equal(1);
      expect(group?.activities).to.have.length(0);
    });
  });

  it("refuses to stop instance-store-backed and one-time Spot instances (UnsupportedOperation); persistent Spot stops", async function () {
    const store = sim.scenario.instance({
      subnetId,
      instanceType: "i3.large",
      rootDeviceType: "instance-store",
    });
    const oneTime = sim.scenario.instance({ subnetId, market: "spot-one-time" });
    const persistent = sim.scenario.instance({ subnetId, market: "spot-persistent" });
    for (const { instanceId } of [store, oneTime]) {
      expect(
        await errorCodeOf(t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }))),
      ).to.equal("UnsupportedOperation");
      expect(stateOf(instanceId)).to.equal("running");
    }
    await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [persistent.instanceId] }));
    expect(stateOf(persistent.instanceId)).to.equal("stopping");
    const described = await t.ec2.send(
      new ec2.DescribeInstancesCommand({ InstanceIds: [oneTime.instanceId] }),
    );
    expect(described.Reservations?.[0]?.Instances?.[0]?.InstanceLifecycle).to.equal("spot");
  });

  it("RunInstances with the same ClientToken returns the same instance, never a duplicate", async function () {
    const imageId = sim.scenario.image();
    const request = {
      ImageId: imageId,
      InstanceType: "m6i.large" as const,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnetId,
      ClientToken: "tok-1",
    };
    const results = await Promise.all([1, 2, 3].map(() => t.ec2.send(new ec2.RunInstancesCommand(request))));
    const ids = new Set(results.map((r) => r.Instances?.[0]?.InstanceId));
    expect(ids.size).to.equal(1);
    expect(sim.state.instances().filter((i) => i.imageId === imageId)).to.have.length(1);
  });

  it("the SDK's waiters (waitUntilInstanceStopped, waitUntilInstanceRunning) work against it", async function () {
    const fast = await startTarget({ timeScale: 200 });
    try {
      const fastSim = fast.sim;
      if (!fastSim) throw new Error("unreachable");
      const { instanceId } = fastSim.scenario.instance({
        subnetId: fastSim.scenario.vpc().subnets[0]?.subnetId ?? "",
      });
      await fast.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }));
      const stopped = await ec2.waitUntilInstanceStopped(
        { client: fast.ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
        { InstanceIds: [instanceId] },
      );
      expect(stopped.state).to.equal("SUCCESS");
      const imageId = fastSim.scenario.image();
      const run = await fast.ec2.send(
        new ec2.RunInstancesCommand({
          ImageId: imageId,
          InstanceType: "t3.micro",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: fastSim.state.subnets()[0]?.subnetId,
        }),
      );
      const running = await ec2.waitUntilInstanceRunning(
        { client: fast.ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
        { InstanceIds: [run.Instances?.[0]?.InstanceId ?? ""] },
      );
      expect(running.state).to.equal("SUCCESS");
    } finally {
      await fast.stop();
    }
  });
});
