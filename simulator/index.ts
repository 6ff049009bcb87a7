// Local AWS simulator: the public entry point. See README.md beside this file.
export type {
  AutoScalingGroupSpec,
  CreatedInstance,
  CreatedInstanceProfile,
  CreatedVpc,
  FaultController,
  FindingOptions,
  GuardDutyEvent,
  ImageSpec,
  InstanceProfileSpec,
  InstanceSpec,
  InvocationType,
  LambdaInvocation,
  LambdaTarget,
  LaunchTemplateSpec,
  NetworkInterfaceSpec,
  ScenarioBuilder,
  SecurityGroupSpec,
  Simulator,
  StateReader,
  StepFunctionsView,
  TargetGroupSpec,
  VolumeSpec,
  VpcSpec,
} from "./api";
export type {
  BucketLimits,
  CallRecord,
  FaultKind,
  FaultRule,
  LatencyOptions,
  SimulatorOptions,
  StateDurations,
  ThrottlingOptions,
} from "./options";
export { DEFAULT_DURATIONS } from "./options";
export type { StepFunctionsExecution, StepFunctionsThrottling } from "./services/stepFunctions";
export type { HistoryEvent as StepFunctionsHistoryEvent } from "./stepFunctions/history";
export type * as model from "./state/model";
export { startSimulator } from "./simulator";
export { TRIAGE_PROGRAM } from "./services/ssmPrograms";
