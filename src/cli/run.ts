// `waitgraph run <script> [args…]`: runs a program with tracking on, then sums up what it found.
//
// The program runs in a child Node process with its stdio inherited, so it behaves as it would
// under `node` and the `log` policy prints each report live on stderr. A preload (preload.ts)
// turns tracking on before the program's first line and, when the program exits, hands the
// reports and the class graph back through a temporary file. TypeScript runs through tsx,
// resolved from waitgraph's own install (the user's project need not have tsx), with source maps
// on so that every location in a report is a line of the user's .ts file. tsx's main entry, not
// `tsx/esm`: it registers the ESM and the CommonJS loaders, and a .ts file in a package without
// `"type": "module"` — most projects — is loaded as CommonJS (with `tsx/esm` alone it fails).
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describeOptions, parseArgs, UsageError } from "./args.js";
import type { Command, Io, Outcome } from "./command.js";
import { outputs } from "./outputs.js";
import { RESULT_FILE_ENV, type RunResult } from "./protocol.js";

const OPTIONS = outputs.map((o) => ({
  name: o.option,
  value: "FILE",
  describe: o.describe,
}));

const TYPESCRIPT = /\.[cm]?tsx?$/i;

const help = `Usage: waitgraph run [options] <script> [args…]

Runs a Node program (.js, .mjs, .cjs, or TypeScript: .ts, .mts, .cts) with deadlock tracking
on, prints each report on stderr as it happens (policy \`log\`), then one summary line:

  waitgraph: 2 reports: 1 circular-dependency, 1 recursive-locking

Options (anywhere before a literal \`--\`; everything else is the script and its arguments —
an argument for the script that starts with \`-\` goes after \`--\`):
${describeOptions(OPTIONS)}
  -h, --help        Show this help

Exit code: 0 when nothing was reported; 1 when anything was; the program's own exit code (or
its signal) when it failed; 2 for a bad command line.

Environment: WAITGRAPH=log (default) prints each report once and goes on; WAITGRAPH=throw
makes an acquire that would deadlock reject with a DeadlockError; WAITGRAPH=silent prints
nothing but the summary; WAITGRAPH=off turns tracking off.

Examples:
  waitgraph run examples/bank-transfer-abba.ts
  waitgraph run --json waitgraph.json dist/server.js -- --port 8080
  WAITGRAPH=throw waitgraph run examples/nested-run-exclusive.ts
  waitgraph run scripts/migrate.ts -- --dry-run
`;

export const run: Command = {
  name: "run",
  summary:
    "Run a program (.js or .ts) with tracking on; exit 1 if anything was reported",
  help,
  run: runCommand,
};

async function runCommand(argv: readonly string[], io: Io): Promise<Outcome> {
  const { options, operands } = parseArgs(argv, OPTIONS, "run");
  const [script, ...args] = operands;
  if (script === undefined)
    throw new UsageError(
      "missing the script to run: waitgraph run <script> [args…]",
      "run",
    );
  const path = resolve(io.cwd, script);
  if (!isFile(path))
    throw new UsageError(
      existsSync(path)
        ? `the script is not a file: ${script}`
        : `script not found: ${script}`,
      "run",
    );
  const wanted = outputs.flatMap((o) => {
    const file = options.get(o.option);
    if (typeof file !== "string") return [];
    return [{ render: o.render, file: resolve(io.cwd, file) }];
  });

  const dir = mkdtempSync(join(tmpdir(), "waitgraph-run-"));
  try {
    const resultFile = join(dir, "result.json");
    const ended = await runProgram(path, args, resultFile, io);
    const result = readResult(resultFile);
    if (result === undefined) {
      io.stderr(
        `waitgraph: the program ended ${describeEnd(ended)} before waitgraph could collect its reports\n`,
      );
      return ended.signal ?? (ended.code !== 0 ? ended.code : 1);
    }
    io.stderr(summary(result) + "\n");
    for (const { render, file } of wanted) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, render(result, io.cwd));
    }
    if (ended.signal !== null) return ended.signal;
    if (ended.code !== 0) return ended.code;
    return result.reports.length > 0 ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Ended {
  code: number;
  signal: NodeJS.Signals | null;
}

function runProgram(
  script: string,
  args: readonly string[],
  resultFile: string,
  io: Io,
): Promise<Ended> {
  const preload = new URL("./preload.js", import.meta.url).href;
  const nodeArgs = [
    "--enable-source-maps",
    ...(TYPESCRIPT.test(script)
      ? ["--import", import.meta.resolve("tsx")]
      : []),
    "--import",
    preload,
    script,
    ...args,
  ];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: io.cwd,
    env: { ...io.env, [RESULT_FILE_ENV]: resultFile },
    stdio: "inherit",
  });
  // Ctrl-C reaches the whole foreground process group, so the program gets its own SIGINT and
  // decides what it means; waitgraph only waits for it. A SIGTERM or SIGHUP sent to waitgraph
  // alone is passed on.
  const ignore = (): void => {};
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGINT", ignore);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  return new Promise<Ended>((resolvePromise, reject) => {
    const done = (): void => {
      process.off("SIGINT", ignore);
      process.off("SIGTERM", forward);
      process.off("SIGHUP", forward);
    };
    child.once("error", (error) => {
      done();
      reject(error);
    });
    child.once("exit", (code, signal) => {
      done();
      resolvePromise({ code: code ?? 0, signal });
    });
  });
}

function readResult(file: string): RunResult | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return JSON.parse(text) as RunResult;
}

/** `waitgraph: 3 reports: 2 recursive-locking, 1 held-at-task-end` (kinds in order of first report). */
export function summary(result: RunResult): string {
  if (!result.enabled)
    return "waitgraph: tracking was off (WAITGRAPH=off): nothing was checked";
  const n = result.reports.length;
  if (n === 0) return "waitgraph: no reports";
  const counts = new Map<string, number>();
  for (const r of result.reports)
    counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  const kinds = [...counts].map(([kind, count]) => `${count} ${kind}`);
  return `waitgraph: ${n} report${n === 1 ? "" : "s"}: ${kinds.join(", ")}`;
}

function describeEnd(ended: Ended): string {
  return ended.signal !== null
    ? `by ${ended.signal}`
    : `with exit code ${ended.code}`;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
