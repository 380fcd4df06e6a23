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

// The plugin runs end to end (test/integrations/vitest.test.ts) on each of VITEST_MAJORS.
test("the vitest peer range is the majors the plugin is tested end to end on, and each tested Vitest is in it", () => {
  const manifest = JSON.parse(
    readFileSync(join(root, "package.json"), "utf8"),
  ) as { peerDependencies: Record<string, string> };
  const range = manifest.peerDependencies["vitest"];
  assert.equal(
    range,
    VITEST_MAJORS.map((m) => (m === 3 ? "^3.2.0" : `^${m}.0.0`)).join(" || "),
  );
  for (const major of VITEST_MAJORS) {
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

test("every file README.md links to is in the package, so the links work from npm too", () => {
  const files = new Set(packedFiles().map((f) => normalize(f)));
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const linked = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
    .map((m) => m[1] ?? "")
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => normalize(target.replace(/\/$/, "")));
  assert.ok(linked.length > 0, "README.md links to no file");
  // A folder link (examples/) is fine when some shipped file is under it.
  const missing = linked.filter(
    (path) =>
      !files.has(path) && ![...files].some((f) => f.startsWith(`${path}/`)),
  );
  assert.deepEqual(missing, []);
});
