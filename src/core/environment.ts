// Settings from the environment: WAITGRAPH=off|log|throw|silent picks whether tracking runs and
// the policy; WAITGRAPH_CONTEXT=als forces the AsyncLocalStorage fallback; WAITGRAPH_SITES=every
// records every acquisition's site (tracker.configure({ sites })); WAITGRAPH_FRAMES=all keeps
// library (node_modules) frames in report stacks (tracker.configure({ frames })). Anything else is
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
  const sites = env["WAITGRAPH_SITES"]?.trim().toLowerCase();
  if (sites === "every" || sites === "first-seen") out.sites = sites;
  else if (sites !== undefined && sites !== "")
    process.emitWarning(
      `WAITGRAPH_SITES=${JSON.stringify(env["WAITGRAPH_SITES"])} is not one of every, first-seen; using first-seen`,
      { code: "WAITGRAPH_ENV" },
    );
  const frames = env["WAITGRAPH_FRAMES"]?.trim().toLowerCase();
  if (frames === "all" || frames === "user") out.frames = frames;
  else if (frames !== undefined && frames !== "")
    process.emitWarning(
      `WAITGRAPH_FRAMES=${JSON.stringify(env["WAITGRAPH_FRAMES"])} is not one of all, user; using user`,
      { code: "WAITGRAPH_ENV" },
    );
  const deadlockTimeout = deadlockTimeoutFromEnvironment(env);
  if (deadlockTimeout !== undefined) out.deadlockTimeout = deadlockTimeout;
  return out;
}
