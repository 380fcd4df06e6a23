// What the published package promises the test runners: it ships every file it points at, and
// its Vitest peer range is the set of majors the integration tests run.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { before, test } from "node:test";
import semver from "semver";
import {
  ensureBuilt,
  packedFiles,
  root,
  VITEST_MAJORS,
  vitestDir,
} from "./support.js";

before(() => {
  ensureBuilt();
});

test("every source file a shipped source map names is shipped too", () => {
  // Node (--enable-source-maps), tsx and Vite map waitgraph's frames through these maps; a
  // frame that maps to a file the package lacks is a path the user cannot open, and Vite warns
  // "points to missing source files" on every run.
  const files = new Set(packedFiles().map((f) => normalize(f)));
  const missing: string[] = [];
  let maps = 0;
  for (const file of files) {
    if (!file.endsWith(".map")) continue;
    maps++;
    const map = JSON.parse(readFileSync(join(root, file), "utf8")) as {
      sources: string[];
    };
    for (const source of map.sources) {
      const path = normalize(join(dirname(file), source));
      if (!files.has(path)) missing.push(`${file} -> ${path}`);
    }
  }
  assert.ok(maps > 0, "the package ships no source maps");
  assert.deepEqual(missing, []);
});

// The plugin runs end to end (test/integrations/vitest.test.ts) on Vitest 3 only so far: on 4
// and 5 its hooks still take a positional argument, which they parse as fixtures.
test("the vitest peer range is the major the plugin is tested end to end on, and that Vitest is in it", () => {
  const manifest = JSON.parse(
    readFileSync(join(root, "package.json"), "utf8"),
  ) as { peerDependencies: Record<string, string> };
  const range = manifest.peerDependencies["vitest"];
  assert.equal(range, "^3.2.0");
  for (const major of VITEST_MAJORS.filter((m) => m === 3)) {
    const { version } = JSON.parse(
      readFileSync(join(vitestDir(major), "package.json"), "utf8"),
    ) as { version: string };
    assert.equal(Number(version.split(".")[0]), major, version);
    assert.ok(
      semver.satisfies(version, range),
      `${version} is not in ${range}`,
    );
  }
});
