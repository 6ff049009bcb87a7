// The incident records the commands read: one by incident id, instance id or instance ARN, or all of them, and
// the execution each one started. A reference to another account's or region's instance is refused here, before
// any call: the stack responds only in its own.
import { DescribeExecutionCommandOutput } from "@aws-sdk/client-sfn";

import { incidentKey, instanceIdOfIncident, type IncidentRecord } from "../handler/incidentRecord";
import type { OperatorContext } from "./context";
import { notFound, refused, usage } from "./exitCodes";

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const INSTANCE_ARN = /^arn:[^:]+:ec2:([^:]*):(\d{12}):instance\/(i-[0-9a-f]{8,17})$/;

/** The instance an `i-…` id or instance ARN names, refused when the ARN is another account's or region's. */
export function instanceIdOf(context: OperatorContext, reference: string): string {
  if (INSTANCE_ID.test(reference)) return reference;
  const arn = INSTANCE_ARN.exec(reference);
  if (!arn) throw usage(`not an instance id or instance ARN: ${reference}`);
  const [, region, account, instanceId] = arn as unknown as [string, string, string, string];
  if (account !== context.accountId || region !== context.region)
    throw refused(
      `${instanceId} is in account ${account}, region ${region}: this stack responds in account ` +
        `${context.accountId}, region ${context.region} only (use the stack deployed there)`,
    );
  return instanceId;
}

/** The record of an incident (its id) or of an instance's latest incident (an instance id or ARN). */
export async function findIncident(context: OperatorContext, reference: string): Promise<IncidentRecord> {
  const byIncident = reference.startsWith("inc-");
  const instanceId = byIncident ? instanceIdOfIncident(reference) : instanceIdOf(context, reference);
  if (instanceId === undefined) throw usage(`not an incident id: ${reference}`);
  const answer = await context.clients.documents.get({
    TableName: context.resources.incidentTableName,
    Key: { pk: incidentKey(context.accountId, context.region, instanceId) },
    ConsistentRead: true,
  });
  const record = answer.Item as IncidentRecord | undefined;
  const where = `in table ${context.resources.incidentTableName} (account ${context.accountId}, ${context.region})`;
  if (record === undefined) throw notFound(`no incident for ${reference} ${where}`);
  if (byIncident && record.incidentId !== reference)
    throw notFound(`no incident ${reference} ${where}: ${instanceId}'s incident is ${record.incidentId}`);
  return record;
}

/** Every incident record (dry runs' included), newest first. */
export async function allIncidents(context: OperatorContext): Promise<IncidentRecord[]> {
  const records: IncidentRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await context.clients.documents.scan({
      TableName: context.resources.incidentTableName,
      ExclusiveStartKey: start,
    });
    records.push(...((page.Items ?? []) as IncidentRecord[]));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export interface ExecutionState {
  arn: string;
  status: string;
  startedAt?: string;
  stoppedAt?: string;
  error?: string;
}

/** The record's execution as Step Functions describes it now (undefined when the record started none). */
export async function executionOf(
  context: OperatorContext,
  record: IncidentRecord,
): Promise<ExecutionState | undefined> {
  if (record.execution === undefined) return undefined;
  const described: DescribeExecutionCommandOutput = await context.clients.sfn.describeExecution({
    executionArn: record.execution.arn,
  });
  return {
    arn: record.execution.arn,
    status: described.status ?? "UNKNOWN",
    startedAt: described.startDate?.toISOString(),
    stoppedAt: described.stopDate?.toISOString(),
    ...(described.error === undefined ? {} : { error: `${described.error}: ${described.cause ?? ""}` }),
  };
}
