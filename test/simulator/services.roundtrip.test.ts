// Auto Scaling, ELBv2, IAM, SNS, S3 and Lambda through their real SDK clients.
import * as asg from "@aws-sdk/client-auto-scaling";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import * as iam from "@aws-sdk/client-iam";
import * as lambda from "@aws-sdk/client-lambda";
import * as s3 from "@aws-sdk/client-s3";
import * as sns from "@aws-sdk/client-sns";
import { expect } from "chai";
import {
  basicEnvironment,
  errorCodeOf,
  errorNameOf,
  eventually,
  startTarget,
  type BasicEnvironment,
  type Target,
} from "./support";

describe("simulator Auto Scaling, ELBv2, IAM, SNS, S3, Lambda round trips (real clients)", function () {
  let t: Target;
  let env: BasicEnvironment;

  beforeEach(async function () {
    t = await startTarget();
    env = await basicEnvironment(t);
  });
  afterEach(async function () {
    await t.stop();
  });

  /** An instance in an Auto Scaling group behind a target group (simulator scenario). */
  function groupedInstance(): { instanceId: string; groupName: string; targetGroupArn: string } {
    const sim = t.sim;
    if (!sim) throw new Error("simulator only");
    const imageId = sim.scenario.image();
    sim.scenario.launchTemplate({
      name: "web-lt",
      imageId,
      instanceType: "m6i.large",
      securityGroupIds: [env.groupId],
    });
    const targetGroupArn = sim.scenario.targetGroup({
      name: "web-tg",
      vpcId: env.vpcId,
      deregistrationDelaySeconds: 60,
    });
    const groupName = sim.scenario.autoScalingGroup({
      name: "web-asg",
      launchTemplate: "web-lt",
      subnetIds: [env.subnetId],
      targetGroupArns: [targetGroupArn],
    });
    const { instanceId } = sim.scenario.instance({
      subnetId: env.subnetId,
      imageId,
      securityGroupIds: [env.groupId],
      autoScalingGroup: groupName,
      targetGroupArns: [targetGroupArn],
    });
    return { instanceId, groupName, targetGroupArn };
  }

  it("Auto Scaling: DescribeAutoScalingInstances, DescribeAutoScalingGroups, DetachInstances", async function () {
    if (!t.sim) this.skip();
    const { instanceId, groupName } = groupedInstance();
    const membership = await t.autoScaling.send(
      new asg.DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
    );
    expect(membership.AutoScalingInstances?.[0]).to.include({
      InstanceId: instanceId,
      AutoScalingGroupName: groupName,
      LifecycleState: "InService",
    });
    const groups = await t.autoScaling.send(
      new asg.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    );
    expect(groups.AutoScalingGroups?.[0]?.DesiredCapacity).to.equal(1);
    expect(groups.AutoScalingGroups?.[0]?.Instances?.[0]?.InstanceId).to.equal(instanceId);
    const detached = await t.autoScaling.send(
      new asg.DetachInstancesCommand({
        AutoScalingGroupName: groupName,
        InstanceIds: [instanceId],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    expect(detached.Activities?.[0]?.Description).to.contain(instanceId);
    const after = await t.autoScaling.send(
      new asg.DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
    );
    expect(after.AutoScalingInstances ?? []).to.have.length(0);
    expect(
      await errorCodeOf(
        t.autoScaling.send(
          new asg.DetachInstancesCommand({
            AutoScalingGroupName: groupName,
            InstanceIds: [instanceId],
            ShouldDecrementDesiredCapacity: true,
          }),
        ),
      ),
    ).to.equal("ValidationError");
  });

  it("ELBv2: DescribeTargetGroups, DescribeTargetHealth, DeregisterTargets (draining), RegisterTargets", async function () {
    if (!t.sim) this.skip();
    const { instanceId, targetGroupArn } = groupedInstance();
    const groups = await t.elbv2.send(
      new elb.DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }),
    );
    expect(groups.TargetGroups?.[0]?.TargetGroupName).to.equal("web-tg");
    const health = await t.elbv2.send(
      new elb.DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
    );
    expect(health.TargetHealthDescriptions?.[0]?.Target?.Id).to.equal(instanceId);
    expect(health.TargetHealthDescriptions?.[0]?.TargetHealth?.State).to.equal("healthy");
    await t.elbv2.send(
      new elb.DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }),
    );
    const draining = await t.elbv2.send(
      new elb.DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }),
    );
    expect(draining.TargetHealthDescriptions?.[0]?.TargetHealth?.State).to.equal("draining");
    t.sim.advance(60_000);
    const gone = await t.elbv2.send(
      new elb.DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }),
    );
    expect(gone.TargetHealthDescriptions?.[0]?.TargetHealth?.Reason).to.equal("Target.NotRegistered");
    await t.elbv2.send(
      new elb.RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: env.instanceId }] }),
    );
    const registered = await t.elbv2.send(
      new elb.DescribeTargetHealthCommand({
        TargetGroupArn: targetGroupArn,
        Targets: [{ Id: env.instanceId }],
      }),
    );
    expect(registered.TargetHealthDescriptions?.[0]?.TargetHealth?.State).to.equal("initial");
    expect(
      await errorCodeOf(
        t.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: `${targetGroupArn}x` })),
      ),
    ).to.equal("TargetGroupNotFound");
    // The SDK maps the wire code to its modelled exception class, as it does for AWS.
    expect(
      await errorNameOf(
        t.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: `${targetGroupArn}x` })),
      ),
    ).to.equal("TargetGroupNotFoundException");
  });

  it("IAM: GetInstanceProfile lists the role; PutRolePolicy is stored and readable (GetRolePolicy, state)", async function () {
    if (!t.sim) this.skip();
    t.sim.scenario.instanceProfile({ name: "web-app", roleName: "web-app-role" });
    const profile = await t.iam.send(new iam.GetInstanceProfileCommand({ InstanceProfileName: "web-app" }));
    expect(profile.InstanceProfile?.Roles?.[0]?.RoleName).to.equal("web-app-role");
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-20T08:15:00Z" } },
        },
      ],
    });
    await t.iam.send(
      new iam.PutRolePolicyCommand({
        RoleName: "web-app-role",
        PolicyName: "AWSRevokeOlderSessions",
        PolicyDocument: policy,
      }),
    );
    expect(t.sim.state.rolePolicies("web-app-role")).to.deep.equal({ AWSRevokeOlderSessions: policy });
    const read = await t.iam.send(
      new iam.GetRolePolicyCommand({ RoleName: "web-app-role", PolicyName: "AWSRevokeOlderSessions" }),
    );
    expect(decodeURIComponent(read.PolicyDocument ?? "")).to.equal(policy);
    expect(
      await errorCodeOf(t.iam.send(new iam.GetInstanceProfileCommand({ InstanceProfileName: "nope" }))),
    ).to.equal("NoSuchEntity");
    expect(
      await errorNameOf(t.iam.send(new iam.GetInstanceProfileCommand({ InstanceProfileName: "nope" }))),
    ).to.equal("NoSuchEntityException");
    expect(
      await errorCodeOf(
        t.iam.send(
          new iam.PutRolePolicyCommand({ RoleName: "web-app-role", PolicyName: "x", PolicyDocument: "{" }),
        ),
      ),
    ).to.equal("MalformedPolicyDocument");
  });

  it("SNS: CreateTopic is idempotent (same name, same ARN)", async function () {
    const first = await t.sns.send(new sns.CreateTopicCommand({ Name: "ir-test-topic" }));
    const second = await t.sns.send(new sns.CreateTopicCommand({ Name: "ir-test-topic" }));
    expect(first.TopicArn).to.match(/^arn:aws:sns:[^:]+:\d{12}:ir-test-topic$/);
    expect(second.TopicArn).to.equal(first.TopicArn);
  });

  it("SNS: Publish returns a MessageId; the message is kept", async function () {
    const published = await t.sns.send(
      new sns.PublishCommand({ TopicArn: env.topicArn, Subject: "Incident inc-1", Message: "contained" }),
    );
    expect(published.MessageId).to.be.a("string");
    if (t.sim)
      expect(t.sim.state.messages(env.topicArn)[0]).to.include({
        subject: "Incident inc-1",
        message: "contained",
      });
    expect(
      await errorCodeOf(
        t.sns.send(new sns.PublishCommand({ TopicArn: `${env.topicArn}-missing`, Message: "x" })),
      ),
    ).to.equal("NotFound");
  });

  it("S3: PutObject (default checksums), GetObject, HeadObject, NoSuchKey", async function () {
    const body = JSON.stringify({ finding: "evidence", bytes: "x".repeat(10_000) });
    const put = await t.s3.send(
      new s3.PutObjectCommand({
        Bucket: env.bucket,
        Key: "inc-1/finding.json",
        Body: body,
        ContentType: "application/json",
      }),
    );
    expect(put.ETag).to.match(/^"[0-9a-f]{32}"$/);
    const got = await t.s3.send(new s3.GetObjectCommand({ Bucket: env.bucket, Key: "inc-1/finding.json" }));
    expect(await got.Body?.transformToString()).to.equal(body);
    expect(got.ContentType).to.equal("application/json");
    const head = await t.s3.send(new s3.HeadObjectCommand({ Bucket: env.bucket, Key: "inc-1/finding.json" }));
    expect(head.ContentLength).to.equal(Buffer.byteLength(body));
    expect(
      await errorCodeOf(t.s3.send(new s3.GetObjectCommand({ Bucket: env.bucket, Key: "missing" }))),
    ).to.equal("NoSuchKey");
    expect(
      await errorCodeOf(t.s3.send(new s3.HeadObjectCommand({ Bucket: env.bucket, Key: "missing" }))),
    ).to.equal("NotFound");
    expect(
      await errorCodeOf(
        t.s3.send(new s3.PutObjectCommand({ Bucket: "no-such-bucket", Key: "k", Body: "x" })),
      ),
    ).to.equal("NoSuchBucket");
    // A streamed body goes up aws-chunked with a trailing checksum.
    const { Readable } = await import("node:stream");
    await t.s3.send(
      new s3.PutObjectCommand({
        Bucket: env.bucket,
        Key: "stream.bin",
        Body: Readable.from([Buffer.from("abc"), Buffer.from("def")]),
        ContentLength: 6,
      }),
    );
    const streamed = await t.s3.send(new s3.GetObjectCommand({ Bucket: env.bucket, Key: "stream.bin" }));
    expect(await streamed.Body?.transformToString()).to.equal("abcdef");
  });

  it("Lambda: Invoke Event (202, delivered in the background) and RequestResponse", async function () {
    if (!t.sim) this.skip();
    const received: unknown[] = [];
    t.sim.lambda.register("responder", (payload) => {
      received.push(payload);
      return Promise.resolve({ ok: true });
    });
    const event = await t.lambda.send(
      new lambda.InvokeCommand({
        FunctionName: "responder",
        InvocationType: "Event",
        Payload: Buffer.from(JSON.stringify({ "ir:continue": { incidentId: "inc-1" } })),
      }),
    );
    expect(event.StatusCode).to.equal(202);
    await eventually(() => received.length === 1);
    expect(received[0]).to.deep.equal({ "ir:continue": { incidentId: "inc-1" } });
    const sync = await t.lambda.send(
      new lambda.InvokeCommand({
        FunctionName: `arn:aws:lambda:${t.config.region}:111122223333:function:responder`,
        Payload: Buffer.from("{}"),
      }),
    );
    expect(JSON.parse(Buffer.from(sync.Payload ?? new Uint8Array()).toString("utf8"))).to.deep.equal({
      ok: true,
    });
    expect(await errorCodeOf(t.lambda.send(new lambda.InvokeCommand({ FunctionName: "other" })))).to.equal(
      "ResourceNotFoundException",
    );
  });
});
