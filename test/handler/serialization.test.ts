import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { createResponder } from "../../handler";
import {
  describeError,
  InstanceGoneError,
  InvalidSettingError,
  isResponderError,
  StepFailedError,
} from "../../handler/errors";

describe("handler: closure serialization of createResponder", function () {
  this.timeout(120_000);

  it("serializes as a callback factory, requiring the SDK and the logger at run time", async () => {
    // prepare / act
    const serialized = await pulumi.runtime.serializeFunction(createResponder, { isFactoryFunction: true });

    // assess: the SDK and the logger come from the Lambda runtime and the Powertools layer, by require().
    expect(serialized.text).to.include('require("@aws-sdk/client-ec2")');
    expect(serialized.text).to.include('require("@aws-lambda-powertools/logger")');
    expect(serialized.text).to.not.match(/native code/);
  });

  it("keeps our errors' message, cause and stack once serialized (Pulumi calls Error without `new`)", async () => {
    // prepare: what the Lambda builds, from the serialized code, as Lambda's runtime loads it.
    const serialized = await pulumi.runtime.serializeFunction(
      () => () => {
        const cause = new Error("EC2 said no");
        return [
          new InvalidSettingError("POLL_INTERVAL_SECONDS", "is not a number"),
          new StepFailedError("cutAccess", { cause }),
          new InstanceGoneError("i-0abc", { cause }),
        ].map((error) => ({
          description: describeError(error),
          message: error.message,
          hasCause: error.cause === cause,
          stack: typeof error.stack,
          ours: isResponderError(error),
        }));
      },
      { isFactoryFunction: true },
    );
    const module = { exports: {} as Record<string, () => unknown> };
    const load = vm.runInThisContext(`(function (exports, require, module) {${serialized.text}\n})`) as (
      ...args: unknown[]
    ) => void;
    load(module.exports, require, module);

    // act
    const errors = module.exports[serialized.exportName]!() as { description: string; message: string }[];

    // assess: Lambda's runtime reports an error by its name, message and stack; describeError reads the same.
    expect(errors).to.deep.equal([
      {
        description: "InvalidSettingError: setting POLL_INTERVAL_SECONDS: is not a number",
        message: "setting POLL_INTERVAL_SECONDS: is not a number",
        hasCause: false,
        stack: "string",
        ours: true,
      },
      {
        description: "StepFailedError: step cutAccess failed: Error: EC2 said no",
        message: "step cutAccess failed: Error: EC2 said no",
        hasCause: true,
        stack: "string",
        ours: true,
      },
      {
        description: "InstanceGoneError: instance i-0abc no longer exists",
        message: "instance i-0abc no longer exists",
        hasCause: true,
        stack: "string",
        ours: true,
      },
    ]);
  });

  it("captures no Set or Map from module scope (serialized, their methods throw 'incompatible receiver')", async () => {
    const serialized = await pulumi.runtime.serializeFunction(createResponder, { isFactoryFunction: true });
    expect(serialized.text).to.not.match(/global\.(Set|Map|WeakSet|WeakMap)\.prototype/);
  });

  it("contains no call that terminates instances or deletes volumes or snapshots", async () => {
    const serialized = await pulumi.runtime.serializeFunction(createResponder, { isFactoryFunction: true });
    expect(serialized.text).to.not.match(
      /terminateInstances|deleteVolume|deleteSnapshot|TerminateInstances|DeleteVolume|DeleteSnapshot/,
    );
  });

  it("asks isResponderError, never instanceof ResponderError (false for its subclasses once serialized)", () => {
    const root = path.join(__dirname, "..", "..", "handler");
    const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((file) =>
      file.endsWith(".ts"),
    );
    for (const file of files)
      expect(fs.readFileSync(path.join(root, file), "utf8"), file).to.not.match(/instanceof ResponderError/);
  });

  it("no source file in handler/ names a terminate or delete call", () => {
    const root = path.join(__dirname, "..", "..", "handler");
    const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((file) =>
      file.endsWith(".ts"),
    );
    expect(files.length).to.be.greaterThan(10);
    for (const file of files) {
      const text = fs.readFileSync(path.join(root, file), "utf8");
      expect(text, file).to.not.match(
        /terminateInstances|deleteVolume|deleteSnapshot|deleteSecurityGroup|Terminate|DeleteVolume|DeleteSnapshot/,
      );
    }
  });
});
