// `npm run drill -- --false-positive`: a drill finding on a healthy web tier member, the full response, then the
// operator's `ir release` (signing with exactly the operator policy) and the instance compared attribute by
// attribute with the instance as found: back in service with its groups, profile, volumes and registration.
import * as path from "path";
import { AutoScaling } from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2, EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

import { incidentKey } from "../handler/incidentRecord";
import { responseOrigin, secondsBetween } from "../handler/steps/report";
import { PROJECT } from "../infra/config";
import { operatorPolicy } from "../infra/operatorPolicy";
import { runIr } from "../ir/cli";
import type { ReleaseResult } from "../ir/release/release";
import { putDrillFinding } from "./drillFinding";
import { followIncident } from "./followIncident";
import { compareAttributes, seeInstance } from "./instanceAsSeen";
import { stackConfigFromFile, startLocalStack, type DrillOptions, type LocalStack } from "./runDrill";

export interface FalsePositiveResult {
  incidentId: string;
  instanceId: string;
  /** How the response ended (completed), before the release. */
  responseStatus: string;
  /** ir release's exit code, its result (--json) and its progress lines. */
  releaseExitCode: number;
  release?: ReleaseResult;
  releaseProgress: string;
  comparison: ReturnType<typeof compareAttributes>;
  iam: { evaluated: number; denied: number };
}

/** The operator: a principal whose only policy is the operator policy, for this stack's resources. */
function operatorEnvironment(local: LocalStack, config: Record<string, string>): Record<string, string> {
  const { sim, stack } = local;
  const policy = operatorPolicy({
    partition: "aws",
    region: sim.region,
    accountId: sim.accountId,
    incidentTableArn: `arn:aws:dynamodb:${sim.region}:${sim.accountId}:table/${stack.tableName}`,
    stateMachineArn: stack.stateMachineArn,
    evidenceBucketArn: `arn:aws:s3:::${stack.bucketName}`,
    notificationTopicArn: stack.topicArn,
    responderFunctionArn: stack.functionArn,
    evidenceKmsKeyArn: config[`${PROJECT}:evidenceKmsKeyArn`],
    ebsKmsKeyArns: JSON.parse(config[`${PROJECT}:ebsKmsKeyArns`] ?? "[]") as string[],
  });
  const arn = `arn:aws:sts::${sim.accountId}:assumed-role/ir-operator/drill`;
  const credentials = sim.iam.addPrincipal({ name: "drill-operator", arn, policies: [policy] });
  return {
    AWS_ENDPOINT_URL: sim.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    IR_REGION: sim.region,
    IR_INCIDENT_TABLE: stack.tableName,
    IR_STATE_MACHINE_ARN: stack.stateMachineArn,
    IR_EVIDENCE_BUCKET: stack.bucketName,
    IR_TOPIC_ARN: stack.topicArn,
    IR_RESPONDER_FUNCTION: stack.functionName,
  };
}

export async function runFalsePositiveDrill(options: DrillOptions): Promise<FalsePositiveResult> {
  const progress = options.onProgress ?? (() => undefined);
  const local = await startLocalStack(options);
  const { sim, stack, lambda, workload } = local;
  const instanceId = workload.compromised;
  const settings = local.clientSettings();
  const seeing = {
    ec2: new EC2(settings),
    elbv2: new ElasticLoadBalancingV2(settings),
    autoScaling: new AutoScaling(settings),
  };
  const ec2Client = new EC2Client(settings);
  const events = new EventBridgeClient(settings);
  const documents = DynamoDBDocument.from(new DynamoDBClient(local.clientSettings("dynamodb")));
  try {
    const found = await seeInstance(seeing, instanceId, [workload.targetGroupArn]);
    await putDrillFinding(ec2Client, events, instanceId, sim.region);
    progress({ kind: "phase", message: `finding on the event bus for ${instanceId}: a false positive` });
    const { record } = await followIncident({
      documents,
      tableName: stack.tableName,
      incidentKey: incidentKey(sim.accountId, sim.region, instanceId),
      toSeconds: (iso, current) => secondsBetween(responseOrigin(current), iso, options.timeScale),
      onProgress: progress,
      wallLimitMs: options.wallLimitMs,
      pollMs: 50,
    });
    await lambda.settle();
    if (record.execution) await sim.stepFunctions.waitForExecution(record.execution.arn);

    progress({
      kind: "phase",
      message: `ir release ${record.incidentId} as an operator (the operator policy only)`,
    });
    let stdout = "";
    let stderr = "";
    const releaseExitCode = await runIr(
      [
        "--json",
        "release",
        record.incidentId,
        "--reason",
        "drill: the finding was a false positive",
        "--wait-delay",
        String(Math.max(0.01, 1 / options.timeScale)),
      ],
      {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        env: operatorEnvironment(local, stackConfigFromFile(path.resolve(options.stackFile))),
      },
    );
    const after = await seeInstance(seeing, instanceId, [workload.targetGroupArn]);
    const { evaluated, denied } = sim.iam.stats;
    return {
      incidentId: record.incidentId,
      instanceId,
      responseStatus: record.status,
      releaseExitCode,
      ...(releaseExitCode === 0 ? { release: JSON.parse(stdout) as ReleaseResult } : {}),
      releaseProgress: stderr,
      comparison: compareAttributes(found, after),
      iam: { evaluated, denied },
    };
  } finally {
    for (const client of [seeing.ec2, seeing.elbv2, seeing.autoScaling, ec2Client, events, documents])
      client.destroy();
    await local.stop();
  }
}

/** The drill's printout: the release, then each attribute as found and after; the exit code (0: all the same). */
export function printFalsePositive(
  result: FalsePositiveResult,
  log: (line: string) => void = console.log,
): number {
  log(
    `\nIncident ${result.incidentId} (${result.instanceId}): response ${result.responseStatus}, then released`,
  );
  if (result.release === undefined) {
    log(`ir release failed (exit ${result.releaseExitCode}):\n${result.releaseProgress}`);
    return 1;
  }
  log("Undone:");
  for (const line of result.release.release.undone) log(`  ${line}`);
  log("Kept:");
  for (const line of result.release.release.kept) log(`  ${line}`);
  for (const note of result.release.notes) log(note);
  log("\nThe instance back in service, attribute by attribute:");
  const width = Math.max(...result.comparison.map((row) => row.attribute.length));
  for (const row of result.comparison) {
    const mark = row.same ? "✔" : "✘";
    const values = row.same ? row.after : `as found ${row.found}, now ${row.after}`;
    log(`  ${mark} ${row.attribute.padEnd(width)}  ${values}`);
  }
  log(`IAM: ${result.iam.evaluated} calls evaluated, ${result.iam.denied} denied`);
  const same = result.comparison.every((row) => row.same) && result.iam.denied === 0;
  log(same ? "Back exactly as found." : "NOT back as found: see ✘ above.");
  return same ? 0 : 1;
}
