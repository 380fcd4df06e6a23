// Command-line parsing shared by every command.
//
// A command declares its options; `parseArgs` takes them from anywhere before a literal `--`
// and leaves everything else, in order, as operands. So `waitgraph run app.ts --json out.json a b`
// and `waitgraph run --json out.json app.ts a b` mean the same, and an argument meant for the
// program that looks like an option goes after `--`: `waitgraph run app.ts -- --port 3000`.
import { WaitgraphError } from "../core/errors.js";

/** A mistake on the command line: the message says what was expected; the CLI exits with 2. */
export class UsageError extends WaitgraphError {
  /** The command whose help the message points to, if any. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super("ERR_WAITGRAPH_USAGE", message);
    this.command = command;
  }
}

export interface OptionSpec {
  /** Long name without dashes: `json` is `--json`. */
  readonly name: string;
  /** One-letter alias without the dash: `h` is `-h`. */
  readonly short?: string;
  /** Placeholder of the option's value in help (`FILE`); absent for a flag. */
  readonly value?: string;
  /** One line for the command's help. */
  readonly describe: string;
}

export interface ParsedArgs {
  /** Flags map to `true`, valued options to their (last) value. */
  readonly options: ReadonlyMap<string, string | true>;
  /** Everything that is not an option, in order; after `--`, everything. */
  readonly operands: readonly string[];
}

/**
 * Splits `argv` into the declared options and the operands. Throws UsageError for an unknown
 * option, an option without its value, and a value given to a flag.
 */
export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  command?: string,
): ParsedArgs {
  const options = new Map<string, string | true>();
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      operands.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const written = eq === -1 ? arg : arg.slice(0, eq);
    const spec = specs.find((s) =>
      written.startsWith("--")
        ? s.name === written.slice(2)
        : s.short !== undefined && s.short === written.slice(1),
    );
    if (spec === undefined)
      throw new UsageError(
        `unknown option ${written}${command === undefined ? "" : ` for \`waitgraph ${command}\``}` +
          ` (an argument meant for the program goes after \`--\`: waitgraph ${command ?? "run"} <script> -- ${written})`,
        command,
      );
    if (spec.value === undefined) {
      if (eq !== -1)
        throw new UsageError(
          `option --${spec.name} takes no value, got ${JSON.stringify(arg.slice(eq + 1))}`,
          command,
        );
      options.set(spec.name, true);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // `--json --html x.html` is a forgotten value, not a file named "--html"; a lone `-` is
      // a value (stdout, for the commands that take it).
      if (next !== undefined && (next === "-" || !next.startsWith("-"))) {
        value = next;
        i++;
      }
    }
    if (value === undefined || value === "")
      throw new UsageError(
        `option --${spec.name} needs a value: --${spec.name} ${spec.value}`,
        command,
      );
    options.set(spec.name, value);
  }
  return { options, operands };
}

/** The option lines of a help text, aligned. */
export function describeOptions(specs: readonly OptionSpec[]): string {
  const heads = specs.map(
    (s) =>
      (s.short !== undefined ? `-${s.short}, ` : "    ") +
      `--${s.name}` +
      (s.value !== undefined ? ` ${s.value}` : ""),
  );
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return specs
    .map((s, i) => `  ${heads[i]!.padEnd(width)}${s.describe}`)
    .join("\n");
}
