// The simulator's STS: GetCallerIdentity answers for whoever signed the request (ir respond records it), needs no
// permission, and refuses a key the simulator does not know.
import { STS } from "@aws-sdk/client-sts";
import { expect } from "chai";

import { startSimulator, type Simulator } from "../../simulator";

describe("simulator STS GetCallerIdentity", () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator();
  });
  after(() => sim.stop());

  const sts = (accessKeyId: string, secretAccessKey = "secret") =>
    new STS({ region: sim.region, endpoint: sim.endpoint, credentials: { accessKeyId, secretAccessKey } });

  it("names the signing principal, even one whose policies allow nothing", async () => {
    const arn = `arn:aws:sts::${sim.accountId}:assumed-role/ir-operator/alice`;
    const credentials = sim.iam.addPrincipal({ name: "alice", arn, policies: [] });
    const identity = await sts(credentials.accessKeyId).getCallerIdentity({});
    expect(identity).to.include({ Account: sim.accountId, Arn: arn });
    expect(identity.UserId).to.match(/^AROA[0-9A-F]{17}:alice$/);
    expect(sim.iam.stats.denied).to.equal(0);
  });

  it("names the administrator for the simulator's own credentials, and refuses an unknown key", async () => {
    const env = sim.env();
    const identity = await sts(env.AWS_ACCESS_KEY_ID ?? "").getCallerIdentity({});
    expect(identity.Arn).to.equal(`arn:aws:iam::${sim.accountId}:user/administrator`);
    expect(identity.UserId).to.match(/^AIDA/);
    const unknown = await sts("AKIAUNKNOWN000000000")
      .getCallerIdentity({})
      .catch((error: Error) => error);
    expect((unknown as Error).name).to.equal("InvalidClientTokenId");
  });
});
