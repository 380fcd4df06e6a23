// SARIF 2.1.0, so that CI code scanning (GitHub, Azure DevOps, GitLab) shows each report at the
// line of user code where it was made. One run; `tool.driver` is waitgraph with one rule per
// report kind; one result per report:
//
//   location          the first frame of the report's stack inside the project root, as a URI
//                     relative to %SRCROOT% (the run's working directory), line and column
//   relatedLocations  the other acquisition sites: for A → B then B → A, where B was taken under
//                     A and where B (held) was taken; for DEPT cycles also where each event fired
//   message           a one-line headline for alert lists, then the rendered text
//   partialFingerprints  from the report id, so one finding stays one alert across runs
//
// The output is checked against the official SARIF 2.1.0 JSON schema in test/report/sarif.test.ts.
import { createHash } from "node:crypto";
import { isAbsolute, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type {
  ClassRef,
  LockRef,
  Report,
  ReportKind,
  SourceFrame,
} from "../core/report.js";
import { VERSION } from "./version.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT = "%SRCROOT%";

export interface SarifOptions {
  /** Absolute project root: paths below it are written relative to %SRCROOT%. */
  root?: string;
  /** waitgraph's version for `tool.driver.version` (default: this build's). */
  version?: string;
}

type Level = "error" | "warning" | "note";

interface Rule {
  name: string;
  short: string;
  level: Level;
  help: string;
}

/** One rule per kind; a kind added to the union without a rule fails the typecheck here. */
const RULES: Record<ReportKind, Rule> = {
  "circular-dependency": {
    name: "CircularLockingDependency",
    short:
      "Possible circular locking dependency: locks or waits taken in a cycle",
    level: "error",
    help:
      "Two or more locks (or waits for events) are taken in orders that form a cycle: A then B on one path, " +
      "B then A on another. This run did not hang, but two tasks interleaving on those paths deadlock. " +
      "Take the locks in one global order everywhere, or release one before taking (or waiting for) the other.",
  },
  "recursive-locking": {
    name: "RecursiveLocking",
    short: "A lock taken while a lock of the same class is already held",
    level: "error",
    help:
      "The task already holds a lock of this class and takes (or waits for) another of it. The same " +
      "instance deadlocks at once; two instances of one class deadlock when another task takes them in the " +
      "other order; a pool or semaphore deadlocks once every unit is held by a task doing the same. " +
      "Do not re-enter: pass the held resource down, or give the instances an order (`order`, subclasses, `nestLock`).",
  },
  "bad-unlock-balance": {
    name: "BadUnlockBalance",
    short: "A lock released more often than it was taken",
    level: "error",
    help:
      "A release function was called again after the lock was released. A second release can free a lock " +
      "another task now holds. Call each release exactly once (try/finally, `using`).",
  },
  "held-at-task-end": {
    name: "HeldAtTaskEnd",
    short: "A task ended while still holding a lock it took",
    level: "warning",
    help:
      "A task() settled with locks still held: every later acquirer waits forever. Release on every path, " +
      "including early returns and exceptions (try/finally, runExclusive, `using`).",
  },
  "assertion-failed": {
    name: "LockAssertionFailed",
    short: "assertHeld / assertNotHeld failed",
    level: "error",
    help: "Code asserted that the current task holds (or does not hold) a lock, and it did not.",
  },
  "nest-lock-not-held": {
    name: "NestLockNotHeld",
    short: "A nestLock annotation names a lock the task does not hold",
    level: "warning",
    help:
      "A lock was taken with `nestLock`, which says an outer lock serialises all takers, but the task does " +
      "not hold that outer lock: the annotation hides a possible deadlock.",
  },
  "invalid-annotation": {
    name: "InvalidAnnotation",
    short: "An annotation waitgraph cannot use",
    level: "warning",
    help: "An annotation (such as an `order` function) threw or returned something other than a number.",
  },
  "limit-exceeded": {
    name: "LimitExceeded",
    short: "A waitgraph capacity ran out: part of the run was not checked",
    level: "note",
    help: "Raise the named limit with tracker.configure({ limits }) to check the rest of the run.",
  },
  deadlock: {
    name: "Deadlock",
    short:
      "A live deadlock: flows blocked for good, each waiting for what another holds",
    level: "error",
    help:
      "These flows really hung: each waits for a lock, permit or pool unit that another blocked flow holds " +
      "(or, at exit, that nothing left running will release). Take the locks in one global order, or do not " +
      "wait for a second unit of a pool while holding one.",
  },
  "internal-error": {
    name: "InternalError",
    short: "A bug in waitgraph, caught before it reached the program",
    level: "note",
    help: "waitgraph hit an internal error and stopped checking that operation. Please report it with the text.",
  },
};

const KINDS = Object.keys(RULES) as ReportKind[];

/** The SARIF log for these reports. Pure: the same reports and options give the same log. */
export function toSarif(
  reports: readonly Report[],
  options: SarifOptions = {},
): Record<string, unknown> {
  const root = options.root;
  const run: Record<string, unknown> = {
    tool: {
      driver: {
        name: "waitgraph",
        version: options.version ?? VERSION,
        semanticVersion: options.version ?? VERSION,
        rules: KINDS.map((kind) => {
          const rule = RULES[kind];
          return {
            id: kind,
            name: rule.name,
            shortDescription: { text: rule.short },
            fullDescription: { text: rule.help },
            help: { text: rule.help, markdown: rule.help },
            defaultConfiguration: { level: rule.level },
            properties: { tags: ["concurrency", "deadlock"] },
          };
        }),
      },
    },
    ...(root !== undefined
      ? {
          originalUriBaseIds: {
            [SRCROOT]: {
              uri: pathToFileURL(root.endsWith(sep) ? root : root + sep).href,
            },
          },
        }
      : {}),
    // JavaScript columns count UTF-16 code units.
    columnKind: "utf16CodeUnits",
    results: reports.map((r) => result(r, root)),
  };
  return { $schema: SARIF_SCHEMA, version: "2.1.0", runs: [run] };
}

/** The SARIF log as JSON text. */
export function renderSarif(
  reports: readonly Report[],
  options: SarifOptions = {},
): string {
  return JSON.stringify(toSarif(reports, options), null, 2) + "\n";
}

function result(r: Report, root: string | undefined): Record<string, unknown> {
  const primary = primaryFrame(r, root);
  const seen = new Set<string>(primary === undefined ? [] : [siteKey(primary)]);
  const related = relatedSites(r).flatMap(({ frame, text }) => {
    const key = siteKey(frame);
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ frame, text }];
  });
  return {
    ruleId: r.kind,
    ruleIndex: KINDS.indexOf(r.kind),
    level: RULES[r.kind].level,
    kind: "fail",
    message: { text: `${headline(r)}\n\n${r.text}` },
    ...(primary !== undefined
      ? { locations: [{ physicalLocation: physical(primary, root) }] }
      : {}),
    ...(related.length > 0
      ? {
          relatedLocations: related.map(({ frame, text }, i) => ({
            id: i + 1,
            physicalLocation: physical(frame, root),
            message: { text },
          })),
        }
      : {}),
    partialFingerprints: {
      "waitgraphReportId/v1": createHash("sha256").update(r.id).digest("hex"),
    },
    properties: { reportId: r.id, classes: r.classes, task: r.task },
  };
}

/**
 * Where code scanning shows the report: the first frame of its stack in the project (under
 * `root`, outside node_modules), else its first frame, else where its lock was taken.
 */
function primaryFrame(
  r: Report,
  root: string | undefined,
): SourceFrame | undefined {
  const candidates = [...r.stack, ...lockSites(r)];
  return candidates.find((f) => inProject(f.file, root)) ?? candidates[0];
}

function lockSites(r: Report): SourceFrame[] {
  switch (r.kind) {
    case "circular-dependency":
    case "recursive-locking":
      return [...r.next.at, ...r.prev.at];
    case "bad-unlock-balance":
    case "nest-lock-not-held":
      return r.lock.at;
    case "held-at-task-end":
      return r.locks.flatMap((l) => l.at);
    case "deadlock":
      return [...r.flows, ...r.blocked].flatMap((f) => f.waitsFor.at);
    default:
      return r.held.flatMap((l) => l.at);
  }
}

function inProject(file: string, root: string | undefined): boolean {
  if (file.includes("/node_modules/")) return false;
  if (!isAbsolute(file)) return !file.startsWith("file:");
  if (root === undefined) return true;
  const rel = relative(root, file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** "was taken here", or, when `at` is its chain's first-seen site, says that plainly. */
function takenHere(lock: LockRef): string {
  return lock.site === "first-seen"
    ? "was taken here when this locking pattern was first seen (not necessarily by this hold; WAITGRAPH_SITES=every records each hold's own site)"
    : "was taken here";
}

/** The other sites worth a look, each with what happened there. */
function relatedSites(r: Report): { frame: SourceFrame; text: string }[] {
  const out: { frame: SourceFrame; text: string }[] = [];
  const add = (frames: readonly SourceFrame[], text: string): void => {
    if (frames[0] !== undefined) out.push({ frame: frames[0], text });
  };
  switch (r.kind) {
    case "circular-dependency": {
      const n = r.cycle.length;
      add(
        r.prev.at,
        `${name(r.prev)} ${takenHere(r.prev)}, and is held while ${name(r.next)} is taken`,
      );
      // chain[k], k < n - 1, is the recorded edge cycle[n-2-k] → cycle[n-1-k].
      r.chain.slice(0, -1).forEach((link, k) => {
        const from = r.cycle[n - 2 - k];
        add(
          link.stack,
          from === undefined
            ? `${name(link.class)} was taken here`
            : `${name(link.class)} was taken here while ${name(from)} was held (the recorded dependency ${from.name} -> ${link.class.name})`,
        );
      });
      for (const w of r.waits ?? [])
        add(
          w.event.at,
          `${name(w.event.class)}: ${w.event.fn}() here is the event that ends the wait`,
        );
      break;
    }
    case "recursive-locking":
      add(r.prev.at, `${name(r.prev)} ${takenHere(r.prev)}, and is still held`);
      break;
    case "held-at-task-end":
      for (const l of r.locks)
        add(l.at, `${name(l)} ${takenHere(l)} and never released`);
      break;
    case "bad-unlock-balance":
      add(r.lock.at, `${name(r.lock)} ${takenHere(r.lock)}`);
      break;
    case "nest-lock-not-held":
      add(r.lock.at, `${name(r.lock)} ${takenHere(r.lock)}`);
      break;
    case "deadlock":
      for (const f of [...r.flows, ...r.blocked]) {
        add(f.waitsFor.at, `flow ${f.flow} waits for ${name(f.waitsFor)} here`);
        for (const l of f.holds)
          add(l.at, `flow ${f.flow} took ${name(l)} here, and holds it`);
      }
      break;
    default:
      for (const l of r.held)
        add(
          l.at,
          l.site === "first-seen"
            ? `${name(l)} is held; ${takenHere(l)}`
            : `${name(l)} is held, taken here`,
        );
  }
  return out;
}

/**
 * One line for alert lists, then the text: `possible circular locking dependency detected:
 * account -> ledger -> account (task "nightly")`.
 */
function headline(r: Report): string {
  const title = r.text
    .split("\n")
    .find((l) => l.startsWith("WARNING: ") || l.startsWith("DEPT: "))
    ?.replace(/^(WARNING|DEPT): /, "");
  const classes =
    r.kind === "circular-dependency"
      ? [...r.cycle, r.cycle[0]!].map((c) => c.name).join(" -> ")
      : r.classes.join(", ");
  return `${title ?? RULES[r.kind].short}${classes !== "" ? `: ${classes}` : ""} (task ${JSON.stringify(r.task)})`;
}

function name(c: ClassRef | LockRef): string {
  return `\`${c.name}\``;
}

function siteKey(f: SourceFrame): string {
  return `${f.file}:${f.line}:${f.column}`;
}

function physical(
  frame: SourceFrame,
  root: string | undefined,
): Record<string, unknown> {
  const region =
    frame.line >= 1
      ? {
          region: {
            startLine: frame.line,
            ...(frame.column >= 1 ? { startColumn: frame.column } : {}),
          },
        }
      : {};
  return { artifactLocation: artifact(frame.file, root), ...region };
}

/** A path under the root (or already relative) → relative URI on %SRCROOT%; else a file: URL. */
function artifact(
  file: string,
  root: string | undefined,
): Record<string, unknown> {
  if (file.startsWith("file:")) return { uri: file };
  if (!isAbsolute(file)) return { uri: encodePath(file), uriBaseId: SRCROOT };
  if (root !== undefined) {
    const rel = relative(root, file);
    if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel))
      return { uri: encodePath(rel), uriBaseId: SRCROOT };
  }
  return { uri: pathToFileURL(file).href };
}

function encodePath(path: string): string {
  return path.split(/[\\/]/).map(encodeURIComponent).join("/");
}
