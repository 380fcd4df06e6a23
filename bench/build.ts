// Builds what the child processes run: src/ compiled by tsc (`compileDist`, as `npm run build`
// compiles it), and with esbuild:
//
//  * the untracked baselines: each primitive (src/primitives/<name>.ts) bundled with its
//    imports of src/core/seam.ts resolved to bench/untracked/seam-stub.ts. The bundle holds
//    the same lock code as the tracked build and none of the tracker; `checkInputs` proves the
//    latter from esbuild's metafile.
//  * the benchmark code: bench/child.ts and each suite, bundled one file each with packages
//    left external (async-mutex, p-limit resolve from node_modules as users' imports do) and
//    the tracked build (tsc, bench/run.ts) loaded at run time by bench/subjects.ts.
//
// Output goes to the run's own build directory (bench/run.ts), under node_modules/.cache/.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { relative, resolve } from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";

const SEAM = "src/core/seam.ts";
const STUB = "bench/untracked/seam-stub.ts";

/**
 * src/core files that must not reach an untracked bundle: the seam itself, and everything that
 * creates the tracker, installs promise hooks or validates. (errors.ts may: a Mutex still
 * throws InvalidArgumentError and TimeoutError.)
 */
const TRACKER_FILES = [
  SEAM,
  "src/core/instance.ts",
  "src/core/context.ts",
  "src/core/validator.ts",
  "src/core/tracker.ts",
  "src/core/chain-cache.ts",
  "src/core/graph.ts",
];

export type BuildOutcome = { ok: true } | { ok: false; error: string };

/**
 * Compiles src/ with the package's build config into `outDir` (relative to `root`), so that a
 * concurrent `npm run build` can neither change what a running bench measures nor be
 * clobbered by it. On failure, tsc's own output.
 */
export function compileDist(root: string, outDir: string): BuildOutcome {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const r = spawnSync(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", "--outDir", outDir, "--noEmitOnError"],
    { cwd: root, encoding: "utf8" },
  );
  return r.status === 0
    ? { ok: true }
    : { ok: false, error: r.stdout + r.stderr };
}

function stubSeam(root: string): Plugin {
  const seam = resolve(root, SEAM);
  return {
    name: "waitgraph-untracked-seam",
    setup(b) {
      b.onResolve({ filter: /(^|\/)seam(\.[jt]s)?$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path).replace(
          /\.js$/,
          ".ts",
        );
        if (target !== seam && target !== seam.replace(/\.ts$/, ""))
          return undefined;
        return { path: resolve(root, STUB) };
      });
    },
  };
}

function checkInputs(meta: Metafile, root: string): string | undefined {
  const inputs = Object.keys(meta.inputs).map((p) =>
    relative(root, resolve(root, p)),
  );
  const leaked = inputs.filter((p) => TRACKER_FILES.includes(p));
  if (leaked.length > 0)
    return `tracker code reached the untracked bundle: ${leaked.join(", ")}`;
  if (!inputs.includes(STUB)) return `the bundle does not use ${STUB}`;
  return undefined;
}

/** Bundles src/primitives/<name>.ts without tracking, for each name; one failure skips only that name. */
export async function buildUntracked(
  root: string,
  dir: string,
  names: readonly string[],
): Promise<Map<string, BuildOutcome>> {
  const out = new Map<string, BuildOutcome>();
  mkdirSync(resolve(root, dir, "untracked"), { recursive: true });
  for (const name of names) {
    const entry = `src/primitives/${name}.ts`;
    if (!existsSync(resolve(root, entry))) {
      out.set(name, { ok: false, error: `${entry} does not exist yet` });
      continue;
    }
    try {
      const result = await build({
        absWorkingDir: root,
        entryPoints: [entry],
        outfile: `${dir}/untracked/${name}.mjs`,
        bundle: true,
        format: "esm",
        platform: "node",
        target: "node20",
        tsconfig: "tsconfig.build.json",
        metafile: true,
        logLevel: "silent",
        plugins: [stubSeam(root)],
      });
      const leak = checkInputs(result.metafile, root);
      out.set(
        name,
        leak === undefined ? { ok: true } : { ok: false, error: leak },
      );
    } catch (error) {
      const first = (error as { errors?: { text: string }[] }).errors?.[0];
      out.set(name, {
        ok: false,
        error: `untracked build failed: ${first?.text ?? String(error)}`,
      });
    }
  }
  return out;
}

/** Bundles bench/child.ts and the given suite files into `dir`. */
export async function buildBench(
  root: string,
  dir: string,
  suites: readonly string[],
): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: ["bench/child.ts", ...suites],
    outbase: "bench",
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "node",
    target: "node20",
    tsconfig: "tsconfig.json",
    logLevel: "error",
  });
}
