// EC2's documented refusals that an incident response meets, each through the real SDK against the simulator:
// Spot instances, AWS Marketplace product codes, customer-managed KMS keys, attachment limits, duplicate tag keys
// in CreateSnapshots, the diagnostic interrupt on bare metal, Graviton and A1, launch templates with network
// interfaces, and launch templates whose AMI is a Systems Manager parameter. The README's "EC2 refusals" table
// says which of these AWS documents and which are inferred.
import * as ec2 from "@aws-sdk/client-ec2";
import { expect } from "chai";
import type { Simulator } from "../../simulator";
import { errorCodeOf, startTarget, type Target } from "./support";

/** The code and message of a rejected SDK call. */
async function refusalOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const named = error as { name?: string; Code?: string; message?: string };
    return { code: named.Code ?? named.name ?? "Error", message: named.message ?? "" };
  }
  throw new Error("expected the call to fail, it succeeded");
}

const KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("simulator: EC2 refusals a response meets", function () {
  let t: Target;
  let sim: Simulator;
  let subnetId: string;
  let vpcId: string;

  beforeEach(async function () {
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip(); // set-up needs the simulator's scenario builders
    t = await startTarget();
    if (!t.sim) throw new Error("unreachable");
    sim = t.sim;
    const vpc = sim.scenario.vpc();
    vpcId = vpc.vpcId;
    subnetId = vpc.subnets[0]?.subnetId ?? "";
  });
  afterEach(async function () {
    await t?.stop();
  });

  const stateOf = (instanceId: string) => sim.state.instance(instanceId)?.state;
  const volumeOf = (volumeId: string) => sim.state.volume(volumeId);

  describe("Spot instances", function () {
    it("termination protection is refused for Spot (one-time and persistent) with EC2's UnsupportedOperation; on-demand takes it", async function () {
      const oneTime = sim.scenario.instance({ subnetId, market: "spot-one-time" });
      const persistent = sim.scenario.instance({ subnetId, market: "spot-persistent" });
      const onDemand = sim.scenario.instance({ subnetId });
      for (const { instanceId } of [oneTime, persistent]) {
        expect(
          await refusalOf(
            t.ec2.send(
              new ec2.ModifyInstanceAttributeCommand({
                InstanceId: instanceId,
                DisableApiTermination: { Value: true },
              }),
            ),
          ),
        ).to.deep.equal({
          code: "UnsupportedOperation",
          message: "Modifying 'disableApiTermination' is not supported for spot instances.",
        });
        expect(sim.state.instance(instanceId)?.disableApiTermination).to.equal(false);
      }
      await t.ec2.send(
        new ec2.ModifyInstanceAttributeCommand({
          InstanceId: onDemand.instanceId,
          DisableApiTermination: { Value: true },
        }),
      );
      expect(sim.state.instance(onDemand.instanceId)?.disableApiTermination).to.equal(true);
    });

    it("a one-time Spot instance cannot be stopped; a persistent one can", async function () {
      const oneTime = sim.scenario.instance({ subnetId, market: "spot-one-time" });
      const persistent = sim.scenario.instance({ subnetId, market: "spot-persistent" });
      expect(
        await errorCodeOf(t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [oneTime.instanceId] }))),
      ).to.equal("UnsupportedOperation");
      await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [persistent.instanceId] }));
      sim.advance(sim.durations.instanceStoppingMs);
      expect(stateOf(persistent.instanceId)).to.equal("stopped");
      expect(stateOf(oneTime.instanceId)).to.equal("running");
    });
  });

  describe("AWS Marketplace product codes", function () {
    it("an instance from a Marketplace AMI carries its codes, and so do its root volume, the volume's snapshots and volumes made from them", async function () {
      const imageId = sim.scenario.image({ productCodes: ["prod-abc123"] });
      const images = await t.ec2.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }));
      expect(images.Images?.[0]?.ProductCodes).to.deep.equal([
        { ProductCodeId: "prod-abc123", ProductCodeType: "marketplace" },
      ]);
      const run = await t.ec2.send(
        new ec2.RunInstancesCommand({
          ImageId: imageId,
          InstanceType: "m6i.large",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
        }),
      );
      const instanceId = run.Instances?.[0]?.InstanceId ?? "";
      sim.advance(sim.durations.instancePendingMs);
      const described = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      expect(described.Reservations?.[0]?.Instances?.[0]?.ProductCodes?.[0]?.ProductCodeId).to.equal(
        "prod-abc123",
      );
      const rootVolumeId = sim.state.instance(instanceId)!.blockDevices[0]!.volumeId;
      expect(volumeOf(rootVolumeId)?.productCodes).to.deep.equal(["prod-abc123"]);
      const snapshots = await t.ec2.send(
        new ec2.CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId } }),
      );
      const snapshotId = snapshots.Snapshots?.[0]?.SnapshotId ?? "";
      expect(sim.state.snapshots().find((s) => s.snapshotId === snapshotId)?.productCodes).to.deep.equal([
        "prod-abc123",
      ]);
      sim.advance(3_600_000);
      const copy = await t.ec2.send(
        new ec2.CreateVolumeCommand({ SnapshotId: snapshotId, AvailabilityZone: `${sim.region}a` }),
      );
      expect(volumeOf(copy.VolumeId ?? "")?.productCodes).to.deep.equal(["prod-abc123"]);
    });

    it("such a volume attaches only to a stopped instance (IncorrectInstanceState, EC2's message); attached, its codes go to the instance", async function () {
      const { volumeIds } = sim.scenario.instance({
        subnetId,
        dataVolumes: [{ sizeGiB: 10, productCodes: ["prod-abc123"] }],
        state: "stopped",
      });
      const marketplaceVolume = volumeIds[1]!;
      await t.ec2.send(new ec2.DetachVolumeCommand({ VolumeId: marketplaceVolume }));
      sim.advance(sim.durations.volumeDetachMs);
      const running = sim.scenario.instance({ subnetId });
      expect(
        await refusalOf(
          t.ec2.send(
            new ec2.AttachVolumeCommand({
              VolumeId: marketplaceVolume,
              InstanceId: running.instanceId,
              Device: "/dev/sdf",
            }),
          ),
        ),
      ).to.deep.equal({
        code: "IncorrectInstanceState",
        message: `Cannot attach volume '${marketplaceVolume}' with Marketplace codes as the instance '${running.instanceId}' is not in the 'stopped' state.`,
      });
      expect(volumeOf(marketplaceVolume)?.state).to.equal("available");
      const stopped = sim.scenario.instance({ subnetId, state: "stopped" });
      await t.ec2.send(
        new ec2.AttachVolumeCommand({
          VolumeId: marketplaceVolume,
          InstanceId: stopped.instanceId,
          Device: "/dev/sdf",
        }),
      );
      sim.advance(sim.durations.volumeAttachMs);
      expect(volumeOf(marketplaceVolume)?.attachment?.state).to.equal("attached");
      expect(sim.state.instance(stopped.instanceId)?.productCodes).to.deep.equal(["prod-abc123"]);
    });
  });

  describe("customer-managed KMS keys (EC2 asks World.authorizeKms for the caller)", function () {
    it("keys are recorded on images, volumes and snapshots and shown by the describes", async function () {
      const imageId = sim.scenario.image({ kmsKeyId: KEY_ARN });
      const { instanceId, volumeIds } = sim.scenario.instance({
        subnetId,
        imageId,
        dataVolumes: [{ sizeGiB: 10, kmsKeyId: KEY_ARN }],
      });
      const volumes = await t.ec2.send(new ec2.DescribeVolumesCommand({ VolumeIds: volumeIds }));
      expect(volumes.Volumes?.map((volume) => [volume.KmsKeyId, volume.Encrypted])).to.deep.equal([
        [KEY_ARN, true],
        [KEY_ARN, true],
      ]);
      const snapshots = await t.ec2.send(
        new ec2.CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId } }),
      );
      const described = await t.ec2.send(
        new ec2.DescribeSnapshotsCommand({
          SnapshotIds: (snapshots.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId ?? ""),
        }),
      );
      expect(described.Snapshots?.map((snapshot) => snapshot.KmsKeyId)).to.deep.equal([KEY_ARN, KEY_ARN]);
      const images = await t.ec2.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }));
      expect(images.Images?.[0]?.BlockDeviceMappings?.[0]?.Ebs?.KmsKeyId).to.equal(KEY_ARN);
    });

    it("without the caller's KMS permissions: a volume from such a snapshot ends in error, an attachment fails, a launch terminates with Client.InternalError", async function () {
      const asked: { keyArn: string; actions: readonly string[] }[] = [];
      const imageId = sim.scenario.image({ kmsKeyId: KEY_ARN });
      const source = sim.scenario.instance({
        subnetId,
        dataVolumes: [{ sizeGiB: 10, kmsKeyId: KEY_ARN }],
        state: "stopped",
      });
      const snapshots = await t.ec2.send(
        new ec2.CreateSnapshotsCommand({
          InstanceSpecification: { InstanceId: source.instanceId, ExcludeBootVolume: true },
        }),
      );
      const snapshotId = snapshots.Snapshots?.[0]?.SnapshotId ?? "";
      sim.advance(3_600_000);
      const dataVolume = source.volumeIds[1]!;
      await t.ec2.send(new ec2.DetachVolumeCommand({ VolumeId: dataVolume }));
      sim.advance(sim.durations.volumeDetachMs);
      const workstation = sim.scenario.instance({ subnetId });
      sim.scenario.kmsAccess((keyArn, actions) => {
        asked.push({ keyArn, actions });
        return false;
      });

      const copy = await t.ec2.send(
        new ec2.CreateVolumeCommand({ SnapshotId: snapshotId, AvailabilityZone: `${sim.region}a` }),
      );
      expect(copy.State).to.equal("creating");
      sim.advance(sim.durations.volumeCreateMs);
      expect(volumeOf(copy.VolumeId ?? "")?.state).to.equal("error");

      const attach = await t.ec2.send(
        new ec2.AttachVolumeCommand({
          VolumeId: dataVolume,
          InstanceId: workstation.instanceId,
          Device: "/dev/sdf",
        }),
      );
      expect(attach.State).to.equal("attaching");
      sim.advance(sim.durations.volumeAttachMs);
      expect(volumeOf(dataVolume)?.state).to.equal("available");
      expect(volumeOf(dataVolume)?.attachment).to.equal(undefined);

      const run = await t.ec2.send(
        new ec2.RunInstancesCommand({
          ImageId: imageId,
          InstanceType: "m6i.large",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
        }),
      );
      const launched = run.Instances?.[0]?.InstanceId ?? "";
      expect(run.Instances?.[0]?.State?.Name).to.equal("pending");
      sim.advance(sim.durations.instancePendingMs + sim.durations.instanceShuttingDownMs);
      const described = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [launched] }));
      const instance = described.Reservations?.[0]?.Instances?.[0];
      expect(instance?.State?.Name).to.equal("terminated");
      expect(instance?.StateReason).to.deep.equal({
        Code: "Client.InternalError",
        Message: "Client.InternalError: Client error on launch",
      });

      expect(asked.map((question) => question.keyArn)).to.deep.equal([KEY_ARN, KEY_ARN, KEY_ARN]);
      expect(asked[0]?.actions).to.include.members([
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
      ]);
    });

    it("with them (the default) the same calls succeed", async function () {
      const imageId = sim.scenario.image({ kmsKeyId: KEY_ARN });
      const run = await t.ec2.send(
        new ec2.RunInstancesCommand({
          ImageId: imageId,
          InstanceType: "m6i.large",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
        }),
      );
      sim.advance(sim.durations.instancePendingMs);
      expect(stateOf(run.Instances?.[0]?.InstanceId ?? "")).to.equal("running");
    });
  });

  describe("AttachmentLimitExceeded", function () {
    /** Distinct device names beyond /dev/sd[f-p]: /dev/xvdba, /dev/xvdbb ... */
    const devices = (count: number) =>
      Array.from({ length: count }, (_, index) => `/dev/xvdb${String.fromCharCode(97 + index)}`);

    it("a shared limit (28 on most Nitro types) counts network interfaces and the root volume too", async function () {
      const types = await t.ec2.send(new ec2.DescribeInstanceTypesCommand({ InstanceTypes: ["m6i.large"] }));
      expect(types.InstanceTypes?.[0]?.EbsInfo).to.deep.include({
        MaximumEbsAttachments: 28,
        AttachmentLimitType: "shared",
      });
      // 1 network interface + the root volume + 26 data volumes = 28 attachments.
      const full = sim.scenario.instance({
        subnetId,
        dataVolumes: devices(26).map((deviceName) => ({ sizeGiB: 1, deviceName })),
      });
      const loose = await t.ec2.send(
        new ec2.CreateVolumeCommand({ AvailabilityZone: `${sim.region}a`, Size: 1 }),
      );
      sim.advance(sim.durations.volumeCreateMs);
      expect(
        await refusalOf(
          t.ec2.send(
            new ec2.AttachVolumeCommand({
              VolumeId: loose.VolumeId,
              InstanceId: full.instanceId,
              Device: "/dev/sdf",
            }),
          ),
        ),
      ).to.deep.equal({
        code: "AttachmentLimitExceeded",
        message: "The limit on the number of Amazon EBS volumes attached to one instance has been exceeded.",
      });
      expect(volumeOf(loose.VolumeId ?? "")?.state).to.equal("available");
      // One volume fewer leaves room for exactly one.
      const roomy = sim.scenario.instance({
        subnetId,
        dataVolumes: devices(25).map((deviceName) => ({ sizeGiB: 1, deviceName })),
      });
      await t.ec2.send(
        new ec2.AttachVolumeCommand({
          VolumeId: loose.VolumeId,
          InstanceId: roomy.instanceId,
          Device: "/dev/sdf",
        }),
      );
    });

    it("a dedicated EBS limit (u-6tb1.metal: 13 volumes) ignores network interfaces", async function () {
      const types = await t.ec2.send(
        new ec2.DescribeInstanceTypesCommand({ InstanceTypes: ["u-6tb1.metal"] }),
      );
      expect(types.InstanceTypes?.[0]?.EbsInfo).to.deep.include({
        MaximumEbsAttachments: 13,
        AttachmentLimitType: "dedicated",
      });
      const metal = sim.scenario.instance({
        subnetId,
        instanceType: "u-6tb1.metal",
        extraNetworkInterfaces: [{}, {}],
        dataVolumes: devices(12).map((deviceName) => ({ sizeGiB: 1, deviceName })),
      });
      const loose = await t.ec2.send(
        new ec2.CreateVolumeCommand({ AvailabilityZone: `${sim.region}a`, Size: 1 }),
      );
      sim.advance(sim.durations.volumeCreateMs);
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.AttachVolumeCommand({
              VolumeId: loose.VolumeId,
              InstanceId: metal.instanceId,
              Device: "/dev/sdf",
            }),
          ),
        ),
      ).to.equal("AttachmentLimitExceeded");
    });
  });

  describe("CreateSnapshots with a tag key that CopyTagsFromSource also brings", function () {
    it("is refused (InvalidParameterValue, Duplicate tag key) and makes no snapshot; without the clash it works", async function () {
      const { instanceId } = sim.scenario.instance({
        subnetId,
        rootVolume: { tags: { Name: "web-1 root" } },
        dataVolumes: [{ sizeGiB: 10, tags: { Name: "web-1 data", app: "web" } }],
      });
      const ours = [
        { Key: "ir:incident", Value: "inc-1" },
        { Key: "Name", Value: "evidence" },
      ];
      expect(
        await refusalOf(
          t.ec2.send(
            new ec2.CreateSnapshotsCommand({
              InstanceSpecification: { InstanceId: instanceId },
              TagSpecifications: [{ ResourceType: "snapshot", Tags: ours }],
              CopyTagsFromSource: "volume",
            }),
          ),
        ),
      ).to.deep.equal({ code: "InvalidParameterValue", message: "Duplicate tag key 'Name' specified." });
      expect(sim.state.snapshots()).to.deep.equal([]);
      // The same key twice in the request itself: the answer EC2 is seen to give.
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.CreateSnapshotsCommand({
              InstanceSpecification: { InstanceId: instanceId },
              TagSpecifications: [
                { ResourceType: "snapshot", Tags: [...ours, { Key: "Name", Value: "again" }] },
              ],
            }),
          ),
        ),
      ).to.equal("InvalidParameterValue");
      // Without our Name, the volumes' own tags come along.
      const created = await t.ec2.send(
        new ec2.CreateSnapshotsCommand({
          InstanceSpecification: { InstanceId: instanceId },
          TagSpecifications: [{ ResourceType: "snapshot", Tags: [ours[0]!] }],
          CopyTagsFromSource: "volume",
        }),
      );
      expect(created.Snapshots?.[1]?.Tags).to.deep.include.members([
        { Key: "ir:incident", Value: "inc-1" },
        { Key: "Name", Value: "web-1 data" },
        { Key: "app", Value: "web" },
      ]);
    });
  });

  describe("the diagnostic interrupt: all Nitro-based types except A1", function () {
    it("bare metal (no hypervisor value) takes it and a kdump-ready one dumps", async function () {
      const types = await t.ec2.send(new ec2.DescribeInstanceTypesCommand({ InstanceTypes: ["m5.metal"] }));
      expect(types.InstanceTypes?.[0]?.BareMetal).to.equal(true);
      expect(types.InstanceTypes?.[0]?.Hypervisor).to.equal(undefined);
      const metal = sim.scenario.instance({ subnetId, instanceType: "m5.metal", kdumpReady: true });
      const described = await t.ec2.send(
        new ec2.DescribeInstancesCommand({ InstanceIds: [metal.instanceId] }),
      );
      expect(described.Reservations?.[0]?.Instances?.[0]?.Hypervisor).to.equal(undefined);
      await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: metal.instanceId }));
      sim.advance(3 * 3_600_000); // 384 GiB: about an hour of dump
      expect(sim.state.instance(metal.instanceId)?.memoryDumps).to.have.length(1);
      expect(stateOf(metal.instanceId)).to.equal("stopped");
    });

    it("Graviton takes it (virtualized and bare metal); A1 and Xen types are refused (UnsupportedOperation)", async function () {
      for (const instanceType of ["m7g.large", "m6g.metal"]) {
        const graviton = sim.scenario.instance({ subnetId, instanceType, kdumpReady: true });
        await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: graviton.instanceId }));
        sim.advance(3_600_000);
        expect(sim.state.instance(graviton.instanceId)?.memoryDumps, instanceType).to.have.length(1);
      }
      for (const instanceType of ["a1.large", "a1.metal", "t2.micro"]) {
        const refused = sim.scenario.instance({ subnetId, instanceType, kdumpReady: true });
        expect(
          await errorCodeOf(
            t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: refused.instanceId })),
          ),
          instanceType,
        ).to.equal("UnsupportedOperation");
      }
    });
  });

  describe("launch templates that define network interfaces", function () {
    it("RunInstances refuses an instance-level subnet or groups beside them (InvalidParameterCombination); groups and subnet go into the interfaces", async function () {
      const app = sim.scenario.securityGroup({ vpcId, groupName: "app" });
      const imageId = sim.scenario.image();
      const template = await t.ec2.send(
        new ec2.CreateLaunchTemplateCommand({
          LaunchTemplateName: "with-enis",
          LaunchTemplateData: {
            ImageId: imageId,
            InstanceType: "m6i.large",
            NetworkInterfaces: [
              { DeviceIndex: 0, SubnetId: subnetId, Groups: [app], AssociatePublicIpAddress: false },
            ],
          },
        }),
      );
      const LaunchTemplate = { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId, Version: "1" };
      const versions = await t.ec2.send(
        new ec2.DescribeLaunchTemplateVersionsCommand({
          LaunchTemplateId: LaunchTemplate.LaunchTemplateId,
          Versions: ["1"],
        }),
      );
      expect(
        versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.NetworkInterfaces?.[0]?.Groups,
      ).to.deep.equal([app]);
      expect(
        await refusalOf(
          t.ec2.send(
            new ec2.RunInstancesCommand({
              LaunchTemplate,
              MinCount: 1,
              MaxCount: 1,
              SecurityGroupIds: [app],
            }),
          ),
        ),
      ).to.deep.equal({
        code: "InvalidParameterCombination",
        message:
          "Network interfaces and an instance-level security groups may not be specified on the same request",
      });
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.RunInstancesCommand({ LaunchTemplate, MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
          ),
        ),
      ).to.equal("InvalidParameterCombination");
      const other = sim.scenario.securityGroup({ vpcId, groupName: "other" });
      const run = await t.ec2.send(
        new ec2.RunInstancesCommand({
          LaunchTemplate,
          MinCount: 1,
          MaxCount: 1,
          NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [other] }],
        }),
      );
      const launched = sim.state.instance(run.Instances?.[0]?.InstanceId ?? "")!;
      expect(sim.state.networkInterface(launched.networkInterfaceIds[0]!)?.groupIds).to.deep.equal([other]);
      expect(launched.tags.get("aws:ec2launchtemplate:id")).to.equal(LaunchTemplate.LaunchTemplateId);
      // The template's own interfaces alone: its groups.
      const plain = await t.ec2.send(
        new ec2.RunInstancesCommand({ LaunchTemplate, MinCount: 1, MaxCount: 1 }),
      );
      const fromTemplate = sim.state.instance(plain.Instances?.[0]?.InstanceId ?? "")!;
      expect(sim.state.networkInterface(fromTemplate.networkInterfaceIds[0]!)?.groupIds).to.deep.equal([app]);
    });

    it("interfaces in the request beside a template's instance-level groups are refused too", async function () {
      const app = sim.scenario.securityGroup({ vpcId, groupName: "app" });
      const template = sim.scenario.launchTemplate({
        name: "groups-only",
        imageId: sim.scenario.image(),
        instanceType: "m6i.large",
        securityGroupIds: [app],
      });
      expect(
        await errorCodeOf(
          t.ec2.send(
            new ec2.RunInstancesCommand({
              LaunchTemplate: { LaunchTemplateId: template.launchTemplateId },
              MinCount: 1,
              MaxCount: 1,
              NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [app] }],
            }),
          ),
        ),
      ).to.equal("InvalidParameterCombination");
    });
  });

  describe("launch templates whose AMI is a Systems Manager parameter", function () {
    it("RunInstances resolves a parameter the account holds; an unknown one or one without an AMI id is refused (SsmInvalidParameter)", async function () {
      const imageId = sim.scenario.image({ name: "golden" });
      sim.scenario.ssmParameter("/golden/ami", imageId);
      sim.scenario.ssmParameter("/not/an/ami", "hello");
      const launch = async (parameter: string) => {
        const template = sim.scenario.launchTemplate({
          name: `ssm-${parameter.replace(/\//g, "-")}`,
          imageId: `resolve:ssm:${parameter}`,
          instanceType: "m6i.large",
          subnetId,
        });
        return t.ec2.send(
          new ec2.RunInstancesCommand({
            LaunchTemplate: { LaunchTemplateId: template.launchTemplateId },
            MinCount: 1,
            MaxCount: 1,
          }),
        );
      };
      const run = await launch("/golden/ami");
      expect(run.Instances?.[0]?.ImageId).to.equal(imageId);
      for (const parameter of ["/missing", "/not/an/ami"]) {
        expect(await errorCodeOf(launch(parameter)), parameter).to.equal("SsmInvalidParameter");
      }
      const versions = await t.ec2.send(
        new ec2.DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: "ssm--golden-ami" }),
      );
      expect(versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.ImageId).to.equal(
        "resolve:ssm:/golden/ami",
      );
    });
  });
});
