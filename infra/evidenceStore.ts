import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ObjectLockMode } from "./config";
import { evidenceBucketPolicy } from "./policies";
import { managedTags } from "./tagging";

export interface EvidenceStoreArgs {
  /** false for drill stacks: `pulumi destroy` then removes the bucket with its objects and the table. */
  retainEvidence: boolean;
  /** A key ARN (aliases are resolved by index.ts). */
  kmsKeyArn?: pulumi.Input<string>;
  objectLock?: { mode: ObjectLockMode; days: number };
  expirationDays?: number;
  notificationEmail?: string;
}

/** Incident table partition key, shared with handler/incidentStore.ts through the INCIDENT_TABLE setting. */
const INCIDENT_TABLE_KEY = "pk";
/** Attribute that holds the epoch second after which DynamoDB may expire a closed incident record. */
const INCIDENT_TTL_ATTRIBUTE = "expiresAt";

/**
 * Where a response leaves its record: the evidence bucket (finding, instance description, console output, reports),
 * the incident table (claims, progress, timeline) and the notification topic.
 */
export class EvidenceStore extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly tableName: pulumi.Output<string>;
  public readonly tableArn: pulumi.Output<string>;
  public readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: EvidenceStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:EvidenceStore", name, {}, opts);
    const child = { parent: this };
    // Evidence outlives the stack unless this is a drill stack: destroy then fails rather than delete evidence.
    const keep = { parent: this, retainOnDelete: args.retainEvidence };

    const bucket = new aws.s3.Bucket(
      `${name}-evidence`,
      {
        forceDestroy: !args.retainEvidence,
        objectLockEnabled: args.objectLock !== undefined,
        tags: managedTags(`${name}-evidence`),
      },
      keep,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-evidence`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    new aws.s3.BucketPublicAccessBlock(
      `${name}-evidence`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-evidence`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-evidence`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: args.kmsKeyArn
              ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }
              : { sseAlgorithm: "AES256" },
            bucketKeyEnabled: args.kmsKeyArn !== undefined,
          },
        ],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-evidence`,
      {
        bucket: bucket.id,
        policy: bucket.arn.apply((arn) => JSON.stringify(evidenceBucketPolicy(arn, args.retainEvidence))),
      },
      child,
    );
    if (args.objectLock) {
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-evidence`,
        {
          bucket: bucket.id,
          rule: { defaultRetention: { mode: args.objectLock.mode, days: args.objectLock.days } },
        },
        { parent: this, dependsOn: [versioning] },
      );
    }
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-evidence`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
          ...(args.expirationDays
            ? [
                {
                  id: "expire-evidence",
                  status: "Enabled",
                  filter: {},
                  expiration: { days: args.expirationDays },
                  noncurrentVersionExpiration: { noncurrentDays: args.expirationDays },
                },
              ]
            : []),
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );

    const table = new aws.dynamodb.Table(
      `${name}-incidents`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: INCIDENT_TABLE_KEY,
        attributes: [{ name: INCIDENT_TABLE_KEY, type: "S" }],
        ttl: { attributeName: INCIDENT_TTL_ATTRIBUTE, enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: args.kmsKeyArn
          ? { enabled: true, kmsKeyArn: args.kmsKeyArn }
          : { enabled: true },
        deletionProtectionEnabled: args.retainEvidence,
        tags: managedTags(`${name}-incidents`),
      },
      keep,
    );

    // CloudWatch alarms cannot publish to a topic under the AWS-managed alias/aws/sns key, so the topic is
    // encrypted only with the stack's own key (whose policy must then let CloudWatch use it).
    const topic = new aws.sns.Topic(
      `${name}-notifications`,
      { kmsMasterKeyId: args.kmsKeyArn, tags: managedTags(`${name}-notifications`) },
      child,
    );
    if (args.notificationEmail) {
      // Email subscriptions stay pending until the recipient confirms the message AWS sends.
      new aws.sns.TopicSubscription(
        `${name}-notifications-email`,
        { topic: topic.arn, protocol: "email", endpoint: args.notificationEmail },
        child,
      );
    }

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.tableName = table.name;
    this.tableArn = table.arn;
    this.topicArn = topic.arn;
    this.registerOutputs({
      bucketName: this.bucketName,
      tableName: this.tableName,
      topicArn: this.topicArn,
    });
  }
}
