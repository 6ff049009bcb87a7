// A drill starts like a real incident: a GuardDuty-shaped finding about a live instance reaches the default event
// bus, and the stack's rule hands it to the responder. Only instances tagged ir:drill=true are drill targets.
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { TAG_DRILL } from "../handler/tags";
import { DRILL_SOURCE, FINDING_DETAIL_TYPE } from "../infra/eventPattern";
import { DEFAULT_FINDING, guardDutyFindingDetail, instanceDetailsOf } from "../simulator/guardDutyFinding";

/** The tag the responder requires on a drill's instance (handler/tags.ts): one constant for both sides. */
export const DRILL_TAG = TAG_DRILL;

export class DrillRefusedError extends Error {
  override readonly name = "DrillRefusedError";
}

/** Describes the target, refuses it unless tagged ir:drill=true, and puts the finding on the default bus. */
export async function putDrillFinding(
  ec2: EC2Client,
  events: EventBridgeClient,
  instanceId: string,
  region: string,
  options: { type: string; severity: number } = DEFAULT_FINDING,
): Promise<{ accountId: string; detail: Record<string, unknown> }> {
  const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const reservation = answer.Reservations?.[0];
  const instance = reservation?.Instances?.[0];
  if (!reservation || !instance) throw new DrillRefusedError(`instance ${instanceId} does not exist`);
  const tagged = (instance.Tags ?? []).some((t) => t.Key === DRILL_TAG && t.Value === "true");
  if (!tagged) {
    throw new DrillRefusedError(
      `instance ${instanceId} is not a drill target: tag it ${DRILL_TAG}=true (the responder ignores drills on other instances)`,
    );
  }
  const accountId = reservation.OwnerId ?? "";
  const detail = guardDutyFindingDetail(instanceDetailsOf(instance), {
    accountId,
    region,
    ...options,
    detectorId: "drill",
    domain: "drill.invalid",
    additionalInfo: { value: '{"drill":true}', type: "default" },
    title: `Drill: ${options.type} on ${instanceId}`,
    description: `Drill finding for ${instanceId}, put on the event bus by npm run drill.`,
  });
  const put = await events.send(
    new PutEventsCommand({
      Entries: [{ Source: DRILL_SOURCE, DetailType: FINDING_DETAIL_TYPE, Detail: JSON.stringify(detail) }],
    }),
  );
  const failure = put.Entries?.find((e) => e.ErrorCode);
  if (put.FailedEntryCount || failure) {
    throw new Error(`EventBridge refused the drill finding: ${failure?.ErrorCode}: ${failure?.ErrorMessage}`);
  }
  return { accountId, detail };
}
