// The instance-profile race (cutAccess): between the responder's look and its AssociateIamInstanceProfile, someone
// associates another profile, and EC2 answers IncorrectState. The simulator cannot interleave a third party between
// two calls of one step, so EC2 is scripted here: each call answers what the race would make it answer.
import { Logger } from "@aws-lambda-powertools/logger";
import { expect } from "chai";

import type { AwsClients } from "../../handler/awsClients";
import type { IncidentRecord } from "../../handler/incidentRecord";
import type { IncidentStore } from "../../handler/incidentStore";
import type { ResponseContext } from "../../handler/responseContext";
import { parseSettings } from "../../handler/settings";
import {
  instanceProfileNameOf,
  quarantineInstanceProfile,
  revokeSessionsPolicy,
} from "../../handler/steps/cutAccess/instanceProfile";
import { TEST_ENV } from "../../testkit/testSettings";

const settings = parseSettings(TEST_ENV);
const QUARANTINE = settings.quarantineInstanceProfileArn;
const INTRUDER = "arn:aws:iam::111122223333:instance-profile/admin";

interface Association {
  AssociationId: string;
  State: string;
  IamInstanceProfile: { Arn: string };
}

/** EC2 as the race leaves it: no profile at first; AssociateIamInstanceProfile loses to another association. */
function racedEc2(calls: string[]) {
  let association: Association | undefined;
  const incorrectState = Object.assign(new Error("There is an existing association"), {
    name: "IncorrectState",
    $metadata: { httpStatusCode: 400 },
  });
  return {
    describeIamInstanceProfileAssociations: () => {
      calls.push("DescribeIamInstanceProfileAssociations");
      return Promise.resolve({ IamInstanceProfileAssociations: association ? [association] : [] });
    },
    associateIamInstanceProfile: () => {
      calls.push("AssociateIamInstanceProfile");
      // The intruder's association landed a moment before ours.
      association = {
        AssociationId: "iip-assoc-1",
        State: "associated",
        IamInstanceProfile: { Arn: INTRUDER },
      };
      return Promise.reject(incorrectState);
    },
    replaceIamInstanceProfileAssociation: (input: {
      AssociationId: string;
      IamInstanceProfile: { Arn: string };
    }) => {
      calls.push(
        `ReplaceIamInstanceProfileAssociation ${input.AssociationId} -> ${input.IamInstanceProfile.Arn}`,
      );
      association = {
        AssociationId: "iip-assoc-2",
        State: "associating",
        IamInstanceProfile: input.IamInstanceProfile,
      };
      return Promise.resolve({});
    },
  };
}

describe("handler: instance profile race (AssociateIamInstanceProfile answers IncorrectState)", () => {
  it("looks again and replaces the profile that won the race with the quarantine profile", async () => {
    const calls: string[] = [];
    const context = {
      settings,
      aws: { ec2: racedEc2(calls) } as unknown as AwsClients,
      logger: new Logger({ logLevel: "SILENT" }),
      record: { instanceId: "i-0123456789abcdef0", facts: {} } as unknown as IncidentRecord,
      step: "cutAccess",
      resumed: false,
      checkpoint: () => Promise.resolve(),
      store: {} as IncidentStore,
    } satisfies ResponseContext;

    const result = await quarantineInstanceProfile(context);

    expect(calls).to.deep.equal([
      "DescribeIamInstanceProfileAssociations",
      "AssociateIamInstanceProfile",
      "DescribeIamInstanceProfileAssociations",
      `ReplaceIamInstanceProfileAssociation iip-assoc-1 -> ${QUARANTINE}`,
    ]);
    expect(result.outcome).to.equal("instance profile quarantined");
    // The raced-in profile is reported (its role's sessions get revoked) but is not the original one.
    expect(result.profilesSeen).to.deep.equal([INTRUDER]);
    expect(result.profileAtFirstLook).to.equal(undefined);
  });
});

describe("handler: instance profile decisions (pure)", () => {
  it("revokes sessions issued before the cut-off, for every action", () => {
    const policy = JSON.parse(revokeSessionsPolicy(new Date("2026-11-20T08:14:00Z"))) as {
      Statement: Record<string, unknown>[];
    };
    expect(policy.Statement).to.deep.equal([
      {
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-20T08:14:00.000Z" } },
      },
    ]);
  });
  it("reads the profile name from its ARN, with or without a path", () => {
    expect(instanceProfileNameOf("arn:aws:iam::111122223333:instance-profile/web-app")).to.equal("web-app");
    expect(instanceProfileNameOf("arn:aws:iam::111122223333:instance-profile/team/a/web-app")).to.equal(
      "web-app",
    );
  });
});
