// The pure decisions of the incident record (handler/incidentRecord.ts), tested without AWS.
import { expect } from "chai";

import { incidentKey, instanceIdOfIncident, newIncidentId } from "../../handler/incidentRecord";

describe("handler: the incident record", () => {
  it("the incident id carries the instance id, so the record is found from the id alone", () => {
    const id = newIncidentId("i-0123abcd4567ef890", new Date("2026-11-20T08:14:03.412Z"));
    expect(id).to.equal("inc-20261120T081403412Z-i-0123abcd4567ef890");
    expect(instanceIdOfIncident(id)).to.equal("i-0123abcd4567ef890");
    expect(incidentKey("111122223333", "eu-central-1", "i-1")).to.equal("111122223333#eu-central-1#i-1");
  });
});
