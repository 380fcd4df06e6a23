// DESIGN.md's core is layered inside too: each file has one job and depends on the jobs below
// it, so the core's runtime imports form no cycle. (Type-only imports are erased and may run
// both ways.) A cycle is how a side channel comes back: two files that need each other's state.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const CORE = new URL("../../src/core/", import.meta.url);

/** The sibling files a core file imports at run time (`import type` and `{ type A }` left out). */
function runtimeImports(source: string): string[] {
  const deps: string[] = [];
  const statement =
    /^(?:import|export)\s+(?!type\b)([^;]*?)\s+from\s+"\.\/([^"]+)\.js";/gms;
  for (const [, names, file] of source.matchAll(statement)) {
    const braced = /^\{([^}]*)\}$/.exec(names!.trim());
    const typeOnly =
      braced !== null &&
      braced[1]!
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "")
        .every((n) => n.startsWith("type "));
    if (!typeOnly) deps.push(`${file}.ts`);
  }
  return deps;
}

function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    path.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (!graph.has(dep)) continue;
      if (state.get(dep) === "open")
        found.push([...path.slice(path.indexOf(dep)), dep].join(" → "));
      else if (state.get(dep) === undefined) visit(dep);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys())
    if (state.get(file) === undefined) visit(file);
  return found;
}

const coreGraph = new Map(
  readdirSync(CORE)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => [f, runtimeImports(readFileSync(new URL(f, CORE), "utf8"))]),
);

test("src/core's runtime imports form no cycle", () => {
  assert.ok(coreGraph.size > 20, "the core's files were read");
  assert.ok(coreGraph.get("acquisition.ts")?.includes("validator.ts"));
  assert.deepEqual(cycles(coreGraph), []);
});

test("the cycle finder sees a cycle, and sees past type-only imports", () => {
  const a = 'import { b } from "./b.js";\nimport type { C } from "./c.js";';
  const b = 'import { type A } from "./a.js";\nexport { c } from "./c.js";';
  const c = 'import {\n  a,\n  type A,\n} from "./a.js";';
  assert.deepEqual(runtimeImports(a), ["b.ts"]);
  assert.deepEqual(runtimeImports(b), ["c.ts"]);
  assert.deepEqual(runtimeImports(c), ["a.ts"]);
  const graph = new Map([
    ["a.ts", runtimeImports(a)],
    ["b.ts", runtimeImports(b)],
    ["c.ts", runtimeImports(c)],
  ]);
  assert.deepEqual(cycles(graph), ["a.ts → b.ts → c.ts → a.ts"]);
});
