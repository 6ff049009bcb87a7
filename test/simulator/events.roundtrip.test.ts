// EventBridge PutEvents through the real SDK client: rules, delivery to a Lambda target, and AWS's refusals.
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { expect } from "chai";
import { startSimulator, type Simulator } from "../../simulator";

describe("simulator EventBridge PutEvents (real client)", () => {
  let sim: Simulator;
  let client: EventBridgeClient;
  let received: unknown[];

  beforeEach(async function () {
    // Rules and Lambda targets are simulator-only set-up, and these tests always talk to their own in-process
    // simulator: on an external endpoint they would pass without testing it.
    if (process.env.SIM_EXTERNAL_ENDPOINT) this.skip();
    sim = await startSimulator({ timeScale: 0 });
    const env = sim.env();
    client = new EventBridgeClient({
      endpoint: sim.endpoint,
      region: sim.region,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
    received = [];
    sim.lambda.register("responder", (payload) => {
      received.push(payload);
      return Promise.resolve(null);
    });
    sim.events.rule(
      "findings",
      { source: ["ir.drill"], detail: { severity: [{ numeric: [">=", 7] }] } },
      "responder",
    );
  });
  afterEach(async () => {
    client?.destroy();
    await sim?.stop();
  });

  it("wraps each entry in an EventBridge envelope and delivers matching events to the rule's function", async () => {
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: "ir.drill", DetailType: "GuardDuty Finding", Detail: JSON.stringify({ severity: 8 }) },
          { Source: "ir.drill", DetailType: "GuardDuty Finding", Detail: JSON.stringify({ severity: 2 }) },
        ],
      }),
    );
    expect(answer.FailedEntryCount).to.equal(0);
    expect(answer.Entries?.map((e) => typeof e.EventId)).to.deep.equal(["string", "string"]);
    await sim.stop();
    expect(received).to.have.length(1);
    expect(received[0]).to.deep.include({
      source: "ir.drill",
      "detail-type": "GuardDuty Finding",
      account: sim.accountId,
      region: sim.region,
      detail: { severity: 8 },
    });
    expect(sim.events.delivered().map((d) => d.rule)).to.deep.equal(["findings"]);
  });

  it("refuses aws.* sources per entry: a GuardDuty finding cannot be forged", async () => {
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: "aws.guardduty",
            DetailType: "GuardDuty Finding",
            Detail: JSON.stringify({ severity: 9 }),
          },
        ],
      }),
    );
    expect(answer.FailedEntryCount).to.equal(1);
    expect(answer.Entries?.[0]?.ErrorCode).to.equal("NotAuthorizedForSourceException");
    expect(received).to.deep.equal([]);
  });

  it("reports a malformed detail per entry and an empty request as a validation error", async () => {
    const answer = await client.send(
      new PutEventsCommand({ Entries: [{ Source: "ir.drill", DetailType: "x", Detail: "not json" }] }),
    );
    expect(answer.Entries?.[0]?.ErrorCode).to.equal("MalformedDetail");
    const error = await client.send(new PutEventsCommand({ Entries: [] })).catch((e: unknown) => e as Error);
    expect((error as Error).name).to.equal("ValidationException");
  });
});
