// The account a handler test responds in: a VPC with the stack's security groups, instance profiles and images,
// an evidence bucket and a topic, created in the simulator; the responder's settings for it, and its identity (the
// Lambda's role as the Pulumi program synthesizes it, with the stack's names swapped for this account's).
import { responderIdentity, testStackRun } from "./responderIdentity";
import { securityGroupTags } from "../infra/tagging";
import type { Simulator } from "../simulator";
import type { ProgramRun } from "./stackMockRun";

export const FUNCTION_NAME = "ir-responder";

export interface World {
  vpcId: string;
  subnetA: string;
  subnetB: string;
  /** A second subnet in the first AZ (ENIs of one instance share its AZ). */
  subnetA2: string;
  untrackGroup: string;
  isolationGroup: string;
  forensicGroup: string;
  appGroup: string;
  quarantineProfileArn: string;
  forensicProfileArn: string;
  appProfile: { arn: string; roleName?: string };
  kdumpImage: string;
  plainImage: string;
  bucket: string;
  topicArn: string;
}

export function buildWorld(sim: Simulator): World {
  const { scenario } = sim;
  const vpc = scenario.vpc({
    cidrBlock: "10.20.0.0/16",
    subnets: [
      { availabilityZone: `${sim.region}a`, cidrBlock: "10.20.1.0/24" },
      { availabilityZone: `${sim.region}b`, cidrBlock: "10.20.2.0/24" },
      { availabilityZone: `${sim.region}a`, cidrBlock: "10.20.3.0/24" },
    ],
  });
  const [subnetA, subnetB, subnetA2] = vpc.subnets.map((subnet) => subnet.subnetId) as [
    string,
    string,
    string,
  ];
  const group = (groupName: string, tags: Record<string, string>, ingress: { cidr: string }[] = []) =>
    scenario.securityGroup({ vpcId: vpc.vpcId, groupName, tags, ingress });
  const appProfile = scenario.instanceProfile({ name: "web-app" });
  return {
    vpcId: vpc.vpcId,
    subnetA,
    subnetB,
    subnetA2,
    // Tagged as the stack tags them: the responder's policy lets it use only groups that carry the stack's tag.
    untrackGroup: group("ir-untrack", securityGroupTags("ir-untrack", "untrack"), [{ cidr: "0.0.0.0/0" }]),
    isolationGroup: group("ir-isolation", securityGroupTags("ir-isolation", "isolation")),
    forensicGroup: group("ir-forensic", securityGroupTags("ir-forensic", "forensic"), [
      { cidr: "192.0.2.0/24" },
    ]),
    appGroup: group("web-app", {}, [{ cidr: "0.0.0.0/0" }]),
    quarantineProfileArn: scenario.instanceProfile({ name: "ir-quarantine" }).arn,
    forensicProfileArn: scenario.instanceProfile({ name: "ir-forensic" }).arn,
    appProfile: { arn: appProfile.arn, roleName: appProfile.roleName },
    kdumpImage: scenario.image({ name: "web-app kdump", kdumpReady: true }),
    plainImage: scenario.image({ name: "web-app plain" }),
    bucket: scenario.bucket("ir-evidence"),
    topicArn: scenario.topic("ir-notifications"),
  };
}

/**
 * The responder signs as the Lambda's role: the simulator authorizes each of its calls against the policy the
 * Pulumi program synthesizes, with the stack's names swapped for this harness's.
 */
export async function responderCredentials(
  sim: Simulator,
  world: World,
  table: string,
  stack: Record<string, string> = {},
): Promise<Record<string, string>> {
  const run = await testStackRun(stack);
  const identity = responderIdentity(run, sim, FUNCTION_NAME, stackReplacements(run, sim, world, table));
  const credentials = sim.iam.addPrincipal(identity);
  return { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
}

/** The mock run's names of the stack's resources -> this harness's. */
export function stackReplacements(
  run: ProgramRun,
  sim: Simulator,
  world: World,
  table: string,
): [mock: string, real: string][] {
  const roleOf = (profile: string) => sim.state.instanceProfile(profile)?.roleNames[0] ?? profile;
  return [
    [`table/${String(run.one("aws:dynamodb/table:Table").state.name)}`, `table/${table}`],
    [String(run.one("aws:s3/bucket:Bucket").state.bucket), world.bucket],
    [String(run.one("aws:sns/topic:Topic").state.arn), world.topicArn],
    [`function:${String(run.one("aws:lambda/function:Function").state.name)}`, `function:${FUNCTION_NAME}`],
    [`role/${String(run.one("aws:iam/role:Role", "forensic").state.name)}`, `role/${roleOf("ir-forensic")}`],
    [
      `role/${String(run.one("aws:iam/role:Role", "quarantine").state.name)}`,
      `role/${roleOf("ir-quarantine")}`,
    ],
  ];
}

export function responderSettings(
  sim: Simulator,
  world: World,
  table: string,
  timeScale: number,
): Record<string, string> {
  return {
    RESPONDER_ACCOUNT_ID: sim.accountId,
    INCIDENT_TABLE: table,
    EVIDENCE_BUCKET: world.bucket,
    NOTIFICATION_TOPIC_ARN: world.topicArn,
    SEVERITY_THRESHOLD: "7",
    VPC_SECURITY_GROUPS: JSON.stringify({
      [world.vpcId]: {
        untrack: world.untrackGroup,
        isolation: world.isolationGroup,
        forensic: world.forensicGroup,
      },
    }),
    FORENSIC_SOURCE_CIDRS: JSON.stringify(["192.0.2.0/24"]),
    FORENSIC_AMI_ID: world.plainImage,
    FORENSIC_INSTANCE_TYPE: "m6i.large",
    FORENSIC_INSTANCE_PROFILE_ARN: world.forensicProfileArn,
    FORENSIC_SUBNETS: JSON.stringify({
      [`${sim.region}a`]: world.subnetA,
      [`${sim.region}b`]: world.subnetB,
    }),
    QUARANTINE_INSTANCE_PROFILE_ARN: world.quarantineProfileArn,
    DRY_RUN: "false",
    SNAPSHOT_LOCK: "compliance",
    SNAPSHOT_LOCK_DAYS: "30",
    ATTACH_SNAPSHOT_COPIES: "false",
    REPLACEMENT: "launch",
    REVOKE_ROLE_SESSIONS: "true",
    POWERTOOLS_LOG_LEVEL: process.env.HANDLER_TEST_LOG_LEVEL ?? "SILENT",
    POWERTOOLS_SERVICE_NAME: "ec2-incident-response-test",
    ...scaledTimings(timeScale),
  };
}

/** Handler settings expressed in simulated seconds, converted to wall seconds for the time scale. */
function scaledTimings(timeScale: number): Record<string, string> {
  const wall = (simSeconds: number) => String(simSeconds / timeScale);
  return {
    POLL_INTERVAL_SECONDS: wall(2),
    STOP_TIMEOUT_SECONDS: wall(300),
    MEMORY_GRACE_BASE_SECONDS: wall(60),
    MEMORY_GRACE_SECONDS_PER_GIB: wall(15),
    MAX_POLL_INTERVAL_SECONDS: wall(60),
  };
}
