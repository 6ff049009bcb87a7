// ir respond (being built: issue 13).
import type { Command } from "commander";

import { operatorAction } from "../action";
import { EXIT } from "../exitCodes";

export function registerRespond(program: Command): void {
  program
    .command("respond")
    .description("respond (not yet built)")
    .action(
      operatorAction((context) => {
        context.output.error("respond is not built yet");
        return Promise.resolve(EXIT.failed);
      }),
    );
}
