import type { Logger } from "@aws-lambda-powertools/logger";

import type { AwsClients } from "./awsClients";
import { awsErrorCode } from "./errors";
import type { IncidentRecord, StepName } from "./incidentRecord";
import type { IncidentStore } from "./incidentStore";
import { retrying } from "./retry";
import type { Settings } from "./settings";

/** What every step gets: settings, clients, the incident it works on, a logger keyed to it. */
export interface ResponseContext {
  readonly settings: Settings;
  readonly aws: AwsClients;
  readonly logger: Logger;
  readonly record: IncidentRecord;
  /** The step this pass runs. */
  readonly step: StepName;
  /** True when the step ran before and did not finish (a crash, a retry): earlier work may be half done. */
  readonly resumed: boolean;
  /** What the step's previous pass left in its record's detail when it answered "waiting". */
  readonly progress?: Readonly<Record<string, unknown>>;
  /** Persists what the step wrote so far (a step calls it before a side effect that must never be repeated). */
  readonly checkpoint: () => Promise<void>;
  /** The incident table, for the few writes outside the step's own save (cutAccess's attributes as found). */
  readonly store: IncidentStore;
}

/**
 * When a waiting step looks again (epoch ms): after the poll interval at first, then after a twentieth of the
 * time already waited (a long kdump or snapshot copy is looked at less often, so its execution's history stays
 * far below Step Functions' 25,000 events), never more than maxPollIntervalSeconds apart, never past the
 * deadline. The state machine waits in between (a Wait state): no Lambda runs while AWS works.
 */
export function nextLook(
  context: Pick<ResponseContext, "settings">,
  waitingSince: number,
  deadline?: number,
): number {
  const { pollIntervalSeconds, maxPollIntervalSeconds } = context.settings;
  const now = Date.now();
  const waited = Number.isFinite(waitingSince) ? now - waitingSince : 0;
  const intervalMs = Math.max(
    pollIntervalSeconds * 1000,
    Math.min(maxPollIntervalSeconds * 1000, waited / 20),
  );
  return deadline === undefined ? now + intervalMs : Math.max(now, Math.min(now + intervalMs, deadline));
}

/** The result of a mutating call: made, or (dry run) only checked and noted. */
export type Mutation<T> = { readonly made: true; readonly value: T } | { readonly made: false };

function noteWouldHave(context: ResponseContext, description: string): void {
  const notes = (context.record.facts.wouldHave ??= []);
  if (!notes.includes(description)) notes.push(description);
  context.logger.info("dry run: would have", { action: description });
}

/**
 * An EC2 mutation. In dry run it is sent with DryRun=true: AWS checks permissions and parameters and answers
 * DryRunOperation ("would have succeeded"); any other error is real and propagates.
 */
export async function ec2Mutation<T>(
  context: ResponseContext,
  description: string,
  call: (dryRun: boolean | undefined) => Promise<T>,
): Promise<Mutation<T>> {
  if (!context.settings.dryRun) return { made: true, value: await call(undefined) };
  try {
    await call(true);
  } catch (error) {
    if (awsErrorCode(error) !== "DryRunOperation") throw error;
  }
  noteWouldHave(context, description);
  return { made: false };
}

/** A mutation through an API that has no DryRun parameter (Auto Scaling, ELBv2, IAM): skipped in dry run. */
export async function plainMutation<T>(
  context: ResponseContext,
  description: string,
  call: () => Promise<T>,
): Promise<Mutation<T>> {
  if (!context.settings.dryRun) return { made: true, value: await call() };
  noteWouldHave(context, description);
  return { made: false };
}

/** AWS answers that mean "already so": safe to treat as success when converging to a desired state. */
export function isAlreadyDone(error: unknown, codes: readonly string[]): boolean {
  const code = awsErrorCode(error);
  return code !== undefined && codes.includes(code);
}

/**
 * Retries a call that names a resource created moments ago: EC2 is eventually consistent, and a new security
 * group or instance may answer "NotFound" for a few seconds. Other errors propagate at once.
 */
export function whileNotYetVisible<T>(codes: readonly string[], call: () => Promise<T>): Promise<T> {
  return retrying(call, {
    retries: 5,
    retryable: (error) => isAlreadyDone(error, codes),
    firstDelayMs: 250,
  });
}
