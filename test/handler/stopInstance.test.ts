// The pure decisions of stopInstance (handler/steps/stopInstance.ts), tested without AWS.
import { expect } from "chai";

import { planStop } from "../../handler/steps/stopInstance";

describe("handler: stopInstance", () => {
  const ebs = { rootDeviceType: "ebs" };
  const t0 = Date.parse("2026-11-20T08:00:00Z");
  const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
  it("stops a running instance", () =>
    expect(planStop(ebs, "running", {}, t0, 300_000)).to.deep.equal({ action: "stop" }));
  it("is done when stopped", () =>
    expect(planStop(ebs, "stopped", {}, t0, 300_000)).to.deep.include({
      action: "none",
      cannotStop: false,
    }));
  it("waits within the timeout", () =>
    expect(planStop(ebs, "stopping", { requestedAt: at(0) }, t0 + 100_000, 300_000)).to.deep.equal({
      action: "wait",
      deadline: t0 + 300_000,
      force: false,
    }));
  it("forces after the timeout", () =>
    expect(planStop(ebs, "stopping", { requestedAt: at(0) }, t0 + 300_000, 300_000)).to.deep.equal({
      action: "force",
    }));
  it("gives up after a forced stop that also hangs", () =>
    expect(
      planStop(ebs, "stopping", { requestedAt: at(0), forcedAt: at(300) }, t0 + 600_000, 300_000),
    ).to.deep.include({ action: "none", cannotStop: false }));
  it("cannot stop an instance-store root", () =>
    expect(planStop({ rootDeviceType: "instance-store" }, "running", {}, t0, 300_000)).to.deep.include({
      action: "none",
      cannotStop: true,
    }));
  it("stops an instance that powers itself off (kdump) without waiting for a request of its own", () =>
    expect(planStop(ebs, "stopping", {}, t0, 300_000)).to.deep.equal({ action: "stop" }));
});
