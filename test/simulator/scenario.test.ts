// Scenario builders: environments from the shared fixture events, and findings generated from state.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ec2 from "@aws-sdk/client-ec2";
import { expect } from "chai";
import type { GuardDutyEvent } from "../../simulator";
import { instanceDetailsOf } from "../../simulator/guardDutyFinding";
import { startTarget, type Target } from "./support";

// The repository's own fixture events (test/fixtures/events).
const FIXTURES = join(__dirname, "..", "fixtures", "events");
const fixture = (name: string): GuardDutyEvent =>
  JSON.parse(readFileSync(join(FIXTURES, name), "utf8")) as GuardDutyEvent;

/** Every key path of a JSON value (array items collapsed), to compare shapes rather than values. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return value.length > 0 ? keyPaths(value[0], `${prefix}[]`) : [`${prefix}[]`];
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
  }
  return [];
}

describe("simulator scenarios", function () {
  let t: Target;

  beforeEach(async function () {
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip();
    t = await startTarget();
  });
  afterEach(async function () {
    await t?.stop();
  });

  it("builds the cryptomining fixture's instance (ids, ENI, group, profile, Auto Scaling group) from the event", async function () {
    const sim = t.sim;
    if (!sim) throw new Error("unreachable");
    const event = fixture("guardduty-ec2-cryptomining.json");
    const { instanceId, networkInterfaceIds } = sim.scenario.fromFinding(event, { kdumpReady: true });
    expect(instanceId).to.equal("i-0a1b2c3d4e5f60718");
    expect(networkInterfaceIds).to.deep.equal(["eni-0f1e2d3c4b5a69788"]);
    const described = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = described.Reservations?.[0]?.Instances?.[0];
    expect(instance?.NetworkInterfaces?.[0]?.Groups).to.deep.equal([
      { GroupId: "sg-0a1a2a3a4a5a6a7a8", GroupName: "web-app" },
    ]);
    expect(instance?.SubnetId).to.equal("subnet-0aa11bb22cc33dd44");
    expect(instance?.IamInstanceProfile?.Arn).to.equal("arn:aws:iam::111122223333:instance-profile/web-app");
    expect(instance?.PrivateIpAddress).to.equal("10.20.1.15");
    expect(sim.state.autoScalingGroup("web-app-asg")?.members.map((m) => m.instanceId)).to.deep.equal([
      instanceId,
    ]);
  });

  it("builds the two-ENI fixture with each ENI's own subnet and groups", function () {
    const sim = t.sim;
    if (!sim) throw new Error("unreachable");
    const { networkInterfaceIds } = sim.scenario.fromFinding(fixture("guardduty-ec2-backdoor-two-enis.json"));
    expect(networkInterfaceIds).to.deep.equal(["eni-0f1e2d3c4b5a69788", "eni-0c0c0c0c0c0c0c0c1"]);
    const second = sim.state.networkInterface("eni-0c0c0c0c0c0c0c0c1");
    expect(second?.subnetId).to.equal("subnet-0ee55ff66aa77bb88");
    expect(second?.groupIds).to.deep.equal(["sg-0b1b2b3b4b5b6b7b8", "sg-0c1c2c3c4c5c6c7c8"]);
  });

  it("findingFor produces an event of the fixtures' shape from the current state", function () {
    const sim = t.sim;
    if (!sim) throw new Error("unreachable");
    const reference = fixture("guardduty-ec2-cryptomining.json");
    const { instanceId } = sim.scenario.fromFinding(reference);
    const generated = sim.scenario.findingFor(instanceId, {
      severity: 8.9,
      type: "Backdoor:EC2/C&CActivity.B!DNS",
    });
    expect(keyPaths(generated)).to.include.members(keyPaths(reference));
    expect(generated.detail.severity).to.equal(8.9);
    expect(generated.detail.resource).to.have.nested.property(
      "instanceDetails.networkInterfaces[0].networkInterfaceId",
      "eni-0f1e2d3c4b5a69788",
    );
    const drill = sim.scenario.findingFor(instanceId, { sample: true, source: "ir.drill" });
    expect(drill.source).to.equal("ir.drill");
    expect(drill.detail.service).to.have.nested.property("additionalInfo.sample", true);
  });

  it("findingFor describes the instance as DescribeInstances answers it (the drill's finding, from the API)", async function () {
    const sim = t.sim;
    if (!sim) throw new Error("unreachable");
    const { instanceId } = sim.scenario.fromFinding(fixture("guardduty-ec2-backdoor-two-enis.json"));
    const generated = sim.scenario.findingFor(instanceId);
    const described = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = described.Reservations?.[0]?.Instances?.[0] ?? {};
    const image = sim.state.images().find((i) => i.imageId === instance.ImageId);
    expect(generated.detail.resource.instanceDetails).to.deep.equal(
      instanceDetailsOf(instance, { description: image?.description ?? "" }),
    );
  });

  it("builds an instance in an Auto Scaling group behind a target group with two volumes and a profile in a few lines", function () {
    const sim = t.sim;
    if (!sim) throw new Error("unreachable");
    const { vpcId, subnets } = sim.scenario.vpc();
    const subnetId = subnets[0]?.subnetId ?? "";
    const profile = sim.scenario.instanceProfile({ name: "web-app" });
    const imageId = sim.scenario.image({ kdumpReady: true });
    sim.scenario.launchTemplate({
      name: "web",
      imageId,
      instanceType: "m6i.large",
      instanceProfileArn: profile.arn,
    });
    const targetGroupArn = sim.scenario.targetGroup({ name: "web", vpcId });
    sim.scenario.autoScalingGroup({
      name: "web",
      launchTemplate: "web",
      subnetIds: [subnetId],
      targetGroupArns: [targetGroupArn],
    });
    const created = sim.scenario.instance({
      subnetId,
      imageId,
      instanceProfile: profile.arn,
      autoScalingGroup: "web",
      dataVolumes: [{ sizeGiB: 100 }, { sizeGiB: 20 }],
    });
    expect(created.volumeIds).to.have.length(3);
    expect(sim.state.targetGroup("web")?.targets[0]?.id).to.equal(created.instanceId);
    expect(sim.state.iamInstanceProfileAssociations()[0]?.instanceProfileArn).to.equal(profile.arn);
  });
});
