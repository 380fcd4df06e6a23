// ES module hooks of `waitgraph/register` (registered by ./instrument.ts). They run on Node's
// loader thread, so they import nothing and decide from the data they are given.
//
// A bare import of a registered package (`import pLimit from "p-limit"`) that resolves to an
// ES module is resolved to the same URL with a marker; loading the marked URL serves
//
//   import * as original from "<the package's entry>";
//   import { instrumentModule } from "<waitgraph's instrument module>";
//   export * from "<the package's entry>";
//   const tracked = instrumentModule("p-limit", original);
//   export default tracked.default;
//   export const limitFunction = tracked.limitFunction;
//
// Local exports take precedence over `export *`, so every other export passes through. The
// package is still the copy the application resolved. CommonJS packages are left to the
// CommonJS hook; imports made by waitgraph itself are left alone.
import type { HookData } from "./instrument.js";

const MARK = "waitgraph-instrument";

let data: HookData = { modules: {}, instrument: "", own: [] };

export function initialize(given: HookData): void {
  data = given;
}

interface Resolved {
  url: string;
  format?: string | null;
  [other: string]: unknown;
}
interface ResolveContext {
  parentURL?: string;
  [other: string]: unknown;
}
type NextResolve = (
  specifier: string,
  context: ResolveContext,
) => Promise<Resolved>;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<Resolved> {
  const resolved = await next(specifier, context);
  if (!Object.hasOwn(data.modules, specifier)) return resolved;
  if (resolved.format !== "module" || !resolved.url.startsWith("file:"))
    return resolved;
  const parent = context.parentURL;
  if (parent !== undefined && data.own.some((own) => parent.startsWith(own)))
    return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set(MARK, specifier);
  return { ...resolved, url: url.href };
}

interface Loaded {
  format?: string | null;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: object) => Promise<Loaded>;

export async function load(
  url: string,
  context: object,
  next: NextLoad,
): Promise<Loaded> {
  if (!url.startsWith("file:") || !url.includes(MARK))
    return next(url, context);
  const marked = new URL(url);
  const name = marked.searchParams.get(MARK);
  const names =
    name !== null && Object.hasOwn(data.modules, name)
      ? data.modules[name]
      : undefined;
  if (names === undefined) return next(url, context);
  marked.searchParams.delete(MARK);
  const original = JSON.stringify(marked.href);
  const lines = [
    `import * as original from ${original};`,
    `import { instrumentModule } from ${JSON.stringify(data.instrument)};`,
    `export * from ${original};`,
    `const tracked = instrumentModule(${JSON.stringify(name)}, original);`,
    ...names.map((n) =>
      n === "default"
        ? "export default tracked.default;"
        : `export const ${n} = tracked[${JSON.stringify(n)}];`,
    ),
  ];
  return { format: "module", source: lines.join("\n"), shortCircuit: true };
}
