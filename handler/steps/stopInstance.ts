import { awsErrorCode, describeError } from "../errors";
import { type InstanceFacts, recordedInstance } from "../incidentRecord";
import { describeInstance } from "../instanceDescription";
import { ec2Mutation, nextLook, type ResponseContext } from "../responseContext";
import { accessNotCut } from "./captureMemory";
import { done, failed, skipped, waiting, type StepResult } from "./stepResult";

export type StopPlan =
  | { readonly action: "none"; readonly reason: string; readonly cannotStop: boolean }
  | { readonly action: "wait"; readonly deadline: number; readonly force: boolean }
  | { readonly action: "stop" }
  | { readonly action: "force" };

/**
 * What to do next to get the instance stopped (pure), from its state, what was already sent, and the clock.
 * Bounded: a graceful stop gets STOP_TIMEOUT_SECONDS, then Force; the forced stop gets as long again.
 */
export function planStop(
  instance: Pick<InstanceFacts, "rootDeviceType">,
  state: string,
  sent: { requestedAt?: string; forcedAt?: string },
  now: number,
  stopTimeoutMs: number,
): StopPlan {
  if (state === "stopped") return { action: "none", reason: "stopped", cannotStop: false };
  if (state === "terminated" || state === "shutting-down")
    return { action: "none", reason: `instance is ${state}`, cannotStop: true };
  if (instance.rootDeviceType === "instance-store") {
    return {
      action: "none",
      reason: "instance-store root: cannot be stopped; stays running, isolated",
      cannotStop: true,
    };
  }
  if (sent.forcedAt !== undefined) {
    const deadline = Date.parse(sent.forcedAt) + stopTimeoutMs;
    return now < deadline
      ? { action: "wait", deadline, force: true }
      : { action: "none", reason: `still ${state} after a forced stop`, cannotStop: false };
  }
  if (sent.requestedAt !== undefined) {
    const deadline = Date.parse(sent.requestedAt) + stopTimeoutMs;
    return now < deadline ? { action: "wait", deadline, force: false } : { action: "force" };
  }
  return { action: "stop" };
}

/** AWS's answers for instances that cannot be stopped (one-time Spot, some instance-store types). */
const CANNOT_STOP = ["UnsupportedOperation", "IncorrectSpotRequestState", "UnsupportedInstanceAttribute"];

/**
 * Step 5: stop the instance so nothing more changes on its disks: forced by default (STOP_MODE), so no shutdown
 * script runs (the disks were secured as found already), or gracefully, bounded, then forced. An instance that
 * cannot be stopped stays running and isolated, and the record says why.
 */
export async function stopInstance(context: ResponseContext): Promise<StepResult> {
  const { record, aws, settings } = context;
  const instance = recordedInstance(record);
  const InstanceId = record.instanceId;
  const stop = (record.facts.stop ??= {});
  const timeoutMs = settings.stopTimeoutSeconds * 1000;
  const forced = settings.stopMode === "forced";
  if (settings.dryRun) {
    await ec2Mutation(context, "stop the instance", (DryRun) =>
      aws.ec2.stopInstances({ DryRun, InstanceIds: [InstanceId] }),
    );
    return done("would stop the instance");
  }
  // Hibernation (captureMemory) is a stop already requested.
  const memory = record.facts.memory;
  const requested = {
    requestedAt: stop.requestedAt ?? (memory?.method === "hibernate" ? memory.sentAt : undefined),
    forcedAt: stop.forcedAt,
  };
  if (requested.requestedAt === undefined) {
    const held = accessNotCut(record);
    if (held !== undefined) {
      stop.reason = held;
      return skipped(held);
    }
  }
  for (;;) {
    const state = (await describeInstance(aws, InstanceId))?.State?.Name ?? "terminated";
    const plan = planStop(instance, state, requested, Date.now(), timeoutMs);
    switch (plan.action) {
      case "none":
        stop.finalState = state;
        if (plan.cannotStop) {
          stop.reason = plan.reason;
          return skipped(plan.reason);
        }
        if (state === "stopped")
          return done(stop.forcedAt !== undefined ? "stopped (forced)" : "stopped", { ...stop });
        stop.reason = plan.reason;
        return failed(plan.reason, { ...stop });
      case "wait":
        return waiting(
          `${state}: waiting for the stop`,
          nextLook(context, Date.parse(requested.forcedAt ?? requested.requestedAt ?? ""), plan.deadline),
        );
      case "stop":
        try {
          await aws.ec2.stopInstances({ InstanceIds: [InstanceId], ...(forced ? { Force: true } : {}) });
        } catch (error) {
          if (awsErrorCode(error) === "OperationNotPermitted" && stop.stopProtectionRemoved !== true) {
            // Stop protection (DisableApiStop), possibly set by the intruder: evidence needs a quiet disk.
            await aws.ec2.modifyInstanceAttribute({ InstanceId, DisableApiStop: { Value: false } });
            stop.stopProtectionRemoved = true;
            break; // plan again: the next round sends the stop
          }
          if (!CANNOT_STOP.includes(awsErrorCode(error) ?? "")) throw error;
          stop.reason = `cannot be stopped (${describeError(error)}); stays running, isolated`;
          stop.finalState = state;
          return skipped(stop.reason);
        }
        stop.requestedAt = requested.requestedAt = new Date().toISOString();
        if (forced) stop.forcedAt = requested.forcedAt = stop.requestedAt;
        return waiting(forced ? "forced stop requested" : "stop requested", nextLook(context, Date.now()));
      case "force":
        await aws.ec2.stopInstances({ InstanceIds: [InstanceId], Force: true });
        stop.forcedAt = requested.forcedAt = new Date().toISOString();
        return waiting("forced stop requested", nextLook(context, Date.now()));
    }
  }
}
