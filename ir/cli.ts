// `ir`: the operator's side of the responder (README "Operations"). `npm run ir -- <command>`, or the `ir` bin.
import { Command, CommanderError, Option } from "commander";

import { attachRun, type Run } from "./action";
import { registerClose } from "./commands/close";
import { registerList } from "./commands/list";
import { registerRelease } from "./commands/release";
import { registerRespond } from "./commands/respond";
import { registerStatus } from "./commands/status";
import { EXIT, type ExitCode } from "./exitCodes";
import { processIo, type Io } from "./output";

/** Commands that ship with a command of their own file register here (ir/commands/<name>.ts). */
const REGISTRATIONS: ((program: Command) => void)[] = [
  registerList,
  registerStatus,
  registerRespond,
  registerRelease,
  registerClose,
];

export function buildProgram(io: Io): Command {
  const program = new Command("ir")
    .description("Operate the EC2 incident responder: respond by hand, follow, release and close incidents.")
    .option("--json", "print results as JSON (for scripts)")
    .option("--dry-run", "print the calls a command would make to change AWS, and change nothing")
    .option("--region <region>", "the stack's region (default: IR_REGION, AWS_REGION or the stack's outputs)")
    .option("--stack <stack>", "the Pulumi stack to read outputs from (pulumi stack output --json --stack)")
    .addOption(new Option("--incident-table <name>", "the incidents table (IR_INCIDENT_TABLE)"))
    .addOption(new Option("--state-machine-arn <arn>", "the response state machine (IR_STATE_MACHINE_ARN)"))
    .addOption(new Option("--evidence-bucket <name>", "the evidence bucket (IR_EVIDENCE_BUCKET)"))
    .addOption(new Option("--topic-arn <arn>", "the notification topic (IR_TOPIC_ARN)"))
    .addOption(
      new Option("--responder-function <name>", "the responder Lambda function (IR_RESPONDER_FUNCTION)"),
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  for (const register of REGISTRATIONS) register(program);
  return program;
}

/** Runs `ir` with these arguments (without node and the script) and returns its exit code. */
export async function runIr(argv: readonly string[], io: Io = processIo()): Promise<ExitCode> {
  const program = buildProgram(io);
  const run: Run = { io, exitCode: EXIT.ok };
  attachRun(program, run);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end here too, with exit code 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  return run.exitCode;
}

if (require.main === module) {
  void runIr(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
