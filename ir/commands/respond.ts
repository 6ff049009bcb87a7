// ir respond <instance> --reason "…": a response started by a person, through the same pipeline as a finding. The
// responder function is invoked synchronously with the caller's identity (STS GetCallerIdentity) and the reason;
// it checks the live instance, contains it and starts the execution, which this command then follows.
import type { Command } from "commander";

import { STEP_NAMES, type IncidentRecord } from "../../handler/incidentRecord";
import { operatorAction } from "../action";
import type { OperatorContext } from "../context";
import { EXIT, IrError, refused, usage } from "../exitCodes";
import { executionOf, findIncident, instanceIdOf, type ExecutionState } from "../incidents";

interface RespondOptions {
  reason: string;
  overrideExclusion?: boolean;
  wait: boolean;
  waitDelay: string;
}

/** The responder's answer (handler/requestedResponse.ts RequestOutcome). */
interface RespondAnswer {
  outcome: "contained" | "already-responding" | "rejected";
  incidentId?: string;
  executionArn?: string;
  reason?: string;
  detail?: string;
}

const MARKS: Record<string, string> = { done: "✔", failed: "✘", skipped: "–", running: "…" };

async function invokeResponder(context: OperatorContext, payload: unknown): Promise<RespondAnswer> {
  const answer = await context.clients.lambda.invoke({
    FunctionName: context.resources.responderFunctionName,
    InvocationType: "RequestResponse",
    Payload: new TextEncoder().encode(JSON.stringify(payload)),
  });
  const text = new TextDecoder().decode(answer.Payload ?? new Uint8Array());
  if (answer.FunctionError !== undefined) {
    const error = JSON.parse(text || "{}") as { errorType?: string; errorMessage?: string };
    throw new IrError(
      `the responder failed (${answer.FunctionError}): ${error.errorType ?? "Error"}: ${error.errorMessage ?? text}`,
      EXIT.failed,
    );
  }
  return JSON.parse(text) as RespondAnswer;
}

/**
 * Follows the incident until its execution ends: a line per step as it ends. Returns the execution's end and the
 * record as it was then.
 */
async function follow(
  context: OperatorContext,
  incidentId: string,
  pollMs: number,
): Promise<{ execution: ExecutionState | undefined; record: IncidentRecord }> {
  const seen = new Map<string, string>();
  const look = async () => {
    const record = await findIncident(context, incidentId);
    for (const step of STEP_NAMES) {
      const entry = record.steps[step];
      if (entry === undefined || entry.status === "running" || seen.get(step) === entry.status) continue;
      seen.set(step, entry.status);
      context.output.progress(`  ${MARKS[entry.status] ?? "?"} ${step.padEnd(22)} ${entry.outcome}`);
    }
    return record;
  };
  for (;;) {
    const record = await look();
    const execution = await executionOf(context, record);
    // The last Task may have written the record between the two reads: read it again once the execution ended.
    if (execution?.status !== "RUNNING") return { execution, record: await look() };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function registerRespond(program: Command): void {
  program
    .command("respond")
    .description(
      "start a response to an instance you suspect, recorded as manual with your identity and reason",
    )
    .argument("<instance>", "the instance id (i-…) or instance ARN")
    .requiredOption("--reason <text>", "why (recorded in the incident and the report)")
    .option("--override-exclusion", "respond even though the instance carries the exclusion tag (recorded)")
    .option("--no-wait", "return once the instance is contained, without following the execution")
    .option("--wait-delay <seconds>", "seconds between looks at the execution while following it", "5")
    .action(
      operatorAction<RespondOptions>(async (context, [reference], options) => {
        const instanceId = instanceIdOf(context, reference ?? "");
        const pollMs = Number(options.waitDelay) * 1000;
        if (!Number.isFinite(pollMs) || pollMs <= 0)
          throw usage(`--wait-delay must be a positive number of seconds`);
        if (options.reason.trim() === "") throw usage("--reason must say why");
        const caller = await context.clients.sts.getCallerIdentity({});
        if (caller.Account !== context.accountId)
          throw refused(
            `your credentials are for account ${caller.Account}; the stack responds in account ${context.accountId}`,
          );
        const payload = {
          "ir:respond": {
            instanceId,
            reason: options.reason,
            requestedBy: caller.Arn ?? "",
            overrideExclusion: options.overrideExclusion === true,
          },
        };
        const invoked = await context.change(
          `lambda:InvokeFunction ${context.resources.responderFunctionName}`,
          payload,
          () => invokeResponder(context, payload),
        );
        if (invoked === undefined) {
          context.output.result({ dryRun: true, invoke: payload }, () => ["dry run: nothing invoked"]);
          return EXIT.ok;
        }
        if (invoked.outcome === "rejected") {
          context.output.result(invoked, () => [
            `rejected: ${invoked.detail ?? invoked.reason ?? "no reason given"}` +
              (invoked.reason === undefined ? "" : ` (${invoked.reason})`),
          ]);
          // The instance does not exist in the stack's account and region.
          return invoked.reason === "instance-gone" ? EXIT.notFound : EXIT.refused;
        }
        const incidentId = invoked.incidentId ?? "";
        if (invoked.outcome === "already-responding" || !options.wait) {
          context.output.result(invoked, () => [
            invoked.outcome === "contained"
              ? `contained: incident ${incidentId} (follow it with: ir status ${incidentId})`
              : `already responding: ${invoked.reason ?? `incident ${incidentId}`}`,
          ]);
          return EXIT.ok;
        }
        context.output.progress(`contained: incident ${incidentId}; following its execution`);
        const { execution, record } = await follow(context, incidentId, pollMs);
        const succeeded = execution?.status === "SUCCEEDED" && record.status === "completed";
        context.output.result(
          { ...invoked, status: record.status, executionStatus: execution?.status ?? null },
          () => [
            `incident ${incidentId}: ${record.status}, execution ${execution?.status ?? "none"}` +
              (execution?.error === undefined ? "" : ` (${execution.error})`),
          ],
        );
        return succeeded ? EXIT.ok : EXIT.failed;
      }),
    );
}
