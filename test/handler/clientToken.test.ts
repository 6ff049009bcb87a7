// The pure decisions of client tokens (handler/clientToken.ts), tested without AWS.
import { expect } from "chai";

import { clientToken } from "../../handler/clientToken";

describe("handler: client tokens", () => {
  it("client tokens are deterministic per incident and purpose, and within EC2's 64 characters", () => {
    expect(clientToken("inc-1", "forensic")).to.equal(clientToken("inc-1", "forensic"));
    expect(clientToken("inc-1", "forensic")).to.not.equal(clientToken("inc-2", "forensic"));
    expect(clientToken("inc-1", "forensic").length).to.be.at.most(64);
  });
});
