// infra/kdumpPreparation.ts in Pulumi mock mode: the resources it registers from the documents of
// infra/kdumpDocuments.ts (tested there), with the real provisioning script forensics-ami/scripts/ir-kdump.
import { expect } from "chai";
import { readFileSync } from "fs";
import * as pulumi from "@pulumi/pulumi";
import { IR_KDUMP } from "./scriptRunner";
import {
  buildImageBuilderComponentYaml,
  contentVersion,
  DEFAULT_DUMP_SETTINGS,
  selfTagPolicy,
} from "../../infra/kdumpDocuments";
// The module creates no resource when imported (only `new KdumpPreparation` does, after setMocks below).
import { KdumpPreparation, type KdumpPreparationArgs } from "../../infra/kdumpPreparation";

const SCRIPT = readFileSync(IR_KDUMP, "utf8");
const DEFAULTS = DEFAULT_DUMP_SETTINGS;
const PARTITION = "aws";

interface SsmDocument {
  parameters: Record<string, { default: string }>;
  mainSteps: { inputs: { runCommand: string[] } }[];
}

describe("kdump preparation component (infra/kdumpPreparation.ts), in Pulumi mock mode", function () {
  this.timeout(60_000);
  interface Registered {
    type: string;
    name: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    inputs: Record<string, any>;
  }
  let registered: Registered[];

  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs as Record<string, unknown>,
          });
          const name = typeof args.inputs.name === "string" ? args.inputs.name : `${args.name}-physical`;
          // Inputs spread last: a mocked value must never hide what the component asked for.
          return {
            id: `${args.name}-id`,
            state: {
              arn: `arn:aws:mock:eu-central-1:111122223333:${args.name}`,
              name,
              associationId: `${args.name}-assoc`,
              ...args.inputs,
            },
          };
        },
        call(args) {
          throw new Error(`KdumpPreparation must not call provider functions, called ${args.token}`);
        },
      },
      "ec2-incident-response",
      "test",
      false,
    );
  });

  async function deploy(args: Omit<KdumpPreparationArgs, "partition">) {
    registered = [];
    const component = new KdumpPreparation("kdump", { partition: PARTITION, ...args });
    const outputs = await new Promise<unknown[]>((resolve) =>
      pulumi
        .all([
          component.documentName,
          component.associationId,
          component.selfTagPolicyArn,
          component.imagePipelineArn,
        ])
        .apply(resolve),
    );
    return { component, outputs };
  }
  const ofType = (type: string) => registered.filter((r) => r.type === type);
  const one = (type: string) => {
    const found = ofType(type);
    expect(found, type).to.have.length(1);
    return found[0]!;
  };

  it("registers under ir:aws:KdumpPreparation with every child parented and named from the component", async () => {
    await deploy({});
    expect(one("ir:aws:KdumpPreparation").name).to.equal("kdump");
    for (const resource of registered.filter((r) => r.type !== "ir:aws:KdumpPreparation")) {
      expect(resource.name, resource.type).to.match(/^kdump-/);
    }
  });

  it("by default: a Command document running the real script, an association on ir:prepare-kdump=true, no pipeline", async () => {
    const { outputs } = await deploy({});
    const document = one("aws:ssm/document:Document");
    expect(document.inputs).to.deep.include({ documentType: "Command", documentFormat: "JSON" });
    expect(
      (JSON.parse(document.inputs.content as string) as SsmDocument).mainSteps[0]!.inputs.runCommand.join(
        "\n",
      ),
    ).to.include(SCRIPT.split("\n")[1]!);
    const association = one("aws:ssm/association:Association");
    expect(association.inputs.targets).to.deep.equal([{ key: "tag:ir:prepare-kdump", values: ["true"] }]);
    expect(association.inputs).to.deep.include({
      scheduleExpression: "rate(1 day)",
      maxConcurrency: "10%",
      maxErrors: "100%",
    });
    expect(ofType("aws:imagebuilder/imagePipeline:ImagePipeline")).to.deep.equal([]);
    expect(outputs[3]).to.equal(undefined);
  });

  it("targets the configured tag and passes the dump settings and reboot choice as document defaults", async () => {
    await deploy({
      prepareTagKey: "team:kdump",
      prepareTagValue: "yes",
      dumpLevel: 31,
      dumpCompression: "zlib",
      rebootIfNeeded: true,
    });
    expect(one("aws:ssm/association:Association").inputs.targets).to.deep.equal([
      { key: "tag:team:kdump", values: ["yes"] },
    ]);
    const parameters = (JSON.parse(one("aws:ssm/document:Document").inputs.content as string) as SsmDocument)
      .parameters;
    expect(parameters.DumpLevel!.default).to.equal("31");
    expect(parameters.Compression!.default).to.equal("zlib");
    expect(parameters.RebootIfNeeded!.default).to.equal("yes");
  });

  it("the self-tag policy is the one built by selfTagPolicy()", async () => {
    await deploy({});
    expect(JSON.parse(one("aws:iam/policy:Policy").inputs.policy as string)).to.deep.equal(
      selfTagPolicy(PARTITION),
    );
  });

  it("with imagePipeline: component from the same script, recipe, instance profile, distribution tagging ir:kdump-ready=true", async () => {
    const { outputs } = await deploy({
      imagePipeline: true,
      region: "eu-central-1",
      parentImage: "ami-0123456789abcdef0",
    });
    const component = one("aws:imagebuilder/component:Component");
    expect(component.inputs.data).to.equal(buildImageBuilderComponentYaml(SCRIPT, DEFAULTS));
    expect(component.inputs.version).to.equal(contentVersion(component.inputs.data as string));
    const recipe = one("aws:imagebuilder/imageRecipe:ImageRecipe");
    expect(recipe.inputs.parentImage).to.equal("ami-0123456789abcdef0");
    expect(recipe.inputs.components).to.deep.equal([
      { componentArn: "arn:aws:mock:eu-central-1:111122223333:kdump-kdump" },
    ]);
    const infrastructure = one("aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration");
    expect(infrastructure.inputs.instanceProfileName).to.equal(
      one("aws:iam/instanceProfile:InstanceProfile").inputs.name ?? "kdump-image-builder-physical",
    );
    expect(infrastructure.inputs.instanceMetadataOptions).to.deep.include({ httpTokens: "required" });
    expect(
      ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs.policyArn),
    ).to.have.members([
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
    ]);
    const distribution = one("aws:imagebuilder/distributionConfiguration:DistributionConfiguration");
    const [target] = distribution.inputs.distributions as {
      region: string;
      amiDistributionConfiguration: { amiTags: Record<string, string> };
    }[];
    expect(target!.region).to.equal("eu-central-1");
    expect(target!.amiDistributionConfiguration.amiTags).to.deep.include({
      "ir:kdump-ready": "true",
      "ir:managed-by": "ec2-incident-response",
    });
    const pipeline = one("aws:imagebuilder/imagePipeline:ImagePipeline");
    expect(pipeline.inputs.imageTestsConfiguration).to.deep.include({ imageTestsEnabled: true });
    expect(outputs[3]).to.equal("arn:aws:mock:eu-central-1:111122223333:kdump-kdump");
  });

  it("defaults the parent image to the latest Amazon Linux 2023 through its public SSM parameter", async () => {
    await deploy({ imagePipeline: true, region: "eu-central-1" });
    expect(one("aws:imagebuilder/imageRecipe:ImageRecipe").inputs.parentImage).to.equal(
      "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    );
  });

  it("refuses an image pipeline without a region, and bad dump settings, before creating anything", () => {
    registered = [];
    expect(() => new KdumpPreparation("kdump-bad", { partition: PARTITION, imagePipeline: true })).to.throw(
      /region is required/,
    );
    expect(() => new KdumpPreparation("kdump-bad2", { partition: PARTITION, dumpLevel: 99 })).to.throw(
      /dumpLevel/,
    );
    expect(registered.filter((r) => r.type !== "ir:aws:KdumpPreparation")).to.deep.equal([]);
  });
});
