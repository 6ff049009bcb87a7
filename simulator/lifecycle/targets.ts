// ELBv2 target registration: initial -> healthy after the health checks pass, draining for the
// deregistration delay, unused while the instance is not running.
import type { RegisteredTarget, TargetGroup } from "../state/model";
import type { World } from "../state/world";

export function registerTarget(world: World, group: TargetGroup, instanceId: string, port: number): void {
  const existing = group.targets.find((t) => t.id === instanceId && t.port === port);
  if (existing && existing.state !== "draining") return;
  if (existing) group.targets = group.targets.filter((t) => t !== existing);
  const target: RegisteredTarget = {
    id: instanceId,
    port,
    state: "initial",
    transitionAt: world.now() + world.durations.targetHealthyMs,
  };
  group.targets.push(target);
}

/** Start draining; the target disappears once the deregistration delay has passed. */
export function deregisterTarget(
  world: World,
  group: TargetGroup,
  instanceId: string,
  port?: number,
): boolean {
  const target = group.targets.find((t) => t.id === instanceId && (port === undefined || t.port === port));
  if (!target || target.state === "draining") return target !== undefined;
  target.state = "draining";
  target.transitionAt = world.now() + group.deregistrationDelayMs;
  world.clock.schedule(group.deregistrationDelayMs, () => {
    if (target.state === "draining") group.targets = group.targets.filter((t) => t !== target);
  });
  return true;
}

export interface TargetHealthView {
  state: RegisteredTarget["state"];
  reason?: string;
  description?: string;
}

/** The health ELBv2 reports now, from the registration and the instance's state. */
export function targetHealth(
  world: World,
  target: RegisteredTarget | undefined,
  instanceId: string,
): TargetHealthView {
  if (!target) {
    return {
      state: "unused",
      reason: "Target.NotRegistered",
      description: "Target is not registered to the target group",
    };
  }
  if (target.state === "draining") {
    return {
      state: "draining",
      reason: "Target.DeregistrationInProgress",
      description: "Target deregistration is in progress",
    };
  }
  const instance = world.instances.get(instanceId);
  if (!instance || instance.state !== "running") {
    return {
      state: "unused",
      reason: "Target.InvalidState",
      description: `Target is in the ${instance?.state ?? "terminated"} state`,
    };
  }
  if (world.now() < target.transitionAt) {
    return {
      state: "initial",
      reason: "Elb.RegistrationInProgress",
      description: "Target registration is in progress",
    };
  }
  return { state: "healthy" };
}
