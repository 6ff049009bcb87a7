// Elastic Load Balancing v2 (awsQuery): target groups, target health, register and deregister (with draining).
import {
  CreateTargetGroup$,
  DeregisterTargets$,
  DescribeTargetGroups$,
  DescribeTargetHealth$,
  RegisterTargets$,
  type CreateTargetGroupInput,
  type CreateTargetGroupOutput,
  type DeregisterTargetsInput,
  type DeregisterTargetsOutput,
  type DescribeTargetGroupsInput,
  type DescribeTargetGroupsOutput,
  type DescribeTargetHealthInput,
  type DescribeTargetHealthOutput,
  type RegisterTargetsInput,
  type RegisterTargetsOutput,
  type TargetGroup as ElbTargetGroup,
  type TargetHealthReasonEnum,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AwsError } from "../errors";
import { deregisterTarget, registerTarget, targetHealth } from "../lifecycle/targets";
import { createTargetGroup } from "../state/create";
import type { TargetGroup } from "../state/model";
import type { World } from "../state/world";
import { awsQueryEndpoint, defineOperation, type QueryEndpoint } from "../wire/queryProtocol";

/** A target group as DescribeTargetGroups shows it (the health-check settings are ELBv2's defaults). */
function renderTargetGroup(g: TargetGroup): ElbTargetGroup {
  return {
    TargetGroupArn: g.targetGroupArn,
    TargetGroupName: g.targetGroupName,
    Protocol: g.protocol as ElbTargetGroup["Protocol"],
    Port: g.port,
    VpcId: g.vpcId,
    TargetType: g.targetType,
    HealthCheckProtocol: "HTTP",
    HealthCheckPort: "traffic-port",
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: 30,
    HealthCheckTimeoutSeconds: 5,
    HealthyThresholdCount: 5,
    UnhealthyThresholdCount: 2,
    HealthCheckPath: "/",
    Matcher: { HttpCode: "200" },
    LoadBalancerArns: g.loadBalancerArns,
    IpAddressType: "ipv4",
  };
}

export function elbv2Endpoint(world: World): QueryEndpoint {
  const groupByArn = (arn: string | undefined): TargetGroup => {
    const group = arn !== undefined ? world.targetGroups.get(arn) : undefined;
    if (!group) throw new AwsError("TargetGroupNotFound", `Target groups '${arn ?? ""}' not found`);
    return group;
  };
  return awsQueryEndpoint(
    "elasticloadbalancing",
    "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
    {
      DescribeTargetGroups: defineOperation<DescribeTargetGroupsInput, DescribeTargetGroupsOutput>(
        DescribeTargetGroups$,
        { mutating: false },
        (input) => {
          const arns = input.TargetGroupArns ?? [];
          const names = input.Names ?? [];
          const missing = [
            ...arns.filter((a) => !world.targetGroups.has(a)),
            ...names.filter((n) => ![...world.targetGroups.values()].some((g) => g.targetGroupName === n)),
          ];
          if (missing.length > 0) {
            throw new AwsError("TargetGroupNotFound", `One or more target groups not found`);
          }
          const groups = [...world.targetGroups.values()].filter(
            (g) =>
              (arns.length === 0 || arns.includes(g.targetGroupArn)) &&
              (names.length === 0 || names.includes(g.targetGroupName)) &&
              (input.LoadBalancerArn === undefined || g.loadBalancerArns.includes(input.LoadBalancerArn)),
          );
          return { TargetGroups: groups.map(renderTargetGroup) };
        },
      ),

      CreateTargetGroup: defineOperation<CreateTargetGroupInput, CreateTargetGroupOutput>(
        CreateTargetGroup$,
        { mutating: true },
        (input) => {
          const name = input.Name ?? "";
          if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) {
            throw new AwsError("ValidationError", `Target group name '${name}' is not valid`);
          }
          if ([...world.targetGroups.values()].some((g) => g.targetGroupName === name)) {
            throw new AwsError(
              "DuplicateTargetGroupName",
              "A target group with the same name exists, but with different settings",
            );
          }
          if ((input.TargetType ?? "instance") !== "instance") {
            throw new AwsError(
              "ValidationError",
              "The simulator models target groups of target type 'instance' only",
            );
          }
          if (!input.VpcId || !world.vpcs.has(input.VpcId)) {
            throw new AwsError("ValidationError", `The VPC ID '${input.VpcId ?? ""}' is not found`);
          }
          const group = createTargetGroup(world, {
            name,
            vpcId: input.VpcId,
            port: input.Port,
            protocol: input.Protocol,
          });
          return { TargetGroups: [renderTargetGroup(group)] };
        },
      ),

      DescribeTargetHealth: defineOperation<DescribeTargetHealthInput, DescribeTargetHealthOutput>(
        DescribeTargetHealth$,
        { mutating: false },
        (input) => {
          const group = groupByArn(input.TargetGroupArn);
          const asked = input.Targets;
          const rows = asked
            ? asked.map((t) => ({
                id: t.Id ?? "",
                port: t.Port ?? group.port,
                target: group.targets.find(
                  (r) => r.id === t.Id && (t.Port === undefined || r.port === t.Port),
                ),
              }))
            : group.targets.map((target) => ({ id: target.id, port: target.port, target }));
          return {
            TargetHealthDescriptions: rows.map(({ id, port, target }) => {
              const health = targetHealth(world, target, id);
              return {
                Target: { Id: id, Port: port },
                HealthCheckPort: String(port),
                TargetHealth: {
                  State: health.state,
                  Reason: health.reason as TargetHealthReasonEnum | undefined,
                  Description: health.description,
                },
              };
            }),
          };
        },
      ),

      RegisterTargets: defineOperation<RegisterTargetsInput, RegisterTargetsOutput>(
        RegisterTargets$,
        { mutating: true },
        (input) => {
          const group = groupByArn(input.TargetGroupArn);
          const targets = input.Targets ?? [];
          for (const target of targets) {
            const instance = world.instances.get(target.Id ?? "");
            if (!instance || instance.state === "terminated" || instance.state === "shutting-down") {
              throw new AwsError(
                "InvalidTarget",
                `The following targets are not valid instances: '${target.Id ?? ""}'`,
              );
            }
            if (instance.vpcId !== group.vpcId) {
              throw new AwsError(
                "InvalidTarget",
                `The following targets are not in the target group VPC '${group.vpcId}': '${instance.instanceId}'`,
              );
            }
          }
          for (const target of targets)
            registerTarget(world, group, target.Id ?? "", target.Port ?? group.port);
          return {};
        },
      ),

      DeregisterTargets: defineOperation<DeregisterTargetsInput, DeregisterTargetsOutput>(
        DeregisterTargets$,
        { mutating: true },
        (input) => {
          const group = groupByArn(input.TargetGroupArn);
          const targets = input.Targets ?? [];
          const unknown = targets.filter(
            (t) => !group.targets.some((r) => r.id === t.Id && (t.Port === undefined || r.port === t.Port)),
          );
          if (unknown.length > 0) {
            throw new AwsError(
              "InvalidTarget",
              `The following targets are not registered in target group '${group.targetGroupName}': ${unknown.map((t) => `'${t.Id ?? ""}'`).join(", ")}`,
            );
          }
          for (const target of targets) deregisterTarget(world, group, target.Id ?? "", target.Port);
          return {};
        },
      ),
    },
  );
}
