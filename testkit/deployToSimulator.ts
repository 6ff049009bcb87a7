// `pulumi up` against the simulator: recreates what the mock run of index.ts would create, with the simulator's
// ids, and gives back the responder's environment exactly as the stack sets it (ids swapped for the simulator's).
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { SecurityGroupRule } from "../infra/securityGroupRules";
import { deployWorkflow } from "./deployWorkflow";
import type { Simulator } from "../simulator";
import type { ProgramRun, RegisteredResource } from "./stackMockRun";

export interface DeployedStack {
  functionName: string;
  functionArn: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  eventPattern: Record<string, unknown>;
  tableName: string;
  bucketName: string;
  topicArn: string;
  stateMachineArn: string;
}

export async function deployToSimulator(
  run: ProgramRun,
  sim: Simulator,
  dynamoEndpoint: string,
): Promise<DeployedStack> {
  // Mock value (id, ARN, name) -> the simulator's value for the same resource.
  const replacements = new Map<string, string>();

  for (const group of run.ofType("aws:ec2/securityGroup:SecurityGroup")) {
    const ingress = (group.inputs.ingress as SecurityGroupRule[]).flatMap((rule) =>
      [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])].map((cidr) => ({
        protocol: rule.protocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        cidr,
      })),
    );
    const groupId = sim.scenario.securityGroup({
      vpcId: group.inputs.vpcId as string,
      groupName: group.state.name as string,
      description: group.inputs.description as string,
      tags: group.inputs.tags as Record<string, string>,
      ingress,
    });
    replacements.set(group.state.id as string, groupId);
  }

  for (const profile of run.ofType("aws:iam/instanceProfile:InstanceProfile")) {
    const role = roleNamed(run, profile.inputs.role as string);
    const created = sim.scenario.instanceProfile({ name: profile.state.name as string, roleName: role });
    replacements.set(profile.state.arn as string, created.arn);
  }

  const bucket = run.one("aws:s3/bucket:Bucket");
  const bucketName = sim.scenario.bucket(bucket.state.bucket as string);
  const topic = run.one("aws:sns/topic:Topic");
  const topicArn = sim.scenario.topic(topic.state.name as string);
  replacements.set(topic.state.arn as string, topicArn);

  const table = run.one("aws:dynamodb/table:Table");
  await createStackTable(table, sim.region, dynamoEndpoint);
  await createStackDocuments(run, sim);

  // The response workflow: its definition invokes the function's published version, under the same name here.
  const workflow = await deployWorkflow(run, sim, [...replacements]);

  const fn = run.one("aws:lambda/function:Function");
  const environment = Object.fromEntries(
    Object.entries((fn.inputs.environment as { variables: Record<string, string> }).variables).map(
      ([name, value]) => [
        name,
        [...replacements].reduce((text, [mock, real]) => text.split(mock).join(real), value),
      ],
    ),
  );
  return {
    functionName: fn.state.name as string,
    functionArn: `arn:aws:lambda:${sim.region}:${sim.accountId}:function:${fn.state.name as string}`,
    timeoutSeconds: fn.inputs.timeout as number,
    memoryMb: fn.inputs.memorySize as number,
    environment,
    eventPattern: JSON.parse(
      run.one("aws:cloudwatch/eventRule:EventRule", "findings").inputs.eventPattern as string,
    ) as Record<string, unknown>,
    tableName: table.state.name as string,
    bucketName,
    topicArn,
    stateMachineArn: workflow.stateMachineArn,
  };
}

/** The stack's SSM Command documents, created as Pulumi's aws.ssm.Document does: CreateDocument, same name. */
async function createStackDocuments(run: ProgramRun, sim: Simulator): Promise<void> {
  const env = sim.env();
  const client = new SSMClient({
    endpoint: sim.endpoint,
    region: sim.region,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    },
  });
  for (const document of run.ofType("aws:ssm/document:Document")) {
    await client.send(
      new CreateDocumentCommand({
        Name: document.state.name as string,
        Content: document.inputs.content as string,
        DocumentType: document.inputs.documentType as "Command",
        DocumentFormat: "JSON",
      }),
    );
  }
  client.destroy();
}

function roleNamed(run: ProgramRun, roleName: string): string {
  const role = run.ofType("aws:iam/role:Role").find((r) => r.state.name === roleName);
  if (!role)
    throw new Error(`the stack's instance profile names role ${roleName}, which the stack does not create`);
  return roleName;
}

/** The stack's incident table as the program declares it, in the local DynamoDB (under another name if given). */
export async function createStackTable(
  table: RegisteredResource,
  region: string,
  endpoint: string,
  tableName = table.state.name as string,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const attributes = table.inputs.attributes as { name: string; type: "S" | "N" | "B" }[];
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
      KeySchema: [{ AttributeName: table.inputs.hashKey as string, KeyType: "HASH" }],
    }),
  );
  client.destroy();
}
