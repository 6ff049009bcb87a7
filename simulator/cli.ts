// `npm run sim`: start the simulator standalone with a small default scenario (the cryptomining fixture's
// instance in an Auto Scaling group behind a target group) and print the environment to export.
//   npm run sim -- --port 4566 --time-scale 60 --latency 80 --consistency 1000 --no-throttling
import { startSimulator, type SimulatorOptions } from "./index";

function parseArgs(argv: string[]): SimulatorOptions {
  const options: SimulatorOptions = {};
  const number = (flag: string, value: string | undefined): number => {
    const parsed = Number(value);
    if (value === undefined || !Number.isFinite(parsed)) throw new Error(`${flag} needs a number`);
    return parsed;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case "--port":
        options.port = number(flag, argv[++i]);
        break;
      case "--time-scale":
        options.timeScale = number(flag, argv[++i]);
        break;
      case "--latency":
        options.latency = { meanMs: number(flag, argv[++i]), jitterMs: 0 };
        break;
      case "--consistency":
        options.consistencyDelayMs = number(flag, argv[++i]);
        break;
      case "--region":
        options.region = argv[++i];
        break;
      case "--no-throttling":
        options.throttling = { enabled: false };
        options.stepFunctionsThrottling = { enabled: false };
        break;
      case "--help":
        process.stdout.write(
          "usage: npm run sim -- [--port N] [--time-scale X] [--latency MS] [--consistency MS] [--region R] [--no-throttling]\n",
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag ?? ""} (try --help)`);
    }
  }
  return options;
}

async function main(): Promise<void> {
  const sim = await startSimulator({ port: 4566, ...parseArgs(process.argv.slice(2)) });
  const { vpcId, subnets } = sim.scenario.vpc({
    vpcId: "vpc-0123456789abcdef0",
    subnets: [
      { subnetId: "subnet-0aa11bb22cc33dd44", availabilityZone: `${sim.region}a` },
      { subnetId: "subnet-0ee55ff66aa77bb88", availabilityZone: `${sim.region}b` },
    ],
  });
  const subnetId = subnets[0]?.subnetId ?? "";
  const profile = sim.scenario.instanceProfile({
    name: "web-app",
    instanceProfileId: "AIPAEXAMPLEPROFILE01",
  });
  const imageId = sim.scenario.image({
    imageId: "ami-0fedcba9876543210",
    kdumpReady: true,
    name: "web-app golden image",
  });
  const groupId = sim.scenario.securityGroup({
    groupId: "sg-0a1a2a3a4a5a6a7a8",
    vpcId,
    groupName: "web-app",
  });
  sim.scenario.launchTemplate({
    name: "web-app",
    imageId,
    instanceType: "m6i.large",
    securityGroupIds: [groupId],
  });
  const targetGroupArn = sim.scenario.targetGroup({ name: "web-app", vpcId });
  sim.scenario.autoScalingGroup({
    name: "web-app-asg",
    launchTemplate: "web-app",
    subnetIds: [subnetId],
    targetGroupArns: [targetGroupArn],
  });
  const instance = sim.scenario.instance({
    instanceId: "i-0a1b2c3d4e5f60718",
    imageId,
    subnetId,
    securityGroupIds: [groupId],
    primaryNetworkInterface: { networkInterfaceId: "eni-0f1e2d3c4b5a69788", privateIpAddress: "10.20.1.15" },
    dataVolumes: [{ sizeGiB: 50 }],
    instanceProfile: profile.arn,
    autoScalingGroup: "web-app-asg",
    tags: { Name: "web-app-3" },
  });
  sim.scenario.bucket("ir-evidence");
  const topicArn = sim.scenario.topic("ir-notifications");
  sim.lambda.register("ir-responder", (payload) => {
    process.stdout.write(`lambda invoke ir-responder: ${JSON.stringify(payload)}\n`);
    return Promise.resolve(null);
  });

  const exports = Object.entries(sim.env())
    .map(([k, v]) => `export ${k}=${v}`)
    .join("\n");
  process.stdout.write(
    [
      `AWS simulator listening on ${sim.endpoint} (region ${sim.region}, account ${sim.accountId})`,
      "",
      "Export this environment (DynamoDB is not simulated: point AWS_ENDPOINT_URL_DYNAMODB at dynalite):",
      exports,
      "",
      "Default scenario:",
      `  instance ${instance.instanceId} (m6i.large, kdump-ready AMI) in Auto Scaling group web-app-asg,`,
      `  target group web-app, ENI ${instance.networkInterfaceIds.join(", ")}, volumes ${instance.volumeIds.join(", ")}`,
      `  bucket ir-evidence, topic ${topicArn}, Lambda function ir-responder (logs its payloads)`,
      "",
      `Try: aws ec2 describe-instances --endpoint-url ${sim.endpoint}`,
      "Ctrl-C stops it and prints the call log.",
      "",
    ].join("\n"),
  );

  const shutdown = (): void => {
    for (const call of sim.calls) {
      const simMs = call.simEnd - call.simStart;
      process.stdout.write(
        `${new Date(call.simStart).toISOString()} ${call.service} ${call.action} -> ${call.status}${call.errorCode ? ` ${call.errorCode}` : ""} (${simMs} ms simulated)\n`,
      );
    }
    void sim.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
