// The Pulumi program in mock mode: the security contract of what `pulumi up` would create.
import { expect } from "chai";
import { matchesEventPattern } from "../../simulator/eventPattern";
import { artifactFiles, bundledPackages, zipArtifact } from "../../testkit/lambdaArtifact";
import { parseSettings } from "../../handler/settings";
import { stateMachineArn } from "../../handler/workflow";
import { PROJECT } from "../../infra/config";
import { selfTagPolicy } from "../../infra/kdumpDocuments";
import { awsManagedPolicyArn, PolicyDocument, PolicyStatement } from "../../infra/policies";
import { FORBIDDEN_ACTIONS } from "../../infra/responderGuardrails";
import { responderEnvironment } from "../../infra/responder";
import type { SecurityGroupRule } from "../../infra/securityGroupRules";
import { responseStateMachineName, workflowLogGroupName } from "../../infra/workflow";
import { workflowDefinition } from "../../infra/workflowDefinition";
import { loadEvent } from "../support/fixtures";
import { assumeDecision, decide, tagged, tagging, type Context } from "./policySimulation";
import {
  ACCOUNT_ID,
  ALIAS_TARGET_KEY_ARN,
  BASE_CONFIG,
  POWERTOOLS_LAYER,
  ProgramRun,
  REGION,
  RegisteredResource,
  runProgram,
  stackConfig,
} from "../../testkit/stackMockRun";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const FUNCTION = "aws:lambda/function:Function";
const STATE_MACHINE = "aws:sfn/stateMachine:StateMachine";

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
      const deny = doc.Statement.find((s) => s.Sid === "NeverRewriteOwnOrPassableRoles") as PolicyStatement;
      expect(deny.Effect).to.equal("Deny");
      expect(deny.Resource).to.have.members([
        roleArnOf(run, "ir-role"),
        roleArnOf(run, "ir-forensic"),
        roleArnOf(run, "ir-quarantine"),
      ]);
    });

    it("moves an ENI into our groups and back into its original, untagged groups, but opens only our groups", async () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const group = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:security-group/${id}`;
      const ours = tagged({ "ir:managed-by": "ec2-incident-response", "ir:role": "isolation" });
      const original = tagged({ Name: "web" });
      const eni = `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:network-interface/eni-0a1b2c3d4e5f60718`;
      const instance = `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:instance/i-0a1b2c3d4e5f60718`;
      const verdicts = async (action: string, resource: string, context: Context) =>
        (await decide(doc, action, resource, context)).verdict;
      // A release after a late rejection and the exit from the untrack group name the original groups.
      for (const action of ["ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute"]) {
        expect(await verdicts(action, group("sg-0c1b2c3d4e5f60718"), ours), action).to.equal("Allowed");
        expect(await verdicts(action, group("sg-0a1b2c3d4e5f60718"), original), action).to.equal("Allowed");
      }
      expect(await verdicts("ec2:ModifyNetworkInterfaceAttribute", eni, {})).to.equal("Allowed");
      expect(await verdicts("ec2:ModifyNetworkInterfaceAttribute", instance, {})).to.equal("Allowed");
      for (const action of ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"]) {
        expect(await verdicts(action, group("sg-0a1b2c3d4e5f60718"), original), action).to.equal(
          "ImplicitlyDenied",
        );
        expect(await verdicts(action, group("sg-0c1b2c3d4e5f60718"), ours), action).to.equal("Allowed");
      }
    });

    it("ModifyNetworkInterfaceAttribute names no VPC (not one of its resource types)", () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const resources = allows(doc)
        .filter((s) => s.Action.includes("ec2:ModifyNetworkInterfaceAttribute"))
        .flatMap((s) => s.Resource ?? []);
      expect(resources.filter((r) => r.includes(":vpc/"))).to.deep.equal([]);
    });

    it("tags an existing instance only with the incident, and only RunInstances may mark one ir:responder-made", async () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const instance = `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:instance/i-0a1b2c3d4e5f60718`;
      const existing = tagged({ Name: "web-1" });
      const tag = async (tags: Record<string, string>, createAction?: string) =>
        (
          await decide(doc, "ec2:CreateTags", instance, {
            ...(createAction ? {} : existing),
            ...tagging(tags, createAction),
          })
        ).verdict;
      expect(await tag({ "ir:incident": "gd-1" })).to.equal("Allowed");
      expect(await tag({ "ir:responder-made": "forensic" })).to.equal("ExplicitlyDenied");
      expect(await tag({ "ir:managed-by": "ec2-incident-response" })).to.equal("ExplicitlyDenied");
      expect(await tag({ "ir:incident": "gd-1", Name: "renamed" })).to.equal("ImplicitlyDenied");
      const launched = {
        "ir:responder-made": "forensic",
        "ir:incident": "gd-1",
        "ir:managed-by": "ec2-incident-response",
      };
      expect(await tag(launched, "RunInstances")).to.equal("Allowed");
      expect(await tag(launched, "CreateVolume")).to.equal("ExplicitlyDenied");
      // And so a stolen credential cannot attach evidence to an instance it tagged.
      expect((await decide(doc, "ec2:AttachVolume", instance, existing)).verdict).to.equal(
        "ImplicitlyDenied",
      );
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
      // The state machine's ARN, from its fixed name: what Step Functions names it.
      const machine = run.one(STATE_MACHINE);
      expect(env.STATE_MACHINE_ARN).to.equal(
        stateMachineArn("aws", REGION, ACCOUNT_ID, machine.inputs.name as string),
      );
      expect(settings.stateMachineArn).to.equal(env.STATE_MACHINE_ARN);
    });

    it("publishes a version on every deployment, which the workflow invokes", () => {
      const fn = run.one(FUNCTION);
      expect(fn.inputs.publish).to.equal(true);
      expect(fn.state.qualifiedArn).to.equal(`${fn.state.arn as string}:1`);
    });

    it("logs JSON to its own log group with a retention", () => {
      const fn = run.one(FUNCTION);
      const logGroup = run.one("aws:cloudwatch/logGroup:LogGroup", "ir-logs");
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

  describe("the response workflow", () => {
    const machine = () => run.one(STATE_MACHINE);
    const workflowRole = () => run.one(ROLE, "ir-workflow-role");

    it("is a Standard state machine named by the stack, run by its own role, generated from the step contracts", () => {
      const fn = run.one(FUNCTION);
      expect(machine().inputs).to.deep.include({
        name: responseStateMachineName(PROJECT, "dev"),
        type: "STANDARD",
        roleArn: workflowRole().state.arn,
      });
      // The definition the generator gives for the function's published version, the topic and a Task limit a
      // minute above the function's own (900 s by default).
      expect(JSON.parse(machine().inputs.definition as string)).to.deep.equal(
        workflowDefinition({
          functionArn: fn.state.qualifiedArn as string,
          topicArn: run.one("aws:sns/topic:Topic").state.arn as string,
          taskTimeoutSeconds: 960,
        }),
      );
      expect(machine().inputs.definition).to.include(`"FunctionName":"${fn.state.qualifiedArn as string}"`);
    });

    it("names the state machine as the handler accepts it: letters, digits, - and _, at most 80", () => {
      expect(responseStateMachineName("ec2-incident-response", "dev")).to.equal(
        "ec2-incident-response-dev-response",
      );
      expect(responseStateMachineName("p", "team.prod/eu")).to.equal("p-team-prod-eu-response");
      expect(responseStateMachineName("p", "x".repeat(100))).to.have.length(80);
      for (const stack of ["dev", "team.prod", "x".repeat(100)]) {
        const arn = stateMachineArn("aws", REGION, ACCOUNT_ID, responseStateMachineName(PROJECT, stack));
        const env = { ...(run.one(FUNCTION).inputs.environment.variables as Record<string, string>) };
        expect(
          parseSettings({ ...env, STATE_MACHINE_ARN: arn, AWS_REGION: REGION }).stateMachineArn,
        ).to.equal(arn);
      }
    });

    it("logs errors, without execution data, to a vended-logs group with the stack's retention", () => {
      const logGroup = run.one("aws:cloudwatch/logGroup:LogGroup", "ir-workflow-logs");
      expect(logGroup.inputs.name).to.equal(workflowLogGroupName(machine().inputs.name as string));
      expect(logGroup.inputs.retentionInDays).to.equal(365);
      expect(machine().inputs.loggingConfiguration).to.deep.equal({
        level: "ERROR",
        includeExecutionData: false,
        logDestination: `${logGroup.state.arn as string}:*`,
      });
    });

    it("carries the stack's tags on the state machine, its role and its log group", () => {
      for (const resource of [
        machine(),
        workflowRole(),
        run.one("aws:cloudwatch/logGroup:LogGroup", "ir-workflow-logs"),
      ]) {
        expect(resource.inputs.tags, resource.name).to.deep.equal({
          Name: resource.name,
          "ir:managed-by": "ec2-incident-response",
        });
      }
    });

    it("its role is Step Functions' for this state machine of this account only, and carries one inline policy", async () => {
      const trust = JSON.parse(workflowRole().inputs.assumeRolePolicy as string) as PolicyDocument;
      expect(trust.Statement).to.deep.equal([
        {
          Sid: "AssumeForTheResponseWorkflow",
          Effect: "Allow",
          Principal: { Service: "states.amazonaws.com" },
          Action: ["sts:AssumeRole"],
          Condition: {
            StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
            ArnLike: {
              "aws:SourceArn": stateMachineArn("aws", REGION, ACCOUNT_ID, machine().inputs.name as string),
            },
          },
        },
      ]);
      // Evaluated as IAM does: this account's execution of this state machine only, and Step Functions only.
      const own = stateMachineArn("aws", REGION, ACCOUNT_ID, machine().inputs.name as string);
      const assume = async (principal: string, context: Context) =>
        (await assumeDecision(trust, workflowRole().state.arn as string, principal, context)).verdict;
      const as = (account: string, source: string) => ({
        "aws:SourceAccount": account,
        "aws:SourceArn": source,
      });
      expect(await assume("states.amazonaws.com", as(ACCOUNT_ID, own))).to.equal("Allowed");
      expect(await assume("states.amazonaws.com", as("444455556666", own))).to.equal("ImplicitlyDenied");
      expect(await assume("states.amazonaws.com", as(ACCOUNT_ID, `${own}-other`))).to.equal(
        "ImplicitlyDenied",
      );
      expect(await assume("states.amazonaws.com", { "aws:SourceAccount": ACCOUNT_ID })).to.equal(
        "ImplicitlyDenied",
      );
      expect(await assume("lambda.amazonaws.com", as(ACCOUNT_ID, own))).to.equal("ImplicitlyDenied");
      const roleName = workflowRole().state.name as string;
      expect(
        run
          .ofType(ROLE_POLICY)
          .filter((p) => p.inputs.role === roleName)
          .map((p) => p.name),
      ).to.deep.equal(["ir-workflow-policy"]);
      expect(
        run
          .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
          .filter((a) => a.inputs.role === roleName),
      ).to.deep.equal([]);
    });

    it("pages the notification topic when an execution fails", () => {
      const alarm = run.one("aws:cloudwatch/metricAlarm:MetricAlarm", "ir-workflow-failed-executions");
      expect(alarm.inputs).to.deep.include({
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
      expect(alarm.inputs.dimensions).to.deep.equal({ StateMachineArn: machine().state.arn });
      expect(alarm.inputs.alarmActions).to.deep.equal([run.one("aws:sns/topic:Topic").state.arn]);
    });

    it("the responder may start executions of this state machine only, and may no longer invoke itself", async () => {
      const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
      const arn = stateMachineArn("aws", REGION, ACCOUNT_ID, machine().inputs.name as string);
      const verdict = async (action: string, resource: string) =>
        (await decide(doc, action, resource)).verdict;
      expect(await verdict("states:StartExecution", arn)).to.equal("Allowed");
      expect(await verdict("states:StartExecution", `${arn.replace(/:[^:]+$/, "")}:other-workflow`)).to.equal(
        "ImplicitlyDenied",
      );
      const execution = `${arn.replace(":stateMachine:", ":execution:")}:gd-1`;
      for (const action of ["states:DescribeExecution", "states:StopExecution"]) {
        expect(await verdict(action, execution), action).to.equal("ImplicitlyDenied");
      }
      const fn = run.one(FUNCTION).state;
      for (const target of [fn.arn as string, fn.qualifiedArn as string]) {
        expect(await verdict("lambda:InvokeFunction", target), target).to.equal("ImplicitlyDenied");
      }
      expect(
        allows(doc)
          .flatMap((s) => s.Action)
          .filter((a) => a.startsWith("states:")),
      ).to.deep.equal(["states:StartExecution"]);
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
      const queuePolicy = policyOf(run.one("aws:sqs/queuePolicy:QueuePolicy"));
      expect(queuePolicy.Statement[0]?.Condition).to.deep.equal({
        ArnEquals: { "aws:SourceArn": [rule.state.arn] },
      });
    });

    it("routes nothing else to the responder: snapshot completions no longer resume responses (Wait states do)", () => {
      expect(run.ofType("aws:cloudwatch/eventRule:EventRule").map((r) => r.name)).to.deep.equal([
        "ir-findings",
      ]);
      expect(run.ofType("aws:cloudwatch/eventTarget:EventTarget")).to.have.length(1);
      expect(run.ofType("aws:lambda/permission:Permission").map((p) => p.inputs.principal)).to.deep.equal([
        "events.amazonaws.com",
      ]);
    });

    it("pages the notification topic when anything reaches the dead-letter queue", () => {
      const alarm = run.one("aws:cloudwatch/metricAlarm:MetricAlarm", "ir-dead-letters");
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
    expect(association.inputs.name).to.equal(run.one("aws:ssm/document:Document", "kdump").state.name);
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
      "stateMachineArn",
      "stateMachineName",
    ]);
    expect(run.outputs.stateMachineArn).to.equal(run.one(STATE_MACHINE).state.arn);
    expect(run.outputs.stateMachineName).to.equal(responseStateMachineName(PROJECT, "dev"));
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

  it("locks evidence snapshots by AWS's snapshot ARN (no account), only those tagged ir:managed-by at creation", async () => {
    const run = await runProgram({
      ...BASE_CONFIG,
      ...stackConfig({ snapshotLock: '{"mode":"compliance","days":30}' }),
    });
    const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
    const snapshot = `arn:aws:ec2:${REGION}::snapshot/snap-0a1b2c3d4e5f60718`;
    const ours = tagged({ "ir:managed-by": "ec2-incident-response", "ir:incident": "gd-1" });
    expect((await decide(doc, "ec2:LockSnapshot", snapshot, ours)).verdict).to.equal("Allowed");
    expect((await decide(doc, "ec2:LockSnapshot", snapshot, tagged({ Name: "backup" }))).verdict).to.equal(
      "ImplicitlyDenied",
    );
    // Snapshot and AMI ARNs have no account: one with an account matches nothing AWS ever names.
    const resources = doc.Statement.flatMap((s) => s.Resource ?? []);
    expect(resources.filter((r) => /:\d{12}:(snapshot|image)\//.test(r))).to.deep.equal([]);
  });

  it("passes replacement roles to EC2, hands them to the handler, and may never rewrite them", async () => {
    const replacementRole = `arn:aws:iam::${ACCOUNT_ID}:role/web-app`;
    const run = await runProgram({
      ...BASE_CONFIG,
      ...stackConfig({ replacementRoleArns: JSON.stringify([replacementRole]) }),
    });
    const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
    const env = run.one(FUNCTION).inputs.environment.variables as Record<string, string>;
    expect(JSON.parse(env.REPLACEMENT_PASSABLE_ROLE_ARNS as string)).to.deep.equal([replacementRole]);
    const toEc2 = { "iam:PassedToService": "ec2.amazonaws.com" };
    expect((await decide(doc, "iam:PassRole", replacementRole, toEc2)).verdict).to.equal("Allowed");
    // Given `Allow *`, a passable role would be a launchable administrator.
    expect((await decide(doc, "iam:PutRolePolicy", replacementRole)).verdict).to.equal("ExplicitlyDenied");
    expect(
      (await decide(doc, "iam:PutRolePolicy", `arn:aws:iam::${ACCOUNT_ID}:role/batch`)).verdict,
    ).to.equal("Allowed");
    const defaults = await runProgram(BASE_CONFIG);
    const defaultEnv = defaults.one(FUNCTION).inputs.environment.variables as Record<string, string>;
    expect(defaultEnv.REPLACEMENT_PASSABLE_ROLE_ARNS).to.equal("[]");
  });

  it("grants EC2's use of the configured customer-managed EBS keys, through EC2 only", async () => {
    const key = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d`;
    const run = await runProgram({
      ...BASE_CONFIG,
      ...stackConfig({ ebsKmsKeyArns: JSON.stringify([key]) }),
    });
    const doc = policyOf(run.one(ROLE_POLICY, "ir-policy"));
    const viaEc2 = { "kms:ViaService": `ec2.${REGION}.amazonaws.com` };
    const grant = { ...viaEc2, "kms:GrantIsForAWSResource": "true" };
    expect((await decide(doc, "kms:CreateGrant", key, grant)).verdict).to.equal("Allowed");
    for (const action of [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]) {
      expect((await decide(doc, action, key, viaEc2)).verdict, action).to.equal("Allowed");
      expect((await decide(doc, action, key)).verdict, `${action} outside EC2`).to.equal("ImplicitlyDenied");
    }
    expect(
      (await decide(doc, "kms:CreateGrant", key, { ...viaEc2, "kms:GrantIsForAWSResource": "false" }))
        .verdict,
    ).to.equal("ImplicitlyDenied");
    const other = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/9f8e7d6c-5b4a-4f3e-8d2c-1b0a9f8e7d6c`;
    expect((await decide(doc, "kms:CreateGrant", other, grant)).verdict).to.equal("ImplicitlyDenied");
  });

  it("an alias ARN as the evidence key is resolved to its key for every resource and policy", async () => {
    const alias = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/ir-evidence`;
    const run = await runProgram({ ...BASE_CONFIG, ...stackConfig({ evidenceKmsKeyArn: alias }) });
    expect(run.calls.find((c) => c.token === "aws:kms/getAlias:getAlias")?.inputs.name).to.equal(
      "alias/ir-evidence",
    );
    const responder = policyOf(run.one(ROLE_POLICY, "ir-policy"));
    expect(responder.Statement.find((s) => s.Sid === "EncryptEvidence")?.Resource).to.deep.equal([
      ALIAS_TARGET_KEY_ARN,
    ]);
    expect((await decide(responder, "kms:GenerateDataKey", ALIAS_TARGET_KEY_ARN)).verdict).to.equal(
      "Allowed",
    );
    const forensic = policyOf(run.one(ROLE_POLICY, "forensic-read-evidence"));
    expect(forensic.Statement.find((s) => s.Sid === "DecryptEvidence")?.Resource).to.deep.equal([
      ALIAS_TARGET_KEY_ARN,
    ]);
    const sse = run.one(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId).to.equal(
      ALIAS_TARGET_KEY_ARN,
    );
    expect(run.one("aws:dynamodb/table:Table").inputs.serverSideEncryption.kmsKeyArn).to.equal(
      ALIAS_TARGET_KEY_ARN,
    );
    expect(run.one("aws:sns/topic:Topic").inputs.kmsMasterKeyId).to.equal(ALIAS_TARGET_KEY_ARN);
  });

  it("keeps the GuardDuty detector (and its findings) when a retaining stack is deleted", async () => {
    const run = await runProgram(BASE_CONFIG);
    expect(run.one("aws:guardduty/detector:Detector").retainOnDelete).to.equal(true);
  });

  it("writes every ARN of the kdump preparation in the deployment's partition", async () => {
    const statement = (selfTagPolicy("aws-cn") as { Statement: { Resource: string }[] }).Statement[0];
    expect(statement?.Resource).to.equal("arn:aws-cn:ec2:*:*:instance/*");
    expect(awsManagedPolicyArn("aws-us-gov", "AmazonSSMManagedInstanceCore")).to.equal(
      "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore",
    );
    // The stack hands the component the partition it runs in (the mock answers `aws`).
    const run = await runProgram({ ...BASE_CONFIG, ...stackConfig({ kdumpImagePipeline: "true" }) });
    expect(policyOf(run.one("aws:iam/policy:Policy", "self-tag"))).to.deep.equal(selfTagPolicy("aws"));
    const attached = run
      .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .map((a) => a.inputs.policyArn as string);
    expect(attached.filter((arn) => !arn.startsWith("arn:aws:iam::aws:policy/"))).to.deep.equal([]);
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

  it("fits the handler's settings in Lambda's 4 KB environment with 30 and 50 VPCs", async () => {
    // Lambda measures the JSON of all names and values ("String measured: {...}" in its refusal). The mock's ids
    // are longer than AWS's, so the size is measured on the function the stack uses, with ids as AWS makes them.
    const lambdaMeasure = (env: Record<string, string>) => Buffer.byteLength(JSON.stringify(env), "utf8");
    const hex = (seed: number) =>
      (BigInt(seed) * 0x9e3779b97f4a7c15n).toString(16).padStart(17, "0").slice(-17);
    const vpcs = (count: number) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, i) => [
          `vpc-${hex(4 * i + 1)}`,
          {
            untrack: `sg-${hex(4 * i + 2)}`,
            isolation: `sg-${hex(4 * i + 3)}`,
            forensic: `sg-${hex(4 * i + 4)}`,
          },
        ]),
      );
    const profile = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:instance-profile/${name}-1a2b3c4`;
    const settings = (count: number) => ({
      accountId: ACCOUNT_ID,
      incidentTable: "ir-incidents-1a2b3c4",
      evidenceBucket: "ir-evidence-1a2b3c4",
      notificationTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:ir-notifications-1a2b3c4`,
      // A long stack name: the ARN counts against the same 4 KB.
      stateMachineArn: stateMachineArn(
        "aws",
        REGION,
        ACCOUNT_ID,
        responseStateMachineName(PROJECT, "production-eu"),
      ),
      severityThreshold: 7,
      vpcSecurityGroups: vpcs(count),
      forensicSourceCidrs: ["10.20.250.0/24", "2001:db8:250::/56"],
      forensicAmiId: "ami-0a1b2c3d4e5f60718",
      forensicInstanceType: "m6i.large",
      forensicInstanceProfileArn: profile("ir-forensic"),
      forensicSubnets: {
        "eu-central-1a": "subnet-0aa11bb22cc33dd44",
        "eu-central-1b": "subnet-0ee55ff66aa77bb88",
      },
      exclusionTag: "ir:exclude",
      quarantineInstanceProfileArn: profile("ir-quarantine"),
      dryRun: false,
      snapshotLock: "compliance" as const,
      snapshotLockDays: 30,
      attachSnapshotCopies: false,
      snapshotCopiesFrom: "as-found" as const,
      replacement: "launch" as const,
      replacementPassableRoleArns: [
        `arn:aws:iam::${ACCOUNT_ID}:role/web-app`,
        `arn:aws:iam::${ACCOUNT_ID}:role/api`,
      ],
      revokeRoleSessions: true,
      cutTrackedConnections: true,
      securityHubUpdates: false,
      pollIntervalSeconds: 2,
      stopMode: "graceful" as const,
      stopTimeoutSeconds: 300,
      memoryGraceBaseSeconds: 60,
      memoryGraceSecondsPerGib: 10,
      triageDocument: "triage-document-1a2b3c4",
      triageTimeoutSeconds: 1800,
      triageHashBudgetSeconds: 600,
      triageTimelineHours: 72,
    });
    // As plain JSON the map alone costs over 140 bytes per VPC: 30 VPCs would not fit.
    const perVpc =
      (JSON.stringify(JSON.stringify(vpcs(30))).length - JSON.stringify(JSON.stringify(vpcs(10))).length) /
      20;
    expect(perVpc).to.be.above(140);
    for (const count of [0, 10, 25, 30, 50]) {
      const env = responderEnvironment(settings(count));
      expect(lambdaMeasure(env), `${count} VPCs`).to.be.at.most(4096);
      const parsed = parseSettings({ ...env, AWS_REGION: REGION });
      expect(parsed.vpcSecurityGroups, `${count} VPCs`).to.deep.equal(vpcs(count));
    }
    // Beyond what fits, `pulumi up` stops with a message naming the key, before Lambda refuses the function.
    expect(() => responderEnvironment(settings(120))).to.throw(/vpcIds/);

    // And the stack itself, with 50 VPCs configured: the handler reads every VPC's groups back.
    const ids = Object.keys(vpcs(50));
    const run = await runProgram({ ...BASE_CONFIG, ...stackConfig({ vpcIds: JSON.stringify(ids) }) });
    const env = run.one(FUNCTION).inputs.environment.variables as Record<string, string>;
    expect(lambdaMeasure(env)).to.be.at.most(4096);
    expect(Object.keys(parseSettings({ ...env, AWS_REGION: REGION }).vpcSecurityGroups)).to.have.members(ids);
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
