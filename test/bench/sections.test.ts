// docs/benchmarks.md's sections (bench/sections.ts): a program rewrites only its own section,
// and bench/run.ts keeps the others — except those it now measures itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keepSections, sectionsOf, withSection } from "../../bench/sections.js";

const startup =
  "<!-- section:startup -->\n## Start-up\n<!-- /section:startup -->";
const service =
  "<!-- section:service -->\n## Service (old)\n<!-- /section:service -->";

test("sectionsOf finds each marked section with its name, in order", () => {
  const doc = `# page\n\n${startup}\n\ntext\n\n${service}\n`;
  assert.deepEqual(
    sectionsOf(doc).map((s) => s.name),
    ["startup", "service"],
  );
  assert.equal(sectionsOf(doc)[0]!.text, startup);
});

test("a fresh page keeps the sections of the old one after it", () => {
  const out = keepSections("# fresh\n", `# old\n\n${startup}\n`);
  assert.equal(out, `# fresh\n\n${startup}\n`);
});

test("a fresh page drops the old sections it owns: a standalone service section does not come back", () => {
  const out = keepSections("# fresh\n", `# old\n\n${startup}\n\n${service}\n`, [
    "service",
  ]);
  assert.equal(out, `# fresh\n\n${startup}\n`);
  assert.equal(
    keepSections("# fresh\n", `# old\n\n${service}\n`, ["service"]),
    "# fresh\n",
  );
});

test("withSection replaces its own section in place and appends a new one at the end", () => {
  const doc = `# page\n\n${startup}\n\ntail\n`;
  const replaced = withSection(doc, "startup", "## Start-up (new)");
  assert.equal(
    replaced,
    "# page\n\n<!-- section:startup -->\n## Start-up (new)\n<!-- /section:startup -->\n\ntail\n",
  );
  assert.match(
    withSection("# page\n", "x", "body"),
    /# page\n\n<!-- section:x -->\nbody\n<!-- \/section:x -->\n$/,
  );
});
