// A transpile cache shared by the fault matrix's lanes. ts-node transpiles every TypeScript file a process loads,
// and each lane (a child process) loads the same few hundred: about two seconds of CPU per lane, on a machine the
// lanes already keep busy. With FAULT_MATRIX_TRANSPILE_CACHE naming a directory (the test makes one per run and
// removes it), ts-node's output for a file is kept there and another lane loads it instead of transpiling again.
// Loaded with `-r`, after ts-node/register. Stack traces still point into the TypeScript: the kept output carries
// ts-node's inline source map, handed to the same source-map-support ts-node installs.
import { createHash } from "crypto";
import { readFileSync, renameSync, statSync, writeFileSync } from "fs";
import * as path from "path";

interface CompilableModule {
  _compile(code: string, filename: string): unknown;
}

const directory = process.env.FAULT_MATRIX_TRANSPILE_CACHE;
if (directory !== undefined && directory !== "") install(directory);

function install(directory: string): void {
  // Deprecated, and still how ts-node registers itself.
  const extensions = require.extensions;
  const transpile = extensions[".ts"];
  if (transpile === undefined) throw new Error("transpileCache: load ts-node/register first");
  /** Output loaded from the cache, by file: what source-map-support reads the inline map from. */
  const loaded = new Map<string, string>();
  const sourceMaps = require("@cspotcode/source-map-support") as {
    install(options: { retrieveFile(file: string): string | null }): void;
  };
  sourceMaps.install({ retrieveFile: (file) => loaded.get(file) ?? null });

  extensions[".ts"] = (module, filename) => {
    const { mtimeMs, size } = statSync(filename);
    const key = createHash("sha1").update(`${filename}\0${mtimeMs}\0${size}`).digest("hex");
    const cached = path.join(directory, `${key}.js`);
    let code: string | undefined;
    try {
      code = readFileSync(cached, "utf8");
    } catch {
      // not transpiled yet
    }
    const compilable = module as unknown as CompilableModule;
    if (code !== undefined) {
      loaded.set(filename, code);
      compilable._compile(code, filename);
      return;
    }
    // ts-node transpiles, then compiles the output: keep that output (written whole, then renamed into place,
    // so a lane reading at the same moment never sees half a file).
    const compile = compilable._compile.bind(module);
    compilable._compile = (output, name) => {
      compilable._compile = compile;
      const partial = `${cached}.${process.pid}`;
      writeFileSync(partial, output);
      renameSync(partial, cached);
      return compile(output, name);
    };
    transpile(module, filename);
  };
}
