// SDK clients signed as the simulator's account administrator: what `pulumi up`, an operator and the account's own
// people use, never the responder (which signs as its role).
import { EC2 } from "@aws-sdk/client-ec2";
import { SFN } from "@aws-sdk/client-sfn";

import type { Simulator } from "../simulator";

function administratorSettings(sim: Simulator) {
  const env = sim.env();
  return {
    region: sim.region,
    endpoint: sim.endpoint,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    },
  };
}

/** Step Functions as the administrator (the state machine's creation, an operator reading executions). */
export function administratorStepFunctions(sim: Simulator): SFN {
  return new SFN(administratorSettings(sim));
}

/** EC2 as the account's own people or workload: to set a scene. */
export function workloadOwnerEc2(sim: Simulator): EC2 {
  return new EC2(administratorSettings(sim));
}
