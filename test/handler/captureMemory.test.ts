// The pure decisions of captureMemory (handler/steps/captureMemory.ts), tested without AWS.
import { expect } from "chai";

import {
  memoryGraceMs,
  planMemoryCapture,
  type MemoryCaptureInputs,
} from "../../handler/steps/captureMemory";

const GRACE = { memoryGraceBaseSeconds: 60, memoryGraceSecondsPerGib: 4 };

describe("handler: captureMemory", () => {
  const inputs = (overrides: Partial<MemoryCaptureInputs> = {}): MemoryCaptureInputs => ({
    state: "running",
    architectures: ["x86_64"],
    hypervisor: "nitro",
    memoryMiB: 8192,
    kdumpReady: true,
    hibernationConfigured: false,
    rootDeviceType: "ebs",
    powerOffStops: true,
    ...overrides,
  });
  it("grace = base + per GiB of memory", () => {
    expect(memoryGraceMs(8192, GRACE)).to.equal(92_000);
    expect(memoryGraceMs(262_144, GRACE)).to.equal(1_084_000);
    expect(memoryGraceMs(undefined, GRACE)).to.equal(60_000);
  });
  const table: [string, Partial<MemoryCaptureInputs>, string, RegExp?][] = [
    ["x86_64 Nitro, kdump-ready", {}, "nmi"],
    ["Graviton (Nitro-based: EC2 sends it)", { architectures: ["arm64"], instanceType: "m7g.large" }, "nmi"],
    ["bare metal (no hypervisor value)", { hypervisor: undefined, bareMetal: true }, "nmi"],
    [
      "A1, the one Nitro family without it",
      { architectures: ["arm64"], instanceType: "a1.large" },
      "none",
      /A1/,
    ],
    ["Xen", { hypervisor: "xen" }, "none", /xen hypervisor/],
    ["unknown hypervisor, not bare metal", { hypervisor: undefined }, "none", /unknown hypervisor/],
    ["not kdump-ready", { kdumpReady: false }, "none", /not kdump-ready/],
    ["instance-store root", { rootDeviceType: "instance-store" }, "none", /instance-store/],
    ["already stopped", { state: "stopped" }, "none", /stopped/],
    ["one-time Spot (power-off would terminate)", { powerOffStops: false }, "none", /one-time Spot/],
    [
      "A1 with hibernation",
      { architectures: ["arm64"], instanceType: "a1.large", hibernationConfigured: true },
      "hibernate",
      /A1.*hibernating/,
    ],
    ["not kdump-ready with hibernation", { kdumpReady: false, hibernationConfigured: true }, "hibernate"],
    ["kdump-ready wins over hibernation", { hibernationConfigured: true }, "nmi"],
  ];
  for (const [name, overrides, method, reason] of table) {
    it(`${name}: ${method}`, () => {
      const plan = planMemoryCapture(inputs(overrides), GRACE);
      expect(plan.method).to.equal(method);
      if (reason) expect(plan.reason).to.match(reason);
    });
  }
  it("the NMI plan carries the grace for the instance's memory", () => {
    expect(planMemoryCapture(inputs({ memoryMiB: 65_536 }), GRACE)).to.deep.include({
      method: "nmi",
      graceMs: 316_000,
    });
  });
});
