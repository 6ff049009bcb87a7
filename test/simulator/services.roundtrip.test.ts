// Auto Scaling, ELBv2, IAM, SNS, S3 and Lambda through their real SDK clients.
import * as asg from "@aws-sdk/client-auto-scaling";
import * as ec2 from "@aws-sdk/client-ec2";
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
  settle,
  startTarget,
  type BasicEnvironment,
  type Target,
} from "./support";

/** How long to wait for an external endpoint's asynchronous work (wall time). */
const WAIT_MS = 600_000;

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

  /** An instance launched by an Auto Scaling group behind a target group, built with the services' own APIs. */
  async function groupedInstance(): Promise<{
    instanceId: string;
    groupName: string;
    targetGroupArn: string;
  }> {
    const suffix = Date.now().toString(36);
    const template = await t.ec2.send(
      new ec2.CreateLaunchTemplateCommand({
        LaunchTemplateName: `web-lt-${suffix}`,
        LaunchTemplateData: {
          ImageId: env.imageId,
          InstanceType: "t3.micro",
          SecurityGroupIds: [env.groupId],
        },
      }),
    );
    const created = await t.elbv2.send(
      new elb.CreateTargetGroupCommand({
        Name: `web-${suffix}`,
        Protocol: "HTTP",
        Port: 80,
        VpcId: env.vpcId,
        TargetType: "instance",
      }),
    );
    const targetGroupArn = created.TargetGroups?.[0]?.TargetGroupArn ?? "";
    const groupName = `web-asg-${suffix}`;
    await t.autoScaling.send(
      new asg.CreateAutoScalingGroupCommand({
        AutoScalingGroupName: groupName,
        LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId, Version: "$Default" },
        MinSize: 1,
        MaxSize: 2,
        DesiredCapacity: 1,
        VPCZoneIdentifier: env.subnetId,
        TargetGroupARNs: [targetGroupArn],
      }),
    );
    const inService = async (): Promise<string | undefined> => {
      const groups = await t.autoScaling.send(
        new asg.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
      );
      return groups.AutoScalingGroups?.[0]?.Instances?.find((i) => i.LifecycleState === "InService")
        ?.InstanceId;
    };
    await settle(t, t.sim?.durations.instancePendingMs ?? 0, () =>
      eventually(async () => (await inService()) !== undefined, WAIT_MS),
    );
    return { instanceId: (await inService()) ?? "", groupName, targetGroupArn };
  }

  it("Auto Scaling: CreateAutoScalingGroup, DescribeAutoScalingInstances, DescribeAutoScalingGroups, DetachInstances", async function () {
    const { instanceId, groupName } = await groupedInstance();
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
  });

  it("ELBv2: CreateTargetGroup, DescribeTargetGroups, DescribeTargetHealth, DeregisterTargets (draining), RegisterTargets", async function () {
    const { instanceId, targetGroupArn } = await groupedInstance();
    const groups = await t.elbv2.send(
      new elb.DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }),
    );
    expect(groups.TargetGroups?.[0]?.VpcId).to.equal(env.vpcId);
    await settle(t, t.sim?.durations.targetHealthyMs ?? 0, () => Promise.resolve());
    const health = await t.elbv2.send(
      new elb.DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
    );
    expect(health.TargetHealthDescriptions?.[0]?.Target?.Id).to.equal(instanceId);
    if (t.sim) expect(health.TargetHealthDescriptions?.[0]?.TargetHealth?.State).to.equal("healthy");
    await t.elbv2.send(
      new elb.DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }),
    );
    const draining = await t.elbv2.send(
      new elb.DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }),
    );
    expect(draining.TargetHealthDescriptions?.[0]?.TargetHealth?.State).to.equal("draining");
    if (t.sim) {
      t.sim.advance(t.sim.durations.defaultDeregistrationDelayMs);
      const gone = await t.elbv2.send(
        new elb.DescribeTargetHealthCommand({
          TargetGroupArn: targetGroupArn,
          Targets: [{ Id: instanceId }],
        }),
      );
      expect(gone.TargetHealthDescriptions?.[0]?.TargetHealth?.Reason).to.equal("Target.NotRegistered");
    }
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
    const missingArn = targetGroupArn.replace(/\/[0-9a-f]+$/, "/0000000000000000");
    expect(
      await errorCodeOf(t.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: missingArn }))),
    ).to.equal("TargetGroupNotFound");
    // The SDK maps the wire code to its modelled exception class, as it does for AWS.
    expect(
      await errorNameOf(t.elbv2.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: missingArn }))),
    ).to.equal("TargetGroupNotFoundException");
  });

  it("IAM: CreateRole, CreateInstanceProfile, AddRoleToInstanceProfile, GetInstanceProfile, PutRolePolicy, GetRolePolicy", async function () {
    const suffix = Date.now().toString(36);
    const roleName = `web-app-role-${suffix}`;
    const profileName = `web-app-${suffix}`;
    await t.iam.send(
      new iam.CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    );
    await t.iam.send(new iam.CreateInstanceProfileCommand({ InstanceProfileName: profileName }));
    await t.iam.send(
      new iam.AddRoleToInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName }),
    );
    const profile = await t.iam.send(new iam.GetInstanceProfileCommand({ InstanceProfileName: profileName }));
    expect(profile.InstanceProfile?.Roles?.[0]?.RoleName).to.equal(roleName);
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
        RoleName: roleName,
        PolicyName: "AWSRevokeOlderSessions",
        PolicyDocument: policy,
      }),
    );
    if (t.sim) expect(t.sim.state.rolePolicies(roleName)).to.deep.equal({ AWSRevokeOlderSessions: policy });
    const read = await t.iam.send(
      new iam.GetRolePolicyCommand({ RoleName: roleName, PolicyName: "AWSRevokeOlderSessions" }),
    );
    expect(JSON.parse(decodeURIComponent(read.PolicyDocument ?? ""))).to.deep.equal(JSON.parse(policy));
    expect(
      await errorCodeOf(
        t.iam.send(new iam.GetInstanceProfileCommand({ InstanceProfileName: `nope-${suffix}` })),
      ),
    ).to.equal("NoSuchEntity");
    expect(
      await errorNameOf(
        t.iam.send(new iam.GetInstanceProfileCommand({ InstanceProfileName: `nope-${suffix}` })),
      ),
    ).to.equal("NoSuchEntityException");
    expect(
      await errorCodeOf(
        t.iam.send(
          new iam.PutRolePolicyCommand({ RoleName: roleName, PolicyName: "x", PolicyDocument: "{" }),
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

  it("S3: CreateBucket, HeadBucket, ListObjectsV2; a wrong checksum is refused (BadDigest)", async function () {
    const bucket = `ir-evidence-${Date.now().toString(36)}`;
    await t.s3.send(
      new s3.CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: t.config.region as never },
      }),
    );
    await t.s3.send(new s3.HeadBucketCommand({ Bucket: bucket }));
    await t.s3.send(new s3.PutObjectCommand({ Bucket: bucket, Key: "inc-1/a.json", Body: "{}" }));
    await t.s3.send(new s3.PutObjectCommand({ Bucket: bucket, Key: "inc-2/b.json", Body: "{}" }));
    const listed = await t.s3.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: "inc-1/" }));
    expect(listed.Contents?.map((o) => o.Key)).to.deep.equal(["inc-1/a.json"]);
    expect(
      await errorCodeOf(
        t.s3.send(
          new s3.PutObjectCommand({
            Bucket: bucket,
            Key: "bad",
            Body: "hello",
            ChecksumSHA256: Buffer.alloc(32).toString("base64"),
          }),
        ),
      ),
    ).to.be.oneOf(["BadDigest", "InvalidRequest"]);
  });

  it("Lambda: a function error comes back as X-Amz-Function-Error; DryRun invokes nothing", async function () {
    if (!t.sim) this.skip();
    let calls = 0;
    t.sim.lambda.register("failing", () => {
      calls++;
      return Promise.reject(new Error("boom"));
    });
    const failed = await t.lambda.send(
      new lambda.InvokeCommand({ FunctionName: "failing", Payload: Buffer.from("{}") }),
    );
    expect(failed.FunctionError).to.equal("Unhandled");
    expect(JSON.parse(Buffer.from(failed.Payload ?? new Uint8Array()).toString("utf8"))).to.include({
      errorMessage: "boom",
    });
    const dry = await t.lambda.send(
      new lambda.InvokeCommand({ FunctionName: "failing", InvocationType: "DryRun" }),
    );
    expect(dry.StatusCode).to.equal(204);
    expect(calls).to.equal(1);
    expect(t.sim.state.invocations().map((i) => i.outcome)).to.deep.equal(["failed"]);
    // Faults reach Lambda like any service: restJson1 error, nothing invoked.
    t.sim.faults.add({
      service: "lambda",
      action: "Invoke",
      fault: { type: "error", code: "ServiceException", httpStatus: 500 },
      count: 1,
    });
    expect(
      await errorCodeOf(
        t.lambda.send(new lambda.InvokeCommand({ FunctionName: "failing", InvocationType: "Event" })),
      ),
    ).to.equal("ServiceException");
    expect(calls).to.equal(1);
    expect(t.sim.calls.at(-1)).to.include({
      service: "lambda",
      action: "Invoke",
      errorCode: "ServiceException",
    });
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
