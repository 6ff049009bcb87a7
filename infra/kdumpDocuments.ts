// The pure builders of the kdump preparation: the SSM document, the Image Builder component, the self-tag
// policy and the AMI tags, from the provisioning script and the dump settings. No Pulumi: tests build and run them.
import { createHash } from "crypto";
import { gzipSync } from "zlib";
import { TAG_KDUMP_READY, TRUE_VALUE } from "../handler/tags";
import { managedTags } from "./tagging";

/** Where the script installs itself on an instance (`ir-kdump check` is then a command there). */
const INSTALLED_SCRIPT_PATH = "/usr/local/sbin/ir-kdump";
/** Exit code of `ir-kdump prepare`: configured, but crash memory is only reserved after a reboot. */
const EXIT_REBOOT_REQUIRED = 3;
/** Exit code that makes the SSM agent reboot the instance and run the document again. */
const SSM_EXIT_REBOOT_AND_RERUN = 194;

const SSM_DOCUMENT_MAX_BYTES = 64 * 1024;
const IMAGE_BUILDER_COMPONENT_MAX_CHARS = 16_000;

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

interface SsmDocumentOptions {
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

/** `ec2:CreateTags` of ir:kdump-ready=true on the calling instance itself, nothing else. */
export function selfTagPolicy(partition: string): object {
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
