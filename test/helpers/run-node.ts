// A program run as its own process under the register hook, as a user runs it:
// `node --import waitgraph/register …args` in the repository root (the package resolves itself
// by name), with `env` over this process's environment. Resolves with what it printed.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

const root = fileURLToPath(new URL("../../", import.meta.url));

export function underRegister(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "waitgraph/register", ...args],
      {
        cwd: root,
        // NODE_TEST_CONTEXT would make a child that runs node:test report to this runner.
        env: { ...process.env, NODE_TEST_CONTEXT: undefined, ...env },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout, stderr, pid: child.pid ?? 0 }),
    );
  });
}
