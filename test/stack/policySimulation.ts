// The policy tests' common ground: a stack with every permission-bearing option on (snapshot locks, the evidence key
// given as an alias, customer-managed EBS keys, session revocation, a replacement role), and IAM's decision on a
// request by a real engine (@cloud-copilot/iam-simulate, AGPL: a devDependency, used by tests only).
import {
  ACCOUNT_ID,
  BASE_CONFIG,
  REGION,
  runProgram,
  stackConfig,
  type ProgramRun,
} from "../../testkit/stackMockRun";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { simulateIam } from "../../simulator/iam/authorizer";
import type { PolicyDocument } from "../../infra/policies";

const EVIDENCE_KEY_ALIAS = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/ir-evidence`;
export const EBS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d`;
export const REPLACEMENT_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/web-app`;

const FULL_CONFIG = {
  ...BASE_CONFIG,
  ...stackConfig({
    snapshotLock: '{"mode":"compliance","days":30}',
    evidenceKmsKeyArn: EVIDENCE_KEY_ALIAS,
    ebsKmsKeyArns: JSON.stringify([EBS_KEY]),
    revokeRoleSessions: "true",
    securityHub: "true",
    replacementRoleArns: JSON.stringify([REPLACEMENT_ROLE]),
  }),
};

/** The responder role's inline policy exactly as the program hands it to aws.iam.RolePolicy. */
export function responderPolicyOf(run: ProgramRun): PolicyDocument {
  return JSON.parse(
    run.one("aws:iam/rolePolicy:RolePolicy", "ir-policy").inputs.policy as string,
  ) as PolicyDocument;
}

/** The response workflow role's inline policy (infra/workflow.ts). */
export function workflowPolicyOf(run: ProgramRun): PolicyDocument {
  return JSON.parse(
    run.one("aws:iam/rolePolicy:RolePolicy", "ir-workflow-policy").inputs.policy as string,
  ) as PolicyDocument;
}

let full: Promise<ProgramRun> | undefined;
/** One mock run of the full stack per test process. */
export function fullStackRun(): Promise<ProgramRun> {
  full ??= runProgram(FULL_CONFIG);
  return full;
}

export type Verdict = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
export type Context = Record<string, string | string[]>;

/** An existing resource's tags, as EC2 puts them in the request context. */
export const tagged = (tags: Record<string, string>): Context =>
  Object.fromEntries(
    Object.entries(tags).flatMap(([key, value]) => [
      [`aws:ResourceTag/${key}`, value],
      [`ec2:ResourceTag/${key}`, value],
    ]),
  );

/** Tags a request sets (TagSpecifications or CreateTags), and the create call they come with, if any. */
export const tagging = (tags: Record<string, string>, createAction?: string): Context => ({
  ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
  "aws:TagKeys": Object.keys(tags),
  ...(createAction ? { "ec2:CreateAction": createAction } : {}),
});

export interface Decision {
  verdict: Verdict | "not a resource of the action";
  /** Context keys that do not apply to this action and resource type (a row using them would prove nothing). */
  ignoredContextKeys: string[];
}

/** The responder's session, the principal decide() asks for unless told otherwise. */
const RESPONDER_SESSION = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ir-role/ir-function`;

/** IAM's decision for one action on one resource, as EC2 asks it (each resource of a request separately). */
export async function decide(
  policy: PolicyDocument,
  action: string,
  resource: string,
  context: Context = {},
  principal = RESPONDER_SESSION,
): Promise<Decision> {
  const answer = await simulateIam(ACCOUNT_ID, principal, [policy], { action, resource, context });
  if (answer.resultType !== "single")
    return { verdict: "not a resource of the action", ignoredContextKeys: [] };
  return {
    verdict: answer.overallResult,
    ignoredContextKeys: answer.result.ignoredContextKeys ?? [],
  };
}

/** IAM's decision on a service assuming a role under its trust policy (a resource policy on the role), with its keys. */
export async function assumeDecision(
  trust: PolicyDocument,
  roleArn: string,
  servicePrincipal: string,
  context: Context,
): Promise<Decision> {
  const answer = await runSimulation(
    {
      request: {
        principal: servicePrincipal,
        action: "sts:AssumeRole",
        resource: { resource: roleArn, accountId: ACCOUNT_ID },
        contextVariables: context,
      },
      identityPolicies: [],
      resourcePolicy: trust,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (answer.resultType !== "single")
    return { verdict: "not a resource of the action", ignoredContextKeys: [] };
  return { verdict: answer.overallResult, ignoredContextKeys: answer.result.ignoredContextKeys ?? [] };
}
