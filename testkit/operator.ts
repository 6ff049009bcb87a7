// The operator in tests: a principal of the simulator whose only policy is the operator policy the Pulumi program
// synthesizes (infra/operatorPolicy.ts, its mock run), with the stack's names swapped for the harness's, and `ir`
// run in process as that principal against the harness's stack.
import { runIr } from "../ir/cli";
import type { PolicyDocument } from "../simulator/iam/authorizer";
import type { Harness } from "./harness";
import { FUNCTION_NAME, stackReplacements } from "./responderWorld";
import { testStackRun } from "./responderIdentity";

/** The operator policy as `pulumi up` would create it, in the harness's names. */
export async function operatorPolicyOf(harness: Harness): Promise<PolicyDocument> {
  const run = await testStackRun();
  const policy = String(run.one("aws:iam/policy:Policy", "ir-operator").inputs.policy);
  const replacements = stackReplacements(run, harness.sim, harness.world, harness.env.INCIDENT_TABLE ?? "");
  const text = replacements.reduce((doc, [mock, real]) => doc.split(mock).join(real), policy);
  return JSON.parse(text) as PolicyDocument;
}

interface OperatorRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Operator {
  /** The principal's ARN (what ir respond records as requestedBy). */
  arn: string;
  /** Runs `ir <argv>` as this operator. */
  ir(...argv: string[]): Promise<OperatorRun>;
  /** Runs `ir --json <argv>` and parses its result (throws with stderr when the command failed). */
  json<T = Record<string, unknown>>(...argv: string[]): Promise<T>;
}

/**
 * An operator signing with its own credentials: by default with exactly the operator policy; `policies` replaces
 * it (e.g. to take one permission away); `env` adds to the environment ir runs with (e.g. IR_EVIDENCE_LOCK_DAYS).
 */
export async function operatorFor(
  harness: Harness,
  options: { name?: string; policies?: PolicyDocument[]; env?: Record<string, string> } = {},
): Promise<Operator> {
  const { sim, world, env } = harness;
  const name = options.name ?? "alice";
  const arn = `arn:aws:sts::${sim.accountId}:assumed-role/ir-operator/${name}`;
  const policies = options.policies ?? [await operatorPolicyOf(harness)];
  const credentials = sim.iam.addPrincipal({ name, arn, policies });
  const operatorEnv = {
    AWS_ENDPOINT_URL: sim.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    IR_REGION: sim.region,
    IR_INCIDENT_TABLE: env.INCIDENT_TABLE,
    IR_STATE_MACHINE_ARN: env.STATE_MACHINE_ARN,
    IR_EVIDENCE_BUCKET: world.bucket,
    IR_TOPIC_ARN: world.topicArn,
    IR_RESPONDER_FUNCTION: FUNCTION_NAME,
    ...options.env,
  };
  const ir = async (...argv: string[]): Promise<OperatorRun> => {
    let stdout = "";
    let stderr = "";
    const code = await runIr(argv, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: operatorEnv,
    });
    return { code, stdout, stderr };
  };
  return {
    arn,
    ir,
    async json<T>(...argv: string[]) {
      const result = await ir("--json", ...argv);
      if (result.code !== 0) throw new Error(`ir ${argv.join(" ")} exited ${result.code}: ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
  };
}
