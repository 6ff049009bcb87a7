// Runs a command's action with its context and turns whatever it throws into a message and an exit code, so
// every command reports errors the same way (ir/exitCodes.ts).
import type { Command } from "commander";

import { loadOperatorContext, type GlobalOptions, type OperatorContext } from "./context";
import { EXIT, explain, type ExitCode } from "./exitCodes";
import { Output, type Io } from "./output";

/** The streams and the exit code of one run of the program (ir/cli.ts runIr sets it on the root command). */
export interface Run {
  io: Io;
  exitCode: ExitCode;
}
const runs = new WeakMap<Command, Run>();

export function attachRun(program: Command, run: Run): void {
  runs.set(program, run);
}

function runOf(command: Command): Run {
  let root = command;
  while (root.parent) root = root.parent;
  const run = runs.get(root);
  if (!run) throw new Error("ir: a command ran outside runIr");
  return run;
}

/**
 * A commander action for a command that works against the stack: `handler` gets the context, the command's
 * positional arguments and its own options, and returns the exit code (ok when it returns nothing).
 */
export function operatorAction<Options>(
  handler: (context: OperatorContext, args: string[], options: Options) => Promise<ExitCode | void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const run = runOf(command);
    const globals = command.optsWithGlobals<GlobalOptions>();
    try {
      const context = loadOperatorContext(globals, run.io);
      const positional = args.slice(0, -2).flat() as string[];
      run.exitCode = (await handler(context, positional, command.opts() as Options)) ?? EXIT.ok;
    } catch (error) {
      const { message, exitCode } = explain(error);
      new Output(run.io, globals.json === true).error(message);
      run.exitCode = exitCode;
    }
  };
}
