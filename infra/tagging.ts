import { MANAGED_BY_VALUE, SecurityGroupRole, TAG_MANAGED_BY, TAG_ROLE } from "../handler/tags";

/** Tags on every resource the stack creates, so an operator (and the responder's IAM conditions) can tell them. */
export function managedTags(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Name: name, [TAG_MANAGED_BY]: MANAGED_BY_VALUE, ...extra };
}

export function securityGroupTags(name: string, role: SecurityGroupRole): Record<string, string> {
  return managedTags(name, { [TAG_ROLE]: role });
}
