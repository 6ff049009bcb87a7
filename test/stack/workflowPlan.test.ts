// The response workflow's order (infra/workflowPlan.ts), read back from the generated definition
// (infra/workflowAnalysis.ts), against the step contracts (handler/workflow.ts): for today's contracts and for random
// dependency graphs.
import { expect } from "chai";
import fc from "fast-check";
import {
  CONTAINMENT_WRITES,
  WORKFLOW_STEP_NAMES,
  WORKFLOW_STEPS,
  writerOf,
  type Fact,
  type WorkflowStep,
} from "../../handler/workflow";
import { factsAvailableTo, stepsEndedBefore } from "../../infra/workflowAnalysis";
import { REPORT, workflowDefinition } from "../../infra/workflowDefinition";
import { responsePlan, topologicalOrder, type Plan } from "../../infra/workflowPlan";
import { ancestors, ancestorsIn, ARGS, deps, statesOf, validate } from "./workflowFixtures";

/** The plan as text: a -> b for a sequence, [x | y] for a parallel. */
function planText(plan: Plan<string>): string {
  if (plan.kind === "step") return plan.step;
  if (plan.kind === "sequence") return plan.items.map(planText).join(" -> ");
  return `[${plan.branches.map(planText).join(" | ")}]`;
}

describe("the step contracts (handler/workflow.ts)", () => {
  it("every fact has one writer: one step, or containment", () => {
    const writers = new Map<Fact, string[]>();
    for (const fact of CONTAINMENT_WRITES) writers.set(fact, ["containment"]);
    for (const step of WORKFLOW_STEP_NAMES) {
      for (const fact of WORKFLOW_STEPS[step].writes as readonly Fact[]) {
        writers.set(fact, [...(writers.get(fact) ?? []), step]);
      }
    }
    expect(
      [...writers].filter(([, by]) => by.length !== 1).map(([fact, by]) => `${fact}: ${by.join(", ")}`),
    ).to.deep.equal([]);
  });

  it("every fact a step reads is written by containment or by a step", () => {
    const unwritten = WORKFLOW_STEP_NAMES.flatMap((step) =>
      (WORKFLOW_STEPS[step].reads as readonly Fact[])
        .filter((fact) => !CONTAINMENT_WRITES.includes(fact) && writerOf(fact) === undefined)
        .map((fact) => `${step} reads ${fact}`),
    );
    expect(unwritten).to.deep.equal([]);
  });

  it("secures the disks as found before anything that can change them: the NMI, hibernation, the stop", () => {
    for (const step of ["captureMemory", "stopInstance", "snapshotVolumes"] as const)
      expect([...ancestors(step)], step).to.include("snapshotAsFound");
  });

  it("no step depends on itself or, through others, on a step that follows it (a DAG)", () => {
    expect(WORKFLOW_STEP_NAMES.filter((step) => ancestors(step).has(step))).to.deep.equal([]);
    expect(topologicalOrder(WORKFLOW_STEP_NAMES, deps)).to.have.length(WORKFLOW_STEP_NAMES.length);
    expect(() => topologicalOrder(["a", "b"], { a: ["b"], b: ["a"] })).to.throw(/cycle/);
  });
});

const PAIRS = (WORKFLOW_STEP_NAMES.length * (WORKFLOW_STEP_NAMES.length - 1)) / 2;

describe("the response workflow's order (responsePlan, read back from the definition)", () => {
  const definition = workflowDefinition(ARGS);
  const endedBefore = stepsEndedBefore(definition);

  it("arranges today's contracts as containment's three independent lines, joined before the attachment and the triage", () => {
    const plan = responsePlan(WORKFLOW_STEP_NAMES, deps);
    console.log(`      plan: ${planText(plan)}`);
    // The disks as found first, then everything that could change them.
    expect(planText(plan)).to.equal(
      "[[snapshotAsFound -> cutAccess -> [replacement | captureMemory -> stopInstance -> snapshotVolumes]" +
        " | launchForensicInstance] -> attachEvidenceVolumes -> triage | captureEvidence]",
    );
  });

  it("starts each step after every step it depends on, directly or not, has ended", () => {
    const early = WORKFLOW_STEP_NAMES.flatMap((step) =>
      [...ancestors(step)]
        .filter((ancestor) => !(endedBefore[step] ?? []).includes(ancestor))
        .map((ancestor) => `${step} may start before ${ancestor} ends`),
    );
    expect(early).to.deep.equal([]);
    // And no more than the series-parallel form needs: attachEvidenceVolumes waits for replacement as well.
    expect(endedBefore.captureEvidence).to.deep.equal([]);
    expect(endedBefore.launchForensicInstance).to.deep.equal([]);
    expect(endedBefore.replacement).to.have.members(["snapshotAsFound", "cutAccess"]);
    expect(endedBefore.captureMemory).to.have.members(["snapshotAsFound", "cutAccess"]);
  });

  it("hands every step the facts it reads: containment's, or those of a step that has ended", () => {
    const missing = WORKFLOW_STEP_NAMES.flatMap((step) => {
      const available = factsAvailableTo(step, endedBefore);
      return (WORKFLOW_STEPS[step].reads as readonly Fact[])
        .filter((fact) => !available.includes(fact))
        .map((fact) => `${step} reads ${fact}`);
    });
    expect(missing).to.deep.equal([]);
  });

  it("writes the report after every step has ended", () => {
    expect(endedBefore[REPORT]).to.have.members([...WORKFLOW_STEP_NAMES]);
  });

  it("the reading catches a definition that starts a step too early (the check can fail)", () => {
    // Planned without attachEvidenceVolumes' dependency on the forensic workstation: it may then start first.
    const careless = responsePlan(WORKFLOW_STEP_NAMES, {
      ...deps,
      attachEvidenceVolumes: deps.attachEvidenceVolumes.filter((d) => d !== "launchForensicInstance"),
    });
    const ended = stepsEndedBefore(workflowDefinition(ARGS, careless));
    expect(ended.attachEvidenceVolumes).not.to.include("launchForensicInstance");
    expect(factsAvailableTo("attachEvidenceVolumes", ended)).not.to.include("forensic");
  });

  it("never drops a dependency, whatever the DAG (random dependencies among the steps)", () => {
    const graph = fc
      .tuple(
        fc.shuffledSubarray([...WORKFLOW_STEP_NAMES], { minLength: WORKFLOW_STEP_NAMES.length }),
        // One flag per pair of steps.
        fc.array(fc.boolean(), { minLength: PAIRS, maxLength: PAIRS }),
      )
      .map(([order, edges]) => {
        // An edge i -> j (j depends on i) only forward in a random order: a DAG, any DAG on these steps.
        const dependencies = Object.fromEntries(order.map((step) => [step, [] as WorkflowStep[]])) as Record<
          WorkflowStep,
          WorkflowStep[]
        >;
        let k = 0;
        for (let j = 0; j < order.length; j++) {
          for (let i = 0; i < j; i++) {
            if (edges[k++]) dependencies[order[j] as WorkflowStep].push(order[i] as WorkflowStep);
          }
        }
        return dependencies;
      });
    fc.assert(
      fc.property(graph, (dependencies) => {
        const plan = responsePlan(WORKFLOW_STEP_NAMES, dependencies);
        const generated = workflowDefinition(ARGS, plan);
        const ended = stepsEndedBefore(generated);
        for (const step of WORKFLOW_STEP_NAMES) {
          for (const ancestor of ancestorsIn(dependencies, step)) {
            if (!(ended[step] ?? []).includes(ancestor))
              throw new Error(`${step} may start before ${ancestor} ends`);
          }
        }
        // Each step exactly once, and all before the report.
        const tasks = statesOf(generated).filter(([name]) =>
          (WORKFLOW_STEP_NAMES as string[]).includes(name),
        );
        if (tasks.length !== WORKFLOW_STEP_NAMES.length) throw new Error("a step is missing or repeated");
        if ((ended[REPORT] ?? []).length !== WORKFLOW_STEP_NAMES.length)
          throw new Error("the report is early");
        const validity = validate(generated);
        if (!validity.isValid) throw new Error(validity.errorsText("\n"));
        return true;
      }),
      { numRuns: 100 },
    );
  });
});
