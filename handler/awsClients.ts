import type { AutoScaling } from "@aws-sdk/client-auto-scaling";
import type { EC2 } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { IAM } from "@aws-sdk/client-iam";
import type { S3 } from "@aws-sdk/client-s3";
import type { SecurityHub } from "@aws-sdk/client-securityhub";
import type { SFN } from "@aws-sdk/client-sfn";
import type { SNS } from "@aws-sdk/client-sns";
import type { SSM } from "@aws-sdk/client-ssm";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

/** The SDK clients the response uses. Only types are imported here: values come from `createAwsClients`. */
export interface AwsClients {
  readonly ec2: EC2;
  /**
   * EC2 without SDK retries, for the one mutation that is neither idempotent nor has a client token
   * (CreateSnapshots): after a lost answer the SDK would send it again and take a second snapshot set. The step
   * decides itself whether to ask again, after looking for what the first request made.
   */
  readonly ec2SingleAttempt: EC2;
  /**
   * EC2 with neither SDK retries nor the adaptive client-side rate limiter, for the isolation move that follows
   * the untrack hop: an ENI waits in the allow-all group while that move is retried, so the step retries a
   * throttled move itself at a short interval instead of sitting out the SDK's exponential back-off (which grows
   * to ~20 s) or a rate limiter that slows down after every throttled answer.
   */
  readonly ec2Unretried: EC2;
  readonly autoScaling: AutoScaling;
  readonly loadBalancing: ElasticLoadBalancingV2;
  readonly iam: IAM;
  readonly s3: S3;
  readonly sns: SNS;
  readonly stepFunctions: SFN;
  readonly securityHub: SecurityHub;
  /** Run Command: the triage on the forensic workstation. */
  readonly ssm: SSM;
  readonly documents: DynamoDBDocument;
}

/**
 * Creates the clients from the SDK's standard configuration: credentials and endpoints come from the
 * environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the unmodified handler talks to AWS, the
 * simulator or any other endpoint. Called inside the responder factory: the SDK is `require`d here, at run
 * time, because SDK classes captured as values do not survive closure serialization (README.md here, "Closure serialization").
 */
export function createAwsClients(region: string): AwsClients {
  const ec2Sdk = require("@aws-sdk/client-ec2") as typeof import("@aws-sdk/client-ec2");
  const autoScalingSdk =
    require("@aws-sdk/client-auto-scaling") as typeof import("@aws-sdk/client-auto-scaling");
  const elbSdk =
    require("@aws-sdk/client-elastic-load-balancing-v2") as typeof import("@aws-sdk/client-elastic-load-balancing-v2");
  const iamSdk = require("@aws-sdk/client-iam") as typeof import("@aws-sdk/client-iam");
  const s3Sdk = require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
  const snsSdk = require("@aws-sdk/client-sns") as typeof import("@aws-sdk/client-sns");
  const sfnSdk = require("@aws-sdk/client-sfn") as typeof import("@aws-sdk/client-sfn");
  const securityHubSdk =
    require("@aws-sdk/client-securityhub") as typeof import("@aws-sdk/client-securityhub");
  const ssmSdk = require("@aws-sdk/client-ssm") as typeof import("@aws-sdk/client-ssm");
  const dynamoSdk = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  const documentSdk = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");

  // Adaptive retries: a burst of incidents meets EC2's request throttling; the client-side rate limiter
  // backs off instead of burning attempts. A request timeout keeps a hung connection from holding a step.
  const common = {
    region,
    retryMode: "adaptive",
    maxAttempts: 10,
    requestHandler: { requestTimeout: 15_000, connectionTimeout: 5_000 },
  } as const;
  return {
    ec2: new ec2Sdk.EC2(common),
    // Still adaptive: its client-side rate limiter holds the one attempt back while EC2 throttles.
    ec2SingleAttempt: new ec2Sdk.EC2({ ...common, maxAttempts: 1 }),
    // "standard" with one attempt: no retry and no client-side rate limiter holding the attempt back.
    ec2Unretried: new ec2Sdk.EC2({ ...common, retryMode: "standard", maxAttempts: 1 }),
    autoScaling: new autoScalingSdk.AutoScaling(common),
    loadBalancing: new elbSdk.ElasticLoadBalancingV2(common),
    // IAM is a global service with one endpoint; the region only picks the partition.
    iam: new iamSdk.IAM(common),
    // Path-style addressing works against any S3-compatible endpoint as well as AWS.
    s3: new s3Sdk.S3({ ...common, forcePathStyle: true }),
    sns: new snsSdk.SNS(common),
    stepFunctions: new sfnSdk.SFN(common),
    securityHub: new securityHubSdk.SecurityHub(common),
    ssm: new ssmSdk.SSM(common),
    documents: documentSdk.DynamoDBDocument.from(new dynamoSdk.DynamoDB(common), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    }),
  };
}
