// The retry helper (handler/retry.ts): how often a call is asked again, which failures, after what pauses.
import { expect } from "chai";

import { retrying } from "../../handler/retry";

/** A call that fails with `failures` in order, then answers "ok"; it counts its calls. */
function scripted(failures: readonly Error[]) {
  const script = {
    calls: 0,
    call: (): Promise<string> => {
      const failure = failures[script.calls];
      script.calls += 1;
      return failure === undefined ? Promise.resolve("ok") : Promise.reject(failure);
    },
  };
  return script;
}

describe("handler: retry", () => {
  const transient = new Error("transient");
  const final = new Error("final");
  const policy = { retries: 3, retryable: (error: unknown) => error === transient, firstDelayMs: 1 };

  it("answers the first success, after as many retryable failures as there are retries", async () => {
    const script = scripted([transient, transient, transient]);
    expect(await retrying(script.call, policy)).to.equal("ok");
    expect(script.calls).to.equal(4);
  });

  it("gives up with the last failure once the retries are used up", async () => {
    const script = scripted([transient, transient, transient, transient]);
    const failure = await retrying(script.call, policy).catch((error: unknown) => error);
    expect(failure).to.equal(transient);
    expect(script.calls).to.equal(4);
  });

  it("lets a failure that is not retryable through at once", async () => {
    const script = scripted([final]);
    const failure = await retrying(script.call, policy).catch((error: unknown) => error);
    expect(failure).to.equal(final);
    expect(script.calls).to.equal(1);
  });

  it("doubles the pause from the first delay, and says which retry comes", async () => {
    const retries: number[] = [];
    const started = Date.now();
    const script = scripted([transient, transient, transient]);
    await retrying(script.call, {
      ...policy,
      firstDelayMs: 20,
      onRetry: (_error, retry) => retries.push(retry),
    });
    expect(retries).to.deep.equal([1, 2, 3]);
    expect(Date.now() - started, "20 + 40 + 80 ms").to.be.at.least(135);
  });
});
