// The Pulumi program in mock mode: the security contract of what `pulumi up` would create.
import { expect } from "chai";
import { matchesEventPattern } from "../../drill/eventPattern";
import { artifactFiles, bundledPackages, zipArtifact } from "../../drill/lambdaArtifact";
import { isSnapshotCompletionEvent } from "../../handler/findingEvent";
import { parseSettings } from "../../handler/settings";
import { FORBIDDEN_ACTIONS, PolicyDocument, PolicyStatement } from "../../infra/policies";
import type { SecurityGroupRule } from "../../infra/securityGroupRules";
import { loadEvent } from "../support/fixtures";
import {
  ACCOUNT_ID,
  BASE_CONFIG,
  POWERTOOLS_LAYER,
  ProgramRun,
  REGION,
  RegisteredResource,
  runProgram,
  stackConfig,
} from "../../drill/stackMockRun";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const FUNCTION = "aws:lambda/function:Function";

const policyOf = (resource: RegisteredResource) =>
  JSON.parse(resource.inputs.policy as string) as PolicyDocument;
const allows = (doc: PolicyDocument) => doc.Statement.filter((s) => s.Effect === "Allow");
const roleArnOf = (run: ProgramRun, nameIncludes: string) => run.one(ROLE, nameIncludes).state.arn as string;

describe("responder stack (Pulumi mock mode)", function () {
  this.timeout(120_000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(BASE_CONFIG);
  });

  describe("security groups", () => {
    const groups = (role: string) => run.ofType(SG).filter((g) => g.inputs.tags?.["ir:role"] === role);

    it("makes one untrack, isolation and forensic group per configured VPC", () => {
      for (const role of ["untrack", "isolation", "forensic"]) {
        expect(groups(role).map((g) => g.inputs.vpcId)).to.have.members([
          "vpc-0123456789abcdef0",
          "vpc-0fedcba9876543210",
        ]);
      }
      expect(run.ofType(SG)).to.have.length(6);
    });

    it("isolation groups have no egress and admit only the forensic sources", () => {
      for (const group of groups("isolation")) {
        expect(group.inputs.egress).to.deep.equal([]);
        const ingress = group.inputs.ingress as SecurityGroupRule[];
        expect(ingress).to.have.length(1);
        expect(ingress[0]).to.deep.include({
          protocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrBlocks: ["10.20.250.0/24"],
        });
        expect(ingress[0]?.ipv6CidrBlocks ?? []).to.deep.equal([]);
      }
    });

    it("no group opens ingress from 0.0.0.0/0 or ::/0, except the untrack hop's exact all-TCP/UDP rules", () => {
      for (const group of run.ofType(SG)) {
        const open = (group.inputs.ingress as SecurityGroupRule[]).filter(
          (r) => (r.cidrBlocks ?? []).includes("0.0.0.0/0") || (r.ipv6CidrBlocks ?? []).includes("::/0"),
        );
        if (group.inputs.tags?.["ir:role"] !== "untrack") {
          expect(open, `${group.name} opens ingress to the world`).to.deep.equal([]);
          continue;
        }
        // The untrack hop needs exactly this to make EC2 stop tracking existing flows; nothing else.
        expect(open.map((r) => [r.protocol, r.fromPort, r.toPort])).to.have.deep.members([
          ["tcp", 0, 65535],
          ["udp", 0, 65535],
        ]);
        expect(group.inputs.ingress).to.have.length(2);
      }
    });

    it("the forensic workstation group has no ingress and HTTPS-only egress", () => {
      for (const group of groups("forensic")) {
        expect(group.inputs.ingress).to.deep.equal([]);
        expect(
          (group.inputs.egress as SecurityGroupRule[]).map((r) => [r.protocol, r.fromPort, r.toPort]),
        ).to.deep.equal([["tcp", 443, 443]]);
      }
    });

    it("no instance is attached to the untrack group by the stack", () => {
      expect(run.ofType("aws:ec2/instance:Instance")).to.deep.equal([]);
    });
  });

  describe("the responder's identity", () => {
    it("the function runs with our role, which carries no managed policy", () => {
      const fn = run.one(FUNCTION);
      expect(fn.inputs.role).to.equal(roleArnOf(run, "ir-role"));
      const attachments = run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
      const onResponder = attachments.filter((a) => a.inputs.role === run.one(ROLE, "ir-role").state.name);
      expect(onResponder).to.deep.equal([]);
      const policies = run
        .ofType(ROLE_POLICY)
        .filter((p) => p.inputs.role === run.one(ROLE, "ir-role").state.name);
      expect(policies.map((p) => p.name)).to.deep.equal(["ir-policy"]);
    });

    it("its policy has no wildcard action and allows none of the forbidden actions", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const allowed = allows(doc).flatMap((s) => s.Action);
      expect(allowed.filter((a) => a.includes("*"))).to.deep.equal([]);
      for (const forbidden of [
        ...FORBIDDEN_ACTIONS,
        "ec2:DeleteSecurityGroup",
        "iam:CreateRole",
        "iam:AttachRolePolicy",
      ]) {
        expect(allowed).not.to.include(forbidden);
      }
      const deny = doc.Statement.find((s) => s.Sid === "NeverDestroyEvidence") as PolicyStatement;
      expect(deny.Effect).to.equal("Deny");
      expect(deny.Action).to.have.members([...FORBIDDEN_ACTIONS]);
    });

    it("scopes every mutating statement to this account and region", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      for (const statement of allows(doc)) {
        const readOnly = statement.Action.every((a) => /:(Describe|Get|List)/.test(a));
        for (const resource of statement.Resource ?? []) {
          if (resource === "*") {
            expect(readOnly, `${statement.Sid} allows ${statement.Action.join(",")} on *`).to.equal(true);
          } else if (!resource.startsWith("arn:aws:iam::") && !resource.startsWith("arn:aws:s3:::")) {
            expect(resource, statement.Sid).to.match(
              new RegExp(`^arn:aws:[a-z0-9-]+:${REGION}:(${ACCOUNT_ID})?:`),
            );
          } else if (resource.startsWith("arn:aws:iam::")) {
            expect(resource, statement.Sid).to.contain(`::${ACCOUNT_ID}:`);
          }
        }
      }
    });

    it("may pass only the forensic and quarantine roles, and only to EC2", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const passRole = allows(doc).filter((s) => s.Action.includes("iam:PassRole"));
      expect(passRole).to.have.length(1);
      expect(passRole[0]?.Resource).to.have.members([
        roleArnOf(run, "ir-forensic"),
        roleArnOf(run, "ir-quarantine"),
      ]);
      expect(passRole[0]?.Condition).to.deep.equal({
        StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" },
      });
    });

    it("may not rewrite the stack's own roles when it revokes sessions", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const deny = doc.Statement.find((s) => s.Sid === "NeverRewriteOwnRoles") as PolicyStatement;
      expect(deny.Effect).to.equal("Deny");
      expect(deny.Resource).to.have.members([
        roleArnOf(run, "ir-role"),
        roleArnOf(run, "ir-forensic"),
        roleArnOf(run, "ir-quarantine"),
      ]);
    });

    it("moves ENIs only into security groups the stack or the responder tagged (through the ENI or the instance)", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      for (const action of ["ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute"]) {
        const onGroups = allows(doc).filter(
          (s) =>
            (s.Action.includes(action) || s.Action.includes("ec2:*")) &&
            (s.Resource ?? []).some((r) => r.includes("security-group") || r === "*"),
        );
        expect(onGroups, action).to.have.length(1);
        expect(onGroups[0]?.Condition, action).to.deep.equal({
          StringEquals: { "aws:ResourceTag/ir:managed-by": "ec2-incident-response" },
        });
      }
    });

    it("tags security groups only as it creates them", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const tagging = allows(doc).filter(
        (s) =>
          s.Action.includes("ec2:CreateTags") && (s.Resource ?? []).some((r) => r.includes("security-group")),
      );
      expect(tagging.map((s) => s.Condition)).to.deep.equal([
        { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } },
      ]);
    });

    it("the quarantine profile's role denies everything", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "quarantine-deny-all"));
      expect(doc.Statement).to.deep.equal([
        { Sid: "DenyEverything", Effect: "Deny", Action: ["*"], Resource: ["*"] },
      ]);
    });

    it("the forensic role reads evidence and uses Session Manager, nothing more", () => {
      const forensicRoleName = run.one(ROLE, "ir-forensic").state.name as string;
      const attachments = run
        .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .filter((a) => a.inputs.role === forensicRoleName);
      expect(attachments.map((a) => a.inputs.policyArn)).to.deep.equal([
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      ]);
      const doc = policyOf(run.one(ROLE_POLICY, "forensic-read-evidence"));
      expect(allows(doc).flatMap((s) => s.Action)).to.have.members(["s3:ListBucket", "s3:GetObject"]);
    });
  });

  describe("the responder function", () => {
    it("runs on nodejs22.x with a deliberate timeout and memory, and the Powertools layer for the tested version", () => {
      const fn = run.one(FUNCTION);
      expect(fn.inputs.runtime).to.equal("nodejs22.x");
      expect(fn.inputs.timeout).to.equal(900);
      expect(fn.inputs.memorySize).to.equal(512);
      expect(fn.inputs.layers).to.deep.equal([POWERTOOLS_LAYER]);
      const lookup = run.calls.find((c) => c.token === "aws:ssm/getParameter:getParameter");
      expect(lookup?.inputs.name).to.match(
        /^\/aws\/service\/powertools\/typescript\/generic\/all\/\d+\.\d+\.\d+$/,
      );
    });

    it("ships no AWS SDK or Powertools package (the runtime and the layer provide them), in under 100 KB zipped", async () => {
      const files = await artifactFiles(run.one(FUNCTION).inputs.code);
      expect(bundledPackages(files)).to.deep.equal(["superstruct"]);
      expect(
        [...files.keys()].filter((f) => /@aws-sdk|@smithy|@aws-lambda-powertools|@pulumi/.test(f)),
      ).to.deep.equal([]);
      const zipped = zipArtifact(files).byteLength;
      const unzipped = [...files.values()].reduce((sum, f) => sum + f.byteLength, 0);
      console.log(
        `      Lambda archive: ${files.size} files, ${(unzipped / 1024).toFixed(1)} KiB unzipped, ${(zipped / 1024).toFixed(1)} KiB zipped`,
      );
      expect(zipped).to.be.below(100 * 1024);
    });

    it("gets resource ids through environment variables that the handler's own parser accepts", () => {
      const env = run.one(FUNCTION).inputs.environment.variables as Record<string, string>;
      const settings = parseSettings({ ...env, AWS_REGION: REGION });
      expect(settings.accountId).to.equal(ACCOUNT_ID);
      expect(settings.incidentTable).to.equal(run.one("aws:dynamodb/table:Table").state.name);
      expect(settings.evidenceBucket).to.equal(run.one("aws:s3/bucket:Bucket").state.bucket);
      expect(Object.keys(settings.vpcSecurityGroups)).to.have.members([
        "vpc-0123456789abcdef0",
        "vpc-0fedcba9876543210",
      ]);
      expect(settings.forensicSourceCidrs).to.deep.equal(["10.20.250.0/24"]);
    });

    it("logs JSON to its own log group with a retention", () => {
      const fn = run.one(FUNCTION);
      const logGroup = run.one("aws:cloudwatch/logGroup:LogGroup");
      expect(fn.inputs.loggingConfig).to.deep.include({ logFormat: "JSON", logGroup: logGroup.state.name });
      expect(logGroup.inputs.retentionInDays).to.equal(365);
    });

    it("retries asynchronous failures, then parks them on the dead-letter queue", () => {
      const config = run.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
      const queue = run.one("aws:sqs/queue:Queue");
      expect(config.inputs.maximumRetryAttempts).to.equal(2);
      expect(config.inputs.destinationConfig.onFailure.destination).to.equal(queue.state.arn);
    });
  });

  describe("detection", () => {
    it("creates a GuardDuty detector when none is adopted", () => {
      expect(run.ofType("aws:guardduty/detector:Detector")).to.have.length(1);
    });

    it("routes EC2 findings at or above the threshold to the responder, with retries and a dead-letter queue", () => {
      const rule = run.one("aws:cloudwatch/eventRule:EventRule", "findings");
      const pattern = JSON.parse(rule.inputs.eventPattern as string) as Record<string, unknown>;
      expect(matchesEventPattern(pattern, loadEvent("guardduty-ec2-cryptomining"))).to.equal(true);
      expect(matchesEventPattern(pattern, loadEvent("guardduty-s3-not-an-instance"))).to.equal(false);
      expect(matchesEventPattern(pattern, loadEvent("guardduty-sample-finding"))).to.equal(false);

      const target = run.one("aws:cloudwatch/eventTarget:EventTarget", "findings");
      expect(target.inputs.arn).to.equal(run.one(FUNCTION).state.arn);
      expect(target.inputs.retryPolicy).to.deep.equal({
        maximumEventAgeInSeconds: 3600,
        maximumRetryAttempts: 185,
      });
      expect(target.inputs.deadLetterConfig.arn).to.equal(run.one("aws:sqs/queue:Queue").state.arn);

      const permission = run.one("aws:lambda/permission:Permission", "findings");
      expect(permission.inputs).to.deep.include({
        principal: "events.amazonaws.com",
        sourceArn: rule.state.arn,
      });
      const snapshots = run.one("aws:cloudwatch/eventRule:EventRule", "snapshots");
      const queuePolicy = policyOf(run.one("aws:sqs/queuePolicy:QueuePolicy"));
      expect(queuePolicy.Statement[0]?.Condition).to.deep.equal({
        ArnEquals: { "aws:SourceArn": [rule.state.arn, snapshots.state.arn] },
      });
    });

    it("pages the notification topic when anything reaches the dead-letter queue", () => {
      const alarm = run.one("aws:cloudwatch/metricAlarm:MetricAlarm");
      expect(alarm.inputs).to.deep.include({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
      expect(alarm.inputs.dimensions).to.deep.equal({ QueueName: run.one("aws:sqs/queue:Queue").state.name });
      expect(alarm.inputs.alarmActions).to.deep.equal([run.one("aws:sns/topic:Topic").state.arn]);
      // An alarm cannot publish to a topic under the AWS-managed SNS key.
      expect(run.one("aws:sns/topic:Topic").inputs.kmsMasterKeyId).to.equal(undefined);
    });
  });

  describe("evidence", () => {
    it("the bucket is versioned, encrypted, private and TLS-only", () => {
      expect(
        run.one("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration.status,
      ).to.equal("Enabled");
      const sse = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      );
      expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("AES256");
      expect(run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).to.deep.include({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      const policy = policyOf(run.one("aws:s3/bucketPolicy:BucketPolicy"));
      expect(policy.Statement.find((s) => s.Sid === "TlsOnly")).to.deep.include({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      });
    });

    it("the incident table is on-demand, with TTL and point-in-time recovery", () => {
      const table = run.one("aws:dynamodb/table:Table");
      expect(table.inputs).to.deep.include({ billingMode: "PAY_PER_REQUEST", hashKey: "pk" });
      expect(table.inputs.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
      expect(table.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
    });

    it("notifies the configured address", () => {
      const subscription = run.one("aws:sns/topicSubscription:TopicSubscription");
      expect(subscription.inputs).to.deep.include({ protocol: "email", endpoint: "soc@example.com" });
    });

    it("a retaining stack keeps the evidence bucket and incident table on destroy", () => {
      const bucket = run.one("aws:s3/bucket:Bucket");
      const table = run.one("aws:dynamodb/table:Table");
      expect(bucket.retainOnDelete).to.equal(true);
      expect(bucket.inputs.forceDestroy).to.equal(false);
      expect(table.retainOnDelete).to.equal(true);
      expect(table.inputs.deletionProtectionEnabled).to.equal(true);
    });
  });

  it("prepares instances tagged for kdump through SSM, and builds no image pipeline unless asked", () => {
    const association = run.one("aws:ssm/association:Association");
    expect(association.inputs.targets).to.deep.equal([{ key: "tag:ir:prepare-kdump", values: ["true"] }]);
    expect(association.inputs.name).to.equal(run.one("aws:ssm/document:Document").state.name);
    expect(run.ofType("aws:imagebuilder/imagePipeline:ImagePipeline")).to.deep.equal([]);
  });

  it("exports everything an operator needs", () => {
    expect(Object.keys(run.outputs)).to.include.members([
      "guardDutyDetectorId",
      "findingRuleArn",
      "responderFunctionName",
      "responderRoleArn",
      "deadLetterQueueUrl",
      "isolationGroups",
      "forensicInstanceProfileArn",
      "quarantineInstanceProfileArn",
      "evidenceBucket",
      "incidentTable",
      "notificationTopicArn",
    ]);
    const groups = run.outputs.isolationGroups as Record<string, { isolation: string }>;
    expect(groups["vpc-0123456789abcdef0"]?.isolation).to.match(/isolation/);
  });
});

describe("responder stack variants (Pulumi mock mode)", function () {
  this.timeout(120_000);

  it("adopting an existing detector creates none and exports its id", async () => {
    const run = await runProgram({
      ...BASE_CONFIG,
      ...stackConfig({ guardDutyDetectorId: "12abc34d567e8fa901bc2d34e56789f0" }),
    });
    expect(run.ofType("aws:guardduty/detector:Detector")).to.deep.equal([]);
    expect(run.outputs.guardDutyDetectorId).to.equal("12abc34d567e8fa901bc2d34e56789f0");
  });

  it("a drill stack (evidence retention off) leaves nothing retained on delete", async () => {
    const run = await runProgram({ ...BASE_CONFIG, ...stackConfig({ evidenceRetention: "destroy" }) });
    expect(run.resources.filter((r) => r.retainOnDelete || r.protect).map((r) => r.name)).to.deep.equal([]);
    expect(run.one("aws:s3/bucket:Bucket").inputs.forceDestroy).to.equal(true);
    expect(run.one("aws:dynamodb/table:Table").inputs.deletionProtectionEnabled).to.equal(false);
    const policy = policyOf(run.one("aws:s3/bucketPolicy:BucketPolicy"));
    expect(policy.Statement.map((s) => s.Sid)).to.deep.equal(["TlsOnly"]);
  });

  it("object lock and a KMS key are applied when configured", async () => {
    const key = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const run = await runProgram({
      ...BASE_CONFIG,
      ...stackConfig({ evidenceObjectLock: '{"mode":"COMPLIANCE","days":365}', evidenceKmsKeyArn: key }),
    });
    expect(run.one("aws:s3/bucket:Bucket").inputs.objectLockEnabled).to.equal(true);
    const lock = run.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
    expect(lock.inputs.rule.defaultRetention).to.deep.equal({ mode: "COMPLIANCE", days: 365 });
    const sse = run.one(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault).to.deep.equal({
      sseAlgorithm: "aws:kms",
      kmsMasterKeyId: key,
    });
    const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
    expect(doc.Statement.find((s) => s.Sid === "EncryptEvidence")?.Resource).to.deep.equal([key]);
  });

  it("an image pipeline for kdump-ready AMIs is built from the configured base AMI when asked", async () => {
    const run = await runProgram({
      ...BASE_CONFIG,
      ...stackConfig({ kdumpImagePipeline: "true", workloadBaseAmiId: "ami-0fedcba9876543210" }),
    });
    expect(run.ofType("aws:imagebuilder/imagePipeline:ImagePipeline")).to.have.length(1);
    expect(run.one("aws:imagebuilder/imageRecipe:ImageRecipe").inputs.parentImage).to.equal(
      "ami-0fedcba9876543210",
    );
  });

  it("EBS's snapshot-completion events reach the responder in a form it accepts", async () => {
    const run = await runProgram(BASE_CONFIG);
    const rule = run.one("aws:cloudwatch/eventRule:EventRule", "snapshots");
    const completion = {
      source: "aws.ec2",
      "detail-type": "EBS Multi-Volume Snapshots Completion Status",
      account: ACCOUNT_ID,
      region: REGION,
      resources: [`arn:aws:ec2:${REGION}::instance/i-0a1b2c3d4e5f60718`],
      detail: {
        event: "createSnapshots",
        result: "succeeded",
        snapshots: [
          {
            snapshot_id: `arn:aws:ec2:${REGION}::snapshot/snap-01234567`,
            source: "vol-1",
            status: "completed",
          },
        ],
      },
    };
    expect(matchesEventPattern(JSON.parse(rule.inputs.eventPattern as string), completion)).to.equal(true);
    expect(isSnapshotCompletionEvent(completion)).to.equal(true);
    expect(
      matchesEventPattern(
        JSON.parse(rule.inputs.eventPattern as string),
        loadEvent("guardduty-ec2-cryptomining"),
      ),
    ).to.equal(false);
    const target = run.one("aws:cloudwatch/eventTarget:EventTarget", "snapshots");
    expect(target.inputs.arn).to.equal(run.one(FUNCTION).state.arn);
    expect(run.one("aws:lambda/permission:Permission", "snapshots").inputs.sourceArn).to.equal(
      rule.state.arn,
    );
  });

  it("a stack without revocation cannot write role policies", async () => {
    const run = await runProgram({ ...BASE_CONFIG, ...stackConfig({ revokeRoleSessions: "false" }) });
    const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
    expect(doc.Statement.flatMap((s) => (s.Effect === "Allow" ? s.Action : []))).not.to.include(
      "iam:PutRolePolicy",
    );
  });

  it("cutTrackedConnections reaches the handler: on by default, off when configured", async () => {
    const settingsOf = (run: Awaited<ReturnType<typeof runProgram>>) =>
      parseSettings({
        ...(run.one(FUNCTION).inputs.environment.variables as Record<string, string>),
        AWS_REGION: REGION,
      });
    expect(settingsOf(await runProgram(BASE_CONFIG)).cutTrackedConnections).to.equal(true);
    const direct = await runProgram({ ...BASE_CONFIG, ...stackConfig({ cutTrackedConnections: "false" }) });
    expect(settingsOf(direct).cutTrackedConnections).to.equal(false);
  });

  it("a stack with a bad value fails before creating anything, naming the key", async () => {
    let failure: unknown;
    try {
      await runProgram({ ...BASE_CONFIG, ...stackConfig({ forensicSourceCidrs: '["0.0.0.0/0"]' }) });
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.match(
      /forensicSourceCidrs\[0\]: 0\.0\.0\.0\/0 would open the isolation group/,
    );
  });
});
