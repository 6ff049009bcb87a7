import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument } from "./policies";
import { managedTags } from "./tagging";
import {
  buildTriageDocumentContent,
  TRIAGE_RULES_PREFIX,
  triageWorkstationStatements,
} from "./triageDocument";

/** The starter YARA rules shipped with ir-triage (forensics-ami/README.md, "Triage"). */
const STARTER_RULES_DIRECTORY = path.join(__dirname, "..", "forensics-ami", "triage-rules");

/** The .yar files of a directory, sorted (none when it does not exist). */
export function ruleFiles(directory: string): string[] {
  if (!fs.existsSync(directory)) return [];
  return fs
    .readdirSync(directory)
    .filter((file) => file.endsWith(".yar"))
    .sort();
}

interface TriageArgs {
  evidenceBucketName: pulumi.Input<string>;
  evidenceBucketArn: pulumi.Input<string>;
  evidenceKmsKeyArn?: pulumi.Input<string>;
  /** The forensic workstation's role (infra/forensicAccess.ts): it writes the results and reads the rules. */
  forensicRoleName: pulumi.Input<string>;
  /** Override of the starter rules' directory (tests). */
  rulesDirectory?: string;
}

/**
 * First-hour triage on the forensic workstation: the Command document the responder sends (handler/steps/triage.ts),
 * the starter rules in the evidence bucket (s3://BUCKET/triage/rules/, where operators add theirs), and the
 * workstation role's right to upload the results.
 */
export class Triage extends pulumi.ComponentResource {
  public readonly documentName: pulumi.Output<string>;

  constructor(name: string, args: TriageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ir:aws:Triage", name, {}, opts);
    const document = new aws.ssm.Document(
      `${name}-document`,
      {
        documentType: "Command",
        documentFormat: "JSON",
        content: buildTriageDocumentContent(),
        tags: managedTags(`${name}-document`),
      },
      { parent: this },
    );
    const directory = args.rulesDirectory ?? STARTER_RULES_DIRECTORY;
    for (const file of ruleFiles(directory)) {
      new aws.s3.BucketObjectv2(
        `${name}-rule-${file}`,
        {
          bucket: args.evidenceBucketName,
          key: `${TRIAGE_RULES_PREFIX}${file}`,
          source: new pulumi.asset.FileAsset(path.join(directory, file)),
          contentType: "text/plain",
          // An Object Lock bucket takes uploads with a checksum only; SHA-256 is also what the rules are known by.
          checksumAlgorithm: "SHA256",
          tags: managedTags(`${name}-rule-${file}`),
        },
        { parent: this },
      );
    }
    new aws.iam.RolePolicy(
      `${name}-workstation`,
      {
        role: args.forensicRoleName,
        policy: pulumi
          .all([args.evidenceBucketArn, args.evidenceKmsKeyArn])
          .apply(([bucketArn, keyArn]) =>
            JSON.stringify(policyDocument(...triageWorkstationStatements(bucketArn, keyArn))),
          ),
      },
      { parent: this },
    );
    this.documentName = document.name;
    this.registerOutputs({ documentName: this.documentName });
  }
}
