// The instance attributes cutAccess (and stopInstance) change, read before they are changed: what a release after a
// false positive restores (facts.instance.asFound; the metadata service is read by the containment's describe).
import { awsErrorCode, describeError } from "../../errors";
import { recordedInstance, recordProblem, type InstanceAsFound } from "../../incidentRecord";
import type { ResponseContext } from "../../responseContext";

/** The attributes read with DescribeInstanceAttribute (one attribute per call, as EC2 requires). */
const DESCRIBED = ["disableApiTermination", "instanceInitiatedShutdownBehavior", "disableApiStop"] as const;
type Described = (typeof DESCRIBED)[number];

/** One DescribeInstanceAttribute answer as the record keeps it (pure); undefined when EC2 said nothing usable. */
function asFoundValue(
  attribute: Described,
  answer: {
    DisableApiTermination?: { Value?: boolean };
    DisableApiStop?: { Value?: boolean };
    InstanceInitiatedShutdownBehavior?: { Value?: string };
  },
): InstanceAsFound[Described] {
  switch (attribute) {
    case "disableApiTermination":
      return answer.DisableApiTermination?.Value;
    case "disableApiStop":
      return answer.DisableApiStop?.Value;
    case "instanceInitiatedShutdownBehavior": {
      const value = answer.InstanceInitiatedShutdownBehavior?.Value;
      return value === "stop" || value === "terminate" ? value : undefined;
    }
  }
}

/**
 * Reads the attributes not recorded yet and records them, before cutAccess changes any of them (stop protection,
 * which stopInstance may turn off later, is read here too: cutAccess runs first). A read or a write that fails is a
 * problem (a release cannot restore that attribute), never a reason to hold containment back.
 */
export async function recordAttributesAsFound(context: ResponseContext): Promise<void> {
  const { record, aws, store } = context;
  const instance = recordedInstance(record);
  // Not changed in memory: facts.instance is the containment's (one writer per fact); the store adds these.
  const known = instance.asFound ?? {};
  const missing = DESCRIBED.filter((attribute) => known[attribute] === undefined);
  if (missing.length === 0) return;
  const found: InstanceAsFound = {};
  await Promise.all(
    missing.map(async (attribute) => {
      try {
        const answer = await aws.ec2.describeInstanceAttribute({
          InstanceId: record.instanceId,
          Attribute: attribute,
        });
        const value = asFoundValue(attribute, answer);
        if (value !== undefined) Object.assign(found, { [attribute]: value });
      } catch (error) {
        recordProblem(
          record.facts,
          "cutAccess",
          `${attribute} as found not read (${describeError(error)}): a release cannot restore it`,
        );
      }
    }),
  );
  try {
    await store.recordAsFound(record, found);
  } catch (error) {
    // An item claimed before attributes were recorded has no asFound to add to: said, and containment goes on.
    if (awsErrorCode(error) !== "ConditionalCheckFailedException") throw error;
    recordProblem(record.facts, "cutAccess", "attributes as found not recorded on this incident's record");
  }
}
