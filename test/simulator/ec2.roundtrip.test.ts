// Every simulated EC2 action through the real EC2Client, asserting the parsed fields the responder relies on.
import * as ec2 from "@aws-sdk/client-ec2";
import * as iam from "@aws-sdk/client-iam";
import { expect } from "chai";
import {
  basicEnvironment,
  errorCodeOf,
  settle,
  startTarget,
  WAIT,
  type BasicEnvironment,
  type Target,
} from "./support";

describe("simulator EC2 round trips (real EC2Client)", function () {
  let t: Target;
  let env: BasicEnvironment;

  beforeEach(async function () {
    t = await startTarget();
    env = await basicEnvironment(t);
  });
  afterEach(async function () {
    await t.stop();
  });

  it("DescribeInstances: reservationSet/instancesSet, state, ENIs with groups, volumes, tags", async function () {
    const out = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [env.instanceId] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    expect(instance?.InstanceId).to.equal(env.instanceId);
    expect(instance?.State).to.deep.equal({ Code: 16, Name: "running" });
    expect(instance?.Placement?.AvailabilityZone).to.equal(env.availabilityZone);
    expect(instance?.VpcId).to.equal(env.vpcId);
    expect(instance?.NetworkInterfaces?.[0]?.Groups?.[0]?.GroupId).to.equal(env.groupId);
    expect(instance?.LaunchTime).to.be.instanceOf(Date);
    if (t.sim) {
      expect(instance?.BlockDeviceMappings?.map((b) => b.Ebs?.VolumeId)).to.deep.equal(env.volumeIds);
      expect(instance?.BlockDeviceMappings?.[0]?.Ebs?.DeleteOnTermination).to.equal(true);
      expect(instance?.Tags).to.deep.include({ Key: "ir:kdump-ready", Value: "true" });
      expect(instance?.Architecture).to.equal("x86_64");
      expect(instance?.HibernationOptions?.Configured).to.equal(false);
    }
    // Scoped to this test's VPC: an external endpoint is shared with earlier tests (and other users), whose
    // stopped instances would otherwise answer.
    const filtered = await t.ec2.send(
      new ec2.DescribeInstancesCommand({
        Filters: [
          { Name: "vpc-id", Values: [env.vpcId] },
          { Name: "instance-state-name", Values: ["stopped"] },
        ],
      }),
    );
    expect(filtered.Reservations ?? []).to.have.length(0);
  });

  it("DescribeInstances pages with MaxResults/NextToken (the SDK paginator works)", async function () {
    if (!t.sim) this.skip();
    for (let i = 0; i < 6; i++) t.sim.scenario.instance({ subnetId: env.subnetId });
    const ids: string[] = [];
    for await (const page of ec2.paginateDescribeInstances({ client: t.ec2, pageSize: 5 }, {})) {
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) ids.push(i.InstanceId ?? "");
    }
    expect(ids).to.have.length(7);
  });

  it("DescribeInstanceTypes: memory, architecture, hypervisor, hibernation, instance storage", async function () {
    const out = await t.ec2.send(
      new ec2.DescribeInstanceTypesCommand({ InstanceTypes: ["m6i.large", "m7g.large", "i3.large"] }),
    );
    const byType = new Map(out.InstanceTypes?.map((i) => [i.InstanceType, i]));
    expect(byType.get("m6i.large")?.MemoryInfo?.SizeInMiB).to.equal(8192);
    expect(byType.get("m6i.large")?.Hypervisor).to.equal("nitro");
    expect(byType.get("m7g.large")?.ProcessorInfo?.SupportedArchitectures).to.deep.equal(["arm64"]);
    expect(byType.get("i3.large")?.InstanceStorageSupported).to.equal(true);
    expect(byType.get("i3.large")?.Hypervisor).to.equal("xen");
    expect(byType.get("m6i.large")?.HibernationSupported).to.equal(true);
    expect(
      await errorCodeOf(
        t.ec2.send(new ec2.DescribeInstanceTypesCommand({ InstanceTypes: ["x9.huge" as never] })),
      ),
    ).to.equal("InvalidInstanceType");
  });

  it("DescribeImages: the ir:kdump-ready tag and architecture", async function () {
    if (!t.sim) this.skip();
    const imageId = t.sim.scenario.image({ kdumpReady: true, architecture: "arm64", name: "workload" });
    const out = await t.ec2.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }));
    expect(out.Images?.[0]?.Tags).to.deep.include({ Key: "ir:kdump-ready", Value: "true" });
    expect(out.Images?.[0]?.Architecture).to.equal("arm64");
    expect(
      await errorCodeOf(t.ec2.send(new ec2.DescribeImagesCommand({ ImageIds: ["ami-00000000000000000"] }))),
    ).to.equal("InvalidAMIID.NotFound");
  });

  it("DescribeVpcs and DescribeSubnets: AZ of a subnet", async function () {
    const vpcs = await t.ec2.send(new ec2.DescribeVpcsCommand({ VpcIds: [env.vpcId] }));
    expect(vpcs.Vpcs?.[0]?.VpcId).to.equal(env.vpcId);
    const subnets = await t.ec2.send(
      new ec2.DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [env.vpcId] }] }),
    );
    expect(subnets.Subnets?.find((s) => s.SubnetId === env.subnetId)?.AvailabilityZone).to.equal(
      env.availabilityZone,
    );
  });

  it("CreateVpc (with its default security group) and CreateSubnet in an AZ of the region", async function () {
    const vpc = await t.ec2.send(new ec2.CreateVpcCommand({ CidrBlock: "10.99.0.0/16" }));
    const vpcId = vpc.Vpc?.VpcId ?? "";
    expect(vpc.Vpc?.CidrBlock).to.equal("10.99.0.0/16");
    const subnet = await t.ec2.send(
      new ec2.CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: "10.99.1.0/24",
        AvailabilityZone: `${t.config.region}b`,
      }),
    );
    expect(subnet.Subnet?.AvailabilityZone).to.equal(`${t.config.region}b`);
    expect(subnet.Subnet?.VpcId).to.equal(vpcId);
    const groups = await t.ec2.send(
      new ec2.DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    expect(groups.SecurityGroups?.map((g) => g.GroupName)).to.include("default");
    expect(await errorCodeOf(t.ec2.send(new ec2.CreateVpcCommand({ CidrBlock: "10.0.0.0/8" })))).to.equal(
      "InvalidVpc.Range",
    );
  });

  it("CreateSecurityGroup gets AWS's default allow-all egress; Authorize/Revoke ingress and egress", async function () {
    const created = await t.ec2.send(
      new ec2.CreateSecurityGroupCommand({
        VpcId: env.vpcId,
        GroupName: "isolation",
        Description: "isolation",
        TagSpecifications: [
          { ResourceType: "security-group", Tags: [{ Key: "ir:role", Value: "isolation" }] },
        ],
      }),
    );
    const groupId = created.GroupId ?? "";
    expect(groupId).to.match(/^sg-/);
    const described = await t.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const group = described.SecurityGroups?.[0];
    expect(group?.IpPermissionsEgress).to.have.length(1);
    expect(group?.IpPermissionsEgress?.[0]?.IpProtocol).to.equal("-1");
    expect(group?.IpPermissionsEgress?.[0]?.IpRanges?.[0]?.CidrIp).to.equal("0.0.0.0/0");
    expect(group?.Tags).to.deep.equal([{ Key: "ir:role", Value: "isolation" }]);

    const revoked = await t.ec2.send(
      new ec2.RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    expect(revoked.Return).to.equal(true);
    const ingress = await t.ec2.send(
      new ec2.AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.9.0.0/16" }] },
        ],
      }),
    );
    expect(ingress.SecurityGroupRules?.[0]?.IsEgress).to.equal(false);
    await t.ec2.send(
      new ec2.AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.9.0.0/16" }] },
        ],
      }),
    );
    const after = (await t.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
      .SecurityGroups?.[0];
    expect(after?.IpPermissions?.[0]).to.include({ IpProtocol: "tcp", FromPort: 22, ToPort: 22 });
    expect(after?.IpPermissionsEgress?.[0]).to.include({ FromPort: 443 });
    expect(
      await errorCodeOf(
        t.ec2.send(
          new ec2.AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: [
              { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.9.0.0/16" }] },
            ],
          }),
        ),
      ),
    ).to.equal("InvalidPermission.Duplicate");
    await t.ec2.send(
      new ec2.RevokeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.9.0.0/16" }] },
        ],
      }),
    );
    expect(
      await errorCodeOf(
        t.ec2.send(
          new ec2.CreateSecurityGroupCommand({ VpcId: env.vpcId, GroupName: "isolation", Description: "x" }),
        ),
      ),
    ).to.equal("InvalidGroup.Duplicate");
  });

  it("DescribeNetworkInterfaces and ModifyNetworkInterfaceAttribute (Groups)", async function () {
    const enis = await t.ec2.send(
      new ec2.DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "attachment.instance-id", Values: [env.instanceId] }],
      }),
    );
    const eni = enis.NetworkInterfaces?.[0];
    expect(eni?.Attachment?.InstanceId).to.equal(env.instanceId);
    expect(eni?.Groups?.map((g) => g.GroupId)).to.deep.equal([env.groupId]);
    const isolation = await t.ec2.send(
      new ec2.CreateSecurityGroupCommand({ VpcId: env.vpcId, GroupName: "iso2", Description: "iso" }),
    );
    await t.ec2.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eni?.NetworkInterfaceId,
        Groups: [isolation.GroupId ?? ""],
      }),
    );
    const after = await t.ec2.send(
      new ec2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni?.NetworkInterfaceId ?? ""] }),
    );
    expect(after.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).to.deep.equal([isolation.GroupId]);
    expect(
      await errorCodeOf(
        t.ec2.send(
          new ec2.ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: eni?.NetworkInterfaceId,
            Groups: ["sg-0000000000000dead"],
          }),
        ),
      ),
    ).to.equal("InvalidGroup.NotFound");
  });

  it("ModifyInstanceAttribute (Groups): the groups of the instance's one interface; with several, InvalidInstanceID", async function () {
    const isolation = await t.ec2.send(
      new ec2.CreateSecurityGroupCommand({ VpcId: env.vpcId, GroupName: "iso3", Description: "iso" }),
    );
    await t.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({
        InstanceId: env.instanceId,
        Groups: [isolation.GroupId ?? ""],
      }),
    );
    const described = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [env.instanceId] }));
    const instance = described.Reservations?.[0]?.Instances?.[0];
    expect(instance?.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).to.deep.equal([
      isolation.GroupId,
    ]);
    if (!t.sim) return;
    // EC2's answer on an instance of several interfaces: the call must name the interface instead.
    const twoEnis = t.sim.scenario.instance({
      subnetId: env.subnetId,
      securityGroupIds: [env.groupId],
      extraNetworkInterfaces: [{ subnetId: env.subnetId, securityGroupIds: [env.groupId] }],
    });
    const refused = t.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({
        InstanceId: twoEnis.instanceId,
        Groups: [isolation.GroupId ?? ""],
      }),
    );
    expect(await errorCodeOf(refused)).to.equal("InvalidInstanceID");
    for (const eni of twoEnis.networkInterfaceIds) {
      expect(t.sim.state.networkInterface(eni)?.groupIds, "unchanged").to.deep.equal([env.groupId]);
    }
  });

  it("CreateTags, ModifyInstanceAttribute (termination protection, shutdown behaviour, DeleteOnTermination), metadata options", async function () {
    await t.ec2.send(
      new ec2.CreateTagsCommand({
        Resources: [env.instanceId],
        Tags: [{ Key: "ir:incident", Value: "inc-1" }],
      }),
    );
    await t.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({
        InstanceId: env.instanceId,
        DisableApiTermination: { Value: true },
      }),
    );
    await t.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({
        InstanceId: env.instanceId,
        InstanceInitiatedShutdownBehavior: { Value: "stop" },
      }),
    );
    const described = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [env.instanceId] }));
    const instance = described.Reservations?.[0]?.Instances?.[0];
    expect(instance?.Tags).to.deep.include({ Key: "ir:incident", Value: "inc-1" });
    const rootDevice = instance?.RootDeviceName ?? "/dev/xvda";
    await t.ec2.send(
      new ec2.ModifyInstanceAttributeCommand({
        InstanceId: env.instanceId,
        BlockDeviceMappings: [{ DeviceName: rootDevice, Ebs: { DeleteOnTermination: false } }],
      }),
    );
    const metadata = await t.ec2.send(
      new ec2.ModifyInstanceMetadataOptionsCommand({
        InstanceId: env.instanceId,
        HttpEndpoint: "disabled",
        HttpTokens: "required",
      }),
    );
    expect(metadata.InstanceMetadataOptions?.HttpEndpoint).to.equal("disabled");
    const attribute = await t.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [env.instanceId] }));
    const mapped = attribute.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings?.find(
      (b) => b.DeviceName === rootDevice,
    );
    expect(mapped?.Ebs?.DeleteOnTermination).to.equal(false);
    expect(
      await errorCodeOf(t.ec2.send(new ec2.TerminateInstancesCommand({ InstanceIds: [env.instanceId] }))),
    ).to.equal("OperationNotPermitted");
    if (t.sim) {
      const state = t.sim.state.instance(env.instanceId);
      expect(state?.disableApiTermination).to.equal(true);
      expect(state?.shutdownBehavior).to.equal("stop");
      expect(state?.metadataOptions.httpEndpoint).to.equal("disabled");
    }
  });

  it("instance profile associations: Associate, Describe, Replace (profiles made with IAM's API)", async function () {
    const suffix = Date.now().toString(36);
    const arns: string[] = [];
    for (const name of [`web-app-${suffix}`, `quarantine-${suffix}`]) {
      const created = await t.iam.send(new iam.CreateInstanceProfileCommand({ InstanceProfileName: name }));
      arns.push(created.InstanceProfile?.Arn ?? "");
    }
    const [webArn = "", quarantineArn = ""] = arns;
    const associated = await t.ec2.send(
      new ec2.AssociateIamInstanceProfileCommand({
        InstanceId: env.instanceId,
        IamInstanceProfile: { Arn: webArn },
      }),
    );
    expect(associated.IamInstanceProfileAssociation?.InstanceId).to.equal(env.instanceId);
    await settle(t, t.sim?.durations.iamAssociationMs ?? 0, () => Promise.resolve());
    const described = await t.ec2.send(
      new ec2.DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: "instance-id", Values: [env.instanceId] }],
      }),
    );
    const association = described.IamInstanceProfileAssociations?.[0];
    expect(association?.IamInstanceProfile?.Arn).to.equal(webArn);
    if (t.sim) expect(association?.State).to.equal("associated");
    expect(
      await errorCodeOf(
        t.ec2.send(
          new ec2.AssociateIamInstanceProfileCommand({
            InstanceId: env.instanceId,
            IamInstanceProfile: { Arn: quarantineArn },
          }),
        ),
      ),
    ).to.equal("IncorrectState");
    const replaced = await t.ec2.send(
      new ec2.ReplaceIamInstanceProfileAssociationCommand({
        AssociationId: association?.AssociationId,
        IamInstanceProfile: { Arn: quarantineArn },
      }),
    );
    expect(replaced.IamInstanceProfileAssociation?.IamInstanceProfile?.Arn).to.equal(quarantineArn);
    expect(replaced.IamInstanceProfileAssociation?.State).to.equal("associating");
    expect(
      await errorCodeOf(
        t.ec2.send(
          new ec2.ReplaceIamInstanceProfileAssociationCommand({
            AssociationId: "iip-assoc-0000000000000000",
            IamInstanceProfile: { Arn: quarantineArn },
          }),
        ),
      ),
    ).to.equal("InvalidAssociationID.NotFound");
  });

  it("GetConsoleOutput (base64) and GetConsoleScreenshot (base64 JPEG)", async function () {
    const output = await t.ec2.send(
      new ec2.GetConsoleOutputCommand({ InstanceId: env.instanceId, Latest: true }),
    );
    expect(output.InstanceId).to.equal(env.instanceId);
    if (t.sim)
      expect(Buffer.from(output.Output ?? "", "base64").toString("utf8")).to.contain("Linux version");
    const screenshot = await t.ec2.send(new ec2.GetConsoleScreenshotCommand({ InstanceId: env.instanceId }));
    const jpeg = Buffer.from(screenshot.ImageData ?? "", "base64");
    expect([...jpeg.subarray(0, 3)]).to.deep.equal([0xff, 0xd8, 0xff]);
  });

  it("SendDiagnosticInterrupt is accepted on a running Nitro x86 instance", async function () {
    const out = await t.ec2.send(new ec2.SendDiagnosticInterruptCommand({ InstanceId: env.instanceId }));
    expect(out.$metadata.httpStatusCode).to.equal(200);
  });

  it("StopInstances: stopping then stopped; Force; Hibernate where configured", async function () {
    const stop = await t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [env.instanceId] }));
    expect(stop.StoppingInstances?.[0]?.CurrentState?.Name).to.equal("stopping");
    expect(stop.StoppingInstances?.[0]?.PreviousState?.Name).to.equal("running");
    const forced = await t.ec2.send(
      new ec2.StopInstancesCommand({ InstanceIds: [env.instanceId], Force: true }),
    );
    expect(forced.StoppingInstances?.[0]?.CurrentState?.Name).to.equal("stopping");
    if (!t.sim) return;
    t.sim.advance(t.sim.durations.instanceForceStoppingMs);
    expect(t.sim.state.instance(env.instanceId)?.state).to.equal("stopped");
    const { instanceId } = t.sim.scenario.instance({ subnetId: env.subnetId, hibernation: true });
    const hibernate = await t.ec2.send(
      new ec2.StopInstancesCommand({ InstanceIds: [instanceId], Hibernate: true }),
    );
    expect(hibernate.StoppingInstances?.[0]?.CurrentState?.Name).to.equal("stopping");
    expect(t.sim.state.instance(instanceId)?.hibernated).to.equal(true);
    const plain = t.sim.scenario.instance({ subnetId: env.subnetId });
    expect(
      await errorCodeOf(
        t.ec2.send(new ec2.StopInstancesCommand({ InstanceIds: [plain.instanceId], Hibernate: true })),
      ),
    ).to.equal("UnsupportedHibernationConfiguration");
  });

  it("CreateSnapshots (multi-volume, TagSpecifications, CopyTagsFromSource), DescribeSnapshots, LockSnapshot", async function () {
    if (t.sim) {
      await t.ec2.send(
        new ec2.CreateTagsCommand({ Resources: env.volumeIds, Tags: [{ Key: "app", Value: "web" }] }),
      );
    }
    const created = await t.ec2.send(
      new ec2.CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: env.instanceId },
        Description: "evidence",
        TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "ir:incident", Value: "inc-1" }] }],
        CopyTagsFromSource: "volume",
      }),
    );
    const snapshots = created.Snapshots ?? [];
    expect(snapshots.length).to.be.greaterThan(0);
    expect(snapshots[0]?.State).to.equal("pending");
    expect(snapshots[0]?.Tags).to.deep.include({ Key: "ir:incident", Value: "inc-1" });
    if (t.sim) {
      expect(snapshots.map((s) => s.VolumeId)).to.deep.equal(env.volumeIds);
      expect(snapshots[0]?.Tags).to.deep.include({ Key: "app", Value: "web" });
    }
    const described = await t.ec2.send(
      new ec2.DescribeSnapshotsCommand({
        SnapshotIds: snapshots.map((s) => s.SnapshotId ?? ""),
        OwnerIds: ["self"],
      }),
    );
    expect(described.Snapshots).to.have.length(snapshots.length);
    expect(described.Snapshots?.[0]?.Progress).to.match(/^\d+%$/);
    const lock = await t.ec2.send(
      new ec2.LockSnapshotCommand({
        SnapshotId: snapshots[0]?.SnapshotId,
        LockMode: "governance",
        LockDuration: 30,
      }),
    );
    expect(lock.LockState).to.equal("governance");
    expect(lock.LockExpiresOn).to.be.instanceOf(Date);
    const compliance = await t.ec2.send(
      new ec2.LockSnapshotCommand({
        SnapshotId: snapshots[1]?.SnapshotId ?? snapshots[0]?.SnapshotId,
        LockMode: "compliance",
        LockDuration: 7,
        CoolOffPeriod: 1,
      }),
    );
    expect(compliance.LockState).to.equal("compliance-cooloff");
    expect(
      await errorCodeOf(
        t.ec2.send(
          new ec2.LockSnapshotCommand({
            SnapshotId: snapshots[0]?.SnapshotId,
            LockMode: "governance",
            CoolOffPeriod: 2,
            LockDuration: 1,
          }),
        ),
      ),
    ).to.equal("InvalidParameterCombination");
  });

  it("DetachVolume, CreateVolume from a completed snapshot, AttachVolume in the same AZ, DescribeVolumes", async function () {
    const { ec2: client } = t;
    const durations = t.sim?.durations;
    let dataVolume = env.volumeIds[1];
    if (!dataVolume) {
      // External endpoint: give the instance a data volume first.
      const created = await client.send(
        new ec2.CreateVolumeCommand({ AvailabilityZone: env.availabilityZone, Size: 8 }),
      );
      dataVolume = created.VolumeId ?? "";
      await ec2.waitUntilVolumeAvailable({ client, ...WAIT }, { VolumeIds: [dataVolume] });
      await client.send(
        new ec2.AttachVolumeCommand({ VolumeId: dataVolume, InstanceId: env.instanceId, Device: "/dev/sdf" }),
      );
      await ec2.waitUntilVolumeInUse({ client, ...WAIT }, { VolumeIds: [dataVolume] });
    }
    const snapshots = await client.send(
      new ec2.CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: env.instanceId } }),
    );
    const snapshot = snapshots.Snapshots?.find((s) => s.VolumeId === dataVolume);
    const snapshotId = snapshot?.SnapshotId ?? "";
    if (t.sim) {
      expect(
        await errorCodeOf(
          client.send(
            new ec2.CreateVolumeCommand({ AvailabilityZone: env.availabilityZone, SnapshotId: snapshotId }),
          ),
        ),
      ).to.equal("IncorrectState");
    }
    await settle(
      t,
      (durations?.snapshotBaseMs ?? 0) + (snapshot?.VolumeSize ?? 0) * (durations?.snapshotPerGiBMs ?? 0),
      () => ec2.waitUntilSnapshotCompleted({ client, ...WAIT }, { SnapshotIds: [snapshotId] }),
    );
    const copy = await client.send(
      new ec2.CreateVolumeCommand({
        AvailabilityZone: env.availabilityZone,
        SnapshotId: snapshotId,
        TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "ir:incident", Value: "inc-1" }] }],
      }),
    );
    expect(copy.State).to.equal("creating");
    expect(copy.Size).to.equal(snapshot?.VolumeSize);
    const detach = await client.send(
      new ec2.DetachVolumeCommand({ VolumeId: dataVolume, InstanceId: env.instanceId }),
    );
    expect(detach.State).to.equal("detaching");
    const forensic = await client.send(
      new ec2.RunInstancesCommand({
        ImageId: env.imageId,
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: env.subnetId,
      }),
    );
    const forensicId = forensic.Instances?.[0]?.InstanceId ?? "";
    expect(forensic.Instances?.[0]?.Placement?.AvailabilityZone).to.equal(env.availabilityZone);
    await settle(
      t,
      Math.max(
        durations?.volumeDetachMs ?? 0,
        durations?.volumeCreateMs ?? 0,
        durations?.instancePendingMs ?? 0,
      ),
      () =>
        Promise.all([
          ec2.waitUntilVolumeAvailable(
            { client, ...WAIT },
            { VolumeIds: [dataVolume ?? "", copy.VolumeId ?? ""] },
          ),
          ec2.waitUntilInstanceRunning({ client, ...WAIT }, { InstanceIds: [forensicId] }),
        ]),
    );
    const attach = await client.send(
      new ec2.AttachVolumeCommand({ VolumeId: dataVolume, InstanceId: forensicId, Device: "/dev/sdg" }),
    );
    expect(attach.State).to.equal("attaching");
    expect(
      await errorCodeOf(
        client.send(
          new ec2.AttachVolumeCommand({
            VolumeId: copy.VolumeId,
            InstanceId: forensicId,
            Device: "/dev/sdg",
          }),
        ),
      ),
    ).to.equal("InvalidParameterValue");
    await settle(t, durations?.volumeAttachMs ?? 0, () =>
      ec2.waitUntilVolumeInUse({ client, ...WAIT }, { VolumeIds: [dataVolume ?? ""] }),
    );
    const volumes = await client.send(
      new ec2.DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [forensicId] }] }),
    );
    const attached = volumes.Volumes?.find((v) => v.VolumeId === dataVolume);
    expect(attached?.Attachments?.[0]).to.include({ Device: "/dev/sdg", InstanceId: forensicId });
    if (t.sim) expect(attached?.Attachments?.[0]?.State).to.equal("attached");
    expect(await errorCodeOf(client.send(new ec2.DeleteVolumeCommand({ VolumeId: dataVolume })))).to.equal(
      "VolumeInUse",
    );
    await client.send(new ec2.DeleteVolumeCommand({ VolumeId: copy.VolumeId }));
    await settle(t, 0, () =>
      ec2.waitUntilVolumeDeleted({ client, ...WAIT }, { VolumeIds: [copy.VolumeId ?? ""] }),
    );
    expect(
      await errorCodeOf(client.send(new ec2.DescribeVolumesCommand({ VolumeIds: [copy.VolumeId ?? ""] }))),
    ).to.equal("InvalidVolume.NotFound");
  });

  it("RunInstances with TagSpecifications, ClientToken and a LaunchTemplate (CreateLaunchTemplate); TerminateInstances", async function () {
    const profile = t.sim?.scenario.instanceProfile({ name: "forensic" });
    const token = `incident-forensic-${Date.now()}`;
    const request = {
      ImageId: env.imageId,
      InstanceType: "t3.micro" as const,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: env.subnetId,
      SecurityGroupIds: [env.groupId],
      IamInstanceProfile: profile ? { Arn: profile.arn } : undefined,
      ClientToken: token,
      TagSpecifications: [
        { ResourceType: "instance" as const, Tags: [{ Key: "ir:responder-made", Value: "forensic" }] },
        { ResourceType: "volume" as const, Tags: [{ Key: "ir:incident", Value: "inc-1" }] },
      ],
    };
    const first = await t.ec2.send(new ec2.RunInstancesCommand(request));
    const launched = first.Instances?.[0];
    expect(launched?.State?.Name).to.equal("pending");
    expect(launched?.Tags).to.deep.include({ Key: "ir:responder-made", Value: "forensic" });
    expect(launched?.Placement?.AvailabilityZone).to.equal(env.availabilityZone);
    const again = await t.ec2.send(new ec2.RunInstancesCommand(request));
    expect(again.Instances?.[0]?.InstanceId).to.equal(launched?.InstanceId);
    expect(
      await errorCodeOf(t.ec2.send(new ec2.RunInstancesCommand({ ...request, InstanceType: "t3.small" }))),
    ).to.equal("IdempotentParameterMismatch");
    if (t.sim) {
      expect(launched?.IamInstanceProfile?.Arn).to.equal(profile?.arn);
      expect(t.sim.state.instances().filter((i) => i.clientToken === token)).to.have.length(1);
      const rootVolume = t.sim.state.instance(launched?.InstanceId ?? "")?.blockDevices[0]?.volumeId ?? "";
      expect(t.sim.state.volume(rootVolume)?.tags.get("ir:incident")).to.equal("inc-1");
    }

    const templateName = `web-lt-${Date.now()}`;
    const template = await t.ec2.send(
      new ec2.CreateLaunchTemplateCommand({
        LaunchTemplateName: templateName,
        LaunchTemplateData: {
          ImageId: env.imageId,
          InstanceType: "t3.small",
          SecurityGroupIds: [env.groupId],
        },
      }),
    );
    expect(template.LaunchTemplate?.LaunchTemplateId).to.match(/^lt-/);
    const fromTemplate = await t.ec2.send(
      new ec2.RunInstancesCommand({
        LaunchTemplate: { LaunchTemplateName: templateName, Version: "$Latest" },
        MinCount: 1,
        MaxCount: 1,
        SubnetId: env.subnetId,
      }),
    );
    expect(fromTemplate.Instances?.[0]?.InstanceType).to.equal("t3.small");
    expect(fromTemplate.Instances?.[0]?.SecurityGroups?.[0]?.GroupId).to.equal(env.groupId);
    const terminated = await t.ec2.send(
      new ec2.TerminateInstancesCommand({
        InstanceIds: [fromTemplate.Instances?.[0]?.InstanceId ?? "", launched?.InstanceId ?? ""],
      }),
    );
    expect(terminated.TerminatingInstances?.map((i) => i.CurrentState?.Name)).to.deep.equal([
      "shutting-down",
      "shutting-down",
    ]);
  });
});
