// STS (awsQuery): GetCallerIdentity, answered for the principal that signed the request. It needs no permission
// (AWS evaluates no policy for it), so the request checks have no entry for it; an unknown key is still refused
// by the front (Authorizer.callerOf) before it gets here.
import {
  GetCallerIdentity$,
  type GetCallerIdentityRequest,
  type GetCallerIdentityResponse,
} from "@aws-sdk/client-sts";
import type { Principal } from "../iam/authorizer";
import { accessKeyOf } from "../server";
import type { World } from "../state/world";
import type { ServiceEndpoint } from "../wire/http";
import { awsQueryEndpoint, defineOperation, type QueryEndpoint } from "../wire/queryProtocol";

const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

/** The unique id AWS shows: AROA…:session for a role session, AIDA… for a user (made up from the name). */
function userIdOf(arn: string, name: string): string {
  const id = Buffer.from(name).toString("hex").toUpperCase().padEnd(17, "0").slice(0, 17);
  const session = /:assumed-role\/[^/]+\/([^/]+)$/.exec(arn)?.[1];
  return session === undefined ? `AIDA${id}` : `AROA${id}:${session}`;
}

function answeringFor(world: World, caller: Pick<Principal, "arn" | "name">): QueryEndpoint {
  return awsQueryEndpoint("sts", NAMESPACE, {
    GetCallerIdentity: defineOperation<GetCallerIdentityRequest, GetCallerIdentityResponse>(
      GetCallerIdentity$,
      { mutating: false },
      () => ({ UserId: userIdOf(caller.arn, caller.name), Account: world.accountId, Arn: caller.arn }),
    ),
  });
}

/**
 * `principalFor` finds the signer by access key; with IAM evaluation off there is none and the simulator's
 * default credentials stand for the account's administrator.
 */
export function stsEndpoint(
  world: World,
  principalFor: (accessKeyId: string | undefined) => Principal | undefined,
): ServiceEndpoint {
  const administrator = { name: "administrator", arn: `arn:aws:iam::${world.accountId}:user/administrator` };
  const answering = answeringFor(world, administrator);
  return {
    signingName: "sts",
    prepare: (call) =>
      answeringFor(world, principalFor(accessKeyOf(call.headers, call.query)) ?? administrator).prepare(call),
    errorAnswer: (error, requestId) => answering.errorAnswer(error, requestId),
    throttlingError: () => answering.throttlingError(),
  };
}
