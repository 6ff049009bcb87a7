// The pure decisions of step passes (handler/stepTask.ts), tested without AWS.
import { expect } from "chai";

import { undeclaredWrites } from "../../handler/stepTask";

describe("handler: step passes", () => {
  it("a step that changes a fact it does not declare is caught; its own and the shared lists are not", () => {
    const before = JSON.stringify({ instance: { state: "running" }, problems: ["a"] });
    expect(
      undeclaredWrites(before, { instance: { state: "running" } as never, problems: ["a", "b"] }, []),
    ).to.deep.equal([]);
    expect(undeclaredWrites(before, { instance: { state: "stopped" } as never }, [])).to.deep.equal([
      "instance",
    ]);
    expect(
      undeclaredWrites(before, { instance: { state: "running" } as never, stop: {} }, ["stop"]),
    ).to.deep.equal([]);
    expect(
      undeclaredWrites(before, { instance: { state: "running" } as never, stop: {} }, ["memory"]),
    ).to.deep.equal(["stop"]);
  });
});
