import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import { join } from "path";
import { TAG_KDUMP_READY, TRUE_VALUE } from "../handler/tags";
import {
  buildImageBuilderComponentYaml,
  buildSsmDocumentContent,
  contentVersion,
  DEFAULT_DUMP_SETTINGS,
  KdumpPreparationError,
  kdumpReadyAmiTags,
  selfTagPolicy,
  validateDumpSettings,
  type DumpCompression,
  type KdumpDumpSettings,
} from "./kdumpDocuments";
import { instanceRole } from "./instanceRole";
import { managedTags } from "./tagging";

/** The provisioning script every path ships unchanged: SSM, Image Builder, Packer and the VM proof. */
const PROVISIONING_SCRIPT_PATH = join(__dirname, "..", "forensics-ami", "scripts", "ir-kdump");
const DEFAULT_PARENT_IMAGE = "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

export interface KdumpPreparationArgs {
  /** The deployment's partition (aws, aws-cn, aws-us-gov): every ARN the component writes is in it. */
  partition: pulumi.Input<string>;
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
    this.partition = pulumi.output(args.partition);
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

    // The two managed policies AWS documents for Image Builder build instances: SSM for the agent that runs the
    // component, and Image Builder's own (component download, logs).
    const { profile: instanceProfile } = instanceRole(
      `${name}-image-builder`,
      {
        partition: this.partition,
        managedPolicies: {
          ssm: "AmazonSSMManagedInstanceCore",
          imagebuilder: "EC2InstanceProfileForImageBuilder",
        },
      },
      this,
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
