// The drill's workload in the simulator: the stack's VPC and forensic subnets as configured, and a web tier worth
// responding to (two instances of an Auto Scaling group behind a target group), watched as an operator would.
import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { PROJECT } from "../infra/config";
import { TRIAGE_PROGRAM, type Simulator } from "../simulator";
import { DRILL_TAG } from "./drillFinding";
import { plantIntruderTraces } from "./plantedEvidence";

const APP_CIDRS = ["10.20.1.0/24", "10.20.2.0/24"];

export interface WebTier {
  compromised: string;
  healthy: string;
  targetGroupArn: string;
}

/** The stack's VPC and forensic subnets as configured, plus an application tier worth responding to. */
export function buildWebTier(sim: Simulator, config: Record<string, string>): WebTier {
  const vpcIds = JSON.parse(config[`${PROJECT}:vpcIds`] ?? "[]") as string[];
  const forensicSubnets = JSON.parse(config[`${PROJECT}:forensicSubnets`] ?? "{}") as Record<string, string>;
  const forensicAmiId = config[`${PROJECT}:forensicAmiId`];
  const vpcId = vpcIds[0];
  if (!vpcId || !forensicAmiId)
    throw new Error("the drill needs vpcIds and forensicAmiId in the stack config");
  const zones = [`${sim.region}a`, `${sim.region}b`];
  const vpc = sim.scenario.vpc({
    vpcId,
    cidrBlock: "10.20.0.0/16",
    subnets: [
      ...zones.map((availabilityZone, i) => ({ availabilityZone, cidrBlock: APP_CIDRS[i] })),
      ...Object.entries(forensicSubnets).map(([availabilityZone, subnetId], i) => ({
        subnetId,
        availabilityZone,
        cidrBlock: `10.20.${250 + i}.0/24`,
      })),
    ],
  });
  const appSubnets = vpc.subnets.slice(0, 2).map((s) => s.subnetId);
  sim.scenario.image({ imageId: forensicAmiId, name: "forensic workstation" });
  // The workstation image as forensics-ami/ builds it: the SSM Agent, and ir-triage (simulated).
  sim.ssm.agentImage(forensicAmiId, [TRIAGE_PROGRAM]);
  const imageId = sim.scenario.image({ name: "web-app golden image 2026-10", kdumpReady: true });
  const appGroup = sim.scenario.securityGroup({
    vpcId,
    groupName: "web-app",
    ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidr: "0.0.0.0/0" }],
  });
  const profile = sim.scenario.instanceProfile({ name: "web-app" });
  const targetGroupArn = sim.scenario.targetGroup({ name: "web-app", vpcId, port: 443, protocol: "HTTPS" });
  const template = sim.scenario.launchTemplate({
    name: "web-app",
    imageId,
    instanceType: "m6i.large",
    securityGroupIds: [appGroup],
    instanceProfileArn: profile.arn,
  });
  sim.scenario.autoScalingGroup({
    name: "web-app-asg",
    launchTemplate: template.name,
    subnetIds: appSubnets,
    minSize: 2,
    maxSize: 4,
    targetGroupArns: [targetGroupArn],
  });
  const member = (name: string, subnetId: string, dataGiB: number) =>
    sim.scenario.instance({
      instanceType: "m6i.large",
      imageId,
      subnetId,
      securityGroupIds: [appGroup],
      instanceProfile: profile.name,
      autoScalingGroup: "web-app-asg",
      targetGroupArns: [targetGroupArn],
      rootVolume: { sizeGiB: 8 },
      dataVolumes: [{ sizeGiB: dataGiB }],
      primaryNetworkInterface: { publicIp: "3.120.1.15" },
      tags: { Name: name, [DRILL_TAG]: "true" },
      shutdownBehavior: "terminate",
    }).instanceId;
  const compromised = member("web-app-1", appSubnets[0] as string, 100);
  plantIntruderTraces(sim, compromised);
  return {
    compromised,
    healthy: member("web-app-2", appSubnets[1] as string, 100),
    targetGroupArn,
  };
}

/** Service is restored when the target group again has as many healthy targets as before, none of them the
 * compromised instance: observed through the API, as an operator's dashboard would. */
export async function serviceRestored(client: ElasticLoadBalancingV2Client, tier: WebTier): Promise<boolean> {
  const { TargetHealthDescriptions = [] } = await client.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: tier.targetGroupArn }),
  );
  const healthy = TargetHealthDescriptions.filter(
    (d) => d.TargetHealth?.State === "healthy" && d.Target?.Id !== tier.compromised,
  );
  return healthy.length >= 2;
}
