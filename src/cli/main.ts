// `waitgraph <command> …`: the dispatcher. It knows the global options (--help, --version) and
// the `help` command, and hands everything else to a command from the table in commands.ts.
//
// Exit codes: 0 nothing reported; 1 something was reported; 2 a bad command line; otherwise the
// watched program's own failure (its exit code, or its signal re-raised).
import { constants } from "node:os";
import { UsageError } from "./args.js";
import type { Command, Io, Outcome } from "./command.js";
import { commands } from "./commands.js";
import { version } from "./version.js";

export const EXIT_USAGE = 2;

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    "waitgraph — finds deadlocks that can happen, from runs that did not hang",
    "",
    "Usage: waitgraph <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${"help".padEnd(width)}Show the help of a command: waitgraph help <command>`,
    "",
    "Options:",
    "  -h, --help     Show this help",
    "  -v, --version  Show waitgraph's version",
    "",
    "Environment: WAITGRAPH=off|log|throw|silent picks the policy (default log).",
    "",
  ].join("\n");
}

function find(name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (command === undefined)
    throw new UsageError(
      `unknown command ${JSON.stringify(name)} (commands: ${commands.map((c) => c.name).join(", ")}, help)`,
    );
  return command;
}

/** Runs the CLI with `argv` (the arguments after `waitgraph`) and returns how it should end. */
export async function main(argv: readonly string[], io: Io): Promise<Outcome> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      io.stderr(overview());
      return EXIT_USAGE;
    }
    if (first === "-h" || first === "--help") {
      io.stdout(overview());
      return 0;
    }
    if (first === "-v" || first === "--version") {
      io.stdout(`${version()}\n`);
      return 0;
    }
    if (first === "help") {
      if (rest.length === 0) io.stdout(overview());
      else io.stdout(find(rest[0]!).help);
      return 0;
    }
    if (first.startsWith("-"))
      throw new UsageError(
        `unknown option ${first} (options before a command: --help, --version)`,
      );
    const command = find(first);
    const own = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
    if (own.includes("-h") || own.includes("--help")) {
      io.stdout(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const hint =
      error.command === undefined
        ? "waitgraph --help"
        : `waitgraph help ${error.command}`;
    io.stderr(`waitgraph: ${error.message}\n(see \`${hint}\`)\n`);
    return EXIT_USAGE;
  }
}

/** Ends the process the way `outcome` says: with its exit code, or by re-raising its signal. */
export function exit(outcome: Outcome): void {
  if (typeof outcome === "number") {
    process.exitCode = outcome;
    return;
  }
  // Die of the same signal, so a shell or CI sees what the program saw. The run command has
  // removed its signal listeners by now; should the signal be ignored here anyway, the exit
  // code says it the shell's way: 128 + its number.
  process.exitCode = 128 + signalNumber(outcome);
  process.kill(process.pid, outcome);
}

export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
