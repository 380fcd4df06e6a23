// A real Redis server for one test file: Debian's `redis-server` (`.ci/run` installs it), started
// on a free loopback port with nothing persisted.
//
//   const redis = await startRedis();   // ~20 ms
//   redis.url                           // "redis://127.0.0.1:<port>"
//   await redis.stop();
//
// Without redis-server on the PATH the tests that need one are skipped with the reason, except
// under CI (CI=true), where a missing server is a failed install and fails the test.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { freePort } from "./free-port.js";

export interface Redis {
  readonly url: string;
  readonly port: number;
  /** The server's process id (to stop it with SIGSTOP: a server that accepts and never answers). */
  readonly pid: number;
  /** Stops the server (SIGTERM, then waits for its exit). Safe to call twice. */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port: a store outage and its end. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** Why Redis tests cannot run here, or undefined when redis-server is on the PATH. */
export function redisMissing(): string | undefined {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error === undefined && probe.status === 0) return undefined;
  const why =
    "redis-server is not on the PATH (Debian: apt-get install redis-server)";
  if ((process.env["CI"] ?? "") !== "")
    throw new Error(`${why}; under CI it must be installed`);
  return why;
}

export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  let child = await launch(port);
  let stopped = false;
  const leftovers = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", leftovers);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid ?? 0;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", leftovers);
      await stop();
    },
    pause: stop,
    resume: async () => {
      child = await launch(port);
    },
  };
}

/** Starts redis-server on `port` and resolves once it accepts connections. */
function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start in 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `redis-server exited (${code ?? signal}) before it was ready:\n${output}`,
        ),
      );
    });
  });
}
