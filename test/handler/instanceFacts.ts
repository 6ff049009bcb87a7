// An instance as the incident record describes it (facts.instance), for the tests of the steps' pure decisions.
import type { InstanceFacts } from "../../handler/incidentRecord";

/** A running EBS-backed m6i.large with one ENI in two groups and one volume, with `overrides` applied. */
export function instanceFacts(overrides: Partial<InstanceFacts> = {}): InstanceFacts {
  return {
    instanceType: "m6i.large",
    state: "running",
    availabilityZone: "eu-central-1a",
    subnetId: "subnet-a",
    vpcId: "vpc-1",
    imageId: "ami-1",
    rootDeviceType: "ebs",
    rootDeviceName: "/dev/xvda",
    hibernationConfigured: false,
    tags: { Name: "web-1", "aws:autoscaling:groupName": "asg", "ir:incident": "old" },
    networkInterfaces: [
      {
        networkInterfaceId: "eni-1",
        vpcId: "vpc-1",
        subnetId: "subnet-a",
        originalGroupIds: ["sg-app", "sg-mon"],
      },
    ],
    volumes: [{ volumeId: "vol-1", deviceName: "/dev/xvda", deleteOnTermination: true }],
    ...overrides,
  };
}
