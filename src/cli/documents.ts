// Reading and writing the files of `waitgraph report | view | merge | stats`. A file that cannot
// be read, or is not a waitgraph/report@2 document, ends the command with exit code 2 and one
// line naming the file and what was wrong with it (the run command's usage errors end the same
// way, but point to the help; a bad input file is not a bad command line).
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { WaitgraphError } from "../core/errors.js";
import {
  BadDocumentError,
  readDocument,
  type ReportDocument,
} from "../report/json.js";
import type { Io, Outcome } from "./command.js";

/** Exit code of a file the command cannot use: 2, as for a bad command line (main.ts). */
export const EXIT_BAD_INPUT = 2;

/** An input or output file the command cannot use. */
export class FileError extends WaitgraphError {
  constructor(message: string, code = "ERR_WAITGRAPH_FILE") {
    super(code, message);
  }
}

/** Reads `operand` (relative to the working directory) as a waitgraph/report@2 document. */
export function loadDocument(operand: string, io: Io): ReportDocument {
  const path = resolve(io.cwd, operand);
  let text: string;
  try {
    if (statSync(path).isDirectory())
      throw new FileError(`${operand}: expected a JSON file, got a folder`);
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof FileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(
      code === "ENOENT"
        ? `${operand}: no such file`
        : `${operand}: cannot read it (${code ?? String(error)})`,
    );
  }
  try {
    return readDocument(text);
  } catch (error) {
    if (error instanceof BadDocumentError)
      throw new FileError(`${operand}: ${error.message}`, error.code);
    throw error;
  }
}

/** Writes `text` to `file` (creating its folder), or to stdout when `file` is undefined or `-`. */
export function writeOutput(
  text: string,
  file: string | undefined,
  io: Io,
): void {
  if (file === undefined || file === "-") {
    io.stdout(text);
    return;
  }
  const path = resolve(io.cwd, file);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(`${file}: cannot write it (${code ?? String(error)})`);
  }
}

/** Runs a command body; a FileError becomes `waitgraph: <message>` on stderr and exit code 2. */
export async function guarded(
  io: Io,
  body: () => Promise<Outcome> | Outcome,
): Promise<Outcome> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof FileError)) throw error;
    io.stderr(`waitgraph: ${error.message}\n`);
    return EXIT_BAD_INPUT;
  }
}
