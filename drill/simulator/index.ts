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
export type * as model from "./state/model";
export { startSimulator } from "./simulator";
