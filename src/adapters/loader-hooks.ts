// ES module hooks of `waitgraph/register` (installed by ./instrument.ts). The same two hooks
// serve both of Node's hook APIs: `module.registerHooks` (in-thread and synchronous: Node ≥ 22.15
// and 23.5) takes `resolveSync` / `loadSync`; `module.register` (a loader thread: Node 20 and
// early 22) takes the async `resolve` / `load` and `initialize`. They decide from the data they
// are given and from package.json files, and import nothing but builtins, so that they also run
// on the loader thread.
//
// A bare import of a registered package (`import pLimit from "p-limit"`, or of an npm alias of
// it) that resolves to an ES module is resolved to the same URL with a marker; loading the
// marked URL serves
//
//   import * as original from "<the package's entry>";
//   import { instrumentModule } from "<waitgraph's instrument module>";
//   export * from "<the package's entry>";
//   const tracked = instrumentModule("p-limit", original, "7.3.3");
//   export default tracked.default;
//   export const limitFunction = tracked["limitFunction"];
//
// Local exports take precedence over `export *`, so every other export passes through. The
// package is still the copy the application resolved. CommonJS packages are left to the
// CommonJS hook; imports made by waitgraph itself are left alone. A replaced name a version of
// the library lacks (p-limit 5 has no limitFunction) is exported as undefined.
import { fileURLToPath } from "node:url";
import type { HookData } from "./instrument.js";
import { installedAt } from "./instrument/packages.js";

const MARK = "waitgraph-instrument";

let data: HookData = { modules: {}, instrument: "", own: [] };

/** `module.register`'s hand-over of the data (on the loader thread). */
export function initialize(given: HookData): void {
  data = given;
}

/** `module.registerHooks` runs in-thread: the data is given directly. */
export function useData(given: HookData): void {
  data = given;
}

interface Resolved {
  url: string;
  format?: string | null | undefined;
  [other: string]: unknown;
}
interface ResolveContext {
  parentURL?: string | undefined;
  [other: string]: unknown;
}

/** A bare specifier of a whole package: `p-limit`, `@scope/name`; not `p-limit/x`, `node:fs`. */
const PACKAGE = /^(?:@[^/@.:][^/:]*\/)?[^/@.:][^/:]*$/;

function marked(
  specifier: string,
  context: ResolveContext,
  resolved: Resolved,
): Resolved {
  if (!PACKAGE.test(specifier)) return resolved;
  if (resolved.format !== "module" || !resolved.url.startsWith("file:"))
    return resolved;
  const parent = context.parentURL;
  if (parent !== undefined && data.own.some((own) => parent.startsWith(own)))
    return resolved;
  const url = new URL(resolved.url);
  const found = installedAt(fileURLToPath(url).replaceAll("\\", "/"));
  if (
    found === undefined ||
    found.specifier !== specifier ||
    !Object.hasOwn(data.modules, found.name)
  )
    return resolved;
  url.searchParams.set(MARK, found.name);
  if (found.version !== undefined)
    url.searchParams.set(`${MARK}-version`, found.version);
  return { ...resolved, url: url.href };
}

interface Loaded {
  format?: string | null | undefined;
  source?: string | ArrayBuffer | Uint8Array | null | undefined;
  shortCircuit?: boolean;
}

/** The instrumented module for a marked URL; undefined for every other URL. */
function served(url: string): Loaded | undefined {
  if (!url.startsWith("file:") || !url.includes(MARK)) return undefined;
  const marked = new URL(url);
  const name = marked.searchParams.get(MARK);
  const version = marked.searchParams.get(`${MARK}-version`);
  const names =
    name !== null && Object.hasOwn(data.modules, name)
      ? data.modules[name]
      : undefined;
  if (names === undefined) return undefined;
  marked.searchParams.delete(MARK);
  marked.searchParams.delete(`${MARK}-version`);
  const original = JSON.stringify(marked.href);
  const lines = [
    `import * as original from ${original};`,
    `import { instrumentModule } from ${JSON.stringify(data.instrument)};`,
    `export * from ${original};`,
    `const tracked = instrumentModule(${JSON.stringify(name)}, original, ${JSON.stringify(version ?? undefined)});`,
    ...names.map((n) =>
      n === "default"
        ? "export default tracked.default;"
        : `export const ${n} = tracked[${JSON.stringify(n)}];`,
    ),
  ];
  return { format: "module", source: lines.join("\n"), shortCircuit: true };
}

// ---- module.registerHooks (in-thread, synchronous) ------------------------------------------

export function resolveSync(
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context?: ResolveContext) => Resolved,
): Resolved {
  return marked(specifier, context, next(specifier, context));
}

export function loadSync(
  url: string,
  context: object,
  next: (url: string, context?: object) => Loaded,
): Loaded {
  return served(url) ?? next(url, context);
}

// ---- module.register (loader thread) --------------------------------------------------------

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => Promise<Resolved>,
): Promise<Resolved> {
  return marked(specifier, context, await next(specifier, context));
}

export async function load(
  url: string,
  context: object,
  next: (url: string, context: object) => Promise<Loaded>,
): Promise<Loaded> {
  return served(url) ?? next(url, context);
}
