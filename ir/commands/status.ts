// ir status (being built: issue 13).
import type { Command } from "commander";

import { operatorAction } from "../action";
import { EXIT } from "../exitCodes";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("status (not yet built)")
    .action(
      operatorAction((context) => {
        context.output.error("status is not built yet");
        return Promise.resolve(EXIT.failed);
      }),
    );
}
