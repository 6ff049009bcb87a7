// mocha's spec output, closed by the one line CI reads: "N passed, N failed".
import * as Mocha from "mocha";

const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats ?? {};
      // Registered after the spec reporter's own listener, so this prints below its epilogue (and before
      // mocha's --exit ends the process).
      console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ""}`);
    });
  }
}

export = SummaryReporter;
