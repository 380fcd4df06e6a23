// What a command is. Each command lives in its own file and exports one `Command`; the table
// in commands.ts lists them. The CLI's I/O goes through `Io` so a command can run in-process.

export interface Io {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** How the CLI ends: an exit code, or a signal to re-raise (the child program died of it). */
export type Outcome = number | NodeJS.Signals;

export interface Command {
  /** `waitgraph <name> …` */
  readonly name: string;
  /** One line for `waitgraph --help`. */
  readonly summary: string;
  /** The full text of `waitgraph help <name>`, starting with its usage line. */
  readonly help: string;
  /** Runs with the arguments after the command's name. Throws UsageError for a bad command line. */
  run(argv: readonly string[], io: Io): Promise<Outcome>;
}
