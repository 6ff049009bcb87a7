// Containment must not depend on storing text. DynamoDB refuses a string that is not valid UTF-8 (a lone
// surrogate, or an emoji cut in half by a character cap), and a claim that cannot be written contains nothing:
// the invocation throws, and every retry fails the same way. Here the unmodified handler talks to a DynamoDB
// endpoint that refuses what DynamoDB refuses (support/strictDynamo.ts), with Lambda's two retries.
import { expect } from "chai";
import fc from "fast-check";

import { acceptFindingEvent, TITLE_LIMIT } from "../../handler/acceptance/acceptance";
import type { InstanceFinding } from "../../handler/acceptance/finding";
import { IncidentStore, plainClaim, type Claimant } from "../../handler/incidentStore";
import type { IncidentRecord } from "../../handler/incidentRecord";
import { TRUNCATED_MARK } from "../../handler/rawFinding";
import { parseSettings } from "../../handler/settings";
import { startHarness, stopDynamo, type Harness, type ResponseOutcome } from "../../testkit/harness";
import { TEST_ENV } from "../../testkit/testSettings";
import { loadEvent } from "../support/fixtures";
import { illFormedPaths, isWellFormed } from "./support/storable";
import { startStrictDynamo, type StrictDynamo } from "./support/strictDynamo";

type Finding = ReturnType<Harness["sim"]["scenario"]["findingFor"]>;

const HOSTILE_TEXT: [string, (event: Finding) => void][] = [
  ["a lone surrogate in the title", (event) => (event.detail.title = "Backdoor \ud83d on the instance")],
  [
    "an emoji the 256-character title cap cuts in half",
    (event) => (event.detail.title = `${"t".repeat(TITLE_LIMIT - 1)}😀😀 and more`),
  ],
  [
    "a lone low surrogate in the finding type",
    (event) => (event.detail.type = "Backdoor:EC2/C&CActivity.B\udc00"),
  ],
  ["a lone surrogate in the finding id", (event) => (event.detail.id = "0a1b2c3d\ud800")],
  [
    "a lone surrogate in a tag value",
    (event) => {
      const details = (
        event.detail.resource as { instanceDetails: { tags: { key: string; value: string }[] } }
      ).instanceDetails;
      details.tags.push({ key: "Owner", value: "team \udbff" });
    },
  ],
];

describe("reliability: containment does not depend on storing text", function () {
  this.timeout(120_000);
  let harness: Harness;
  let strict: StrictDynamo;
  let strictest: StrictDynamo;

  before(async function () {
    this.timeout(600_000); // the harness synthesizes the responder's policy (a Pulumi mock run) first
    harness = await startHarness();
    strict = await startStrictDynamo(harness.sim.endpoint);
    strictest = await startStrictDynamo(harness.sim.endpoint, { refuseNonAsciiPuts: true });
  });
  after(async () => {
    await harness.stop();
    await strict?.stop();
    await strictest?.stop();
    await stopDynamo();
  });

  function appInstance() {
    const { sim, world } = harness;
    return sim.scenario.instance({
      subnetId: world.subnetA,
      securityGroupIds: [world.appGroup],
      imageId: world.kdumpImage,
    });
  }

  async function respondThrough(dynamo: StrictDynamo, event: unknown): Promise<ResponseOutcome> {
    const responder = await harness.withSettings({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.url });
    let outcome: ResponseOutcome;
    try {
      ({ outcome } = await responder.invokeWithRetries(event, 2));
    } catch (error) {
      expect.fail(
        `every attempt threw (the instance is never contained): ${String(error)}; refused: ${JSON.stringify(dynamo.refused.slice(-1))}`,
      );
    }
    await responder.settle();
    return outcome;
  }

  for (const [what, change] of HOSTILE_TEXT) {
    it(`${what}: the claim is written, the instance contained, and the record holds only storable text`, async () => {
      const { sim, world } = harness;
      const created = appInstance();
      const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
      change(event);
      const refusedBefore = strict.refused.length;

      const outcome = await respondThrough(strict, event);

      expect(outcome.outcome).to.equal("completed");
      expect(sim.state.networkInterface(created.networkInterfaceIds[0]!)?.groupIds).to.deep.equal([
        world.isolationGroup,
      ]);
      const record = await harness.record(created.instanceId);
      expect(illFormedPaths(record)).to.deep.equal([]);
      expect(strict.refused.slice(refusedBefore), "writes DynamoDB refused").to.deep.equal([]);
    });
  }

  it("a claim DynamoDB refuses for its text, for whatever reason: claimed again without the free text, and the instance contained", async () => {
    const { sim, world } = harness;
    const created = appInstance();
    const event = sim.scenario.findingFor(created.instanceId, { severity: 8 });
    event.detail.title = "Crypto mining on the payments host ⛏";

    const outcome = await respondThrough(strictest, event);

    expect(outcome.outcome).to.equal("completed");
    expect(sim.state.networkInterface(created.networkInterfaceIds[0]!)?.groupIds).to.deep.equal([
      world.isolationGroup,
    ]);
    const record = (await harness.record(created.instanceId))!;
    expect(record.finding.title).to.equal("Crypto mining on the payments host ?");
    expect(JSON.parse(record.rawFinding)).to.have.property(TRUNCATED_MARK);
    expect(strictest.refused.map((refusal) => refusal.action)).to.include("PutItem");
  });
});

/** A document client that keeps items in memory and refuses what `refuse` says, as DynamoDB would. */
function fakeDocuments(refuse: (item: IncidentRecord) => string | undefined) {
  const items = new Map<string, IncidentRecord>();
  const puts: IncidentRecord[] = [];
  const awsError = (name: string) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });
  return {
    items,
    puts,
    documents: {
      put(input: { Item: IncidentRecord }) {
        puts.push(input.Item);
        const refusal = refuse(input.Item);
        if (refusal !== undefined) return Promise.reject(awsError(refusal));
        const current = items.get(input.Item.pk);
        if (current !== undefined && current.status !== "released")
          return Promise.reject(awsError("ConditionalCheckFailedException"));
        items.set(input.Item.pk, input.Item);
        return Promise.resolve({});
      },
      update(input: { Key: { pk: string } }) {
        return Promise.resolve({ Attributes: items.get(input.Key.pk) });
      },
      get(input: { Key: { pk: string } }) {
        return Promise.resolve({ Item: items.get(input.Key.pk) });
      },
    },
  };
}

describe("reliability: the claim's item is always storable", () => {
  const settings = parseSettings(TEST_ENV);
  const holder: Claimant = { requestId: "request-1", expiresAt: Date.now() + 60_000, now: Date.now() };
  const accepted = (event: unknown): InstanceFinding => {
    const result = acceptFindingEvent(event, settings);
    if (!result.accepted) throw new Error(`not accepted: ${result.detail}`);
    return result.finding;
  };
  const steps = {};

  it("an item DynamoDB refuses (ValidationException) is claimed again as its plain version; other errors are not", async () => {
    const finding = accepted(loadEvent("guardduty-ec2-cryptomining"));
    const fake = fakeDocuments((item) => (item.rawFinding.includes("é") ? "ValidationException" : undefined));
    const store = new IncidentStore(fake.documents as never, "incidents");

    const claim = await store.claim(
      finding,
      "pk-1",
      { rawFinding: '{"title":"é"}', dryRun: false, steps },
      holder,
    );

    expect(claim.kind).to.equal("claimed");
    expect(fake.puts).to.have.length(2);
    expect(claim.record.rawFinding).to.include(TRUNCATED_MARK);
    expect(claim.record.finding.instanceId).to.equal(finding.instanceId);
    expect(claim.record.finding.networkInterfaces).to.deep.equal(finding.networkInterfaces);

    const throttled = new IncidentStore(
      fakeDocuments(() => "ProvisionedThroughputExceededException").documents as never,
      "incidents",
    );
    let thrown: unknown;
    await throttled
      .claim(finding, "pk-2", { rawFinding: "{}", dryRun: false, steps }, holder)
      .catch((error) => {
        thrown = error;
      });
    expect((thrown as Error | undefined)?.name).to.equal("ProvisionedThroughputExceededException");
  });

  it("a plain claim that meets an existing incident appends to it (one conditional write, as before)", async () => {
    const finding = accepted(loadEvent("guardduty-ec2-cryptomining"));
    const fake = fakeDocuments((item) => (item.rawFinding.includes("é") ? "ValidationException" : undefined));
    const store = new IncidentStore(fake.documents as never, "incidents");
    const running: Pick<IncidentRecord, "pk" | "status" | "claimedBy" | "claimExpiresAt" | "incidentId"> = {
      pk: "pk-3",
      status: "responding",
      claimedBy: "someone-else",
      claimExpiresAt: holder.expiresAt,
      incidentId: "inc-1",
    };
    fake.items.set("pk-3", running as unknown as IncidentRecord);

    const claim = await store.claim(finding, "pk-3", { rawFinding: '"é"', dryRun: false, steps }, holder);

    expect(claim).to.deep.include({ kind: "appended", why: "running" });
  });

  it("property: for any text in the copied fields, every string of the claim's item (and of its plain version) is well-formed and printable-ASCII in the plain one", async () => {
    const anyText = (max: number) => fc.string({ unit: "binary", maxLength: max });
    const surrogateHeavy = (max: number) =>
      fc.string({
        unit: fc.oneof(
          fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
          fc.constantFrom("😀", "a", "é", "\u0000"),
        ),
        maxLength: max,
      });
    const text = (max: number) => fc.oneof(anyText(max), surrogateHeavy(max));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          title: text(400),
          type: text(128),
          id: text(128),
          eventId: text(128),
          updatedAt: text(64),
          tagKey: text(128).filter((key) => key.length > 0),
          tagValue: text(256),
        }),
        async (texts) => {
          const event = structuredClone(loadEvent("guardduty-ec2-cryptomining")) as {
            id: string;
            detail: Record<string, unknown> & { resource: { instanceDetails: { tags: unknown[] } } };
          };
          event.id = texts.eventId;
          Object.assign(event.detail, {
            title: texts.title,
            type: texts.type,
            id: texts.id,
            updatedAt: texts.updatedAt,
          });
          event.detail.resource.instanceDetails.tags = [{ key: texts.tagKey, value: texts.tagValue }];
          const result = acceptFindingEvent(event, settings);
          if (!result.accepted) return; // exclusion or responder-made tag text: refused, nothing stored
          const finding = result.finding;
          expect(illFormedPaths(finding), "the accepted copy").to.deep.equal([]);
          // The title: at most TITLE_LIMIT code points before the cut mark, never half a pair.
          const [head] = finding.title.split("… (");
          expect([...head!].length).to.be.at.most(TITLE_LIMIT);
          expect(isWellFormed(head!)).to.equal(true);

          const fake = fakeDocuments(() => undefined);
          const store = new IncidentStore(fake.documents as never, "incidents");
          const claim = await store.claim(
            finding,
            "pk",
            { rawFinding: JSON.stringify(event), dryRun: false, steps },
            holder,
          );
          expect(illFormedPaths(fake.puts[0]), "the claim's item").to.deep.equal([]);
          const plain = plainClaim(claim.record);
          expect(illFormedPaths(plain)).to.deep.equal([]);
          expect(JSON.stringify(plain)).to.match(/^[\x20-\x7e]*$/);
        },
      ),
      { numRuns: 300 },
    );
  });
});
