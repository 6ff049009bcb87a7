// ir release <incident>: put an instance back in service after a false positive (ir/release/).
import type { Command } from "commander";

import { operatorAction } from "../action";
import { usage } from "../exitCodes";
import { releaseIncident, type ReleaseResult } from "../release/release";
import { waitsFrom } from "../release/run";

interface ReleaseFlags {
  reason: string;
  standalone?: boolean;
  archiveFinding?: boolean;
  waitDelay: string;
}

function humanLines(result: ReleaseResult): string[] {
  const { release } = result;
  const heading = result.dryRun
    ? `${result.incidentId}: release planned (--dry-run: nothing changed); calls it would make:`
    : `${result.incidentId}: released; ${result.instanceId} is back as found`;
  return [
    heading,
    ...(result.dryRun ? result.calls.map((call) => `  ${call}`) : []),
    "Undone:",
    ...release.undone.map((line) => `  ${line}`),
    "Kept:",
    ...release.kept.map((line) => `  ${line}`),
    ...result.notes,
  ];
}

export function registerRelease(program: Command): void {
  program
    .command("release")
    .description(
      "undo every change a response recorded, after a false positive: groups, profile, attributes, volumes, " +
        "state, target groups and Auto Scaling group; the evidence is kept",
    )
    .argument(
      "<incident>",
      "the incident id (inc-<time>-i-<instance>), or the instance id for its latest incident",
    )
    .requiredOption("--reason <text>", "why the finding was a false positive (recorded and notified)")
    .option("--standalone", "leave the instance out of its Auto Scaling group (its replacement serves)")
    .option("--archive-finding", "archive the GuardDuty finding")
    .option("--wait-delay <seconds>", "shortest delay between looks while waiting (volumes, the start)", "5")
    .action(
      operatorAction<ReleaseFlags>(async (context, [incidentId], flags) => {
        const delay = Number(flags.waitDelay);
        if (!Number.isFinite(delay) || delay <= 0)
          throw usage("--wait-delay must be a positive number of seconds");
        const result = await releaseIncident(context, incidentId ?? "", {
          reason: flags.reason,
          standalone: flags.standalone === true,
          archiveFinding: flags.archiveFinding === true,
          waits: waitsFrom(delay),
        });
        context.output.result(result, () => humanLines(result));
      }),
    );
}
