// cutAccess, credentials: the quarantine instance profile in place of the instance's, and the older sessions of
// every role it had revoked.
import { StepFailedError } from "../../errors";
import { type InstanceFacts, recordProblem } from "../../incidentRecord";
import { isAlreadyDone, plainMutation, type ResponseContext } from "../../responseContext";
import { sleep } from "../../retry";

/** Name of the inline policy that denies the instance role's sessions issued before the incident. */
export const REVOKE_SESSIONS_POLICY_NAME = "ir-revoke-older-sessions";

/**
 * The inline policy that revokes every session of a role issued before `issuedBefore` (pure). This is what the
 * IAM console's "Revoke active sessions" does: stolen instance credentials stop working at once, new ones
 * (issued after the cut-off) are unaffected. Monotone: a later incident only moves the cut-off forward.
 */
export function revokeSessionsPolicy(issuedBefore: Date): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": issuedBefore.toISOString() } },
      },
    ],
  });
}

/** The instance profile name in an ARN (`...:instance-profile/path/name`) (pure). */
export function instanceProfileNameOf(arn: string): string {
  return arn.split("/").pop() ?? arn;
}

/** How often the profile is re-examined when EC2 answers that the association changed under us. */
const PROFILE_CONVERGENCE_ROUNDS = 4;

/**
 * Puts the quarantine profile on the instance and returns every other profile seen on it (their roles' sessions
 * are revoked). Converges on what EC2 says rather than trusting one answer: AssociateIamInstanceProfile answers
 * IncorrectState when a profile got associated since we looked (by its owner, or by an intruder racing us), and
 * that profile must not stay; ReplaceIamInstanceProfileAssociation answers IncorrectState while an association
 * is still changing. Either way: describe again, and replace whatever is not the quarantine profile.
 */
export async function quarantineInstanceProfile(
  context: ResponseContext,
): Promise<{ outcome: string; profileAtFirstLook?: string; profilesSeen: string[] }> {
  const { record, aws, settings } = context;
  const quarantine = settings.quarantineInstanceProfileArn;
  const profilesSeen: string[] = [];
  let profileAtFirstLook: string | undefined;
  for (let round = 0; round < PROFILE_CONVERGENCE_ROUNDS; round += 1) {
    if (round > 0) await sleep(500 * round);
    const answer = await aws.ec2.describeIamInstanceProfileAssociations({
      Filters: [{ Name: "instance-id", Values: [record.instanceId] }],
    });
    const association = (answer.IamInstanceProfileAssociations ?? []).find(
      (candidate) => candidate.State === "associated" || candidate.State === "associating",
    );
    const currentArn = association?.IamInstanceProfile?.Arn;
    if (round === 0 && currentArn !== quarantine) profileAtFirstLook = currentArn;
    if (currentArn !== undefined && currentArn !== quarantine && !profilesSeen.includes(currentArn))
      profilesSeen.push(currentArn);
    if (currentArn === quarantine) {
      return { outcome: "instance profile quarantined", profileAtFirstLook, profilesSeen };
    }
    try {
      if (association?.AssociationId !== undefined) {
        const associationId = association.AssociationId;
        // ReplaceIamInstanceProfileAssociation and AssociateIamInstanceProfile have no DryRun parameter.
        const replaced = await plainMutation(context, `replace instance profile with ${quarantine}`, () =>
          aws.ec2.replaceIamInstanceProfileAssociation({
            AssociationId: associationId,
            IamInstanceProfile: { Arn: quarantine },
          }),
        );
        if (!replaced.made)
          return { outcome: "would quarantine the instance profile", profileAtFirstLook, profilesSeen };
        return { outcome: "instance profile quarantined", profileAtFirstLook, profilesSeen };
      }
      // No profile: associate the deny-all one anyway, so nobody can attach a privileged profile to it later.
      const associated = await plainMutation(context, `associate ${quarantine}`, () =>
        aws.ec2.associateIamInstanceProfile({
          InstanceId: record.instanceId,
          IamInstanceProfile: { Arn: quarantine },
        }),
      );
      if (!associated.made)
        return { outcome: "would associate the quarantine profile", profileAtFirstLook, profilesSeen };
      return { outcome: "quarantine profile associated", profileAtFirstLook, profilesSeen };
    } catch (error) {
      // The association changed between our look and our change: look again (never assume it is ours).
      if (!isAlreadyDone(error, ["IncorrectState"])) throw error;
      context.logger.info("instance profile association changed meanwhile; checking again", { round });
    }
  }
  throw new StepFailedError("cutAccess", {
    cause: new Error(`the instance profile did not settle on ${quarantine}`),
  });
}

export async function replaceInstanceProfile(
  context: ResponseContext,
  instance: InstanceFacts,
): Promise<string> {
  const { record, aws, settings } = context;
  const quarantine = settings.quarantineInstanceProfileArn;
  const { outcome, profileAtFirstLook, profilesSeen } = await quarantineInstanceProfile(context);
  // The original is what the instance had when we first looked, never a profile raced onto it since: the
  // replacement launches with the original.
  const original =
    record.facts.originalInstanceProfileArn ?? profileAtFirstLook ?? instance.iamInstanceProfileArn;
  if (original !== undefined && original !== quarantine) record.facts.originalInstanceProfileArn = original;

  // Every profile the instance had (its own, and one raced onto it) handed out credentials: revoke them all.
  const toRevoke = [...new Set([original, ...profilesSeen])].filter(
    (arn): arn is string => arn !== undefined && arn !== quarantine,
  );
  if (!settings.revokeRoleSessions || toRevoke.length === 0) return outcome;
  const roleNames: string[] = [];
  for (const profileArn of toRevoke) {
    const profile = await aws.iam.getInstanceProfile({
      InstanceProfileName: instanceProfileNameOf(profileArn),
    });
    for (const role of profile.InstanceProfile?.Roles ?? []) {
      if (role.RoleName === undefined || roleNames.includes(role.RoleName)) continue;
      // The policy denies rewriting a role the responder may pass (else a stolen responder credential could give
      // it any right and launch an instance with it): its sessions stay valid, and the record says so.
      if (role.Arn !== undefined && settings.replacementPassableRoleArns.includes(role.Arn)) {
        recordProblem(
          record.facts,
          "cutAccess",
          `sessions of role ${role.RoleName} not revoked: it is a replacement role (replacementRoleArns), which the responder may pass but never rewrite`,
        );
        continue;
      }
      roleNames.push(role.RoleName);
    }
  }
  const cutOff = new Date();
  for (const roleName of roleNames) {
    await plainMutation(context, `revoke sessions of role ${roleName}`, () =>
      aws.iam.putRolePolicy({
        RoleName: roleName,
        PolicyName: REVOKE_SESSIONS_POLICY_NAME,
        PolicyDocument: revokeSessionsPolicy(cutOff),
      }),
    );
  }
  record.facts.revokedRoleNames = roleNames;
  return roleNames.length === 0 ? outcome : `${outcome}, sessions of ${roleNames.join(", ")} revoked`;
}
