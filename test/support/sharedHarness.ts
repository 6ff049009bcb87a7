// One harness for a whole describe block, for suites whose tests each make their own instances.
import { startHarness, stopDynamo, type Harness } from "../../testkit/harness";

/**
 * Starts a harness before the block's first test and hands it to `use`; stops it, and the DynamoDB-compatible
 * server, after the block's last test.
 */
export function sharedHarness(use: (harness: Harness) => void): void {
  let started: Harness | undefined;
  before(async function () {
    this.timeout(600_000); // the harness synthesizes the responder's policy (a Pulumi mock run) first
    started = await startHarness();
    use(started);
  });
  after(async () => {
    await started?.stop();
    await stopDynamo();
  });
}
