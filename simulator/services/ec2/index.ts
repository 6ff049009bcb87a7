// The EC2 endpoint (ec2Query protocol): every action the responder calls, plus a few tests use.
import { AwsError } from "../../errors";
import type { World } from "../../state/world";
import { QueryEndpoint } from "../../wire/queryProtocol";
import { diagnosticOperations } from "./diagnostics";
import { instanceAttributeOperations } from "./instanceAttributes";
import { instanceOperations } from "./instances";
import { launchOperations } from "./launch";
import { launchTemplateOperations } from "./launchTemplates";
import { networkOperations } from "./network";
import { profileAssociationOperations } from "./profileAssociations";
import { securityGroupOperations } from "./securityGroups";
import { snapshotOperations } from "./snapshots";
import { tagOperations } from "./tags";
import { volumeOperations } from "./volumes";

export function ec2Endpoint(world: World): QueryEndpoint {
  return new QueryEndpoint({
    signingName: "ec2",
    flavor: "ec2",
    xmlNamespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
    operations: {
      ...instanceOperations(world),
      ...launchOperations(world),
      ...launchTemplateOperations(world),
      ...instanceAttributeOperations(world),
      ...diagnosticOperations(world),
      ...networkOperations(world),
      ...securityGroupOperations(world),
      ...volumeOperations(world),
      ...snapshotOperations(world),
      ...profileAssociationOperations(world),
      ...tagOperations(world),
    },
    missingParameter: (_memberName, wireName) =>
      new AwsError("MissingParameter", `The request must contain the parameter ${wireName}`),
    throttlingError: () => new AwsError("RequestLimitExceeded", "Request limit exceeded.", 503),
  });
}
