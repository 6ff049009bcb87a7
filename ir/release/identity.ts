// Credentials back as found: the instance's own profile in place of the quarantine one (or none, if it had none),
// and the revoke-sessions policy gone from each role the response revoked.
import { REVOKE_SESSIONS_POLICY_NAME } from "../../handler/steps/cutAccess/instanceProfile";
import { change, type ReleaseRun } from "./run";

const REVOKE_SESSIONS_EXPLANATION =
  "Removing the revoke-sessions policy makes the sessions these roles issued before the response valid again " +
  "until they expire (instance profile credentials within hours; other sessions within the role's maximum " +
  "session duration, at most 12 hours): right after a false positive, wrong if the credentials may have been stolen.";

/** The policy's cut-off (aws:TokenIssueTime), or undefined when the document is not ours (pure). */
function revokeCutOff(document: string): string | undefined {
  try {
    const parsed = JSON.parse(document) as {
      Statement?: { Condition?: { DateLessThan?: Record<string, string> } }[];
    };
    return parsed.Statement?.[0]?.Condition?.DateLessThan?.["aws:TokenIssueTime"];
  } catch {
    return undefined;
  }
}

async function revokePolicyOf(run: ReleaseRun, roleName: string): Promise<string | undefined> {
  try {
    const answer = await run.context.clients.iam.getRolePolicy({
      RoleName: roleName,
      PolicyName: REVOKE_SESSIONS_POLICY_NAME,
    });
    return decodeURIComponent(answer.PolicyDocument ?? "");
  } catch (error) {
    // The SDK names IAM's NoSuchEntity error NoSuchEntityException.
    if (["NoSuchEntity", "NoSuchEntityException"].includes((error as { name?: string }).name ?? ""))
      return undefined;
    throw error;
  }
}

export async function restoreRoleSessions(run: ReleaseRun): Promise<void> {
  const roleNames = run.record.facts.revokedRoleNames ?? [];
  // The cut-off this response wrote is no later than the end of its cutAccess step; a later one is another
  // response's (the policy's name is shared), and stays.
  const ourLatest = run.record.steps.cutAccess?.endedAt;
  let removed = false;
  for (const roleName of roleNames) {
    const document = await revokePolicyOf(run, roleName);
    const cutOff = document === undefined ? undefined : revokeCutOff(document);
    if (document !== undefined && cutOff !== undefined && ourLatest !== undefined && cutOff > ourLatest) {
      run.kept.push(
        `role ${roleName}: revoke-sessions policy left in place: a later response moved its cut-off to ${cutOff}`,
      );
      continue;
    }
    if (document !== undefined)
      await change(
        run,
        "iam:DeleteRolePolicy",
        { RoleName: roleName, PolicyName: REVOKE_SESSIONS_POLICY_NAME },
        () =>
          run.context.clients.iam.deleteRolePolicy({
            RoleName: roleName,
            PolicyName: REVOKE_SESSIONS_POLICY_NAME,
          }),
      );
    run.undone.push(`role ${roleName}: revoke-sessions policy ${REVOKE_SESSIONS_POLICY_NAME} removed`);
    removed = true;
  }
  if (removed) run.notes.push(REVOKE_SESSIONS_EXPLANATION);
}

/** The instance ends with exactly the profile it had when found: replaced, associated, or none at all. */
export async function restoreInstanceProfile(run: ReleaseRun): Promise<void> {
  // Only cutAccess changes the profile: a response that never got there left the instance's own in place.
  if (run.record.steps.cutAccess === undefined) return;
  const { ec2 } = run.context.clients;
  const InstanceId = run.record.instanceId;
  const original = run.record.facts.originalInstanceProfileArn ?? run.instance.iamInstanceProfileArn;
  const answer = await ec2.describeIamInstanceProfileAssociations({
    Filters: [{ Name: "instance-id", Values: [InstanceId] }],
  });
  const current = (answer.IamInstanceProfileAssociations ?? []).find(
    (association) => association.State === "associated" || association.State === "associating",
  );
  const currentArn = current?.IamInstanceProfile?.Arn;
  const AssociationId = current?.AssociationId ?? "";
  if (original === undefined) {
    if (current !== undefined)
      await change(run, "ec2:DisassociateIamInstanceProfile", { AssociationId }, () =>
        ec2.disassociateIamInstanceProfile({ AssociationId }),
      );
    run.undone.push("instance profile: none, as found");
    return;
  }
  const IamInstanceProfile = { Arn: original };
  if (currentArn !== original && current !== undefined)
    await change(run, "ec2:ReplaceIamInstanceProfileAssociation", { AssociationId, IamInstanceProfile }, () =>
      ec2.replaceIamInstanceProfileAssociation({ AssociationId, IamInstanceProfile }),
    );
  if (current === undefined)
    await change(run, "ec2:AssociateIamInstanceProfile", { InstanceId, IamInstanceProfile }, () =>
      ec2.associateIamInstanceProfile({ InstanceId, IamInstanceProfile }),
    );
  run.undone.push(`instance profile: ${original}`);
}
