// The pure decisions of the incident store (handler/incidentStore.ts), tested without AWS.
import { expect } from "chai";

import { type IncidentRecord } from "../../handler/incidentRecord";
import { carriesClaim } from "../../handler/incidentStore";

describe("handler: the incident store", () => {
  it("a claim is carried on by its own request's retry, or taken over once expired without an execution", () => {
    const record = {
      status: "responding",
      claimedBy: "req-1",
      claimExpiresAt: 1000,
    } as IncidentRecord;
    expect(carriesClaim(record, { requestId: "req-1", now: 10, expiresAt: 5000 })).to.equal(true);
    expect(carriesClaim(record, { requestId: "req-2", now: 999, expiresAt: 5000 })).to.equal(false);
    expect(carriesClaim(record, { requestId: "req-2", now: 1000, expiresAt: 5000 })).to.equal(true);
    const started = { ...record, execution: { arn: "a", name: "n", startedAt: "t", consoleUrl: "u" } };
    expect(carriesClaim(started, { requestId: "req-1", now: 5000, expiresAt: 9000 })).to.equal(false);
    expect(
      carriesClaim({ ...record, status: "completed" }, { requestId: "req-1", now: 5000, expiresAt: 9000 }),
    ).to.equal(false);
    expect(
      carriesClaim({ ...record, status: "released" }, { requestId: "req-2", now: 5000, expiresAt: 9000 }),
    ).to.equal(false);
  });
});
