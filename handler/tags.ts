/**
 * Tag keys and values shared by the stack, the handler, the simulator scenarios and the AMI templates.
 * One place, so a tag the handler checks is the tag the stack writes.
 */
export const TAG_MANAGED_BY = "ir:managed-by";
export const MANAGED_BY_VALUE = "ec2-incident-response";

/** On instances the handler launches: the responder never responds to these. */
export const TAG_RESPONDER_MADE = "ir:responder-made";

/**
 * Its value on a forensic workstation: `ir close` stops or terminates only an instance carrying it, and the
 * operator policy allows no other.
 */
export const RESPONDER_MADE_FORENSIC = "forensic";

/** Incident id on the instance, its snapshots, the forensic instance and volume copies. */
export const TAG_INCIDENT = "ir:incident";

/**
 * Which evidence set a snapshot belongs to: `as-found` (taken right after isolation, before anything can change the
 * disks) or `after-stop` (after the memory capture and the stop: it holds the crash dump). A retry finds its own set.
 */
export const TAG_EVIDENCE_SET = "ir:evidence-set";
export type EvidenceSet = "as-found" | "after-stop";

/** Default exclusion tag key (EXCLUSION_TAG can rename it); value `true` excludes the instance. */
export const DEFAULT_EXCLUSION_TAG = "ir:exclude";

/** `true` on an AMI or an instance whose kernel writes a crash dump on NMI (kdump loaded). */
export const TAG_KDUMP_READY = "ir:kdump-ready";

/**
 * `true` on an instance a drill may act on. Drill events (source ir.drill) can be sent by anyone allowed
 * events:PutEvents, so the responder answers them only for instances that carry it.
 */
export const TAG_DRILL = "ir:drill";

/** Role of a security group the stack or the handler makes. */
export const TAG_ROLE = "ir:role";
export type SecurityGroupRole = "untrack" | "isolation" | "forensic";

export const TRUE_VALUE = "true";
