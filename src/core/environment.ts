// Settings from the environment: WAITGRAPH=off|log|throw|silent picks whether tracking runs and
// the policy; WAITGRAPH_CONTEXT=als forces the AsyncLocalStorage fallback. Anything else is
// named in a warning and ignored: a typo must not turn checking off silently.
import type { TrackerOptions } from "./tracker.js";
import { deadlockTimeoutFromEnvironment } from "./watchdog.js";

export function settingsFromEnvironment(
  env: Record<string, string | undefined>,
): TrackerOptions {
  const out: TrackerOptions = { enabled: true };
  const value = env["WAITGRAPH"]?.trim().toLowerCase();
  if (value === "off" || value === "0" || value === "false")
    out.enabled = false;
  else if (value === "log" || value === "throw" || value === "silent")
    out.policy = value;
  else if (
    value !== undefined &&
    value !== "" &&
    value !== "on" &&
    value !== "1" &&
    value !== "true"
  )
    process.emitWarning(
      `WAITGRAPH=${JSON.stringify(env["WAITGRAPH"])} is not one of off, log, throw, silent; using log`,
      { code: "WAITGRAPH_ENV" },
    );
  const mode = env["WAITGRAPH_CONTEXT"]?.trim().toLowerCase();
  if (mode === "als" || mode === "async-local-storage")
    out.context = "async-local-storage";
  const deadlockTimeout = deadlockTimeoutFromEnvironment(env);
  if (deadlockTimeout !== undefined) out.deadlockTimeout = deadlockTimeout;
  return out;
}
