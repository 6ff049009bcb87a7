// The simulator's IAM evaluation: every request authorized per resource against the caller's policies, with the
// Service Authorization Reference's ARN formats and each service's own access-denied answer.
import * as ec2 from "@aws-sdk/client-ec2";
import { IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { LambdaClient, InvokeCommand } from "@aws-sdk/client-lambda";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { expect } from "chai";
import { startSimulator, type Simulator } from "../../simulator";
import type { PolicyDocument } from "../../simulator/iam/authorizer";
import { checksFor } from "../../simulator/iam/requestChecks";
import { World } from "../../simulator/state/world";
import { globsOverlap, resourceTypesOf } from "../support/serviceAuthorization";

const ACCOUNT = "111122223333";
const REGION = "eu-central-1";
const ourTag = { "ir:managed-by": "ec2-incident-response" };

const policy = (...Statement: Record<string, unknown>[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement,
});
const arn = (type: string, id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${type}/${id}`;

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error("expected the call to be refused");
}

describe("simulator IAM evaluation", function () {
  let sim: Simulator;
  let subnetId: string;
  let instanceId: string;
  let eniId: string;
  let ourGroup: string;
  let theirGroup: string;

  /** An EC2 client signing as a principal with these policies. */
  function as(...policies: PolicyDocument[]) {
    const credentials = sim.iam.addPrincipal({
      name: "tester",
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/tester/session`,
      policies,
    });
    const config = { endpoint: sim.endpoint, region: REGION, credentials, maxAttempts: 1 };
    return {
      ec2: new ec2.EC2Client(config),
      iam: new IAMClient(config),
      sns: new SNSClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      lambda: new LambdaClient(config),
    };
  }

  beforeEach(async function () {
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip();
    sim = await startSimulator({ timeScale: 0, region: REGION, accountId: ACCOUNT });
    const vpc = sim.scenario.vpc();
    subnetId = vpc.subnets[0]?.subnetId ?? "";
    ourGroup = sim.scenario.securityGroup({ vpcId: vpc.vpcId, groupName: "ours", tags: ourTag });
    theirGroup = sim.scenario.securityGroup({ vpcId: vpc.vpcId, groupName: "theirs" });
    const instance = sim.scenario.instance({ subnetId, dataVolumes: [{ sizeGiB: 10 }] });
    instanceId = instance.instanceId;
    eniId = sim.state.instance(instanceId)?.networkInterfaceIds[0] ?? "";
  });
  afterEach(async () => sim?.stop());

  it("authorizes each resource of a request separately: the ENI, and every group named with its own tags", async function () {
    const { ec2: client } = as(
      policy(
        {
          Effect: "Allow",
          Action: "ec2:ModifyNetworkInterfaceAttribute",
          Resource: arn("network-interface", "*"),
        },
        {
          Effect: "Allow",
          Action: "ec2:ModifyNetworkInterfaceAttribute",
          Resource: arn("security-group", "*"),
          Condition: { StringEquals: { "aws:ResourceTag/ir:managed-by": "ec2-incident-response" } },
        },
      ),
    );
    await client.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [ourGroup] }),
    );
    expect(sim.state.networkInterface(eniId)?.groupIds).to.deep.equal([ourGroup]);

    const refused = await errorOf(
      client.send(
        new ec2.ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eniId,
          Groups: [ourGroup, theirGroup],
        }),
      ),
    );
    expect(refused.name).to.equal("UnauthorizedOperation");
    expect(refused.status).to.equal(403);
    expect(refused.message).to.include(`on resource: ${arn("security-group", theirGroup)}`);
    expect(refused.message).to.match(/Encoded authorization failure message: [A-Za-z0-9+/=]+$/);
    expect(sim.state.networkInterface(eniId)?.groupIds, "nothing changed").to.deep.equal([ourGroup]);
    expect(sim.iam.stats.denials.map((d) => d.check.resource)).to.deep.equal([
      arn("security-group", theirGroup),
    ]);
  });

  it("an explicit deny wins over an allow", async function () {
    const { ec2: client } = as(
      policy(
        { Effect: "Allow", Action: "ec2:*", Resource: "*" },
        { Effect: "Deny", Action: "ec2:TerminateInstances", Resource: "*" },
      ),
    );
    const refused = await errorOf(
      client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [instanceId] })),
    );
    expect(refused.message).to.include("with an explicit deny");
    expect(sim.state.instance(instanceId)?.state).to.equal("running");
  });

  it("tags given at creation need ec2:CreateTags with ec2:CreateAction, and an instance profile needs iam:PassRole", async function () {
    const profile = sim.scenario.instanceProfile({ name: "app" });
    const imageId = sim.scenario.image({});
    const launch = new ec2.RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "m6i.large",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnetId,
      SecurityGroupIds: [ourGroup],
      IamInstanceProfile: { Arn: profile.arn },
      TagSpecifications: [
        { ResourceType: "instance", Tags: [{ Key: "ir:responder-made", Value: "forensic" }] },
      ],
    });
    const launchOnly = { Effect: "Allow", Action: "ec2:RunInstances", Resource: "*" };
    const tagOnLaunch = {
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: "*",
      Condition: { StringEquals: { "ec2:CreateAction": "RunInstances" } },
    };
    const passRole = {
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: `arn:aws:iam::${ACCOUNT}:role/${profile.roleName ?? ""}`,
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    };

    const withoutTagging = await errorOf(as(policy(launchOnly, passRole)).ec2.send(launch));
    expect(withoutTagging.message).to.include("ec2:CreateTags on resource: " + arn("instance", "*"));
    const withoutPassRole = await errorOf(as(policy(launchOnly, tagOnLaunch)).ec2.send(launch));
    expect(withoutPassRole.message).to.include("iam:PassRole");
    const launched = await as(policy(launchOnly, tagOnLaunch, passRole)).ec2.send(launch);
    expect(launched.Instances).to.have.length(1);
  });

  it("a volume encrypted with a key the request names needs the caller's KMS permissions through EC2", async function () {
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const create = new ec2.CreateVolumeCommand({
      AvailabilityZone: `${REGION}a`,
      Size: 1,
      Encrypted: true,
      KmsKeyId: key,
    });
    const volumes = { Effect: "Allow", Action: "ec2:CreateVolume", Resource: "*" };
    const kmsViaEc2 = {
      Effect: "Allow",
      Action: "kms:*",
      Resource: key,
      Condition: { StringEquals: { "kms:ViaService": `ec2.${REGION}.amazonaws.com` } },
    };
    // Allowed first: no resource of the account uses the key yet, only the request names it.
    const allowed = await as(policy(volumes, kmsViaEc2)).ec2.send(create);
    const refused = await as(policy(volumes)).ec2.send(create);
    sim.advance(sim.durations.volumeCreateMs);
    expect(sim.state.volume(refused.VolumeId ?? "")?.state).to.equal("error");
    expect(sim.state.volume(allowed.VolumeId ?? "")?.state).to.equal("available");
  });

  it("snapshot and image ARNs carry no account id, as AWS's do", async function () {
    const { ec2: client } = as(
      policy({ Effect: "Allow", Action: "ec2:LockSnapshot", Resource: arn("snapshot", "*") }),
    );
    const { Snapshots } = await new ec2.EC2Client({
      endpoint: sim.endpoint,
      region: REGION,
      credentials: { accessKeyId: sim.env().AWS_ACCESS_KEY_ID ?? "", secretAccessKey: "x" },
    }).send(new ec2.CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId } }));
    const snapshotId = Snapshots?.[0]?.SnapshotId ?? "";
    const refused = await errorOf(
      client.send(
        new ec2.LockSnapshotCommand({ SnapshotId: snapshotId, LockMode: "governance", LockDuration: 1 }),
      ),
    );
    expect(refused.message).to.include(`arn:aws:ec2:${REGION}::snapshot/${snapshotId}`);
  });

  it("each service refuses with its own error", async function () {
    const clients = as(policy({ Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" }));
    const topicArn = sim.scenario.topic("alerts");
    sim.scenario.bucket("evidence");
    sim.lambda.register("fn", () => Promise.resolve("ok"));
    const cases: [string, Promise<unknown>, string, number][] = [
      [
        "IAM",
        clients.iam.send(new PutRolePolicyCommand({ RoleName: "r", PolicyName: "p", PolicyDocument: "{}" })),
        "AccessDenied",
        403,
      ],
      // The SDK names SNS's AuthorizationError code AuthorizationErrorException.
      [
        "SNS",
        clients.sns.send(new PublishCommand({ TopicArn: topicArn, Message: "m" })),
        "AuthorizationErrorException",
        403,
      ],
      [
        "S3",
        clients.s3.send(new PutObjectCommand({ Bucket: "evidence", Key: "k", Body: "b" })),
        "AccessDenied",
        403,
      ],
      [
        "Lambda",
        clients.lambda.send(new InvokeCommand({ FunctionName: "fn" })),
        "AccessDeniedException",
        403,
      ],
    ];
    for (const [service, call, code, status] of cases) {
      const refused = await errorOf(call);
      expect([service, refused.name, refused.status]).to.deep.equal([service, code, status]);
    }
    expect(sim.state.messages(topicArn)).to.deep.equal([]);
    expect(sim.state.object("evidence", "k")).to.equal(undefined);
  });

  it("a key the account does not know is refused before anything else", async function () {
    const client = new ec2.EC2Client({
      endpoint: sim.endpoint,
      region: REGION,
      credentials: { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" },
      maxAttempts: 1,
    });
    const refused = await errorOf(client.send(new ec2.DescribeInstancesCommand({})));
    expect([refused.name, refused.status]).to.deep.equal(["AuthFailure", 401]);
  });

  it("can be switched off by name, and then evaluates nothing", async function () {
    const off = await startSimulator({ timeScale: 0, iam: "off" });
    try {
      const client = new ec2.EC2Client({
        endpoint: off.endpoint,
        region: off.region,
        credentials: { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" },
      });
      await client.send(new ec2.DescribeInstancesCommand({}));
      expect(off.iam.enabled).to.equal(false);
      expect(off.iam.stats.evaluated).to.equal(0);
    } finally {
      await off.stop();
    }
  });
});

describe("simulator IAM request checks against the Service Authorization Reference", function () {
  // One request per mapped action, as the responder and the test scenes send them.
  const world = new World(REGION, ACCOUNT, undefined as never, undefined as never, undefined as never, 0);
  const requests: [service: string, action: string, params: Record<string, unknown>][] = [
    [
      "ec2",
      "RunInstances",
      {
        ImageId: "ami-0123456789abcdef0",
        SubnetId: "subnet-0123456789abcdef0",
        SecurityGroupIds: ["sg-0123456789abcdef0"],
        KeyName: "ops",
        TagSpecifications: [
          { ResourceType: "instance", Tags: [{ Key: "a", Value: "b" }] },
          { ResourceType: "volume", Tags: [{ Key: "a", Value: "b" }] },
        ],
      },
    ],
    [
      "ec2",
      "ModifyNetworkInterfaceAttribute",
      { NetworkInterfaceId: "eni-0123456789abcdef0", Groups: ["sg-0123456789abcdef0"] },
    ],
    [
      "ec2",
      "ModifyInstanceAttribute",
      { InstanceId: "i-0123456789abcdef0", Groups: ["sg-0123456789abcdef0"] },
    ],
    [
      "ec2",
      "CreateSnapshots",
      {
        InstanceSpecification: { InstanceId: "i-0123456789abcdef0" },
        TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "a", Value: "b" }] }],
      },
    ],
    ["ec2", "LockSnapshot", { SnapshotId: "snap-0123456789abcdef0" }],
    [
      "ec2",
      "CreateTags",
      {
        Resources: [
          "i-0123456789abcdef0",
          "vol-0123456789abcdef0",
          "snap-0123456789abcdef0",
          "sg-0123456789abcdef0",
          "eni-0123456789abcdef0",
        ],
        Tags: [{ Key: "a", Value: "b" }],
      },
    ],
    ["ec2", "AttachVolume", { VolumeId: "vol-0123456789abcdef0", InstanceId: "i-0123456789abcdef0" }],
    ["ec2", "DetachVolume", { VolumeId: "vol-0123456789abcdef0", InstanceId: "i-0123456789abcdef0" }],
    [
      "ec2",
      "CreateVolume",
      {
        SnapshotId: "snap-0123456789abcdef0",
        TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "a", Value: "b" }] }],
      },
    ],
    [
      "ec2",
      "CreateSecurityGroup",
      {
        VpcId: "vpc-0123456789abcdef0",
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "a", Value: "b" }] }],
      },
    ],
    ["ec2", "AuthorizeSecurityGroupIngress", { GroupId: "sg-0123456789abcdef0" }],
    ["ec2", "RevokeSecurityGroupEgress", { GroupId: "sg-0123456789abcdef0" }],
    ["ec2", "SendDiagnosticInterrupt", { InstanceId: "i-0123456789abcdef0" }],
    ["ec2", "StopInstances", { InstanceIds: ["i-0123456789abcdef0"] }],
    ["ec2", "AssociateIamInstanceProfile", { InstanceId: "i-0123456789abcdef0" }],
    ["ec2", "DescribeInstances", {}],
    ["autoscaling", "DetachInstances", { AutoScalingGroupName: "web" }],
    // What ir release calls to undo a response.
    ["ec2", "StartInstances", { InstanceIds: ["i-0123456789abcdef0"] }],
    ["ec2", "DisassociateIamInstanceProfile", { InstanceId: "i-0123456789abcdef0" }],
    ["autoscaling", "AttachInstances", { AutoScalingGroupName: "web" }],
    [
      "elasticloadbalancing",
      "RegisterTargets",
      {
        TargetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`,
      },
    ],
    ["iam", "DeleteRolePolicy", { RoleName: "web" }],
    ["guardduty", "ArchiveFindings", { DetectorId: "12abc34d567e8fa901bc2d34e56789f0" }],
    [
      "elasticloadbalancing",
      "DeregisterTargets",
      {
        TargetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`,
      },
    ],
    ["iam", "PutRolePolicy", { RoleName: "web" }],
    ["iam", "GetInstanceProfile", { InstanceProfileName: "web" }],
    ["iam", "AddRoleToInstanceProfile", { InstanceProfileName: "web", RoleName: "web" }],
    ["sns", "Publish", { TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alerts` }],
    ["s3", "PutObject", { Bucket: "evidence", Key: "inc/finding.json" }],
    ["lambda", "Invoke", { FunctionName: "ir-responder" }],
    ["lambda", "Invoke", { FunctionName: "ir-responder", Qualifier: "7" }],
    ["events", "PutEvents", {}],
    ["dynamodb", "UpdateItem", { TableName: "incidents" }],
    [
      "states",
      "CreateStateMachine",
      {
        name: "ir-workflow",
        roleArn: `arn:aws:iam::${ACCOUNT}:role/ir-workflow`,
        tags: [{ key: "a", value: "b" }],
      },
    ],
    [
      "states",
      "DescribeStateMachine",
      { stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:wf` },
    ],
    [
      "states",
      "UpdateStateMachine",
      {
        stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:wf`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/ir-workflow`,
      },
    ],
    [
      "states",
      "DeleteStateMachine",
      { stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:wf` },
    ],
    ["states", "ListStateMachines", {}],
    ["states", "StartExecution", { stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:wf` }],
    ["states", "ListExecutions", { stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:wf` }],
    [
      "states",
      "DescribeExecution",
      { executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:wf:inc-1` },
    ],
    [
      "states",
      "GetExecutionHistory",
      { executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:wf:inc-1` },
    ],
    ["states", "StopExecution", { executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:wf:inc-1` }],
    ["ssm", "CreateDocument", { Name: "ir-triage" }],
    ["ssm", "DescribeDocument", { Name: "ir-triage" }],
    ["ssm", "SendCommand", { DocumentName: "ir-triage", InstanceIds: ["i-0123456789abcdef0"] }],
    ["ssm", "GetCommandInvocation", { CommandId: "c", InstanceId: "i-0123456789abcdef0" }],
  ];

  for (const [service, action, params] of requests) {
    it(`${service}:${action}: every check names a resource type the reference lists for its action, in its ARN format`, async function () {
      const checks =
        checksFor(world, service, action, params, { arn: "arn:aws:iam::111122223333:user/x" }) ?? [];
      expect(checks, "checks").to.not.deep.equal([]);
      for (const check of checks) {
        const { wildcardOnly, types } = await resourceTypesOf(check.action);
        const fits =
          check.resource === "*"
            ? wildcardOnly
            : types.some((type) => globsOverlap(check.resource, type.arn));
        expect(
          fits,
          `${check.action} on ${check.resource} (reference: ${types.map((t) => t.arn).join(", ")})`,
        ).to.equal(true);
      }
    });
  }
});
