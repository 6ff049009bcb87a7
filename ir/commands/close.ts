// ir close (being built: issue 13).
import type { Command } from "commander";

import { operatorAction } from "../action";
import { EXIT } from "../exitCodes";

export function registerClose(program: Command): void {
  program
    .command("close")
    .description("close (not yet built)")
    .action(
      operatorAction((context) => {
        context.output.error("close is not built yet");
        return Promise.resolve(EXIT.failed);
      }),
    );
}
