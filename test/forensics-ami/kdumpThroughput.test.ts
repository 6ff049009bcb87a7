// The kdump VM proof's throughput figures come from vm-proof/kdump-throughput.sh: these run its functions on a
// capture kernel's console as the proof saw it (lines cut from a real run, carriage returns and all).
import { expect } from "chai";
import { rmSync, writeFileSync } from "fs";
import { join } from "path";
import { FORENSICS_AMI_DIR, runFunction, tempDir } from "./scriptRunner";

const THROUGHPUT = join(FORENSICS_AMI_DIR, "vm-proof", "kdump-throughput.sh");

const DMESG_RUN = [
  "[   20.323587] ir-kdump[266]: running makedumpfile --dump-dmesg /proc/vmcore /var/crash/202612070228/dmesg.202612070228.",
  "[   20.451171] ir-kdump[306]: The kernel version is not supported.",
  "[   20.468701] ir-kdump[306]: makedumpfile Completed.",
  "[   20.469713] ir-kdump[266]: kdump-config: saved dmesg content in /var/crash/202612070228.",
];
const START =
  "[   20.592220] ir-kdump[266]: running makedumpfile -l -d 17 -F /proc/vmcore | compress > /var/crash/202612070228/dump-incomplete.";
const PROGRESS =
  "[   25.983896] ir-kdump[320]: Checking for memory holes : [100.0 %] |\rCopying data : [ 71.3 %] \\ eta: 1s\rCopying data : [100.0 %] - eta: 0s";
const COMPLETED = "[   26.009089] ir-kdump[320]: makedumpfile Completed.";
const SAVED = "[   26.338814] ir-kdump[230]: ir-kdump: dump saved in /var/crash; powering off";

function console(lines: string[]): string {
  return lines.map((line) => `${line}\r\n`).join("");
}

describe("kdump VM proof: throughput from the capture kernel's console", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("throughput");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const captureTimes = (lines: string[]) => {
    const log = join(dir, "serial.log");
    writeFileSync(log, console(lines));
    return runFunction(THROUGHPUT, `capture_times "${log}"`);
  };

  it("times makedumpfile from its start to its own 'Completed.' and to 'dump saved', skipping the dmesg run", () => {
    const result = captureTimes([
      "[    0.000000] Linux version 6.1.0-50-amd64",
      ...DMESG_RUN,
      START,
      PROGRESS,
      COMPLETED,
      SAVED,
    ]);
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout.trim()).to.equal("20.592220 26.009089 26.338814");
  });

  it("fails, naming the line, when the start, the completion or the save is missing", () => {
    const cases: [string[], string][] = [
      [[...DMESG_RUN, COMPLETED, SAVED], "running makedumpfile ... dump-incomplete"],
      [[START, PROGRESS, SAVED], "makedumpfile Completed."],
      [[START, PROGRESS, COMPLETED], "ir-kdump: dump saved"],
      [[START.replace("[   20.592220] ", ""), COMPLETED, SAVED], "running makedumpfile ... dump-incomplete"],
    ];
    for (const [lines, missing] of cases) {
      const result = captureTimes(lines);
      expect(result.status, missing).to.equal(1);
      expect(result.stderr).to.contain(missing);
    }
  });

  it("fails on a console log it cannot read", () => {
    const result = runFunction(THROUGHPUT, `capture_times "${join(dir, "absent.log")}"`);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain("no console log");
  });

  it("reads the dump level and compression from MAKEDUMP_ARGS as makedumpfile does", () => {
    const cases: [string, string][] = [
      ["-l -d 17", "17 lzo"],
      ["-c -d 31", "31 zlib"],
      ["-d 1 -z", "1 zstd"],
      ["-p -d 31 -F", "31 snappy"],
      ["-d 17", "17 none"],
    ];
    for (const [args, expected] of cases) {
      const result = runFunction(THROUGHPUT, `dump_settings "${args}"`);
      expect(result.stdout.trim(), args).to.equal(expected);
    }
    const missing = runFunction(THROUGHPUT, `dump_settings "-l"`);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain("no dump level");
  });

  it("writes one JSON object: numbers stay numbers; a value it cannot quote safely is refused", () => {
    const result = runFunction(
      THROUGHPUT,
      `throughput_json accelerator=tcg dumpLevel=17 makedumpfileSeconds=5.42 makedumpArgs="-l -d 17" delta=-1.5`,
    );
    expect(result.status, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.deep.equal({
      accelerator: "tcg",
      dumpLevel: 17,
      makedumpfileSeconds: 5.42,
      makedumpArgs: "-l -d 17",
      delta: -1.5,
    });
    const quoted = runFunction(THROUGHPUT, `throughput_json 'name=a"b'`);
    expect(quoted.status).to.equal(1);
    expect(quoted.stderr).to.contain("bad pair");
    const badKey = runFunction(THROUGHPUT, `throughput_json '1x=2'`);
    expect(badKey.status).to.equal(1);
  });

  it("divides and subtracts in floating point, refusing a zero divisor", () => {
    expect(runFunction(THROUGHPUT, `divide 363222502 21537751.04`).stdout.trim()).to.equal("16.86");
    expect(runFunction(THROUGHPUT, `divide 2048 21032.96 3`).stdout.trim()).to.equal("0.097");
    expect(runFunction(THROUGHPUT, `difference 20.592220 26.009089`).stdout.trim()).to.equal("5.42");
    expect(runFunction(THROUGHPUT, `difference 0 5.42 1024`).stdout.trim()).to.equal("5550.08");
    expect(runFunction(THROUGHPUT, `divide 1 0`).status).to.equal(1);
  });

  it("counts what a later snapshot adds: the changed 512 KiB blocks, a short last block too", () => {
    const block = 512 * 1024;
    const before = Buffer.alloc(4 * block + 100);
    const after = Buffer.from(before);
    after[block + 7] = 1; // block 1
    after[3 * block] = 1; // block 3, twice
    after[3 * block + 9] = 1;
    after[4 * block + 99] = 1; // the short last block
    writeFileSync(join(dir, "as-found.img"), before);
    writeFileSync(join(dir, "after.img"), after);
    const changed = (a: string, b: string) =>
      runFunction(THROUGHPUT, `changed_bytes "${join(dir, a)}" "${join(dir, b)}" ${block}`).stdout.trim();
    expect(changed("as-found.img", "after.img")).to.equal(String(3 * block));
    expect(changed("as-found.img", "as-found.img")).to.equal("0");
  });
});
