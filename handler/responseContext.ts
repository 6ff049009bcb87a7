import type { Logger } from "@aws-lambda-powertools/logger";

import type { AwsClients } from "./awsClients";
import { awsErrorCode, TimeBudgetExhaustedError } from "./errors";
import type { IncidentRecord } from "./incidentRecord";
import type { Settings } from "./settings";

/** What every step gets: settings, clients, the incident it works on, a logger keyed to it, and time. */
export interface ResponseContext {
  readonly settings: Settings;
  readonly aws: AwsClients;
  readonly logger: Logger;
  readonly record: IncidentRecord;
  /** True when this invocation took the incident over (a retry, a continuation): earlier work may be half done. */
  readonly resumed: boolean;
  readonly budget: TimeBudget;
  /** Persists the record now (a step calls it before a long wait, so a resumed response knows what was sent). */
  readonly checkpoint: () => Promise<void>;
}

/** The invocation's remaining time, minus the reserve kept for recording the state and continuing. */
export class TimeBudget {
  constructor(
    private readonly remainingMs: () => number,
    private readonly reserveMs: number,
  ) {}

  /** Throws TimeBudgetExhaustedError when it is time to stop at the next step boundary. */
  ensure(): void {
    const remaining = this.remainingMs();
    if (remaining < this.reserveMs) throw new TimeBudgetExhaustedError(remaining);
  }

  /** False once it is time to stop (ensure() would throw): for a step's own retry loop, which then gives up. */
  hasTimeLeft(): boolean {
    return this.remainingMs() >= this.reserveMs;
  }

  get deadline(): number {
    return Date.now() + this.remainingMs();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` every POLL_INTERVAL_SECONDS until it returns a value or `deadline` (epoch ms) passes.
 * Deadlines are absolute so a wait that spans a continuation keeps its original bound. Budget-aware: it
 * throws TimeBudgetExhaustedError rather than let the invocation run into Lambda's limit.
 */
export async function pollUntil<T>(
  context: ResponseContext,
  deadline: number,
  probe: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const intervalMs = context.settings.pollIntervalSeconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    context.budget.ensure();
    await sleep(Math.max(1, Math.min(intervalMs, deadline - Date.now())));
  }
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
export async function whileNotYetVisible<T>(codes: readonly string[], call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 5 || !isAlreadyDone(error, codes)) throw error;
      await sleep(250 * 2 ** attempt);
    }
  }
}
