import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { CONFIG_KEYS } from "../../infra/config";

describe("README configuration reference", () => {
  const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
  const reference = readme.slice(readme.indexOf("## Configuration reference"));

  it("documents every key the program accepts, with a pulumi config set example", () => {
    for (const key of CONFIG_KEYS) {
      expect(reference, key).to.match(new RegExp(`^\\| \`${key}\` \\|.*pulumi config set`, "m"));
    }
  });

  it("documents no key the program would refuse", () => {
    const documented = [...reference.matchAll(/^\| `([A-Za-z:]+)` \|/gm)].map((m) => m[1]);
    for (const key of documented) expect([...CONFIG_KEYS, "aws:region"], String(key)).to.include(key);
  });
});
