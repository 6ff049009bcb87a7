// Test support: SDK clients pointed at the simulator, or at another endpoint (LocalStack, moto, a sandbox) when
// SIM_EXTERNAL_ENDPOINT is set. In external mode the environment is built with real AWS calls and assertions on
// the simulator's internal state are skipped.
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  waitUntilInstanceRunning,
} from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { startSimulator, type Simulator, type SimulatorOptions } from "../../simulator";

const EXTERNAL_ENDPOINT = process.env.SIM_EXTERNAL_ENDPOINT;

interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
  forcePathStyle?: boolean;
}

export interface Target {
  /** The in-process simulator; undefined when the suite runs against an external endpoint. */
  sim?: Simulator;
  config: ClientConfig;
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  iam: IAMClient;
  sns: SNSClient;
  s3: S3Client;
  lambda: LambdaClient;
  stop(): Promise<void>;
}

/** Start a simulator (or connect to the external endpoint). Clients do not retry unless asked: tests see every answer. */
export async function startTarget(options: SimulatorOptions = {}, maxAttempts = 1): Promise<Target> {
  const sim = EXTERNAL_ENDPOINT ? undefined : await startSimulator({ timeScale: 0, ...options });
  const config: ClientConfig = {
    endpoint: sim?.endpoint ?? EXTERNAL_ENDPOINT ?? "",
    region: sim?.region ?? process.env.AWS_REGION ?? "eu-central-1",
    credentials: {
      accessKeyId: sim?.env().AWS_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? "test",
      secretAccessKey: sim?.env().AWS_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? "test",
    },
    maxAttempts,
  };
  return {
    sim,
    config,
    ec2: new EC2Client(config),
    autoScaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    iam: new IAMClient(config),
    sns: new SNSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    lambda: new LambdaClient(config),
    stop: async () => {
      await sim?.stop();
    },
  };
}

export interface BasicEnvironment {
  vpcId: string;
  subnetId: string;
  availabilityZone: string;
  groupId: string;
  /** The AMI the instance runs (kdump-ready in the simulator), for further launches. */
  imageId: string;
  instanceId: string;
  /** Root first, then one 20 GiB data volume (simulator only: external instances get what their AMI gives). */
  volumeIds: string[];
  bucket: string;
  topicArn: string;
}

/** One running instance in a VPC with a security group, a bucket and a topic. */
export async function basicEnvironment(target: Target): Promise<BasicEnvironment> {
  const { sim } = target;
  if (sim) {
    const az = `${sim.region}a`;
    const vpc = sim.scenario.vpc({
      subnets: [{ availabilityZone: az }, { availabilityZone: `${sim.region}b` }],
    });
    const subnetId = vpc.subnets[0]?.subnetId ?? "";
    const groupId = sim.scenario.securityGroup({ vpcId: vpc.vpcId, groupName: "web" });
    const imageId = sim.scenario.image({ kdumpReady: true, name: "workload" });
    const instance = sim.scenario.instance({
      imageId,
      subnetId,
      securityGroupIds: [groupId],
      dataVolumes: [{ sizeGiB: 20 }],
      kdumpReady: true,
    });
    return {
      vpcId: vpc.vpcId,
      subnetId,
      availabilityZone: az,
      groupId,
      imageId,
      instanceId: instance.instanceId,
      volumeIds: instance.volumeIds,
      bucket: sim.scenario.bucket("evidence"),
      topicArn: sim.scenario.topic("incidents"),
    };
  }
  const { ec2 } = target;
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.77.0.0/16" }));
  const vpcId = vpc.Vpc?.VpcId ?? "";
  const availabilityZone = `${target.config.region}a`;
  const subnet = await ec2.send(
    new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.77.1.0/24", AvailabilityZone: availabilityZone }),
  );
  const subnetId = subnet.Subnet?.SubnetId ?? "";
  const group = await ec2.send(
    new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `web-${Date.now()}`, Description: "web" }),
  );
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"], MaxResults: 5 }));
  const imageId = process.env.SIM_EXTERNAL_AMI ?? images.Images?.[0]?.ImageId ?? "";
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnetId,
      SecurityGroupIds: [group.GroupId ?? ""],
    }),
  );
  const instanceId = run.Instances?.[0]?.InstanceId ?? "";
  // Tests start from a running instance, as the simulator's scenario does.
  await waitUntilInstanceRunning(
    { client: ec2, maxWaitTime: 300, minDelay: 1, maxDelay: 5 },
    { InstanceIds: [instanceId] },
  );
  const bucket = `evidence-${Date.now()}`;
  await target.s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: target.config.region as never },
    }),
  );
  const topic = await target.sns.send(new CreateTopicCommand({ Name: `incidents-${Date.now()}` }));
  return {
    vpcId,
    subnetId,
    availabilityZone,
    groupId: group.GroupId ?? "",
    imageId,
    instanceId,
    volumeIds: [],
    bucket,
    topicArn: topic.TopicArn ?? "",
  };
}

/** The AWS error code of a rejected call (the SDK names the exception after it). */
export async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const named = error as { name?: string; Code?: string };
    return named.Code ?? named.name ?? "Error";
  }
  throw new Error("expected the call to fail, it succeeded");
}

/** Wait (wall time, bounded) until a condition holds: for asynchronous effects, without fixed sleeps. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The SDK exception class name of a rejected call (e.g. NoSuchEntityException for IAM's NoSuchEntity). */
export async function errorNameOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { name?: string }).name ?? "Error";
  }
  throw new Error("expected the call to fail, it succeeded");
}

/** Let time pass: on the simulator jump its clock; on an external endpoint wait with the SDK's waiter. */
export async function settle(
  target: Target,
  simMs: number,
  externalWait: () => Promise<unknown>,
): Promise<void> {
  if (target.sim) target.sim.advance(simMs);
  else await externalWait();
}

/** Waiter settings for external endpoints: patient enough for real AWS, quick against LocalStack. */
export const WAIT = { maxWaitTime: 900, minDelay: 2, maxDelay: 15 } as const;
