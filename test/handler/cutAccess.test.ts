// The pure decisions of cutAccess (handler/steps/cutAccess/cutAccess.ts), tested without AWS.
import { expect } from "chai";

import { attributeChanges } from "../../handler/steps/cutAccess/cutAccess";
import { instanceFacts } from "./instanceFacts";

describe("handler: cutAccess", () => {
  it("keeps every volume on termination; shutdown behaviour only where the root is EBS", () => {
    expect(attributeChanges(instanceFacts())).to.deep.equal({
      shutdownToStop: true,
      volumesToKeep: ["/dev/xvda"],
    });
    expect(attributeChanges(instanceFacts({ rootDeviceType: "instance-store", volumes: [] }))).to.deep.equal({
      shutdownToStop: false,
      volumesToKeep: [],
    });
  });
});
