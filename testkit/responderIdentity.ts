// The responder's identity in the simulator: the role policy the Pulumi program synthesizes (its mock run), with the
// mock run's made-up names swapped for the simulator's, so every call the handler makes in a drill, a test or a
// benchmark is authorized against exactly the policy `pulumi up` would attach to the Lambda's role.
import type { PolicyDocument } from "../simulator/iam/authorizer";
import type { Simulator } from "../simulator";
import { BASE_CONFIG, runProgram, stackConfig, type ProgramRun } from "./stackMockRun";

export interface ResponderIdentity {
  name: string;
  /** The Lambda's assumed-role session, as AWS names it in denials. */
  arn: string;
  policies: PolicyDocument[];
}

/** The responder role's inline policy as the program synthesized it, and the role's name. */
function synthesizedResponderPolicy(run: ProgramRun): { roleName: string; policy: string } {
  const fn = run.one("aws:lambda/function:Function");
  const roleArn = String(fn.inputs.role);
  const role = run.ofType("aws:iam/role:Role").find((r) => r.state.arn === roleArn);
  if (!role) throw new Error(`the responder function's role ${roleArn} is not one the stack creates`);
  const attached = run
    .ofType("aws:iam/rolePolicy:RolePolicy")
    .filter((p) => p.inputs.role === role.state.name || p.inputs.role === role.state.id);
  if (attached.length !== 1)
    throw new Error(`expected one inline policy on the responder's role, found ${attached.length}`);
  return { roleName: String(role.state.name), policy: String(attached[0]?.inputs.policy) };
}

/** The responder's principal for the simulator, its policy's mock names replaced by the simulator's values. */
export function responderIdentity(
  run: ProgramRun,
  sim: Simulator,
  functionName: string,
  replacements: [mock: string, real: string][],
): ResponderIdentity {
  const { roleName, policy } = synthesizedResponderPolicy(run);
  const text = replacements.reduce((doc, [mock, real]) => doc.split(mock).join(real), policy);
  return {
    name: "responder",
    arn: `arn:aws:sts::${sim.accountId}:assumed-role/${roleName}/${functionName}`,
    policies: [JSON.parse(text) as PolicyDocument],
  };
}

/**
 * The stack the handler tests stand for: the dev stack's config with snapshot locks on, as the test harness
 * configures the handler, plus any keys a test sets. Each config is run once per process (about a second).
 */
const testStacks = new Map<string, Promise<ProgramRun>>();
export function testStackRun(extra: Record<string, string> = {}): Promise<ProgramRun> {
  const config = {
    ...BASE_CONFIG,
    ...stackConfig({ snapshotLock: '{"mode":"compliance","days":30}', ...extra }),
  };
  const key = JSON.stringify(config);
  const run = testStacks.get(key) ?? runProgram(config);
  testStacks.set(key, run);
  return run;
}
