// What Systems Manager authorizes for the Run Command actions the simulator serves (Service Authorization Reference,
// "Actions defined by AWS Systems Manager"): SendCommand on the document (required) and on each instance, whose ARN
// is EC2's (arn:aws:ec2:REGION:ACCOUNT:instance/ID), with the instance's tags as aws:ResourceTag/* and
// ssm:resourceTag/*; GetCommandInvocation supports no resource-level permissions (`*` only); CreateDocument and
// DescribeDocument act on the document.
import type { World } from "../state/world";
import { tagContext, text, texts, wildcard, type Builder, type Params } from "./checkBuilder";

const documentArn = (world: World, params: Params, field: string): string => {
  const name = text(params[field]) ?? "";
  // A document is named by its name or its ARN; either is authorized on the ARN.
  return name.startsWith("arn:") ? name : `arn:aws:ssm:${world.region}:${world.accountId}:document/${name}`;
};

export const SSM: Record<string, Builder> = {
  CreateDocument: (checks, params, world) =>
    void checks.add("ssm:CreateDocument", documentArn(world, params, "Name")),
  DescribeDocument: (checks, params, world) =>
    void checks.add("ssm:DescribeDocument", documentArn(world, params, "Name")),
  SendCommand: (checks, params, world) => {
    checks.add("ssm:SendCommand", documentArn(world, params, "DocumentName"));
    for (const instanceId of texts(params.InstanceIds)) {
      const tags = world.instances.get(instanceId)?.tags;
      checks.add(
        "ssm:SendCommand",
        `arn:aws:ec2:${world.region}:${world.accountId}:instance/${instanceId}`,
        tagContext(tags, "aws:ResourceTag/", "ssm:resourceTag/"),
      );
    }
  },
  GetCommandInvocation: wildcard("ssm:GetCommandInvocation"),
};
