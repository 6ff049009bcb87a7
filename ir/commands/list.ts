// ir list (being built: issue 13).
import type { Command } from "commander";

import { operatorAction } from "../action";
import { EXIT } from "../exitCodes";

export function registerList(program: Command): void {
  program
    .command("list")
    .description("list (not yet built)")
    .action(
      operatorAction((context) => {
        context.output.error("list is not built yet");
        return Promise.resolve(EXIT.failed);
      }),
    );
}
