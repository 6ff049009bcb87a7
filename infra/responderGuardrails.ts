// What the responder may never do, whatever else is attached to its role later: explicit denies, which no allow
// overrides.
import { TAG_MANAGED_BY, TAG_RESPONDER_MADE } from "../handler/tags";
import type { PolicyStatement } from "./policies";

/**
 * Actions the responder must never be able to take, whatever else is attached to its role later: destroy or unlock
 * evidence, blind the detector, rewrite its own function, or loosen the evidence bucket's policy and lifecycle.
 */
export const FORBIDDEN_ACTIONS = [
  "ec2:TerminateInstances",
  "ec2:DeleteVolume",
  "ec2:DeleteSnapshot",
  "ec2:UnlockSnapshot",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:BypassGovernanceRetention",
  "s3:PutBucketPolicy",
  "s3:PutLifecycleConfiguration",
  "guardduty:DeleteDetector",
  "guardduty:UpdateDetector",
  "lambda:UpdateFunctionCode",
  "lambda:UpdateFunctionConfiguration",
] as const;

/** Role changes the responder may never make to its own roles or to a role it may hand to an instance. */
const ROLE_REWRITES = [
  "iam:PutRolePolicy",
  "iam:AttachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:UpdateAssumeRolePolicy",
] as const;

/**
 * The denies that end the responder's policy. `instancesArn`: every instance of the account and region.
 */
export function responderGuardrails(
  protectedRoleArns: readonly string[],
  passableRoleArns: readonly string[],
  instancesArn: string,
): PolicyStatement[] {
  return [
    // Without this, a stolen responder credential could grant itself anything through its own role, or give a
    // role it may pass `Allow *` and launch an instance with it.
    {
      Sid: "NeverRewriteOwnOrPassableRoles",
      Effect: "Deny",
      Action: [...ROLE_REWRITES],
      Resource: [...new Set([...protectedRoleArns, ...passableRoleArns])],
    },
    // Only RunInstances may mark an instance as the responder's (AttachVolume trusts ir:responder-made=forensic),
    // and only a create call may mark a resource as the stack's (Authorize*, LockSnapshot trust ir:managed-by).
    // A missing ec2:CreateAction (an existing resource) makes StringNotEquals true. Instances only: a snapshot may
    // copy the tag from its volume (CopyTagsFromSource), harmlessly.
    {
      Sid: "NeverTagResponderMadeAfterLaunch",
      Effect: "Deny",
      Action: ["ec2:CreateTags"],
      Resource: [instancesArn],
      Condition: {
        "ForAnyValue:StringEquals": { "aws:TagKeys": [TAG_RESPONDER_MADE] },
        StringNotEquals: { "ec2:CreateAction": "RunInstances" },
      },
    },
    {
      Sid: "NeverClaimExistingResources",
      Effect: "Deny",
      Action: ["ec2:CreateTags"],
      Resource: ["*"],
      Condition: {
        "ForAnyValue:StringEquals": { "aws:TagKeys": [TAG_MANAGED_BY] },
        Null: { "ec2:CreateAction": "true" },
      },
    },
    {
      Sid: "NeverDestroyEvidence",
      Effect: "Deny",
      Action: [...FORBIDDEN_ACTIONS],
      Resource: ["*"],
    },
  ];
}
