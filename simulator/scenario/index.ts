// Scenario builders: put a whole environment in place in a few lines, with explicit ids where a fixture needs
// them, and produce events (GuardDuty findings, EBS completions) from the current state. Each builder is a
// function of the shared ScenarioState; this file only binds them to one simulator's state.
import type { ScenarioBuilder } from "../api";
import type { World } from "../state/world";
import { findingFor, snapshotsCompletedEvent } from "./events";
import { fromFinding } from "./fromFinding";
import { instance } from "./instance";
import { securityGroup, vpc } from "./network";
import {
  autoScalingGroup,
  bucket,
  image,
  instanceProfile,
  kmsAccess,
  launchTemplate,
  ssmParameter,
  targetGroup,
  topic,
} from "./resources";
import type { ScenarioState } from "./state";

export function createScenarioBuilder(world: World): ScenarioBuilder {
  const state: ScenarioState = { world, subnetsNumbered: 0 };
  return {
    vpc: (spec) => vpc(state, spec),
    securityGroup: (spec) => securityGroup(state, spec),
    instanceProfile: (spec) => instanceProfile(state, spec),
    image: (spec) => image(state, spec),
    launchTemplate: (spec) => launchTemplate(state, spec),
    targetGroup: (spec) => targetGroup(state, spec),
    autoScalingGroup: (spec) => autoScalingGroup(state, spec),
    instance: (spec) => instance(state, spec),
    bucket: (name) => bucket(state, name),
    topic: (name) => topic(state, name),
    fromFinding: (event, options) => fromFinding(state, event, options),
    findingFor: (instanceId, options) => findingFor(state, instanceId, options),
    ssmParameter: (name, value) => ssmParameter(state, name, value),
    kmsAccess: (authorize) => kmsAccess(state, authorize),
    snapshotsCompletedEvent: (instanceId, snapshots) => snapshotsCompletedEvent(state, instanceId, snapshots),
  };
}
