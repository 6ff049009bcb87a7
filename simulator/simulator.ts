// Composition root: clock, account state, services, HTTP front, scenario builders and state readers.
import type { Simulator, StateReader } from "./api";
import { SeededRandom, SimClock } from "./clock";
import { FaultInjector } from "./faults";
import { ADMINISTRATOR_POLICY, Authorizer, type Principal } from "./iam/authorizer";
import { watchAutoScalingHealth } from "./lifecycle/autoScaling";
import { DEFAULT_DURATIONS, type CallRecord, type SimulatorOptions } from "./options";
import { createScenarioBuilder } from "./scenario";
import { SimulatorServer } from "./server";
import { autoScalingEndpoint } from "./services/autoScaling";
import { dynamodbEndpoint } from "./services/dynamodb";
import { ec2Endpoint } from "./services/ec2";
import { elbv2Endpoint } from "./services/elbv2";
import { iamEndpoint } from "./services/iam";
import { eventsEndpoint, EventRules } from "./services/events";
import { guardDutyEndpoint } from "./services/guardDuty";
import { lambdaEndpoint, LambdaFunctions } from "./services/lambda";
import { s3Endpoint } from "./services/s3";
import { securityHubEndpoint } from "./services/securityHub";
import { snsEndpoint } from "./services/sns";
import { StepFunctions } from "./services/stepFunctions";
import { stepFunctionsEndpoint } from "./services/stepFunctionsApi";
import { Ssm, ssmEndpoint } from "./services/ssm";
import { stsEndpoint } from "./services/sts";
import { World } from "./state/world";
import { Integrations } from "./stepFunctions/integrations";
import { Ec2Throttler } from "./throttling";

/** Dummy credentials: the SDK signs every request; the simulator reads only the credential scope. */
const ACCESS_KEY_ID = "AKIASIMULATOR0000000";
const SECRET_ACCESS_KEY = "simulator-secret-access-key-not-a-real-one";

const copy = <T>(value: T): T => structuredClone(value);

function stateReader(world: World, lambdas: LambdaFunctions): StateReader {
  return {
    instance: (id) => copy(world.instances.get(id)),
    instances: () => copy([...world.instances.values()]),
    volume: (id) => copy(world.volumes.get(id)),
    volumes: () => copy([...world.volumes.values()]),
    snapshots: () => copy([...world.snapshots.values()]),
    securityGroup: (id) => copy(world.securityGroups.get(id)),
    securityGroups: () => copy([...world.securityGroups.values()]),
    networkInterface: (id) => copy(world.networkInterfaces.get(id)),
    vpcs: () => copy([...world.vpcs.values()]),
    subnets: () => copy([...world.subnets.values()]),
    images: () => copy([...world.images.values()]),
    instanceProfile: (name) => copy(world.instanceProfiles.get(name)),
    role: (name) => copy(world.roles.get(name)),
    rolePolicies: (name) => Object.fromEntries(world.roles.get(name)?.inlinePolicies ?? []),
    iamInstanceProfileAssociations: () => copy([...world.iamAssociations.values()]),
    autoScalingGroup: (name) => copy(world.autoScalingGroups.get(name)),
    targetGroup: (arnOrName) =>
      copy(
        world.targetGroups.get(arnOrName) ??
          [...world.targetGroups.values()].find((g) => g.targetGroupName === arnOrName),
      ),
    bucket: (name) => copy(world.buckets.get(name)),
    object: (bucket, key) => copy(world.buckets.get(bucket)?.objects.get(key)),
    messages: (topicArn) =>
      copy(
        [...world.topics.values()].flatMap((t) => (topicArn && t.topicArn !== topicArn ? [] : t.messages)),
      ),
    invocations: () => copy(lambdas.invocations),
    archivedFindings: () => [...world.archivedFindings.values()].flatMap((ids) => [...ids]),
    securityHubUpdates: () => copy(world.securityHubUpdates),
  };
}

/** Start the simulator on an ephemeral (or the given) port. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const region = options.region ?? "eu-central-1";
  const accountId = options.accountId ?? "111122223333";
  const clock = new SimClock(options.startTime ?? Date.now(), options.timeScale ?? 1);
  const random = new SeededRandom(options.seed ?? 20_261_120);
  const durations = { ...DEFAULT_DURATIONS, ...options.durations };
  const world = new World(region, accountId, clock, random, durations, options.consistencyDelayMs ?? 0);
  watchAutoScalingHealth(world);
  const lambdas = new LambdaFunctions();
  const eventRules = new EventRules();
  const ssm = new Ssm(world);
  const faults = new FaultInjector(random);
  const calls: CallRecord[] = [];
  const iamOptions = options.iam ?? {};
  const authorizer =
    iamOptions === "off"
      ? undefined
      : new Authorizer(accountId, [
          {
            name: "administrator",
            arn: `arn:aws:iam::${accountId}:user/administrator`,
            accessKeyId: ACCESS_KEY_ID,
            policies: [ADMINISTRATOR_POLICY],
          },
          ...(iamOptions.principals ?? []),
        ]);
  let principals = 0;
  /**
   * Who Step Functions acts as for a state machine's role: the principal registered for the role, or else a
   * stand-in with no policy (AWS would deny a role without one), made once per role.
   */
  const standIns = new Map<string, Principal>();
  const credentialsFor = (roleArn: string) => {
    if (!authorizer) return { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
    let principal = authorizer.principalForRole(roleArn) ?? standIns.get(roleArn);
    if (!principal) {
      const roleName = roleArn.split("/").pop() ?? roleArn;
      // Step Functions' sessions are named with 32 random letters and digits.
      const session = random.hex(32);
      principal = {
        name: roleName,
        arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`,
        accessKeyId: `AKIASIMSTANDIN${String(standIns.size + 1).padStart(6, "0")}`,
        policies: [],
        standIn: true,
      };
      authorizer.add(principal);
      standIns.set(roleArn, principal);
    }
    return { accessKeyId: principal.accessKeyId, secretAccessKey: `${principal.name}-secret-not-a-real-one` };
  };
  let endpoint = "";
  const stepFunctions = new StepFunctions(
    world,
    {
      clock,
      random,
      region,
      integrations: new Integrations({
        endpoint: () => endpoint,
        region,
        now: () => clock.now(),
        credentialsFor,
      }),
    },
    options.stepFunctionsThrottling,
  );
  const server = new SimulatorServer({
    clock,
    random,
    faults,
    calls,
    throttler: new Ec2Throttler(options.throttling),
    latency: options.latency,
    authorizer,
    world,
    endpoints: [
      ...(options.dynamodbUpstream ? [dynamodbEndpoint(options.dynamodbUpstream)] : []),
      ec2Endpoint(world),
      autoScalingEndpoint(world),
      elbv2Endpoint(world),
      iamEndpoint(world),
      snsEndpoint(world),
      s3Endpoint(world),
      lambdaEndpoint(world, lambdas),
      eventsEndpoint(world, eventRules, lambdas),
      stepFunctionsEndpoint(world, stepFunctions),
      guardDutyEndpoint(world.archivedFindings),
      securityHubEndpoint(world.securityHubUpdates),
      stsEndpoint(world, (accessKeyId) => authorizer?.principalFor(accessKeyId)),
      ssmEndpoint(ssm),
    ],
  });
  endpoint = await server.listen(options.port ?? 0, options.host ?? "127.0.0.1");

  return {
    endpoint,
    region,
    accountId,
    durations,
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    }),
    now: () => clock.now(),
    advance: (simMs) => clock.advance(simMs),
    sleep: (simMs) => clock.sleep(simMs),
    scenario: createScenarioBuilder(world),
    state: stateReader(world, lambdas),
    calls,
    faults: { add: (rule) => faults.add(rule), clear: () => faults.clear() },
    lambda: { register: (name, target) => lambdas.register(name, target) },
    events: {
      rule: (name, pattern, functionName) => eventRules.add(name, pattern, functionName),
      delivered: () => [...eventRules.delivered],
    },
    iam: {
      enabled: authorizer !== undefined,
      addPrincipal(principal) {
        principals += 1;
        const accessKeyId = `AKIASIMPRINCIPAL${String(principals).padStart(4, "0")}`;
        authorizer?.add({ ...principal, accessKeyId });
        return { accessKeyId, secretAccessKey: `${principal.name}-secret-not-a-real-one` };
      },
      stats: authorizer?.stats ?? { evaluated: 0, denied: 0, checks: 0, denials: [] },
    },
    stepFunctions: stepFunctions.view(),
    ssm: {
      agentImage: (imageId, programs = []) => void ssm.agentImages.set(imageId, { programs: [...programs] }),
      plant: (volumeId, plants) => void ssm.plants.set(volumeId, [...plants]),
      invocations: () => structuredClone([...ssm.invocations.values()]),
    },
    stop: async () => {
      await stepFunctions.shutdown();
      clock.stop();
      await Promise.allSettled([...lambdas.inFlight]);
      await server.close();
    },
  };
}
