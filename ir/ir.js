#!/usr/bin/env node
// The `ir` bin: runs ir/cli.ts through ts-node (transpile only), so it needs the repository's devDependencies
// (ts-node, typescript, @aws-sdk/client-lambda) installed: README "Operations".
require("ts-node").register({
  transpileOnly: true,
  project: require("path").join(__dirname, "..", "tsconfig.json"),
});
require("./cli.ts")
  .runIr(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
