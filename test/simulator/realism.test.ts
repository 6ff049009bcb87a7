// Realism knobs: validation errors, EC2 throttling buckets, latency, eventual consistency, injected faults.
import * as ec2 from "@aws-sdk/client-ec2";
import * as sns from "@aws-sdk/client-sns";
import { expect } from "chai";
import type { Simulator } from "../../simulator";
import { categorize } from "../../simulator/throttling";
import { errorCodeOf, startTarget, type Target } from "./support";

/** The HTTP status of a rejected SDK call. */
async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
  throw new Error("expected the call to fail");
}

describe("simulator realism knobs", function () {
  let t: Target;
  let sim: Simulator;
  let subnetId: string;
  let instanceId: string;

  async function start(options: Parameters<typeof startTarget>[0] = {}, maxAttempts = 1): Promise<void> {
    await t?.stop();
    t = await startTarget(options, maxAttempts);
    if (!t.sim) throw new Error("unreachable");
    sim = t.sim;
    subnetId = sim.scenario.vpc().subnets[0]?.subnetId ?? "";
    instanceId = sim.scenario.instance({ subnetId, dataVolumes: [{ sizeGiB: 10 }] }).instanceId;
  }

  beforeEach(async function () {
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip();
    await start();
  });
  afterEach(async function () {
    await t?.stop();
  });

  describe("validation like AWS", function () {
    it("MissingParameter, Malformed and NotFound ids, IncorrectInstanceState, DryRunOperation", async function () {
      expect(
        await errorCodeOf(t.ec2.send(new ec2.StopInstancesCommand({} as ec2.StopInstancesRequest))),
      ).to.equal("MissingParameter");
      expect(
        await errorCodeOf(t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: ["i-xyz"] }))),
      ).to.equal("InvalidInstanceID.Malformed");
      expect(
        await errorCodeOf(t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] }))),
      ).to.equal("InvalidInstanceID.NotFound");
      expect(
        await statusOf(t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId], DryRun: true }))),
      ).to.equal(412);
      expect(
        await errorCodeOf(
          t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId], DryRun: true })),
        ),
      ).to.equal("DryRunOperation");
      expect(sim.state.instance(instanceId)?.state).to.equal("running");
      await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId], Force: true }));
      sim.advance(sim.durations.instanceForceStoppingMs);
      expect(
        await errorCodeOf(t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: instanceId }))),
      ).to.equal("IncorrectInstanceState");
      expect(
        await errorCodeOf(
          t.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: ["sg-0123456789abcdef0"] })),
        ),
      ).to.equal("InvalidGroup.NotFound");
    });

    it("ModifyInstanceAttribute changes one attribute per call", async function () {
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.ModifyInstanceAttributeCommand({
              InstanceId: instanceId,
              DisableApiTermination: { Value: true },
              InstanceInitiatedShutdownBehavior: { Value: "stop" },
            }),
          ),
        ),
      ).to.equal("InvalidParameterCombination");
      expect(
        await errorCodeOf(t.ec2.send(new ec2.ModifyInstanceAttributeCommand({ InstanceId: instanceId }))),
      ).to.equal("MissingParameter");
    });

    it("VolumeInUse, InvalidVolume.ZoneMismatch, a device name already in use", async function () {
      const volumeId = sim.state.instance(instanceId)?.blockDevices[1]?.volumeId ?? "";
      const other = sim.scenario.instance({ subnetId });
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.AttachVolumeCommand({
              VolumeId: volumeId,
              InstanceId: other.instanceId,
              Device: "/dev/sdh",
            }),
          ),
        ),
      ).to.equal("VolumeInUse");
      const vpcB = sim.scenario.vpc({ subnets: [{ availabilityZone: `${sim.region}b` }] });
      const far = sim.scenario.instance({ subnetId: vpcB.subnets[0]?.subnetId ?? "" });
      const loose = await t.ec2.send(
        new ec2.CreateVolumeCommand({ AvailabilityZone: `${sim.region}a`, Size: 5 }),
      );
      sim.advance(sim.durations.volumeCreateMs);
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.AttachVolumeCommand({
              VolumeId: loose.VolumeId,
              InstanceId: far.instanceId,
              Device: "/dev/sdh",
            }),
          ),
        ),
      ).to.equal("InvalidVolume.ZoneMismatch");
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.AttachVolumeCommand({
              VolumeId: loose.VolumeId,
              InstanceId: instanceId,
              Device: "/dev/sdf",
            }),
          ),
        ),
      ).to.equal("InvalidParameterValue");
    });
  });

  describe("EC2 request throttling (documented token buckets)", function () {
    it("answers 503 RequestLimitExceeded after the unfiltered DescribeInstances burst of 50, then refills 10/s", async function () {
      for (let i = 0; i < 50; i++) await t.ec2.send(new ec2.DescribeInstancesCommand({}));
      const throttled = t.ec2.send(new ec2.DescribeInstancesCommand({}));
      expect(await statusOf(throttled)).to.equal(503);
      expect(await errorCodeOf(t.ec2.send(new ec2.DescribeInstancesCommand({})))).to.equal(
        "RequestLimitExceeded",
      );
      // Filtered calls draw from the larger non-mutating bucket (100), untouched so far.
      await t.ec2.send(
        new ec2.DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["running"] }] }),
      );
      sim.advance(1_000);
      for (let i = 0; i < 10; i++) await t.ec2.send(new ec2.DescribeInstancesCommand({}));
      expect(await errorCodeOf(t.ec2.send(new ec2.DescribeInstancesCommand({})))).to.equal(
        "RequestLimitExceeded",
      );
    });

    it("RunInstances has its own request bucket (5, refill 2/s); StopInstances a resource bucket per instance", async function () {
      const imageId = sim.scenario.image();
      const run = () =>
        t.ec2.send(
          new ec2.RunInstancesCommand({
            ImageId: imageId,
            InstanceType: "t3.micro",
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
          }),
        );
      for (let i = 0; i < 5; i++) await run();
      expect(await errorCodeOf(run())).to.equal("RequestLimitExceeded");
      sim.advance(500); // one token back
      await run();
      await start({ throttling: { resources: { StopInstances: { capacity: 2, refillPerSecond: 1 } } } });
      const more = [
        sim.scenario.instance({ subnetId }).instanceId,
        sim.scenario.instance({ subnetId }).instanceId,
      ];
      expect(
        await errorCodeOf(t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId, ...more] }))),
      ).to.equal("RequestLimitExceeded");
      await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: more }));
    });

    it("ModifyInstanceAttribute (Groups) draws from the mutating bucket (50, 5/s), not ModifyNetworkInterfaceAttribute's", async function () {
      await start({
        throttling: { actions: { ModifyNetworkInterfaceAttribute: { capacity: 1, refillPerSecond: 1 } } },
      });
      const groupId = sim.scenario.securityGroup({
        vpcId: sim.state.instance(instanceId)!.vpcId,
        groupName: "iso",
      });
      const eni = sim.state.instance(instanceId)!.networkInterfaceIds[0]!;
      const moveEni = () =>
        t.ec2.send(
          new ec2.ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [groupId] }),
        );
      const moveInstance = () =>
        t.ec2.send(new ec2.ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [groupId] }));
      await moveEni();
      expect(await errorCodeOf(moveEni())).to.equal("RequestLimitExceeded");
      for (let i = 0; i < 50; i++) await moveInstance();
      expect(await errorCodeOf(moveInstance())).to.equal("RequestLimitExceeded");
      sim.advance(200); // one token back (5/s)
      await moveInstance();
      expect(categorize("ModifyInstanceAttribute", false)).to.equal("mutating");
    });

    it("sorts actions into the documented categories", function () {
      expect(categorize("DescribeInstances", false)).to.equal("unfiltered-non-mutating");
      expect(categorize("DescribeInstances", true)).to.equal("non-mutating");
      expect(categorize("DescribeSubnets", false)).to.equal("non-mutating");
      expect(categorize("StopInstances", false)).to.equal("mutating");
      expect(categorize("AuthorizeSecurityGroupIngress", false)).to.equal("resource-intensive");
      expect(categorize("CreateTags", false)).to.equal("uncategorized");
      expect(categorize("RunInstances", false)).to.equal("uncategorized");
    });

    it("can be switched off", async function () {
      await start({ throttling: { enabled: false } });
      // More than twice the unfiltered DescribeInstances burst of 50, at one simulated instant: none refused.
      for (let i = 0; i < 120; i++) {
        const answer = await t.ec2.send(new ec2.DescribeInstancesCommand({}));
        expect(answer.$metadata.httpStatusCode).to.equal(200);
      }
      const describes = sim.calls.filter((c) => c.action === "DescribeInstances");
      expect(describes).to.have.length(120);
      expect(describes.filter((c) => c.status !== 200 || c.errorCode)).to.deep.equal([]);
    });
  });

  it("adds simulated latency with jitter to every call (in simulated time)", async function () {
    await start({ latency: { meanMs: 200, jitterMs: 50 } });
    for (let i = 0; i < 20; i++)
      await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const durations = sim.calls.map((c) => c.simEnd - c.simStart);
    expect(Math.min(...durations)).to.be.at.least(150);
    expect(Math.max(...durations)).to.be.at.most(250);
    expect(new Set(durations).size).to.be.greaterThan(1);
  });

  it("eventual consistency: a just-created resource answers NotFound until the window has passed", async function () {
    await start({ consistencyDelayMs: 2_000 });
    const imageId = sim.scenario.image();
    const run = await t.ec2.send(
      new ec2.RunInstancesCommand({
        ImageId: imageId,
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
      }),
    );
    const newId = run.Instances?.[0]?.InstanceId ?? "";
    expect(
      await errorCodeOf(t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [newId] }))),
    ).to.equal("InvalidInstanceID.NotFound");
    const group = await t.ec2.send(
      new ec2.CreateSecurityGroupCommand({
        VpcId: sim.state.vpcs()[0]?.vpcId,
        GroupName: "new",
        Description: "new",
      }),
    );
    expect(
      await errorCodeOf(
        t.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId ?? ""] })),
      ),
    ).to.equal("InvalidGroup.NotFound");
    sim.advance(2_000);
    const described = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [newId] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.InstanceId).to.equal(newId);
  });

  describe("injected faults", function () {
    it("5xx InternalError and ServiceUnavailable, for a number of calls, then normal answers", async function () {
      sim.faults.add({
        service: "ec2",
        action: "DescribeInstances",
        fault: { type: "internalError" },
        count: 1,
      });
      sim.faults.add({ service: "sns", fault: { type: "serviceUnavailable" }, count: 1 });
      expect(await statusOf(t.ec2.send(new ec2.DescribeInstancesCommand({})))).to.equal(500);
      await t.ec2.send(new ec2.DescribeInstancesCommand({}));
      const topicArn = sim.scenario.topic("t");
      expect(
        await statusOf(t.sns.send(new sns.PublishCommand({ TopicArn: topicArn, Message: "m" }))),
      ).to.equal(503);
      await t.sns.send(new sns.PublishCommand({ TopicArn: topicArn, Message: "m" }));
      expect(sim.calls.map((c) => c.errorCode ?? c.status)).to.deep.equal([
        "InternalError",
        200,
        "ServiceUnavailable",
        200,
      ]);
    });

    it("a specific AWS error code, and throttling in the service's own words", async function () {
      sim.faults.add({
        action: "StopInstances",
        fault: { type: "error", code: "UnauthorizedOperation", httpStatus: 403 },
      });
      sim.faults.add({ action: "DescribeVolumes", fault: { type: "throttle" } });
      expect(
        await errorCodeOf(t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [instanceId] }))),
      ).to.equal("UnauthorizedOperation");
      expect(await errorCodeOf(t.ec2.send(new ec2.DescribeVolumesCommand({})))).to.equal(
        "RequestLimitExceeded",
      );
      sim.faults.clear();
      await t.ec2.send(new ec2.DescribeVolumesCommand({}));
    });

    it("the SDK's own retry gets past a one-off 5xx (and the call log shows both attempts)", async function () {
      await start({}, 3);
      sim.faults.add({
        service: "ec2",
        action: "DescribeInstances",
        fault: { type: "serviceUnavailable" },
        count: 1,
      });
      await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const attempts = sim.calls.filter((c) => c.action === "DescribeInstances");
      expect(attempts.map((c) => c.status)).to.deep.equal([503, 200]);
      expect(attempts[0]?.errorCode).to.equal("ServiceUnavailable");
    });

    it("probability: a seeded share of calls fails, reproducibly; skip lets the first calls through", async function () {
      sim.faults.add({
        service: "sns",
        action: "Publish",
        fault: { type: "internalError" },
        probability: 0.5,
        skip: 2,
      });
      const topicArn = sim.scenario.topic("t");
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(
          await t.sns.send(new sns.PublishCommand({ TopicArn: topicArn, Message: "m" })).then(
            () => true,
            () => false,
          ),
        );
      }
      expect(outcomes.slice(0, 2)).to.deep.equal([true, true]);
      const failures = outcomes.filter((ok) => !ok).length;
      expect(failures).to.be.within(8, 32);
    });

    it("timeout: the socket is held past the client's timeout; reset: the connection is dropped", async function () {
      const impatient = new ec2.EC2Client({
        ...t.config,
        requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
      });
      sim.faults.add({ action: "DescribeSubnets", fault: { type: "timeout", holdMs: 2_000 }, count: 1 });
      const timedOut = await errorCodeOf(impatient.send(new ec2.DescribeSubnetsCommand({})));
      expect(timedOut).to.equal("TimeoutError");
      sim.faults.add({ action: "DescribeVpcs", fault: { type: "reset" }, count: 1 });
      const reset = await impatient.send(new ec2.DescribeVpcsCommand({})).then(
        () => "ok",
        (error: { code?: string; name?: string }) => error.code ?? error.name ?? "error",
      );
      expect(reset).to.be.oneOf(["ECONNRESET", "EPIPE", "Error"]);
      expect(sim.calls.map((c) => c.errorCode)).to.include.members(["Timeout", "ConnectionReset"]);
      impatient.destroy();
    });
  });
});
