// The EventBridge pattern that decides which findings reach the responder.

/** GuardDuty publishes findings with this source; only AWS can use the aws.* prefix, so it cannot be forged. */
const GUARDDUTY_SOURCE = "aws.guardduty";
/** Drill events are put on the default bus by `npm run drill -- --live`; the handler acts on them only for
 * instances tagged ir:drill=true. */
export const DRILL_SOURCE = "ir.drill";
export const FINDING_DETAIL_TYPE = "GuardDuty Finding";

export interface EventPattern {
  source: string[];
  "detail-type": string[];
  detail: {
    resource: { resourceType: string[] };
    severity: { numeric: [">=", number] }[];
  };
}

export function findingEventPattern(severityThreshold: number, acceptDrillEvents: boolean): EventPattern {
  return {
    source: acceptDrillEvents ? [GUARDDUTY_SOURCE, DRILL_SOURCE] : [GUARDDUTY_SOURCE],
    "detail-type": [FINDING_DETAIL_TYPE],
    detail: {
      resource: { resourceType: ["Instance"] },
      // Numeric matching: a string comparison would put "10" below "7".
      severity: [{ numeric: [">=", severityThreshold] }],
    },
  };
}
