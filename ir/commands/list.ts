// ir list: the incidents in the table, newest first, with how far each response got.
import type { Command } from "commander";

import type { IncidentRecord } from "../../handler/incidentRecord";
import { operatorAction } from "../action";
import { allIncidents, executionOf } from "../incidents";
import { table } from "../output";

/** Seconds from the claim to the end of network isolation, when it ended. */
function isolatedAfterSeconds(record: IncidentRecord): number | undefined {
  const ended = record.steps.isolateNetwork?.endedAt;
  if (ended === undefined || record.steps.isolateNetwork?.status !== "done") return undefined;
  return (Date.parse(ended) - Date.parse(record.createdAt)) / 1000;
}

/** "guardduty", or "manual by arn:…" for a person's response. */
export function triggerOf(record: IncidentRecord): string {
  const trigger = record.trigger;
  if (trigger === undefined) return "guardduty";
  return trigger.requestedBy === undefined ? trigger.kind : `${trigger.kind} by ${trigger.requestedBy}`;
}

/** One DescribeExecution per incident, a few at a time (Step Functions throttles a burst of them). */
async function inBatches<T, R>(items: readonly T[], map: (item: T) => Promise<R>, size = 8): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size)
    results.push(...(await Promise.all(items.slice(start, start + size).map(map))));
  return results;
}

export function registerList(program: Command): void {
  program
    .command("list")
    .description(
      "list the incidents, newest first: instance, state, trigger, start, isolation time, execution",
    )
    .action(
      operatorAction(async (context) => {
        const records = await allIncidents(context);
        const rows = await inBatches(records, async (record) => ({
          incidentId: record.incidentId,
          instanceId: record.instanceId,
          status: record.status,
          dryRun: record.dryRun,
          trigger: triggerOf(record),
          startedAt: record.createdAt,
          isolatedAfterSeconds: isolatedAfterSeconds(record) ?? null,
          executionStatus: (await executionOf(context, record))?.status ?? null,
        }));
        context.output.result({ incidents: rows }, () =>
          rows.length === 0
            ? [`no incidents in ${context.resources.incidentTableName}`]
            : table(
                ["INCIDENT", "INSTANCE", "STATUS", "TRIGGER", "STARTED", "ISOLATED AFTER", "EXECUTION"],
                rows.map((row) => [
                  row.incidentId,
                  row.instanceId,
                  row.dryRun ? `${row.status} (dry run)` : row.status,
                  row.trigger,
                  row.startedAt,
                  row.isolatedAfterSeconds === null ? "—" : `${row.isolatedAfterSeconds.toFixed(1)} s`,
                  row.executionStatus ?? "—",
                ]),
              ),
        );
      }),
    );
}
