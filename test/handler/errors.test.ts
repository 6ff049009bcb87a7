// The error classifications of handler/errors.ts, tested without AWS.
import { expect } from "chai";

import { failureOutcome, instanceGoneError, InstanceGoneError } from "../../handler/errors";

describe("handler: errors", () => {
  it("EC2's NotFound about the instance under response maps to InstanceGoneError; about another id it does not", () => {
    const notFound = (id: string) =>
      Object.assign(new Error(`The instance ID '${id}' does not exist`), {
        name: "InvalidInstanceID.NotFound",
        $metadata: {},
      });
    expect(instanceGoneError(notFound("i-0abc"), "i-0abc")).to.be.instanceOf(InstanceGoneError);
    const other = notFound("i-0forensic");
    expect(instanceGoneError(other, "i-0abc")).to.equal(other);
    const throttled = Object.assign(new Error("slow down"), {
      name: "RequestLimitExceeded",
      $metadata: {},
    });
    expect(instanceGoneError(throttled, "i-0abc")).to.equal(throttled);
  });

  it("tells a refusal, throttling and an unknown outcome apart", () => {
    const aws = (name: string, httpStatusCode: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
    expect(failureOutcome(aws("RequestLimitExceeded", 503))).to.equal("throttled");
    expect(failureOutcome(aws("SnapshotCreationPerVolumeRateExceeded", 400))).to.equal("refused");
    expect(failureOutcome(aws("UnauthorizedOperation", 403))).to.equal("refused");
    expect(failureOutcome(aws("InternalError", 500))).to.equal("unknown");
    expect(failureOutcome(aws("Unavailable", 503))).to.equal("unknown");
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET", $metadata: {} });
    expect(failureOutcome(reset)).to.equal("unknown");
    expect(failureOutcome(Object.assign(new Error("t"), { name: "TimeoutError" }))).to.equal("unknown");
  });
});
