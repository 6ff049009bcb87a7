import { createHash } from "crypto";

/**
 * An idempotency token for RunInstances/CreateVolume derived from the incident: a retried or resumed response
 * sends the same token, and EC2 answers with the instance or volume it already made instead of a second one.
 */
export function clientToken(incidentId: string, purpose: string): string {
  return `ir-${createHash("sha256").update(`${incidentId}:${purpose}`).digest("hex").slice(0, 40)}`;
}
