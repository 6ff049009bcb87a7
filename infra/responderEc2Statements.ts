// The responder's EC2 permissions: containment, isolation, snapshots, evidence volumes and launches, and the
// customer-managed EBS keys those use. EC2 authorizes every resource of a request separately, each against the
// resource types the Service Authorization Reference lists for the action, so each statement names only resource
// types its actions have (test/stack/policyResources.test.ts).
import { MANAGED_BY_VALUE, TAG_INCIDENT, TAG_MANAGED_BY, TAG_RESPONDER_MADE } from "../handler/tags";
import type { PolicyStatement } from "./policies";
import type { ResponderPolicyArgs } from "./responderPolicy";

/** The create calls in which the handler tags what it creates (TagSpecifications). */
const TAGGING_CREATE_ACTIONS = ["RunInstances", "CreateSnapshots", "CreateVolume"] as const;

/** The only tag keys the handler writes on resources that already exist (cutAccess: the incident on the instance). */
const TAG_KEYS_ON_EXISTING_INSTANCES = [TAG_INCIDENT] as const;

/** Read-only EC2 calls; IAM supports no resource scoping for Describe*. */
const EC2_DESCRIBE_ACTIONS = [
  "ec2:DescribeInstances",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeImages",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSubnets",
  "ec2:DescribeVolumes",
  "ec2:DescribeSnapshots",
  "ec2:DescribeIamInstanceProfileAssociations",
  // A replacement reads its launch template (network interfaces, AMI parameter) before launching from it.
  "ec2:DescribeLaunchTemplateVersions",
];

/**
 * EBS volumes, snapshots and AMIs under a customer-managed key: EC2 uses the CALLER's KMS permissions, through
 * EC2 (kms:ViaService), to create a volume from such a snapshot or launch from such an AMI; without them the new
 * volume goes to `error` and the launched instance terminates. EC2 keeps a grant for the volume's life
 * (kms:GrantIsForAWSResource), so CreateGrant is allowed only for that.
 */
export function ebsKeyStatements(
  region: string,
  dnsSuffix: string,
  keyArns: readonly string[],
): PolicyStatement[] {
  if (keyArns.length === 0) return [];
  const viaEc2 = { "kms:ViaService": `ec2.${region}.${dnsSuffix}` };
  return [
    {
      Sid: "EbsKeyGrantsForEc2",
      Effect: "Allow",
      Action: ["kms:CreateGrant"],
      Resource: [...keyArns],
      Condition: { StringEquals: viaEc2, Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
    {
      Sid: "EbsKeysThroughEc2",
      Effect: "Allow",
      Action: [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ],
      Resource: [...keyArns],
      Condition: { StringEquals: viaEc2 },
    },
  ];
}

/** Every EC2 resource of the account and region, by type (`instance/*`), in the deployment's partition. */
export function ec2Arn(
  a: Pick<ResponderPolicyArgs, "partition" | "region" | "accountId">,
  resource: string,
): string {
  return `arn:${a.partition}:ec2:${a.region}:${a.accountId}:${resource}`;
}

/** The EC2 statements of the responder's policy (the KMS ones for EBS keys are ebsKeyStatements). */
export function responderEc2Statements(a: ResponderPolicyArgs): PolicyStatement[] {
  const ec2 = (resource: string) => ec2Arn(a, resource);
  // Snapshot and AMI ARNs carry no account: arn:PARTITION:ec2:REGION::snapshot/ID.
  const ec2NoAccount = (resource: string) => `arn:${a.partition}:ec2:${a.region}::${resource}`;
  const instances = ec2("instance/*");
  const volumes = ec2("volume/*");
  const groups = ec2("security-group/*");
  const snapshots = ec2NoAccount("snapshot/*");
  const ourTag = { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } };
  const taggedOnCreate = { StringEquals: { [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } };

  return [
    { Sid: "DescribeEc2", Effect: "Allow", Action: EC2_DESCRIBE_ACTIONS, Resource: ["*"] },
    {
      Sid: "ContainInstance",
      Effect: "Allow",
      Action: [
        // What cutAccess changes is read first (one attribute a call), so a release can restore it.
        "ec2:DescribeInstanceAttribute",
        "ec2:ModifyInstanceMetadataOptions",
        "ec2:ReplaceIamInstanceProfileAssociation",
        "ec2:AssociateIamInstanceProfile",
        "ec2:GetConsoleOutput",
        "ec2:GetConsoleScreenshot",
        "ec2:SendDiagnosticInterrupt",
        "ec2:StopInstances",
      ],
      Resource: [instances],
    },
    // Termination protection and DeleteOnTermination=false (ModifyInstanceAttribute names the volumes), and
    // detaching the evidence volumes: both actions have instance and volume resources.
    {
      Sid: "ProtectInstanceAndVolumes",
      Effect: "Allow",
      Action: ["ec2:ModifyInstanceAttribute", "ec2:DetachVolume"],
      Resource: [instances, volumes],
    },
    // ENI moves: into the untrack and isolation groups, and back to the ENI's original groups (a release after a
    // late rejection, the exit from the untrack group after a failed isolation move). EC2 authorizes the ENI, its
    // instance (and, per the SAR, possibly its subnet) and each group named, each separately.
    {
      Sid: "MoveInterfaces",
      Effect: "Allow",
      Action: ["ec2:ModifyNetworkInterfaceAttribute"],
      Resource: [ec2("network-interface/*"), instances, ec2("subnet/*")],
    },
    // The original groups carry none of our tags, and no condition IAM evaluates ties a group to the ENI it is
    // named with (each resource is evaluated alone), so any existing group of this account and region may be
    // named. A stolen credential can therefore move an ENI into an existing group (disrupting or exposing what that
    // group already allows), but cannot open any group: Authorize* is allowed on our tagged groups only.
    {
      Sid: "MoveInterfacesIntoExistingGroups",
      Effect: "Allow",
      Action: ["ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute"],
      Resource: [groups],
    },
    {
      Sid: "CreateIsolationGroupsOnDemand",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: [groups],
      Condition: taggedOnCreate,
    },
    {
      Sid: "CreateGroupsInAnyVpc",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup"],
      Resource: [ec2("vpc/*")],
    },
    {
      Sid: "ShapeOurGroupsOnly",
      Effect: "Allow",
      Action: [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress",
      ],
      Resource: [groups],
      Condition: ourTag,
    },
    // CreateSnapshots authorizes the instance, each volume and each snapshot it creates; the snapshots must carry
    // our tag from birth, which is what LockSnapshot and CreateVolume below require.
    {
      Sid: "SnapshotAnyInstance",
      Effect: "Allow",
      Action: ["ec2:CreateSnapshots"],
      Resource: [instances, volumes],
    },
    {
      Sid: "TaggedSnapshotsOnly",
      Effect: "Allow",
      Action: ["ec2:CreateSnapshots"],
      Resource: [snapshots],
      Condition: taggedOnCreate,
    },
    {
      Sid: "LockEvidenceSnapshots",
      Effect: "Allow",
      Action: ["ec2:LockSnapshot"],
      Resource: [snapshots],
      Condition: ourTag,
    },
    {
      Sid: "CopyFromEvidenceSnapshots",
      Effect: "Allow",
      Action: ["ec2:CreateVolume"],
      Resource: [snapshots],
      Condition: ourTag,
    },
    {
      Sid: "TaggedVolumeCopiesOnly",
      Effect: "Allow",
      Action: ["ec2:CreateVolume"],
      Resource: [volumes],
      Condition: taggedOnCreate,
    },
    // Volumes are attached only to instances the responder launched as forensic workstations (a tag that only
    // RunInstances may set, see NeverTagResponderMadeAfterLaunch).
    {
      Sid: "AttachAnyEvidenceVolume",
      Effect: "Allow",
      Action: ["ec2:AttachVolume"],
      Resource: [volumes],
    },
    {
      Sid: "AttachToForensicInstancesOnly",
      Effect: "Allow",
      Action: ["ec2:AttachVolume"],
      Resource: [instances],
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_RESPONDER_MADE}`]: "forensic" } },
    },
    // Tags in a create call are a CreateTags with ec2:CreateAction. A launch template may also tag the ENIs it makes.
    {
      Sid: "TagWhatItCreates",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [instances, volumes, snapshots, ec2("network-interface/*")],
      Condition: { StringEquals: { "ec2:CreateAction": [...TAGGING_CREATE_ACTIONS] } },
    },
    {
      Sid: "TagGroupsOnCreate",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [groups],
      Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } },
    },
    // On an existing instance, only the incident tag (ForAllValues holds for an empty set, so the keys must exist).
    {
      Sid: "TagIncidentOnInstances",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [instances],
      Condition: {
        "ForAllValues:StringEquals": { "aws:TagKeys": [...TAG_KEYS_ON_EXISTING_INSTANCES] },
        Null: { "aws:TagKeys": "false" },
      },
    },
    // Instances the responder launches must carry its tag at launch; the other resources RunInstances touches
    // (subnet, groups, ENI, volumes, AMI, launch template) cannot carry that condition.
    {
      Sid: "LaunchTaggedInstancesOnly",
      Effect: "Allow",
      Action: ["ec2:RunInstances"],
      Resource: [instances],
      Condition: taggedOnCreate,
    },
    {
      Sid: "LaunchIntoExistingNetwork",
      Effect: "Allow",
      Action: ["ec2:RunInstances"],
      Resource: [
        ec2("subnet/*"),
        groups,
        ec2("network-interface/*"),
        volumes,
        ec2("launch-template/*"),
        ec2("key-pair/*"),
        ec2NoAccount("image/*"),
        snapshots,
      ],
    },
  ];
}
