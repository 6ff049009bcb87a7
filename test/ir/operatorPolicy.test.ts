// The operator policy the stack creates (infra/operatorPolicy.ts) against the Service Authorization Reference, and
// what it lets an operator change: the end-to-end tests (test/ir/*.test.ts) show it is enough for every command,
// this shows it is no more than that where it matters.
import { expect } from "chai";

import { TAG_INCIDENT, TAG_RESPONDER_MADE } from "../../handler/tags";
import { operatorPolicy, operatorStatements, type OperatorPolicyArgs } from "../../infra/operatorPolicy";
import type { PolicyDocument } from "../../infra/policies";
import { ACCOUNT_ID, REGION } from "../../testkit/stackMockRun";
import { globsOverlap, resourceTypesOf } from "../support/serviceAuthorization";
import { decide, tagged } from "../stack/policySimulation";

const ARGS: OperatorPolicyArgs = {
  partition: "aws",
  region: REGION,
  accountId: ACCOUNT_ID,
  incidentTableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/ir-incidents`,
  stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:ir-response`,
  evidenceBucketArn: "arn:aws:s3:::ir-evidence",
  notificationTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:ir-notifications`,
  responderFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:ir-responder`,
  ebsKmsKeyArns: [],
};
const OPERATOR = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ir-operator/alice`;
const instance = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:instance/${id}`;

describe("operator policy", function () {
  this.timeout(60_000);
  const policy: PolicyDocument = operatorPolicy(ARGS);
  const allows = (action: string, resource: string, tags: Record<string, string> = {}) =>
    decide(policy, action, resource, tagged(tags), OPERATOR).then((d) => d.verdict);

  it("every ARN is a resource type of each of its actions, and every required type is covered", async () => {
    const problems: string[] = [];
    for (const statement of policy.Statement) {
      for (const action of statement.Action) {
        const { wildcardOnly, types } = await resourceTypesOf(action);
        for (const resource of statement.Resource ?? []) {
          const fits =
            resource === "*" ? wildcardOnly : types.some((type) => globsOverlap(resource, type.arn));
          if (!fits) problems.push(`${statement.Sid}: ${action} has no resource type matching ${resource}`);
        }
        const granted = policy.Statement.filter((s) => s.Action.includes(action)).flatMap(
          (s) => s.Resource ?? [],
        );
        // The stack's state machine is a STANDARD one: its executions are never `express` resources.
        for (const type of types.filter((t) => t.required && t.name !== "express"))
          if (!granted.some((resource) => resource === "*" || globsOverlap(resource, type.arn)))
            problems.push(`${action} requires ${type.name}`);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it("has a statement list per command, and one document of them all with unique Sids", () => {
    const lists = operatorStatements(ARGS);
    expect(Object.keys(lists)).to.have.members(["list", "status", "respond", "release", "close"]);
    const sids = policy.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).to.equal(sids.length);
    for (const statements of Object.values(lists))
      for (const statement of statements) expect(policy.Statement).to.deep.include(statement);
  });

  it("stops and terminates only forensic workstations (terminate: of an incident), and writes nothing else", async () => {
    const workstation = { [TAG_RESPONDER_MADE]: "forensic", [TAG_INCIDENT]: "inc-1" };
    expect(await allows("ec2:StopInstances", instance("i-0aaa1111"), workstation)).to.equal("Allowed");
    expect(await allows("ec2:TerminateInstances", instance("i-0aaa1111"), workstation)).to.equal("Allowed");
    expect(
      await allows("ec2:TerminateInstances", instance("i-0aaa1111"), { [TAG_RESPONDER_MADE]: "forensic" }),
    ).to.equal("ImplicitlyDenied");
    for (const action of ["ec2:StopInstances", "ec2:TerminateInstances", "ec2:DetachVolume"]) {
      expect(await allows(action, instance("i-0bbb2222"), { Name: "web-1" }), action).to.equal(
        "ImplicitlyDenied",
      );
      expect(
        await allows(action, instance("i-0bbb2222"), { [TAG_RESPONDER_MADE]: "replacement" }),
        action,
      ).to.equal("ImplicitlyDenied");
    }
    const otherTable = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/payments`;
    for (const action of ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Scan"])
      expect(await allows(action, otherTable), action).to.equal("ImplicitlyDenied");
    expect(
      await allows("lambda:InvokeFunction", `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:other`),
    ).to.equal("ImplicitlyDenied");
  });
});
