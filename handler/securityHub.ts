// The Security Hub finding of an incident: which one it is, and its workflow updates (SECURITY_HUB_UPDATES).
import { describeError } from "./errors";
import {
  recordProblem,
  type IncidentRecord,
  type SecurityHubFindingRef,
  type StepName,
} from "./incidentRecord";
import type { InstanceFinding } from "./acceptance/finding";
import type { AwsClients } from "./awsClients";
import type { Settings } from "./settings";

/** Who the notes name as their author (BatchUpdateFindings' Note.UpdatedBy). */
const NOTE_AUTHOR = "ec2-incident-response";

/** Security Hub's limit on a note's text. */
const NOTE_LIMIT = 512;

/**
 * The Security Hub copy of a GuardDuty finding (pure): GuardDuty sends its findings to Security Hub with the
 * finding's ARN as Id and ProductArn arn:PARTITION:securityhub:REGION::product/aws/guardduty (GuardDuty user
 * guide, "Integrating with Security Hub"). Undefined when the event carried no finding ARN.
 */
export function guardDutyFindingInSecurityHub(
  finding: Pick<InstanceFinding, "findingArn">,
): SecurityHubFindingRef | undefined {
  const arn = finding.findingArn;
  if (arn === undefined) return undefined;
  const [, partition, , region] = arn.split(":");
  return { id: arn, productArn: `arn:${partition}:securityhub:${region}::product/aws/guardduty` };
}

/** The note that goes with each workflow status (pure): the incident, and where to read on. */
export function securityHubNote(
  record: Pick<IncidentRecord, "incidentId" | "execution">,
  status: "NOTIFIED" | "RESOLVED",
  reportLocation?: string,
): string {
  const text =
    status === "NOTIFIED"
      ? `Contained by the EC2 incident responder: incident ${record.incidentId}` +
        (record.execution === undefined ? "" : `, execution ${record.execution.arn}`)
      : `Incident ${record.incidentId} responded to; report: ${reportLocation ?? "(not written)"}`;
  return text.slice(0, NOTE_LIMIT);
}

/**
 * Sets the workflow status of the incident's Security Hub finding, with a note. Nothing to do when the updates are
 * off, in a dry run (BatchUpdateFindings has no dry run), or when the incident has no Security Hub finding. A
 * failure (refused, unprocessed, unreachable) is recorded as a problem of `step` and never fails the response.
 * Returns the problem line it recorded, if any.
 */
export async function updateSecurityHubWorkflow(
  deps: { readonly aws: AwsClients; readonly settings: Settings },
  record: IncidentRecord,
  step: StepName,
  status: "NOTIFIED" | "RESOLVED",
  reportLocation?: string,
): Promise<string | undefined> {
  const finding = record.trigger?.securityHubFinding;
  if (!deps.settings.securityHubUpdates || deps.settings.dryRun || finding === undefined) return undefined;
  let problem: string | undefined;
  try {
    const answer = await deps.aws.securityHub.batchUpdateFindings({
      FindingIdentifiers: [{ Id: finding.id, ProductArn: finding.productArn }],
      Workflow: { Status: status },
      Note: { Text: securityHubNote(record, status, reportLocation), UpdatedBy: NOTE_AUTHOR },
    });
    const unprocessed = answer.UnprocessedFindings?.[0];
    if (unprocessed !== undefined) {
      problem = `${unprocessed.ErrorCode ?? "Unprocessed"}: ${unprocessed.ErrorMessage ?? "not updated"}`;
    }
  } catch (error) {
    problem = describeError(error);
  }
  if (problem === undefined) return undefined;
  const line = `Security Hub finding ${finding.id} not set to ${status} (${problem})`;
  recordProblem(record.facts, step, line);
  return `${step}: ${line}`;
}
