import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { readFileSync } from "fs";
import { join } from "path";
import { gzipSync } from "zlib";
import { TAG_KDUMP_READY, TRUE_VALUE } from "../handler/tags";
import { awsManagedPolicyArn } from "./policies";
import { managedTags } from "./tagging";

/** The provisioning script every path ships unchanged: SSM, Image Builder, Packer and the VM proof. */
export const PROVISIONING_SCRIPT_PATH = join(__dirname, "..", "forensics-ami", "scripts", "ir-kdump");
/** Where the script installs itself on an instance (`ir-kdump check` is then a command there). */
export const INSTALLED_SCRIPT_PATH = "/usr/local/sbin/ir-kdump";
/** Exit code of `ir-kdump prepare`: configured, but crash memory is only reserved after a reboot. */
export const EXIT_REBOOT_REQUIRED = 3;
/** Exit code that makes the SSM agent reboot the instance and run the document again. */
export const SSM_EXIT_REBOOT_AND_RERUN = 194;

const SSM_DOCUMENT_MAX_BYTES = 64 * 1024;
const IMAGE_BUILDER_COMPONENT_MAX_CHARS = 16_000;
const DEFAULT_PARENT_IMAGE = "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

export type DumpCompression = "lzo" | "zlib" | "none";

/** How the dump is written; the defaults are what forensics-ami/README.md argues for. */
export interface KdumpDumpSettings {
  /** makedumpfile -d mask, 0..31. 17 drops zero and free pages, keeps kernel, user and page-cache pages. */
  dumpLevel: number;
  compression: DumpCompression;
  /** Absolute path of the dump directory on the instance. */
  dumpDirectory: string;
  /** Optional dedicated dump volume, `UUID=...` or `LABEL=...` (device names are not stable on Nitro). */
  dumpDevice: string;
}

export const DEFAULT_DUMP_SETTINGS: KdumpDumpSettings = {
  dumpLevel: 17,
  compression: "lzo",
  dumpDirectory: "/var/crash",
  dumpDevice: "",
};

export class KdumpPreparationError extends Error {
  override readonly name = "KdumpPreparationError";
}

// The same constraints as the SSM document parameters and the script: refuse at deploy time what the
// instance would refuse later, where nobody reads the error.
const DUMP_LEVEL_PATTERN = "^([0-9]|[12][0-9]|3[01])$";
const DUMP_DIRECTORY_PATTERN = "^/[A-Za-z0-9._/-]*$";
const DUMP_DEVICE_PATTERN = "^((UUID|LABEL)=[A-Za-z0-9._-]+)?$";
const COMPRESSIONS: readonly DumpCompression[] = ["lzo", "zlib", "none"];

export function validateDumpSettings(settings: KdumpDumpSettings): KdumpDumpSettings {
  const problems: string[] = [];
  if (!new RegExp(DUMP_LEVEL_PATTERN).test(String(settings.dumpLevel))) {
    problems.push(`dumpLevel must be an integer 0..31, got ${settings.dumpLevel}`);
  }
  if (!COMPRESSIONS.includes(settings.compression)) {
    problems.push(
      `compression must be one of ${COMPRESSIONS.join(", ")}, got ${String(settings.compression)}`,
    );
  }
  if (!new RegExp(DUMP_DIRECTORY_PATTERN).test(settings.dumpDirectory)) {
    problems.push(`dumpDirectory must be an absolute path of [A-Za-z0-9._/-], got ${settings.dumpDirectory}`);
  }
  if (!new RegExp(DUMP_DEVICE_PATTERN).test(settings.dumpDevice)) {
    problems.push(`dumpDevice must be empty, UUID=... or LABEL=..., got ${settings.dumpDevice}`);
  }
  if (problems.length > 0) throw new KdumpPreparationError(problems.join("; "));
  return settings;
}

/** The script's environment for these settings (its documented IR_KDUMP_* variables). */
export function scriptEnvironment(settings: KdumpDumpSettings): Record<string, string> {
  return {
    IR_KDUMP_DUMP_LEVEL: String(settings.dumpLevel),
    IR_KDUMP_COMPRESSION: settings.compression,
    IR_KDUMP_DUMP_DIR: settings.dumpDirectory,
    IR_KDUMP_DUMP_DEVICE: settings.dumpDevice,
  };
}

const HEREDOC_DELIMITER = "IR_KDUMP_SCRIPT_EOF";

function assertEmbeddable(script: string): void {
  if (!script.endsWith("\n"))
    throw new KdumpPreparationError("the provisioning script must end with a newline");
  // SSM substitutes {{ ... }} in runCommand; a literal one in the script would be rewritten or rejected.
  if (script.includes("{{")) throw new KdumpPreparationError("the provisioning script must not contain '{{'");
  if (script.split("\n").includes(HEREDOC_DELIMITER)) {
    throw new KdumpPreparationError(`the provisioning script must not contain a line ${HEREDOC_DELIMITER}`);
  }
}

export interface SsmDocumentOptions {
  /** Default of the RebootIfNeeded parameter: reboot (once) so the crash memory gets reserved. */
  rebootIfNeeded: boolean;
  /** Default of TagInstanceWhenReady: the instance tags itself ir:kdump-ready=true (needs selfTagPolicy). */
  tagInstanceWhenReady: boolean;
}

/**
 * The SSM Command document (schemaVersion 2.2) that writes the provisioning script to the instance byte for
 * byte, runs `prepare`, reboots once when allowed, then runs `check`: the association's status is the
 * instance's readiness.
 */
export function buildSsmDocumentContent(
  script: string,
  settings: KdumpDumpSettings,
  options: SsmDocumentOptions,
): string {
  assertEmbeddable(script);
  validateDumpSettings(settings);
  const scriptLines = script.slice(0, -1).split("\n");
  const marker = "/var/lib/ir-kdump/reboot-requested";
  const runCommand = [
    "#!/bin/sh",
    "set -u",
    "script=$(mktemp) || exit 1",
    `cat >"$script" <<'${HEREDOC_DELIMITER}'`,
    ...scriptLines,
    HEREDOC_DELIMITER,
    "export IR_KDUMP_DUMP_LEVEL='{{ DumpLevel }}' IR_KDUMP_COMPRESSION='{{ Compression }}'",
    "export IR_KDUMP_DUMP_DIR='{{ DumpDirectory }}' IR_KDUMP_DUMP_DEVICE='{{ DumpDevice }}'",
    "status=0",
    'bash "$script" prepare || status=$?',
    'rm -f "$script"',
    `if [ "$status" -eq ${EXIT_REBOOT_REQUIRED} ]; then`,
    "  if [ '{{ RebootIfNeeded }}' != yes ]; then",
    "    echo 'ir-kdump: NOT READY until the next reboot reserves crash-kernel memory (RebootIfNeeded=no)'",
    `    exit ${EXIT_REBOOT_REQUIRED}`,
    "  fi",
    // Reboot at most once per preparation: a boot loader that ignores our crashkernel= must not loop.
    `  if [ -e ${marker} ]; then`,
    "    echo 'ir-kdump: NOT READY: a reboot did not reserve crash-kernel memory; check the boot loader'",
    `    exit ${EXIT_REBOOT_REQUIRED}`,
    "  fi",
    `  mkdir -p /var/lib/ir-kdump && touch ${marker}`,
    "  echo 'ir-kdump: rebooting to reserve crash-kernel memory; this document runs again after the reboot'",
    `  exit ${SSM_EXIT_REBOOT_AND_RERUN}`,
    "fi",
    '[ "$status" -eq 0 ] || exit "$status"',
    `rm -f ${marker}`,
    `${INSTALLED_SCRIPT_PATH} check || exit $?`,
    "if [ '{{ TagInstanceWhenReady }}' = yes ]; then",
    "  imds=http://169.254.169.254/latest",
    "  token=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' $imds/api/token) &&",
    '    instance_id=$(curl -sf -H "X-aws-ec2-metadata-token: $token" $imds/meta-data/instance-id) &&',
    '    region=$(curl -sf -H "X-aws-ec2-metadata-token: $token" $imds/meta-data/placement/region) &&',
    `    aws ec2 create-tags --region "$region" --resources "$instance_id" --tags 'Key=${TAG_KDUMP_READY},Value=${TRUE_VALUE}' ||`,
    "    { echo 'ir-kdump: READY, but tagging the instance failed (needs the aws CLI and the self-tag policy)'; exit 1; }",
    "fi",
  ];
  const yesNo = (value: boolean): string => (value ? "yes" : "no");
  const document = {
    schemaVersion: "2.2",
    description:
      "Prepare a Linux instance for memory capture by EC2 SendDiagnosticInterrupt: kdump, crash-kernel memory, " +
      "NMI panic sysctls, power-off after the dump (forensics-ami/scripts/ir-kdump). Fails until the instance is ready.",
    parameters: {
      DumpLevel: {
        type: "String",
        default: String(settings.dumpLevel),
        allowedPattern: DUMP_LEVEL_PATTERN,
        description: "makedumpfile -d mask (17: drop zero and free pages only)",
      },
      Compression: {
        type: "String",
        default: settings.compression,
        allowedValues: [...COMPRESSIONS],
        description: "Dump page compression",
      },
      DumpDirectory: {
        type: "String",
        default: settings.dumpDirectory,
        allowedPattern: DUMP_DIRECTORY_PATTERN,
        description: "Dump directory on the instance",
      },
      DumpDevice: {
        type: "String",
        default: settings.dumpDevice,
        allowedPattern: DUMP_DEVICE_PATTERN,
        description: "Optional dedicated dump volume (UUID=... or LABEL=...), mounted on DumpDirectory",
      },
      RebootIfNeeded: {
        type: "String",
        default: yesNo(options.rebootIfNeeded),
        allowedValues: ["yes", "no"],
        description: "Reboot once when crash-kernel memory is not reserved yet",
      },
      TagInstanceWhenReady: {
        type: "String",
        default: yesNo(options.tagInstanceWhenReady),
        allowedValues: ["yes", "no"],
        description: `Tag the instance ${TAG_KDUMP_READY}=${TRUE_VALUE} once ready (instance role needs the self-tag policy)`,
      },
    },
    mainSteps: [
      {
        action: "aws:runShellScript",
        name: "prepareKdump",
        precondition: { StringEquals: ["platformType", "Linux"] },
        inputs: { timeoutSeconds: "1800", runCommand },
      },
    ],
  };
  const content = JSON.stringify(document, null, 2);
  if (Buffer.byteLength(content) > SSM_DOCUMENT_MAX_BYTES) {
    throw new KdumpPreparationError(`SSM document is ${Buffer.byteLength(content)} bytes, over SSM's 64 KB`);
  }
  return content;
}

function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The EC2 Image Builder component (YAML, schemaVersion 1.0). Image Builder caps inline component data at 16,000
 * characters and the script is larger, so it travels gzip+base64 and is checked against its SHA-256 on the build
 * instance. Build: install, prepare, reboot (crash memory is reserved at boot); validate and test: `check`.
 */
export function buildImageBuilderComponentYaml(script: string, settings: KdumpDumpSettings): string {
  assertEmbeddable(script);
  validateDumpSettings(settings);
  const payload = gzipSync(Buffer.from(script, "utf8"), { level: 9 }).toString("base64");
  const environment = Object.entries(scriptEnvironment(settings))
    .map(([key, value]) => `${key}='${value}'`)
    .join(" ");
  // Every scalar is a JSON string: valid YAML, and no shell character can change the YAML's meaning.
  const q = (value: string): string => JSON.stringify(value);
  const install =
    `echo ${payload} | base64 -d | gunzip > ${INSTALLED_SCRIPT_PATH} && chmod 0755 ${INSTALLED_SCRIPT_PATH} && ` +
    `echo '${sha256(script)}  ${INSTALLED_SCRIPT_PATH}' | sha256sum -c -`;
  const prepare = `env ${environment} ${INSTALLED_SCRIPT_PATH} prepare || test $? -eq ${EXIT_REBOOT_REQUIRED}`;
  const check = `${INSTALLED_SCRIPT_PATH} check`;
  const yaml = [
    "name: ir-kdump-prepare",
    `description: ${q("Kdump-ready image: NMI -> crash dump -> power off (forensics-ami/scripts/ir-kdump)")}`,
    "schemaVersion: 1.0",
    "phases:",
    "  - name: build",
    "    steps:",
    "      - name: InstallIrKdump",
    "        action: ExecuteBash",
    "        inputs:",
    "          commands:",
    `            - ${q(install)}`,
    "      - name: PrepareKdump",
    "        action: ExecuteBash",
    "        inputs:",
    "          commands:",
    `            - ${q(prepare)}`,
    "      - name: RebootToReserveCrashMemory",
    "        action: Reboot",
    "        onFailure: Abort",
    "        maxAttempts: 2",
    "        inputs:",
    "          delaySeconds: 10",
    "  - name: validate",
    "    steps:",
    "      - name: CheckKdumpReady",
    "        action: ExecuteBash",
    "        inputs:",
    "          commands:",
    `            - ${q(check)}`,
    "  - name: test",
    "    steps:",
    "      - name: CheckKdumpReadyOnFreshInstance",
    "        action: ExecuteBash",
    "        inputs:",
    "          commands:",
    `            - ${q(check)}`,
    "",
  ].join("\n");
  if (yaml.length > IMAGE_BUILDER_COMPONENT_MAX_CHARS) {
    throw new KdumpPreparationError(
      `Image Builder component is ${yaml.length} characters, over the 16,000 limit`,
    );
  }
  return yaml;
}

/**
 * Image Builder components and recipes are immutable per version: a changed document needs a new version, and
 * the same document must keep its version (or every `pulumi up` would build anew). So the version is derived
 * from the content.
 */
export function contentVersion(...parts: string[]): string {
  const digest = sha256(parts.join("\u0000"));
  return `1.${parseInt(digest.slice(0, 4), 16)}.${parseInt(digest.slice(4, 10), 16)}`;
}

/** Only for standalone use of the component: the stack passes its deployment's partition. */
const COMMERCIAL_PARTITION = "aws";

/** `ec2:CreateTags` of ir:kdump-ready=true on the calling instance itself, nothing else. */
export function selfTagPolicy(partition = COMMERCIAL_PARTITION): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TagOwnInstanceKdumpReady",
        Effect: "Allow",
        Action: "ec2:CreateTags",
        Resource: `arn:${partition}:ec2:*:*:instance/*`,
        Condition: {
          // Instance-role credentials carry ec2:SourceInstanceARN: the instance may tag only itself.
          StringEquals: {
            "aws:ARN": "${ec2:SourceInstanceARN}",
            [`aws:RequestTag/${TAG_KDUMP_READY}`]: TRUE_VALUE,
          },
          "ForAllValues:StringEquals": { "aws:TagKeys": [TAG_KDUMP_READY] },
        },
      },
    ],
  };
}

/** Tags on the AMIs the pipeline distributes: the responder reads ir:kdump-ready. */
export function kdumpReadyAmiTags(settings: KdumpDumpSettings): Record<string, string> {
  return managedTags("ir-kdump-workload", {
    [TAG_KDUMP_READY]: TRUE_VALUE,
    "ir:kdump-dump-level": String(settings.dumpLevel),
    "ir:kdump-compression": settings.compression,
  });
}

export interface KdumpPreparationArgs {
  /** The deployment's partition (aws, aws-cn, aws-us-gov): every ARN the component writes is in it. */
  partition?: pulumi.Input<string>;
  /** Instances carrying this tag get the SSM association (default `ir:prepare-kdump`). */
  prepareTagKey?: string;
  /** ... with this value (default `true`). */
  prepareTagValue?: string;
  /** makedumpfile -d mask (default 17). */
  dumpLevel?: number;
  /** Dump compression (default lzo). */
  dumpCompression?: DumpCompression;
  /** Dump directory on instances (default /var/crash). */
  dumpDirectory?: string;
  /** Optional dedicated dump volume, UUID=... or LABEL=... (default none). */
  dumpDevice?: string;
  /** Let the association reboot an instance once to reserve crash memory (default false: it reports NOT READY). */
  rebootIfNeeded?: boolean;
  /** Instances tag themselves ir:kdump-ready=true when ready (default false; attach selfTagPolicyArn to their role). */
  tagInstanceWhenReady?: boolean;
  /** How often the association re-applies and re-checks (default `rate(1 day)`). */
  associationSchedule?: string;
  /** Share of targets prepared at once (default `10%`; matters when rebootIfNeeded is on). */
  associationMaxConcurrency?: string;
  /** Create the EC2 Image Builder pipeline for a kdump-ready workload AMI (default false). */
  imagePipeline?: boolean;
  /** Region the pipeline distributes the AMI in; required when imagePipeline is on. */
  region?: string;
  /** Parent image: AMI id, Image Builder ARN or `ssm:` parameter (default: latest Amazon Linux 2023 x86_64). */
  parentImage?: pulumi.Input<string>;
  /** Build instance types (default `["t3.medium"]`: x86_64 Nitro, where the diagnostic interrupt exists). */
  buildInstanceTypes?: string[];
  /** Subnet and security groups of the build instance (default: the default VPC). */
  buildSubnetId?: pulumi.Input<string>;
  buildSecurityGroupIds?: pulumi.Input<string>[];
  /** Cron expression for pipeline runs (default none: run on demand). */
  pipelineSchedule?: string;
  /** The provisioning script's text (default: read from forensics-ami/scripts/ir-kdump at deploy time). */
  provisioningScript?: string;
}

/**
 * Prepares instances for memory capture by NMI: an SSM document + association for running instances tagged
 * `prepareTagKey=prepareTagValue`, a policy that lets prepared instances tag themselves ir:kdump-ready, and,
 * when `imagePipeline` is on, an EC2 Image Builder pipeline producing ir:kdump-ready=true AMIs. All of them
 * run the same script, forensics-ami/scripts/ir-kdump.
 */
export class KdumpPreparation extends pulumi.ComponentResource {
  public readonly documentName: pulumi.Output<string>;
  public readonly associationId: pulumi.Output<string>;
  public readonly selfTagPolicyArn: pulumi.Output<string>;
  public readonly imagePipelineArn: pulumi.Output<string | undefined>;
  public readonly imageBuilderInstanceProfileName: pulumi.Output<string | undefined>;
  private readonly partition: pulumi.Output<string>;

  constructor(name: string, args: KdumpPreparationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:KdumpPreparation", name, {}, opts);
    this.partition = pulumi.output(args.partition ?? COMMERCIAL_PARTITION);
    const settings = validateDumpSettings({
      dumpLevel: args.dumpLevel ?? DEFAULT_DUMP_SETTINGS.dumpLevel,
      compression: args.dumpCompression ?? DEFAULT_DUMP_SETTINGS.compression,
      dumpDirectory: args.dumpDirectory ?? DEFAULT_DUMP_SETTINGS.dumpDirectory,
      dumpDevice: args.dumpDevice ?? DEFAULT_DUMP_SETTINGS.dumpDevice,
    });
    if (args.imagePipeline && !args.region) {
      throw new KdumpPreparationError(
        "region is required when imagePipeline is on (the AMI is distributed there)",
      );
    }
    const script = args.provisioningScript ?? readFileSync(PROVISIONING_SCRIPT_PATH, "utf8");
    const prepareTagKey = args.prepareTagKey ?? "ir:prepare-kdump";
    const prepareTagValue = args.prepareTagValue ?? TRUE_VALUE;

    const document = new aws.ssm.Document(
      `${name}-prepare`,
      {
        documentType: "Command",
        documentFormat: "JSON",
        content: buildSsmDocumentContent(script, settings, {
          rebootIfNeeded: args.rebootIfNeeded ?? false,
          tagInstanceWhenReady: args.tagInstanceWhenReady ?? false,
        }),
        tags: managedTags(`${name}-prepare`),
      },
      { parent: this },
    );
    const association = new aws.ssm.Association(
      `${name}-prepare`,
      {
        name: document.name,
        associationName: `${name}-prepare-kdump`,
        targets: [{ key: `tag:${prepareTagKey}`, values: [prepareTagValue] }],
        scheduleExpression: args.associationSchedule ?? "rate(1 day)",
        complianceSeverity: "HIGH",
        maxConcurrency: args.associationMaxConcurrency ?? "10%",
        // An instance waiting for its reboot reports NOT READY (a failure): that must not stop the rollout to
        // the rest of the fleet, as a lower error budget would.
        maxErrors: "100%",
        tags: managedTags(`${name}-prepare`),
      },
      { parent: this },
    );
    const selfTag = new aws.iam.Policy(
      `${name}-self-tag`,
      {
        description: `Lets an instance tag itself ${TAG_KDUMP_READY}=${TRUE_VALUE} (attach to workload instance roles)`,
        policy: this.partition.apply((partition) => JSON.stringify(selfTagPolicy(partition))),
        tags: managedTags(`${name}-self-tag`),
      },
      { parent: this },
    );

    let imagePipelineArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let instanceProfileName: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (args.imagePipeline && args.region) {
      const pipeline = this.createImagePipeline(name, args, args.region, script, settings);
      imagePipelineArn = pipeline.arn;
      instanceProfileName = pipeline.instanceProfileName;
    }

    this.documentName = document.name;
    this.associationId = association.associationId;
    this.selfTagPolicyArn = selfTag.arn;
    this.imagePipelineArn = imagePipelineArn;
    this.imageBuilderInstanceProfileName = instanceProfileName;
    this.registerOutputs({
      documentName: this.documentName,
      associationId: this.associationId,
      selfTagPolicyArn: this.selfTagPolicyArn,
      imagePipelineArn: this.imagePipelineArn,
      imageBuilderInstanceProfileName: this.imageBuilderInstanceProfileName,
    });
  }

  private createImagePipeline(
    name: string,
    args: KdumpPreparationArgs,
    region: string,
    script: string,
    settings: KdumpDumpSettings,
  ): { arn: pulumi.Output<string>; instanceProfileName: pulumi.Output<string> } {
    const componentYaml = buildImageBuilderComponentYaml(script, settings);
    const componentVersion = contentVersion(componentYaml);
    const component = new aws.imagebuilder.Component(
      `${name}-kdump`,
      {
        name: `${name}-kdump`,
        platform: "Linux",
        version: componentVersion,
        data: componentYaml,
        description: "Install and verify kdump with power-off after the dump (ir-kdump)",
        tags: managedTags(`${name}-kdump`),
      },
      { parent: this },
    );
    const parentImage = pulumi.output(args.parentImage ?? DEFAULT_PARENT_IMAGE);
    const recipe = new aws.imagebuilder.ImageRecipe(
      `${name}-kdump`,
      {
        name: `${name}-kdump`,
        parentImage,
        version: parentImage.apply((image) => contentVersion(componentVersion, image)),
        components: [{ componentArn: component.arn }],
        tags: managedTags(`${name}-kdump`),
      },
      { parent: this },
    );

    const role = new aws.iam.Role(
      `${name}-image-builder`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
        tags: managedTags(`${name}-image-builder`),
      },
      { parent: this },
    );
    // The two managed policies AWS documents for Image Builder build instances: SSM for the agent that runs the
    // component, and Image Builder's own (component download, logs).
    const managedPolicies = {
      ssm: "AmazonSSMManagedInstanceCore",
      imagebuilder: "EC2InstanceProfileForImageBuilder",
    };
    for (const [suffix, policyName] of Object.entries(managedPolicies)) {
      new aws.iam.RolePolicyAttachment(
        `${name}-image-builder-${suffix}`,
        {
          role: role.name,
          policyArn: this.partition.apply((partition) => awsManagedPolicyArn(partition, policyName)),
        },
        { parent: this },
      );
    }
    const instanceProfile = new aws.iam.InstanceProfile(
      `${name}-image-builder`,
      { role: role.name, tags: managedTags(`${name}-image-builder`) },
      { parent: this },
    );
    const infrastructure = new aws.imagebuilder.InfrastructureConfiguration(
      `${name}-kdump`,
      {
        name: `${name}-kdump`,
        instanceProfileName: instanceProfile.name,
        instanceTypes: args.buildInstanceTypes ?? ["t3.medium"],
        subnetId: args.buildSubnetId,
        securityGroupIds: args.buildSecurityGroupIds,
        terminateInstanceOnFailure: true,
        instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
        resourceTags: managedTags(`${name}-kdump-build`),
        tags: managedTags(`${name}-kdump`),
      },
      { parent: this },
    );
    const distribution = new aws.imagebuilder.DistributionConfiguration(
      `${name}-kdump`,
      {
        name: `${name}-kdump`,
        distributions: [
          {
            region,
            amiDistributionConfiguration: {
              name: `${name}-kdump-{{ imagebuilder:buildDate }}`,
              description: "Kdump-ready workload image: NMI -> crash dump -> power off",
              amiTags: kdumpReadyAmiTags(settings),
            },
          },
        ],
        tags: managedTags(`${name}-kdump`),
      },
      { parent: this },
    );
    const pipeline = new aws.imagebuilder.ImagePipeline(
      `${name}-kdump`,
      {
        name: `${name}-kdump`,
        imageRecipeArn: recipe.arn,
        infrastructureConfigurationArn: infrastructure.arn,
        distributionConfigurationArn: distribution.arn,
        // The test phase boots the finished AMI and runs `ir-kdump check` there.
        imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
        schedule: args.pipelineSchedule
          ? {
              scheduleExpression: args.pipelineSchedule,
              pipelineExecutionStartCondition: "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE",
            }
          : undefined,
        tags: managedTags(`${name}-kdump`),
      },
      { parent: this },
    );
    return { arn: pipeline.arn, instanceProfileName: instanceProfile.name };
  }
}
