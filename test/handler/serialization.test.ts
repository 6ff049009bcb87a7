import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { createResponder } from "../../handler";

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
