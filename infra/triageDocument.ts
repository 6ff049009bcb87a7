// The pure builders of the triage: the SSM Command document that runs forensics-ami/scripts/ir-triage on the forensic
// workstation, the responder's statements to run it and read its summary, and the workstation's to write its
// results and read the operator's rules. No Pulumi: tests build them and evaluate them in the simulator.
import { RESPONDER_MADE_FORENSIC, TAG_RESPONDER_MADE } from "../handler/tags";
import type { PolicyStatement } from "./policies";

/** Where the workstation template installs ir-triage (forensics-ami/scripts/forensic-workstation-setup). */
export const TRIAGE_PROGRAM_PATH = "/usr/local/sbin/ir-triage";
/** The operator's YARA rules in the evidence bucket; the program uploads the starter set here. */
export const TRIAGE_RULES_PREFIX = "triage/rules/";

/**
 * SSM substitutes {{ Parameter }} into the script as text: each parameter is held to a pattern that lets nothing
 * but its value through (no quote, space where none belongs, `$`, backquote or newline), and Run Command refuses a
 * value that does not match before the agent sees it.
 */
const PARAMETER_PATTERNS = {
  IncidentId: "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
  EvidenceBucket: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
  Volumes: "^vol-[0-9a-f]{8,17}( vol-[0-9a-f]{8,17}){0,39}$",
  TimelineHours: "^[1-9][0-9]{0,4}$",
  HashBudgetSeconds: "^[0-9]{1,6}$",
} as const;

/** The run's own bound on the workstation; the responder's time bound (TRIAGE_TIMEOUT_SECONDS) is usually shorter. */
const EXECUTION_TIMEOUT_SECONDS = 7200;

/**
 * The Command document (schemaVersion 2.2, one aws:runShellScript step, as root): copies the operator's rules from
 * s3://EvidenceBucket/triage/rules/, then runs ir-triage on the named volumes with --upload to the incident's
 * triage/ prefix. `exec`: its exit code is the document's, so a workstation without ir-triage ends with bash's 127
 * (the responder reads that as "not a triage-capable image").
 */
export function buildTriageDocumentContent(): string {
  const runCommand = [
    "#!/bin/bash",
    "set -u",
    // The AWS CLI finds no region on an instance by itself: the workstation's own, from the metadata service.
    'if [ -z "${AWS_DEFAULT_REGION:-}" ]; then',
    "  imds=http://169.254.169.254/latest",
    "  token=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' $imds/api/token) &&",
    '    AWS_DEFAULT_REGION=$(curl -sf -H "X-aws-ec2-metadata-token: $token" $imds/meta-data/placement/region) &&',
    "    export AWS_DEFAULT_REGION",
    "fi",
    "rules=/var/lib/ir-triage/rules",
    "out='/var/lib/ir-triage/{{ IncidentId }}'",
    'mkdir -p "$rules" "$out"',
    `aws s3 sync --only-show-errors --delete 's3://{{ EvidenceBucket }}/${TRIAGE_RULES_PREFIX}' "$rules" ||`,
    "  echo 'ir-triage: the rules in the evidence bucket could not be copied: starter rules only' >&2",
    "read -r -a volumes <<<'{{ Volumes }}'",
    "set --",
    'for volume in "${volumes[@]}"; do set -- "$@" --volume "$volume"; done',
    `exec ${TRIAGE_PROGRAM_PATH} --incident '{{ IncidentId }}' --out "$out" "$@" --rules "$rules" \\`,
    "  --timeline-hours '{{ TimelineHours }}' --hash-budget-seconds '{{ HashBudgetSeconds }}' \\",
    "  --upload 's3://{{ EvidenceBucket }}/incidents/{{ IncidentId }}/triage/'",
  ];
  const parameter = (name: keyof typeof PARAMETER_PATTERNS, description: string, fallback?: string) => ({
    type: "String",
    description,
    allowedPattern: PARAMETER_PATTERNS[name],
    ...(fallback === undefined ? {} : { default: fallback }),
  });
  return JSON.stringify(
    {
      schemaVersion: "2.2",
      description:
        "First-hour triage of an incident's evidence volumes on the forensic workstation " +
        "(forensics-ami/scripts/ir-triage): hashes, the crash dump, a timeline, persistence checks, YARA.",
      parameters: {
        IncidentId: parameter("IncidentId", "The incident (its results go to incidents/<id>/triage/)"),
        EvidenceBucket: parameter("EvidenceBucket", "The evidence bucket (rules in triage/rules/)"),
        Volumes: parameter("Volumes", "The evidence volumes attached to this workstation, space-separated"),
        TimelineHours: parameter("TimelineHours", "Filesystem timeline window in hours", "72"),
        HashBudgetSeconds: parameter(
          "HashBudgetSeconds",
          "Seconds of hashing before it goes on in the background",
          "600",
        ),
      },
      mainSteps: [
        {
          action: "aws:runShellScript",
          name: "triage",
          precondition: { StringEquals: ["platformType", "Linux"] },
          inputs: { timeoutSeconds: String(EXECUTION_TIMEOUT_SECONDS), runCommand },
        },
      ],
    },
    null,
    2,
  );
}

export interface TriageStatementArgs {
  partition: string;
  region: string;
  accountId: string;
  evidenceBucketArn: string;
  triageDocument: string;
}

/**
 * The responder's part (Service Authorization Reference, Systems Manager): ssm:SendCommand needs the document
 * (required) and each instance (the EC2 instance ARN); instances are allowed only when tagged as a workstation this
 * program launched (ssm:resourceTag). Which incident's workstation is checked by the handler before it sends
 * (handler/steps/triage.ts): IAM has no way to match an instance's tag against the request. GetCommandInvocation
 * supports `*` only. Reading the summary: s3:GetObject on the triage prefixes only.
 */
export function triageResponderStatements(a: TriageStatementArgs): PolicyStatement[] {
  if (a.triageDocument === "") return [];
  return [
    {
      Sid: "RunTriageDocument",
      Effect: "Allow",
      Action: ["ssm:SendCommand"],
      Resource: [`arn:${a.partition}:ssm:${a.region}:${a.accountId}:document/${a.triageDocument}`],
    },
    {
      Sid: "RunTriageOnForensicWorkstations",
      Effect: "Allow",
      Action: ["ssm:SendCommand"],
      Resource: [`arn:${a.partition}:ec2:${a.region}:${a.accountId}:instance/*`],
      Condition: { StringEquals: { [`ssm:resourceTag/${TAG_RESPONDER_MADE}`]: RESPONDER_MADE_FORENSIC } },
    },
    { Sid: "FollowTriage", Effect: "Allow", Action: ["ssm:GetCommandInvocation"], Resource: ["*"] },
    {
      Sid: "ReadTriageSummary",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: [`${a.evidenceBucketArn}/incidents/*/triage/*`],
    },
  ];
}

/** The workstation's part: write results under incidents/<id>/triage/, read the operator's rules. */
export function triageWorkstationStatements(
  evidenceBucketArn: string,
  evidenceKmsKeyArn?: string,
): PolicyStatement[] {
  return [
    {
      Sid: "WriteTriageResults",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [`${evidenceBucketArn}/incidents/*/triage/*`],
    },
    {
      Sid: "ListTriageRules",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [evidenceBucketArn],
      Condition: { StringLike: { "s3:prefix": [`${TRIAGE_RULES_PREFIX}*`] } },
    },
    {
      Sid: "ReadTriageRules",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: [`${evidenceBucketArn}/${TRIAGE_RULES_PREFIX}*`],
    },
    // SSE-KMS uploads need a data key under the bucket's key.
    ...(evidenceKmsKeyArn
      ? [
          {
            Sid: "EncryptTriageResults",
            Effect: "Allow" as const,
            Action: ["kms:GenerateDataKey"],
            Resource: [evidenceKmsKeyArn],
          },
        ]
      : []),
  ];
}
