// The wire itself, read raw (not through the SDK's parser): element names AWS documents, error envelopes, and
// the answer to actions the simulator does not serve. Also: a separate Node process reaches the simulator
// through nothing but the SDK's standard environment (AWS_ENDPOINT_URL).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import { startSimulator, type Simulator } from "../../simulator";

const run = promisify(execFile);

/** A request that carries a SigV4-shaped Authorization header naming the service (the simulator routes on it). */
async function raw(
  sim: Simulator,
  service: string,
  init: { method?: string; path?: string; body?: string; contentType?: string } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${sim.endpoint}${init.path ?? "/"}`, {
    method: init.method ?? "POST",
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0000000/20261120/${sim.region}/${service}/aws4_request, SignedHeaders=host, Signature=00`,
      "content-type": init.contentType ?? "application/x-www-form-urlencoded",
    },
    body: init.method === "GET" || init.method === "HEAD" ? undefined : (init.body ?? ""),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

describe("simulator wire format (raw HTTP)", function () {
  let sim: Simulator;

  beforeEach(async function () {
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip();
    sim = await startSimulator({ timeScale: 0 });
  });
  afterEach(async function () {
    await sim?.stop();
  });

  it("EC2 DescribeInstances: DescribeInstancesResponse/requestId/reservationSet/item/instancesSet/item/instanceState", async function () {
    const { instanceId } = sim.scenario.instance({ subnetId: sim.scenario.vpc().subnets[0]?.subnetId ?? "" });
    const { status, text } = await raw(sim, "ec2", {
      body: `Action=DescribeInstances&Version=2016-11-15&InstanceId.1=${instanceId}`,
    });
    expect(status).to.equal(200);
    expect(text).to.match(
      /<DescribeInstancesResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>/,
    );
    expect(text).to.contain("<reservationSet><item><reservationId>");
    expect(text).to.match(new RegExp(`<instancesSet><item>.*<instanceId>${instanceId}</instanceId>`));
    expect(text).to.contain("<instanceState><code>16</code><name>running</name></instanceState>");
    expect(text).to.match(/<groupSet><item>(<groupName>[^<]*<\/groupName>)?<groupId>sg-/);
  });

  it("awsQuery: <XResponse><XResult> with <member> lists and ResponseMetadata/RequestId", async function () {
    const vpc = sim.scenario.vpc();
    const imageId = sim.scenario.image();
    sim.scenario.launchTemplate({ name: "lt", imageId, instanceType: "m6i.large" });
    sim.scenario.autoScalingGroup({
      name: "asg",
      launchTemplate: "lt",
      subnetIds: [vpc.subnets[0]?.subnetId ?? ""],
    });
    const { text } = await raw(sim, "autoscaling", {
      body: "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.1=asg",
    });
    expect(text).to.contain(
      '<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">',
    );
    expect(text).to.contain(
      "<DescribeAutoScalingGroupsResult><AutoScalingGroups><member><AutoScalingGroupName>asg<",
    );
    expect(text).to.match(/<ResponseMetadata><RequestId>[0-9a-f-]+<\/RequestId><\/ResponseMetadata>/);
  });

  it("unknown actions are errors naming the action, in each protocol's envelope", async function () {
    const ec2 = await raw(sim, "ec2", { body: "Action=TerminateEverything&Version=2016-11-15" });
    expect(ec2.status).to.equal(400);
    expect(ec2.text).to.contain("<Response><Errors><Error><Code>InvalidAction</Code>");
    expect(ec2.text).to.contain("TerminateEverything");
    const iam = await raw(sim, "iam", { body: "Action=DeleteRole&Version=2010-05-08&RoleName=x" });
    expect(iam.text).to.match(
      /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>[^<]*DeleteRole/,
    );
    const lambda = await raw(sim, "lambda", { method: "GET", path: "/2015-03-31/functions" });
    expect(lambda.status).to.equal(404);
    expect(lambda.headers.get("x-amzn-errortype")).to.equal("UnknownOperationException");
    const s3 = await raw(sim, "s3", { method: "GET", path: "/bucket?acl" });
    expect(s3.status).to.equal(501);
    expect(s3.text).to.contain("<Code>NotImplemented</Code>");
    const dynamodb = await raw(sim, "dynamodb", { body: "{}" });
    expect(dynamodb.text).to.contain("AWS_ENDPOINT_URL_DYNAMODB");
    expect(sim.calls.map((c) => c.errorCode)).to.include.members(["InvalidAction", "UnknownService"]);
  });

  it("a separate Node process reaches it through AWS_ENDPOINT_URL alone", async function () {
    this.timeout(30_000);
    const { instanceId } = sim.scenario.instance({ subnetId: sim.scenario.vpc().subnets[0]?.subnetId ?? "" });
    const script = `
      const { EC2Client, DescribeInstancesCommand } = require("@aws-sdk/client-ec2");
      new EC2Client({}).send(new DescribeInstancesCommand({ InstanceIds: [process.argv[1]] }))
        .then((out) => console.log(out.Reservations[0].Instances[0].State.Name));`;
    const { stdout } = await run(process.execPath, ["-e", script, instanceId], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? "", ...sim.env() },
    });
    expect(stdout.trim()).to.equal("running");
  });
});
