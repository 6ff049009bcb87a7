import type { Simulator } from "./api";
import type { SimulatorOptions } from "./options";

/** Start the simulator (the implementation lands in the next commits; the signature is final). */
export function startSimulator(_options: SimulatorOptions = {}): Promise<Simulator> {
  return Promise.reject(new Error("simulator implementation not committed yet"));
}
