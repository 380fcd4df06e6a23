// Which installed package a file belongs to, for `waitgraph/register`'s two hooks. A package is
// recognised by the `name` in its package.json, not by the directory it sits in: an npm alias
// (`"p-limit-3": "npm:p-limit@^3"`, installed as node_modules/p-limit-3) is p-limit, and
// pnpm's node_modules/.pnpm/p-limit@3.1.0/node_modules/p-limit is too. Imports nothing beyond
// Node's builtins: the ES-module hooks that use it may run on Node's loader thread.
import { readFileSync } from "node:fs";

export interface Installed {
  /** The package's own name (package.json `name`). */
  readonly name: string;
  /** Its version, when package.json gives one. */
  readonly version: string | undefined;
  /** What a program writes to import it: its directory under node_modules (`p-limit-3`). */
  readonly specifier: string;
  /** The package directory, `/`-separated, with a trailing `/`. */
  readonly dir: string;
}

const byDir = new Map<string, Installed | undefined>();

/**
 * The package directly under the last `node_modules/` of `path` (a file path or a `file:` URL's
 * path, `/`-separated), when that is where `path` lies. Cached per package directory.
 */
export function installedAt(path: string): Installed | undefined {
  const at = path.lastIndexOf("/node_modules/");
  if (at === -1) return undefined;
  const rest = path.slice(at + "/node_modules/".length).split("/");
  const parts = rest[0]?.startsWith("@") ? 2 : 1;
  if (rest.length <= parts) return undefined;
  const specifier = rest.slice(0, parts).join("/");
  const dir = `${path.slice(0, at)}/node_modules/${specifier}/`;
  if (byDir.has(dir)) return byDir.get(dir);
  let found: Installed | undefined;
  try {
    const json = JSON.parse(readFileSync(`${dir}package.json`, "utf8")) as {
      name?: unknown;
      version?: unknown;
    };
    if (typeof json.name === "string")
      found = {
        name: json.name,
        version: typeof json.version === "string" ? json.version : undefined,
        specifier,
        dir,
      };
  } catch {
    found = undefined;
  }
  byDir.set(dir, found);
  return found;
}
