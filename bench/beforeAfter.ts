// Issue 12: the old engine (BEFORE_COMMIT: the whole response inside the responder Lambda) and today's (a Step
// Functions Standard workflow that invokes the Lambda once per step pass) side by side, figure by figure, from
// the same bench run. Pure: it only arranges what the measurements returned.
import type { Before, BeforeEndToEnd } from "./before";
import type { BurstResult } from "./burst";
import type { ContainmentResult, ContainmentSample, ContainmentSide } from "./containment";
import { MILESTONES, summarize, type EndToEndResult, type MilestoneName, type OursAtScale } from "./endToEnd";
import { AS_FOUND_TARGET_TEXT, MILESTONE_TOLERANCE } from "./model";
import { median, millis, ratio, seconds } from "./stats";
import { usd } from "./workflowFigures";

export type Unit = "ms" | "s" | "count" | "usd";

export interface Comparison {
  /** The group the row belongs to (critical path, a scenario, the burst). */
  readonly group: string;
  readonly figure: string;
  readonly unit: Unit;
  readonly before?: number;
  readonly after?: number;
  /** after / before. */
  readonly ratio?: number;
  /** A target on the ratio or the value, when issue 12 sets one; `label` names it in the TARGETS list. */
  readonly target?: { readonly text: string; readonly label: string; readonly met: boolean | undefined };
  readonly note?: string;
}

export const MILESTONE_LABELS: Record<MilestoneName, string> = {
  isolated: "every ENI isolated",
  asFoundSecured: "disk evidence secured (as found)",
  memoryCaptured: "memory captured (crash dump written)",
  evidenceSecured: "evidence secured after the stop (snapshots requested)",
  workstationReady: "forensic workstation ready (volumes attached)",
  serviceRestored: "service restored (replacement healthy)",
  complete: "end to end (last call of the response)",
};

/** The sample with the median time to isolation. */
export const typicalSample = (samples: readonly ContainmentSample[]): ContainmentSample =>
  [...samples].sort((a, b) => a.isolatedMs - b.isolatedMs)[Math.floor(samples.length / 2)]!;

export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || Number.isNaN(value)) return "—";
  switch (unit) {
    case "ms":
      return millis(value);
    case "s":
      return seconds(value);
    case "usd":
      return usd(value);
    case "count":
      return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
}

function row(
  group: string,
  figure: string,
  unit: Unit,
  before: number | undefined,
  after: number | undefined,
  extra: Pick<Comparison, "target" | "note"> = {},
): Comparison {
  const quotient = ratio(after, before);
  return {
    group,
    figure,
    unit,
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
    ...(quotient === undefined ? {} : { ratio: quotient }),
    ...extra,
  };
}

const noWorse = (label: string, before: number | undefined, after: number | undefined) => {
  const quotient = ratio(after, before);
  return {
    text: `at most ${MILESTONE_TOLERANCE.toFixed(2)} x before`,
    label: `${label} at most ${MILESTONE_TOLERANCE.toFixed(2)} x before`,
    met: quotient === undefined ? undefined : quotient <= MILESTONE_TOLERANCE,
  };
};

/** A milestone's row, held to no worse than before (MILESTONE_TOLERANCE); `scenario` names the workload. */
function milestoneRow(
  group: string,
  name: MilestoneName,
  scenario: string,
  timeScale: number,
  before: number | undefined,
  after: number | undefined,
): Comparison {
  const label = MILESTONE_LABELS[name];
  if (name === "asFoundSecured")
    return row(group, label, "s", before, after, {
      note: `new with issue 14 (before: no as-found set); target ${AS_FOUND_TARGET_TEXT}, held at time scale 1 (1b)`,
    });
  if (name === "memoryCaptured")
    return row(group, label, "s", before, after, {
      note: "new with issue 14 (the old bench code did not time it); after the dump comes the stop",
    });
  return row(group, label, "s", before, after, {
    target: noWorse(`${label.split(" (")[0]}, ${scenario}, scale ${timeScale}:`, before, after),
  });
}

/** Lambda billed seconds per incident (simulated): the median of the old engine's incidents, and ours. */
function billedRow(
  group: string,
  before: readonly { readonly billedSeconds: number }[] | undefined,
  after: { readonly billedSeconds: number } | undefined,
  extra: Pick<Comparison, "note"> = {},
): Comparison {
  return row(
    group,
    "Lambda billed per incident (simulated)",
    "s",
    before === undefined || before.length === 0
      ? undefined
      : median(before.map((b) => b.billedSeconds)) * 1000,
    after === undefined ? undefined : after.billedSeconds * 1000,
    extra,
  );
}

/** The critical path: calls (must stay) and time; `withTarget`: the time may not be more than 5% longer. */
function containmentRows(
  after: ContainmentResult,
  before: ContainmentResult | undefined,
  withTarget: boolean,
): Comparison[] {
  const enis = `${after.networkInterfaces} ENI${after.networkInterfaces === 1 ? "" : "s"}`;
  const group = `critical path to isolation, ${enis} (time scale ${after.timeScale}, median of ${after.repetitions})`;
  const sides: [ContainmentSide, string, number][] = [
    ["ours", "untrack hop", 2],
    ["oursDirect", "direct", 1],
  ];
  return sides.flatMap(([side, label, calls]) => {
    const afterCalls = typicalSample(after[side].samples).criticalPathCalls;
    const beforeCalls =
      before === undefined ? undefined : typicalSample(before[side].samples).criticalPathCalls;
    return [
      row(group, `${label}: AWS calls to isolation (must stay ${calls})`, "count", beforeCalls, afterCalls),
      row(
        group,
        `${label}: handler start -> every ENI isolated`,
        "ms",
        before?.[side].medianMs,
        after[side].medianMs,
        withTarget
          ? {
              target: noWorse(
                `isolation at time scale 1, ${label}:`,
                before?.[side].medianMs,
                after[side].medianMs,
              ),
            }
          : {},
      ),
    ];
  });
}

function endToEndRows(after: EndToEndResult, before: BeforeEndToEnd | undefined): Comparison[] {
  const group = `${after.scenario} (time scale ${after.timeScale}, median of ${after.repetitions})`;
  const old = before?.result.ours;
  const ours = after.ours;
  const scenario = after.kdumpReady ? "kdump-ready" : "no kdump";
  const rows: Comparison[] = MILESTONES.map((name) =>
    name === "isolated"
      ? row(group, MILESTONE_LABELS[name], "s", old?.medians[name], ours.medians[name], {
          note: "the handler's CPU x 20 at this scale: the critical-path rows above (time scale 1) are the measure",
        })
      : milestoneRow(group, name, scenario, after.timeScale, old?.medians[name], ours.medians[name]),
  );
  const billing = before?.billing;
  const workflow = ours.workflow;
  rows.push(
    billedRow(group, billing, workflow, {
      note:
        "before: every invocation of the old function (it ran through the memory-dump wait); after: the " +
        "finding's invocation + the Tasks' durations (taskSeconds); simulated, handler CPU x the time scale",
    }),
    row(
      group,
      "Lambda invocations per incident",
      "count",
      billing === undefined || billing.length === 0 ? undefined : median(billing.map((b) => b.invocations)),
      workflow?.lambdaInvocations,
      { note: "before: the finding's + continuations; after: the finding's + one per Task pass" },
    ),
    row(group, "Step Functions state transitions per incident", "count", undefined, workflow?.transitions, {
      note: `estimate for the measured waits (stateTransitions): ${formatValue(workflow?.estimatedTransitions, "count")}`,
    }),
    row(group, "Step Functions cost per incident (transitions)", "usd", undefined, workflow?.usd),
    row(group, "AWS calls of the response", "count", old?.awsCalls, ours.awsCalls, {
      note: "after: EC2, ELBv2, Auto Scaling, IAM, S3, SNS (StartExecution and the Tasks' Invoke apart); before: every call but DynamoDB",
    }),
    row(
      group,
      "memory dump written (runs)",
      "count",
      old?.memoryDumped.filter(Boolean).length,
      ours.memoryDumped.filter(Boolean).length,
    ),
    row(group, "process CPU per run (wall)", "ms", old?.cpuMsMedian, ours.cpuMsMedian, {
      note: `simulator (IAM, Step Functions runner), dynalite and handler together; x ${after.timeScale} in the figures above`,
    }),
  );
  return rows;
}

/** Ours alone at a lower time scale, before and after: how much of a difference is the CPU x scale. */
function cpuCheckRows(after: OursAtScale, before: Before["results"]["cpuCheck"]): Comparison[] {
  const group =
    `${after.scenario}, ours alone (time scale ${after.timeScale}: the CPU check, median of ` +
    `${after.repetitions})`;
  const old = before === undefined ? undefined : summarize(before.runs);
  const ours = after.ours;
  const scenario = after.kdumpReady ? "kdump-ready" : "no kdump";
  const rows = MILESTONES.filter((name) => name !== "isolated").map((name) =>
    milestoneRow(group, name, scenario, after.timeScale, old?.medians[name], ours.medians[name]),
  );
  rows.push(
    billedRow(group, before?.billing, ours.workflow),
    row(group, "process CPU per run (wall)", "ms", old?.cpuMsMedian, ours.cpuMsMedian, {
      note: "simulator (IAM, Step Functions runner), dynalite and handler together; x the time scale in the figures",
    }),
  );
  return rows;
}

function burstRows(after: BurstResult, before: NonNullable<Before["results"]["burst"]>): Comparison[] {
  const group = `burst of ${after.size}, with the untrack hop`;
  const { isolation, completion } = after;
  return [
    row(group, "all isolated (time scale 1)", "s", before.isolation.allIsolatedMs, isolation.allIsolatedMs),
    row(
      group,
      "median isolated (time scale 1)",
      "s",
      before.isolation.medianIsolatedMs,
      isolation.medianIsolatedMs,
    ),
    row(
      group,
      "EC2 calls throttled (isolation window)",
      "count",
      before.isolation.throttledCalls,
      isolation.throttledCalls,
    ),
    row(
      group,
      `all done (time scale ${completion.timeScale})`,
      "s",
      before.completion.allDoneMs,
      completion.allDoneMs,
    ),
    row(
      group,
      `median done (time scale ${completion.timeScale})`,
      "s",
      before.completion.medianDoneMs,
      completion.medianDoneMs,
    ),
    row(group, "failures (completion run)", "count", before.completion.failures, completion.failures),
    row(group, "StartExecution calls (completion run)", "count", undefined, completion.startExecution.calls, {
      note:
        `documented bucket ${completion.startExecution.bucket.capacity}, refill ` +
        `${completion.startExecution.bucket.refillPerSecond}/s: floor ${seconds(completion.startExecution.bucketFloorMs)}`,
    }),
    row(
      group,
      "StartExecution throttled (completion run)",
      "count",
      undefined,
      completion.startExecution.throttled,
    ),
    row(group, "state transitions, whole burst", "count", undefined, completion.executions.transitionsTotal),
    row(group, "Step Functions cost, whole burst", "usd", undefined, completion.executions.usdTotal),
  ];
}

/** Every before/after row of the run (a group is left out when its "after" was not measured). */
export function beforeAfter(
  before: Before,
  after: {
    containment: ContainmentResult;
    containmentThreeEnis: ContainmentResult;
    endToEnd: readonly EndToEndResult[];
    cpuCheck?: OursAtScale;
    bursts: readonly BurstResult[];
  },
): Comparison[] {
  const rows = [
    ...containmentRows(after.containment, before.results.containment, true),
    ...containmentRows(after.containmentThreeEnis, before.results.containmentThreeEnis, false),
  ];
  for (const result of after.endToEnd) {
    const old = before.results.endToEnd?.find((entry) => entry.result.kdumpReady === result.kdumpReady);
    rows.push(...endToEndRows(result, old));
  }
  if (after.cpuCheck !== undefined) rows.push(...cpuCheckRows(after.cpuCheck, before.results.cpuCheck));
  const burst = before.results.burst;
  const same = burst === undefined ? undefined : after.bursts.find((entry) => entry.size === burst.size);
  if (burst !== undefined && same !== undefined) rows.push(...burstRows(same, burst));
  return rows;
}
