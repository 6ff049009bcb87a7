// The response workflow as `pulumi up` creates it, in the simulator: the state machine's definition and role policy
// exactly as the Pulumi program synthesizes them (its mock run), with the mock's names swapped for the simulator's.
// The simulator then runs that definition and authorizes each of its Lambda and SNS calls against that policy.
import { administratorStepFunctions } from "./administrator";
import type { PolicyDocument } from "../simulator/iam/authorizer";
import type { Simulator } from "../simulator";
import type { ProgramRun } from "./stackMockRun";

export interface DeployedWorkflow {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;
}

/** Swaps each mock value for the simulator's (pure). */
function swapped(text: string, replacements: readonly (readonly [mock: string, real: string])[]): string {
  return replacements.reduce((result, [mock, real]) => result.split(mock).join(real), text);
}

export async function deployWorkflow(
  run: ProgramRun,
  sim: Simulator,
  replacements: readonly (readonly [mock: string, real: string])[],
): Promise<DeployedWorkflow> {
  const machine = run.one("aws:sfn/stateMachine:StateMachine");
  const mockRoleArn = String(machine.inputs.roleArn);
  const role = run.ofType("aws:iam/role:Role").find((candidate) => candidate.state.arn === mockRoleArn);
  if (role === undefined)
    throw new Error(`the state machine's role ${mockRoleArn} is not one the stack creates`);
  const roleName = String(role.state.name);
  const policies = run
    .ofType("aws:iam/rolePolicy:RolePolicy")
    .filter((policy) => policy.inputs.role === roleName || policy.inputs.role === role.state.id)
    .map((policy) => JSON.parse(swapped(String(policy.inputs.policy), replacements)) as PolicyDocument);
  if (policies.length === 0) throw new Error(`the state machine's role ${roleName} has no policy`);
  const roleArn = `arn:aws:iam::${sim.accountId}:role/${roleName}`;
  sim.iam.addPrincipal({
    name: "state machine",
    arn: `arn:aws:sts::${sim.accountId}:assumed-role/${roleName}/states`,
    roleArn,
    policies,
  });
  // Created by the account's administrator through the real client, as `pulumi up` would (iam:PassRole included).
  const client = administratorStepFunctions(sim);
  const name = String(machine.inputs.name);
  try {
    const created = await client.createStateMachine({
      name,
      definition: swapped(String(machine.inputs.definition), replacements),
      roleArn,
      type: "STANDARD",
    });
    return { stateMachineArn: created.stateMachineArn ?? "", stateMachineName: name, roleArn };
  } finally {
    client.destroy();
  }
}
