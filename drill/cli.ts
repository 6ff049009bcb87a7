// `npm run drill`: a full drill against the built-in AWS simulator (or, with --live, against a deployed stack),
// with a line per step as it ends and the timeline.
import { transitionCost } from "../infra/workflowTransitions";
import { parseArgs } from "util";
import { printFalsePositive, runFalsePositiveDrill } from "./falsePositive";
import { triageNotificationLines } from "../handler/steps/triageSummary";
import { runLiveDrill } from "./liveDrill";
import type { Milestones, ProgressEvent } from "./followIncident";
import { DEFAULT_DRILL_OPTIONS, DrillResult, runDrill } from "./runDrill";

const MILESTONE_LABELS: Record<keyof Milestones, string> = {
  isolated: "isolated (network contained)",
  asFoundSecured: "disk evidence secured (as found)",
  memoryCaptured: "memory captured (kdump powered off)",
  evidenceSecured: "evidence secured (snapshots after the stop)",
  forensicWorkstationReady: "forensic workstation ready",
  serviceRestored: "service restored (replacement healthy)",
  reported: "report delivered",
};

const seconds = (s: number | undefined) => (s === undefined ? "—" : `${s.toFixed(1)} s`);

function printProgress(event: ProgressEvent): void {
  if (event.kind === "phase") console.log(`• ${event.message}`);
  if (event.kind === "step") {
    const mark = { done: "✔", failed: "✘", skipped: "–", running: "…" }[event.record.status];
    const span = `${seconds(event.atSeconds)} → ${seconds(event.endSeconds)}`.padEnd(20);
    console.log(`  ${mark} ${event.name.padEnd(22)} ${span} ${event.record.outcome}`);
  }
  if (event.kind === "milestone")
    console.log(`  ★ ${MILESTONE_LABELS[event.name]} at ${seconds(event.atSeconds)}`);
}

function printTimeline(
  result: Pick<DrillResult, "incidentId" | "instanceId" | "status" | "milestones">,
  clock: string,
): void {
  console.log(`\nIncident ${result.incidentId} (${result.instanceId}): ${result.status}`);
  console.log(`Timeline, ${clock}:`);
  for (const [name, label] of Object.entries(MILESTONE_LABELS) as [keyof Milestones, string][]) {
    console.log(`  ${label.padEnd(42)} ${seconds(result.milestones[name]).padStart(9)}`);
  }
}

function printSummary(result: DrillResult): void {
  printTimeline(result, "in simulated time from the moment the responder received the finding");
  const retried = result.steps.filter((s) => s.attempts > 1).map((s) => s.name);
  console.log(
    `Finding invocations: ${result.invocations} (dead-lettered ${result.deadLettered}); AWS calls: ${result.awsCalls}; ` +
      `cold start on this machine (wall clock, not scaled) ${result.coldStartsMs.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}` +
      (retried.length ? `; steps resumed: ${retried.join(", ")}` : ""),
  );
  const run = result.execution;
  if (run !== undefined) {
    const passes = Object.values(run.passes).reduce((sum, count) => sum + count, 0);
    const waits = Object.values(run.waits).reduce((sum, count) => sum + count, 0);
    console.log(
      `Execution ${run.name}: ${run.status}; ${run.transitions} state transitions ` +
        `(USD ${transitionCost(run.transitions).toFixed(4)}), ${passes} Task passes (${waits} after a Wait), ` +
        `${run.failedTasks} failed; Lambda time in Tasks ${run.taskSeconds.toFixed(1)} s simulated`,
    );
  }
  console.log(
    `IAM: ${result.iam.evaluated} calls evaluated against the stack's synthesized policies, ${result.iam.denied} denied` +
      result.iam.denials.map((denial) => `\n  denied: ${denial}`).join(""),
  );
  console.log(`\n${triageNotificationLines(result.triage).join("\n")}`);
  if (result.notification) {
    console.log("\nNotification sent:\n" + result.notification.replace(/^/gm, "  | "));
  }
  console.log(`\nReport, timeline, AWS call log and responder log: ${result.outputDir}`);
}

async function main(): Promise<void> {
  // The SDK's notice that Node 20 support ends in 2027 says nothing about the drill.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: DEFAULT_DRILL_OPTIONS.stackFile },
      "time-scale": { type: "string", default: String(DEFAULT_DRILL_OPTIONS.timeScale) },
      latency: { type: "string", default: String(DEFAULT_DRILL_OPTIONS.latencyMs) },
      output: { type: "string", default: DEFAULT_DRILL_OPTIONS.outputRoot },
      live: { type: "boolean", default: false },
      instance: { type: "string" },
      table: { type: "string" },
      "wait-minutes": { type: "string", default: "30" },
      "false-positive": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(`Usage:
  npm run drill -- [--stack Pulumi.dev.yaml] [--time-scale 10] [--latency 50] [--output drill-output]
      Runs the responder's deployment package against the built-in AWS simulator and prints the timeline.
  npm run drill -- --live --instance i-... --table <incidentTable output> [--wait-minutes 30]
      Drills a deployed stack: puts a drill finding about the instance (which must be tagged ir:drill=true) on the
      default event bus of the account and region your AWS settings name, and follows the response.
  npm run drill -- --false-positive [--stack ...] [--time-scale 10] [--latency 50]
      Against the simulator: responds, then releases the instance as an operator (ir release, the operator policy
      only) and prints it back in service, compared attribute by attribute with the instance as found.`);
    return;
  }
  if (values.live) {
    if (!values.instance || !values.table)
      throw new Error("--live needs --instance i-... and --table <incidentTable>");
    const minutes = Number(values["wait-minutes"]);
    if (!(minutes > 0 && minutes <= 240)) throw new Error("--wait-minutes must be a number from 1 to 240");
    console.log(
      `Live drill of ${values.instance} (a real response: it will be isolated, stopped and snapshotted); ` +
        "seconds are real, from the finding being put on the bus",
    );
    const result = await runLiveDrill({
      instanceId: values.instance,
      incidentTable: values.table,
      wallLimitMs: minutes * 60_000,
      onProgress: printProgress,
    });
    printTimeline(result, "in real time from the moment the finding was put on the event bus");
    if (result.status !== "completed") process.exitCode = 1;
    return;
  }
  const timeScale = Number(values["time-scale"]);
  const latencyMs = Number(values.latency);
  if (!(timeScale >= 1 && timeScale <= 200)) throw new Error("--time-scale must be a number from 1 to 200");
  if (!(latencyMs >= 0 && latencyMs <= 5000))
    throw new Error("--latency must be a number of ms from 0 to 5000");
  console.log(
    `Drill against the built-in AWS simulator (time x${timeScale}, ${latencyMs} ms per AWS call): ` +
      "seconds are simulated unless marked wall clock",
  );
  if (values["false-positive"]) {
    const options = {
      ...DEFAULT_DRILL_OPTIONS,
      stackFile: values.stack,
      timeScale,
      latencyMs,
      onProgress: printProgress,
    };
    process.exitCode = printFalsePositive(await runFalsePositiveDrill(options));
    return;
  }
  const result = await runDrill({
    ...DEFAULT_DRILL_OPTIONS,
    stackFile: values.stack,
    timeScale,
    latencyMs,
    outputRoot: values.output,
    onProgress: printProgress,
  });
  printSummary(result);
  if (result.status !== "completed" || result.deadLettered > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`drill failed: ${error instanceof Error ? error.message : String(error)}`);
  // A failure while the stack was being set up can leave the simulator and dynalite listening: end here.
  process.exit(1);
});
