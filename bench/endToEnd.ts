// Ours against the blog flow, end to end, on the same workload in the same simulator at the same time scale,
// alternating run by run so machine noise hits both alike.
import { AWS_TYPICAL_DURATIONS, TIME_SCALES } from "./model";
import { runBaseline, runOurs, type Milestones, type ResponseRun } from "./responseRuns";
import { referenceWorkload, withBench } from "./scenario";
import { median } from "./stats";

export type MilestoneName = keyof Milestones;
export const MILESTONES: readonly MilestoneName[] = [
  "isolated",
  "asFoundSecured",
  "memoryCaptured",
  "evidenceSecured",
  "workstationReady",
  "serviceRestored",
  "complete",
];

export interface SideSummary {
  /** Median over the repetitions of each milestone (simulated ms since the handler started). */
  readonly medians: Partial<Record<MilestoneName, number>>;
  readonly memoryDumped: boolean[];
  readonly volumesOnWorkstation: number;
  readonly volumes: number;
  readonly awsCalls: number;
  readonly cpuMsMedian: number;
  readonly outcomes: string[];
  /** Ours: medians over the repetitions of what the Lambda and the state machine did per incident. */
  readonly workflow?: WorkflowSummary;
}

interface WorkflowSummary {
  /** Lambda billed seconds per incident (simulated): the finding's invocation + the Tasks' durations. */
  readonly billedSeconds: number;
  /** The finding's invocation alone, simulated ms. */
  readonly triggerMs: number;
  readonly taskSeconds: number;
  readonly lambdaInvocations: number;
  readonly taskPasses: number;
  readonly waits: number;
  readonly transitions: number;
  readonly estimatedTransitions: number;
  readonly usd: number;
  readonly startExecutionCalls: number;
  readonly failedTasks: number;
}

export interface EndToEndResult {
  readonly scenario: string;
  readonly kdumpReady: boolean;
  readonly timeScale: number;
  readonly repetitions: number;
  readonly ours: SideSummary;
  readonly baseline: SideSummary;
  readonly runs: { ours: ResponseRun; baseline: ResponseRun }[];
}

function summarizeWorkflow(runs: readonly ResponseRun[]): WorkflowSummary | undefined {
  const workflows = runs.flatMap((run) => (run.workflow === undefined ? [] : [run.workflow]));
  if (workflows.length === 0) return undefined;
  const of = (value: (workflow: (typeof workflows)[number]) => number | undefined) =>
    median(workflows.map(value).filter((entry) => entry !== undefined));
  return {
    billedSeconds: of((workflow) => workflow.billedSeconds),
    triggerMs: of((workflow) => workflow.triggerMs),
    taskSeconds: of((workflow) => workflow.execution?.taskSeconds),
    lambdaInvocations: of((workflow) => workflow.lambdaInvocations),
    taskPasses: of((workflow) => workflow.execution?.taskPasses),
    waits: of((workflow) => workflow.execution?.waits),
    transitions: of((workflow) => workflow.execution?.transitions),
    estimatedTransitions: of((workflow) => workflow.execution?.estimatedTransitions),
    usd: of((workflow) => workflow.execution?.usd),
    startExecutionCalls: of((workflow) => workflow.startExecutionCalls),
    failedTasks: of((workflow) => workflow.execution?.failedTasks),
  };
}

export function summarize(runs: readonly ResponseRun[]): SideSummary {
  const medians: Partial<Record<MilestoneName, number>> = {};
  for (const name of MILESTONES) {
    const values = runs.map((run) => run.milestones[name]).filter((value) => value !== undefined);
    if (values.length === runs.length) medians[name] = median(values);
  }
  const workflow = summarizeWorkflow(runs);
  return {
    medians,
    memoryDumped: runs.map((run) => run.memoryDumped),
    volumesOnWorkstation: median(runs.map((run) => run.volumesOnWorkstation)),
    volumes: median(runs.map((run) => run.volumes)),
    awsCalls: median(runs.map((run) => run.awsCalls)),
    cpuMsMedian: median(runs.map((run) => run.cpuMs)),
    outcomes: runs.map((run) => run.outcome),
    ...(workflow === undefined ? {} : { workflow }),
  };
}

/** Ours alone on the reference workload at a given time scale (the before/after CPU check). */
export interface OursAtScale {
  readonly scenario: string;
  readonly kdumpReady: boolean;
  readonly timeScale: number;
  readonly repetitions: number;
  readonly ours: SideSummary;
  readonly runs: ResponseRun[];
}

export async function measureOursAtScale(
  kdumpReady: boolean,
  repetitions: number,
  timeScale: number,
): Promise<OursAtScale> {
  return withBench({ timeScale, durations: AWS_TYPICAL_DURATIONS }, async (harness) => {
    const runs: ResponseRun[] = [];
    for (let index = 0; index < repetitions; index += 1)
      runs.push(await runOurs(harness, referenceWorkload(harness, { kdumpReady })));
    return {
      scenario: kdumpReady ? "kdump-ready instance" : "instance without kdump",
      kdumpReady,
      timeScale,
      repetitions,
      ours: summarize(runs),
      runs,
    };
  });
}

export async function measureEndToEnd(kdumpReady: boolean, repetitions: number): Promise<EndToEndResult> {
  const timeScale = TIME_SCALES.endToEnd;
  return withBench({ timeScale, durations: AWS_TYPICAL_DURATIONS }, async (harness) => {
    const runs: { ours: ResponseRun; baseline: ResponseRun }[] = [];
    for (let index = 0; index < repetitions; index += 1) {
      const ours = await runOurs(harness, referenceWorkload(harness, { kdumpReady }));
      const baseline = await runBaseline(harness, referenceWorkload(harness, { kdumpReady }));
      runs.push({ ours, baseline });
    }
    return {
      scenario: kdumpReady ? "kdump-ready instance" : "instance without kdump",
      kdumpReady,
      timeScale,
      repetitions,
      ours: summarize(runs.map((run) => run.ours)),
      baseline: summarize(runs.map((run) => run.baseline)),
      runs,
    };
  });
}
