// Stack traces: captured rarely, formatted only when a report is printed.
//
// A capture costs 1–8 µs (reference/async-context.md §6.4), 15–50× a whole untracked
// acquire/release, so waitgraph captures one per chain-cache miss and one per new lock-class
// site, never per acquire. Formatting (`.stack`) is deferred until a report needs the frames;
// by then Node's source-map support (tsx, --enable-source-maps) maps them to the user's .ts lines.
import type { SourceFrame } from "./report.js";
import { state } from "./process-state.js";

/** An unformatted stack. Reading `.stack` formats it (and source-maps it) once. */
export type Trace = { readonly stack?: string };

const CAPTURE_DEPTH = 32;

/**
 * Files of waitgraph itself, whose frames never appear in a report: both src/ and dist/ of
 * every installed copy (a report made by one copy's core can hold another copy's frames),
 * because with source maps on (`waitgraph run`) a frame of dist/core/x.js prints as the
 * src/core/x.ts it was compiled from.
 */
const ownPaths = state.ownPaths;
const ownUrls = state.ownUrls;
for (const dir of ["../../src/", "../../dist/"]) {
  const url = new URL(dir, import.meta.url);
  const path = decodeURIComponent(url.pathname);
  if (!ownPaths.includes(path)) ownPaths.push(path);
  if (!ownUrls.includes(url.href)) ownUrls.push(url.href);
}

/**
 * Where an acquisition was asked for, when that is not the running stack: a library (an ORM over
 * a pool) takes the lock off the user's stack, later, in a promise reaction. Either a trace
 * captured at the user's call, or a function that captures one without the library's frames.
 */
export type Site = Trace | (() => Trace);

/** Set by `capturingAt` for one synchronous validation; `captureTrace` answers with it. */
let site: Site | undefined;

/** Runs `fn` with every capture answered by `at` (a function is called once, on first need). */
export function capturingAt<T>(at: Site, fn: () => T): T {
  const outer = site;
  site = at;
  try {
    return fn();
  } finally {
    site = outer;
  }
}

export function captureTrace(): Trace {
  if (site !== undefined) {
    if (typeof site === "function") site = site();
    return site;
  }
  return stackBelow(captureTrace, CAPTURE_DEPTH);
}

/**
 * A trace stored for good (a chain's, a dependency's, a class's site) is formatted at once.
 * Until its `.stack` is read, V8 keeps every captured frame's function and receiver alive —
 * closures with their whole scopes — so one unformatted trace in the graph can pin any amount
 * of the watched program's memory: a trace taken inside an `await` of a deferred whose value
 * links to the next deferred kept every deferred ever made (115 MB after 650k). Formatting
 * costs a few µs, paid once per first-seen chain, dependency or class.
 */
export function kept<T extends Trace | undefined>(trace: T): T {
  void trace?.stack;
  return trace;
}

/** The function (or constructor) whose frame and callers' frames above it are left out. */
export type Skip =
  | ((...args: never[]) => unknown)
  | (abstract new (...args: never[]) => unknown);

/** An unformatted stack of up to `depth` frames below `skip`'s frame (the one capture helper). */
export function stackBelow(skip: Skip, depth: number): Trace {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = depth;
  const trace: { stack?: string } = {};
  Error.captureStackTrace(trace, skip as never);
  Error.stackTraceLimit = limit;
  return trace;
}

/**
 * Whether report stacks keep frames under node_modules next to the user's own. Off by default:
 * a pool's internals say less than the user's lines. On (`frames: 'all'`) when the library is
 * the code being debugged.
 */
export function keepLibraryFrames(on: boolean): void {
  state.libraryFrames = on;
}

const FRAME = /^\s*at (?:async )?(?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/;

/** Parses a trace into frames of user code: waitgraph's own frames and runtime internals are dropped. */
export function userFrames(trace: Trace | undefined, max = 12): SourceFrame[] {
  const text = trace?.stack;
  if (text === undefined) return [];
  const frames: SourceFrame[] = [];
  for (const line of text.split("\n")) {
    const m = FRAME.exec(line);
    if (m === null) continue;
    const file = normalizeFile(m[2] ?? "");
    if (!isUserFile(file)) continue;
    frames.push({
      fn: cleanFunctionName(m[1] ?? ""),
      file,
      line: Number(m[3]),
      column: Number(m[4]),
    });
  }
  // Library frames (a pool's internals, a test runner's) say less than the user's own lines:
  // keep them only when the stack has nothing else.
  if (state.libraryFrames) return frames.slice(0, max);
  const own = frames.filter((f) => !f.file.includes("/node_modules/"));
  return (own.length > 0 ? own : frames).slice(0, max);
}

/**
 * An error's stack without waitgraph's own frames, so that a DeadlockError thrown from an
 * acquire points at the user's call, not at the seam it was raised in.
 */
export function withoutOwnFrames(stack: string): string {
  return stack
    .split("\n")
    .filter((line) => {
      const m = FRAME.exec(line);
      if (m === null) return true;
      const file = normalizeFile(m[2] ?? "");
      return (
        !ownPaths.some((p) => file.startsWith(p)) &&
        !ownUrls.some((u) => file.startsWith(u))
      );
    })
    .join("\n");
}

/**
 * file:// URL → path, remembered: a stack names a few files many times, and `new URL` is most
 * of a frame's parse. Bounded: cleared past PATHS_KEPT distinct URLs.
 */
const paths = new Map<string, string>();
const PATHS_KEPT = 1024;

function normalizeFile(file: string): string {
  if (!file.startsWith("file://")) return file;
  let path = paths.get(file);
  if (path === undefined) {
    try {
      path = decodeURIComponent(new URL(file).pathname);
    } catch {
      path = file;
    }
    if (paths.size >= PATHS_KEPT) paths.clear();
    paths.set(file, path);
  }
  return path;
}

export function isUserFile(file: string): boolean {
  if (file === "" || file === "<anonymous>" || file === "native") return false;
  if (file.startsWith("node:") || file.startsWith("internal/")) return false;
  if (ownPaths.some((p) => file.startsWith(p))) return false;
  if (ownUrls.some((u) => file.startsWith(u))) return false;
  if (
    file.includes("/node_modules/tsx/") ||
    file.includes("/node_modules/waitgraph/")
  )
    return false;
  return true;
}

function cleanFunctionName(fn: string): string {
  return (
    fn.replace(/^async /, "").replace(/^Object\.<anonymous>$/, "<module>") ||
    "<anonymous>"
  );
}

/** `file:line:col` of the first user frame, relative to the working directory. */
export function formatSite(frame: SourceFrame | undefined): string {
  if (frame === undefined) return "(unknown)";
  return `${relativeFile(frame.file)}:${frame.line}:${frame.column}`;
}

export function relativeFile(file: string): string {
  const cwd = typeof process === "object" ? process.cwd() + "/" : "";
  return cwd !== "/" && file.startsWith(cwd) ? file.slice(cwd.length) : file;
}
