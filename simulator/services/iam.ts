// IAM (awsQuery): GetInstanceProfile, PutRolePolicy, GetRolePolicy to read a policy back, and DeleteRolePolicy.
import {
  AddRoleToInstanceProfile$,
  CreateInstanceProfile$,
  CreateRole$,
  DeleteRolePolicy$,
  GetInstanceProfile$,
  GetRolePolicy$,
  PutRolePolicy$,
  type AddRoleToInstanceProfileRequest,
  type CreateInstanceProfileRequest,
  type CreateInstanceProfileResponse,
  type CreateRoleRequest,
  type CreateRoleResponse,
  type DeleteRolePolicyRequest,
  type GetInstanceProfileRequest,
  type GetInstanceProfileResponse,
  type GetRolePolicyRequest,
  type GetRolePolicyResponse,
  type InstanceProfile as IamInstanceProfile,
  type Role as IamRole,
  type PutRolePolicyRequest,
} from "@aws-sdk/client-iam";
import { AwsError } from "../errors";
import { createInstanceProfile, createRole } from "../state/create";
import type { InstanceProfile, Role } from "../state/model";
import type { World } from "../state/world";
import { awsQueryEndpoint, defineOperation, type QueryEndpoint } from "../wire/queryProtocol";

const noSuchRole = (name: string): AwsError =>
  new AwsError("NoSuchEntity", `The role with name ${name} cannot be found.`, 404);

function renderRole(role: Role): IamRole {
  return {
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    Path: role.path,
    CreateDate: new Date(role.createDate),
    // IAM returns policy documents URL-encoded (RFC 3986).
    AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
  };
}

function renderInstanceProfile(profile: InstanceProfile, roles: Role[]): IamInstanceProfile {
  return {
    InstanceProfileName: profile.instanceProfileName,
    InstanceProfileId: profile.instanceProfileId,
    Arn: profile.arn,
    Path: profile.path,
    CreateDate: new Date(profile.createDate),
    Roles: roles.map(renderRole),
  };
}

export function iamEndpoint(world: World): QueryEndpoint {
  const role = (name: string): Role => {
    const found = world.roles.get(name);
    if (!found) throw noSuchRole(name);
    return found;
  };
  const instanceProfile = (name: string): InstanceProfile => {
    const found = world.instanceProfiles.get(name);
    if (!found) throw new AwsError("NoSuchEntity", `Instance Profile ${name} cannot be found.`, 404);
    return found;
  };
  return awsQueryEndpoint("iam", "https://iam.amazonaws.com/doc/2010-05-08/", {
    CreateRole: defineOperation<CreateRoleRequest, CreateRoleResponse>(
      CreateRole$,
      { mutating: true },
      (input) => {
        const roleName = input.RoleName ?? "";
        if (world.roles.has(roleName)) {
          throw new AwsError("EntityAlreadyExists", `Role with name ${roleName} already exists.`, 409);
        }
        try {
          JSON.parse(input.AssumeRolePolicyDocument ?? "");
        } catch {
          throw new AwsError("MalformedPolicyDocument", "This policy contains invalid Json");
        }
        const role = createRole(world, {
          roleName,
          path: input.Path,
          assumeRolePolicyDocument: input.AssumeRolePolicyDocument,
        });
        return { Role: renderRole(role) };
      },
    ),

    CreateInstanceProfile: defineOperation<CreateInstanceProfileRequest, CreateInstanceProfileResponse>(
      CreateInstanceProfile$,
      { mutating: true },
      (input) => {
        const name = input.InstanceProfileName ?? "";
        if (world.instanceProfiles.has(name)) {
          throw new AwsError("EntityAlreadyExists", `Instance Profile ${name} already exists.`, 409);
        }
        const profile = createInstanceProfile(world, { name, path: input.Path });
        return { InstanceProfile: renderInstanceProfile(profile, []) };
      },
    ),

    AddRoleToInstanceProfile: defineOperation<AddRoleToInstanceProfileRequest, void>(
      AddRoleToInstanceProfile$,
      { mutating: true },
      (input) => {
        const profile = instanceProfile(input.InstanceProfileName ?? "");
        const target = role(input.RoleName ?? "");
        // An instance profile holds at most one role.
        if (profile.roleNames.length > 0) {
          throw new AwsError(
            "LimitExceeded",
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
            409,
          );
        }
        profile.roleNames.push(target.roleName);
      },
    ),

    GetInstanceProfile: defineOperation<GetInstanceProfileRequest, GetInstanceProfileResponse>(
      GetInstanceProfile$,
      { mutating: false },
      (input) => {
        const profile = instanceProfile(input.InstanceProfileName ?? "");
        return { InstanceProfile: renderInstanceProfile(profile, profile.roleNames.map(role)) };
      },
    ),

    PutRolePolicy: defineOperation<PutRolePolicyRequest, void>(
      PutRolePolicy$,
      { mutating: true },
      (input) => {
        const target = role(input.RoleName ?? "");
        const document = input.PolicyDocument ?? "";
        let parsed: unknown;
        try {
          parsed = JSON.parse(document);
        } catch {
          throw new AwsError("MalformedPolicyDocument", "Syntax errors in policy.");
        }
        if (typeof parsed !== "object" || parsed === null || !("Statement" in parsed)) {
          throw new AwsError("MalformedPolicyDocument", "Policy document must contain a Statement.");
        }
        if (Buffer.byteLength(document) > 10_240) {
          throw new AwsError(
            "LimitExceeded",
            "Maximum policy size of 10240 bytes exceeded for role " + target.roleName,
            409,
          );
        }
        target.inlinePolicies.set(input.PolicyName ?? "", document);
      },
    ),

    DeleteRolePolicy: defineOperation<DeleteRolePolicyRequest, void>(
      DeleteRolePolicy$,
      { mutating: true },
      (input) => {
        const target = role(input.RoleName ?? "");
        if (!target.inlinePolicies.delete(input.PolicyName ?? "")) {
          throw new AwsError(
            "NoSuchEntity",
            `The role policy with name ${input.PolicyName ?? ""} cannot be found.`,
            404,
          );
        }
      },
    ),

    GetRolePolicy: defineOperation<GetRolePolicyRequest, GetRolePolicyResponse>(
      GetRolePolicy$,
      { mutating: false },
      (input) => {
        const target = role(input.RoleName ?? "");
        const document = target.inlinePolicies.get(input.PolicyName ?? "");
        if (document === undefined) {
          throw new AwsError(
            "NoSuchEntity",
            `The role policy with name ${input.PolicyName ?? ""} cannot be found.`,
            404,
          );
        }
        // IAM returns policy documents URL-encoded (RFC 3986).
        return {
          RoleName: target.roleName,
          PolicyName: input.PolicyName,
          PolicyDocument: encodeURIComponent(document),
        };
      },
    ),
  });
}
