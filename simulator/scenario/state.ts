// The state the scenario builders share: the simulated account, and what the builders themselves count.
import type { World } from "../state/world";

export interface ScenarioState {
  readonly world: World;
  /** Subnets the builders made without a CIDR: each takes the next free /24 of its VPC. */
  subnetsNumbered: number;
}

/** A creation time just before now: scenario resources exist "since before the test", with no consistency window. */
export const alreadyVisible = (world: World): number => world.now() - 1;
