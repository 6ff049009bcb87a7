// The responder's deployment package exactly as Pulumi builds it from aws.lambda.CallbackFunction: the serialized
// __index.js plus the node_modules folders Pulumi decided to include. The drill runs it, the tests inspect it, the
// benchmark measures it.
import * as fs from "fs";
import * as path from "path";
import { zipSync } from "fflate";

/** Path inside the package -> content. */
export type ArtifactFiles = Map<string, Uint8Array>;

/** The shape of a Pulumi asset or archive as the mocks hand it over (its fields are promises). */
export interface AssetLike {
  text?: Promise<string>;
  path?: Promise<string>;
  assets?: Promise<Record<string, AssetLike>>;
}

/** Reads the `code` input Pulumi gave the aws:lambda/function:Function resource. */
export async function artifactFiles(code: AssetLike, root = process.cwd()): Promise<ArtifactFiles> {
  const files: ArtifactFiles = new Map();
  const add = async (name: string, asset: AssetLike): Promise<void> => {
    if (asset.text !== undefined) {
      files.set(name, Buffer.from(await asset.text, "utf8"));
    } else if (asset.assets !== undefined) {
      for (const [child, inner] of Object.entries(await asset.assets))
        await add(path.posix.join(name, child), inner);
    } else if (asset.path !== undefined) {
      const source = path.resolve(root, await asset.path);
      if (fs.statSync(source).isDirectory()) {
        for (const relative of walk(source)) {
          files.set(path.posix.join(name, relative), fs.readFileSync(path.join(source, relative)));
        }
      } else {
        files.set(name, fs.readFileSync(source));
      }
    } else {
      throw new Error(`unknown asset kind in the Lambda archive at ${name}`);
    }
  };
  if (code.assets === undefined) throw new Error("the function's code is not an AssetArchive");
  for (const [name, asset] of Object.entries(await code.assets)) await add(name, asset);
  return files;
}

function walk(directory: string, prefix = ""): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? walk(path.join(directory, entry.name), relative) : [relative];
  });
}

/** The zip Lambda receives (deflate, default level, as the Pulumi engine writes it). */
export function zipArtifact(files: ArtifactFiles): Uint8Array {
  return zipSync(Object.fromEntries(files), { level: 6 });
}

/** Top-level packages in the archive's node_modules, e.g. ["superstruct"]. */
export function bundledPackages(files: ArtifactFiles): string[] {
  const names = new Set<string>();
  for (const name of files.keys()) {
    const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(name);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names].sort();
}

/** Unpacks the artifact into a directory, as Lambda does under /var/task. */
export function writeArtifact(files: ArtifactFiles, directory: string): void {
  fs.rmSync(directory, { recursive: true, force: true });
  for (const [name, content] of files) {
    const target = path.join(directory, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
}
