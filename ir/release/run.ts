// One release in progress: the record it restores from, the caller's options, and what it has undone and kept so
// far. Every change goes through `change` (printed, and only printed with --dry-run) and every wait through
// `waitFor` (an SDK waiter; skipped with --dry-run, where nothing changed to wait for).
import type { waitUntilInstanceRunning } from "@aws-sdk/client-ec2";

import type { IncidentRecord, InstanceFacts } from "../../handler/incidentRecord";
import type { OperatorContext } from "../context";

export interface ReleaseOptions {
  reason: string;
  /** Leave the instance out of its Auto Scaling group (the group has replaced it). */
  standalone: boolean;
  archiveFinding: boolean;
  /** The SDK waiters' delays, in seconds (--wait-delay: short against the simulator). */
  waits: { minDelay: number; maxDelay: number; maxWaitTime: number };
}

/** The waiters look again after `minDelay` seconds, then less often (up to six times that), 15 minutes at most. */
export function waitsFrom(minDelay: number): ReleaseOptions["waits"] {
  return { minDelay, maxDelay: minDelay * 6, maxWaitTime: 900 };
}

/** A release's record, with the progress mark a release sets before its first change (see markStarted). */
export type ReleasableRecord = IncidentRecord & { releaseStarted?: { by: string; at: string } };

export interface ReleaseRun {
  readonly context: OperatorContext;
  readonly record: ReleasableRecord;
  readonly instance: InstanceFacts;
  readonly options: ReleaseOptions;
  /** Each change the response made, as it is now restored (whether by this run or an interrupted one). */
  readonly undone: string[];
  /** What the release keeps: evidence, and what it cannot or may not restore, with why. */
  readonly kept: string[];
  /** What an operator should know about a change made (e.g. what removing the revoke-sessions policy means). */
  readonly notes: string[];
  /** Every call that changes AWS, as made (or, with --dry-run, as it would be made). */
  readonly calls: string[];
}

export async function change(
  run: ReleaseRun,
  call: string,
  detail: Record<string, unknown>,
  make: () => Promise<unknown>,
): Promise<void> {
  run.calls.push(`${call} ${JSON.stringify(detail)}`);
  await run.context.change(call, detail, make);
}

export async function waitFor<Input>(
  run: ReleaseRun,
  what: string,
  waiter: (config: Parameters<typeof waitUntilInstanceRunning>[0], input: Input) => Promise<unknown>,
  input: Input,
): Promise<void> {
  if (run.context.dryRun) return;
  run.context.output.progress(`waiting for ${what}`);
  await waiter({ client: run.context.clients.ec2, ...run.options.waits }, input);
}
