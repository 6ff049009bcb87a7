// The EC2 endpoint (ec2Query protocol): every action the responder calls, plus a few tests use.
import { AwsError } from "../../errors";
import type { World } from "../../state/world";
import { QueryEndpoint } from "../../wire/queryProtocol";
import { iamAndTagOperations } from "./iamAndTags";
import { instanceOperations } from "./instances";
import { networkOperations } from "./network";
import { storageOperations } from "./storage";

export function ec2Endpoint(world: World): QueryEndpoint {
  return new QueryEndpoint({
    signingName: "ec2",
    flavor: "ec2",
    xmlNamespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
    operations: {
      ...instanceOperations(world),
      ...networkOperations(world),
      ...storageOperations(world),
      ...iamAndTagOperations(world),
    },
    missingParameter: (_memberName, wireName) =>
      new AwsError("MissingParameter", `The request must contain the parameter ${wireName}`),
    throttlingError: () => new AwsError("RequestLimitExceeded", "Request limit exceeded.", 503),
  });
}
