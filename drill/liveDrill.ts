// `npm run drill -- --live`: the same drill against a deployed stack. It puts a drill finding about a disposable
// instance tagged ir:drill=true on the default event bus of the account and region the standard AWS settings name
// (AWS_PROFILE, AWS_REGION, ...), then follows the response in the stack's incident table. Times are real.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { incidentKey } from "../handler/incidentRecord";
import { putDrillFinding } from "./drillFinding";
import { DrillStep, followIncident, Milestones, ProgressEvent, stepsOf } from "./followIncident";

export interface LiveDrillOptions {
  instanceId: string;
  /** The stack's incident table (`pulumi stack output incidentTable`). */
  incidentTable: string;
  wallLimitMs: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface LiveDrillResult {
  incidentId: string;
  instanceId: string;
  status: string;
  /** Real seconds from the moment the finding was put on the bus (delivery and cold start included). */
  milestones: Milestones;
  steps: DrillStep[];
}

export async function runLiveDrill(options: LiveDrillOptions): Promise<LiveDrillResult> {
  const progress = options.onProgress ?? (() => undefined);
  // Region, credentials and endpoints come from the SDK's standard settings, like the responder's own.
  const ec2 = new EC2Client({});
  const events = new EventBridgeClient({});
  const documents = DynamoDBDocument.from(new DynamoDBClient({}));
  try {
    const region = await ec2.config.region();
    const put = Date.now();
    const { accountId } = await putDrillFinding(ec2, events, options.instanceId, region);
    progress({ kind: "phase", message: `drill finding on the default bus of ${accountId} in ${region}` });
    const toSeconds = (iso: string) => (Date.parse(iso) - put) / 1000;
    const { record, milestones } = await followIncident({
      documents,
      tableName: options.incidentTable,
      incidentKey: incidentKey(accountId, region, options.instanceId),
      toSeconds,
      onProgress: progress,
      wallLimitMs: options.wallLimitMs,
      pollMs: 2000,
    });
    return {
      incidentId: record.incidentId,
      instanceId: options.instanceId,
      status: record.status,
      milestones,
      steps: stepsOf(record, toSeconds),
    };
  } finally {
    for (const client of [ec2, events, documents]) client.destroy();
  }
}
