// When a deadlock really happens: the exit explanation and the watchdog (PostgreSQL's
// `deadlock_timeout` idea). Both read the live wait-for graph (wait-for.ts).
//
//   beforeExit  Node found its event loop empty: nothing is left to run, so every wait still
//               blocked is stuck. Without this a program whose flows deadlock just ends — exit
//               status 13 (unsettled top-level await) or 0 — and says nothing.
//   watchdog    an unref'd timer, armed only while some wait is blocked, so it never keeps the
//               process alive and costs nothing while nothing is contended. When a wait has been
//               blocked `deadlockTimeout` ms it computes the stuck set (stuck.ts) and reports
//               each cycle in it once.
//
// Nothing here throws into the program: a bug becomes one internal-error report.
import { expected } from "./errors.js";
import { core } from "./instance.js";
import { reportStuck } from "./deadlock.js";
import { internalError } from "./findings.js";
import { stuckWaits } from "./stuck.js";
import { blocked, onFirstBlocked } from "./wait-for.js";
import { DEFAULT_DEADLOCK_TIMEOUT, state } from "./process-state.js";

export { DEFAULT_DEADLOCK_TIMEOUT };

// One watchdog per process, whichever copy arms it: its timer and setting are shared state.
const dog = state.watchdog;

/** Validates `deadlockTimeout` (ms; 0 or false turns the watchdog off); throws InvalidArgumentError. */
export function checkDeadlockTimeout(value: unknown): number {
  if (value === false) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw expected(
      "deadlockTimeout",
      "a non-negative finite number of milliseconds, or 0 or false to turn the watchdog off",
      value,
    );
  return value;
}

export function setDeadlockTimeout(value: unknown): void {
  dog.timeoutMs = checkDeadlockTimeout(value);
  if (dog.timeoutMs === 0 && dog.timer !== undefined) {
    clearTimeout(dog.timer);
    dog.timer = undefined;
  } else if (blocked.size > 0) arm();
}

export function deadlockTimeout(): number {
  return dog.timeoutMs;
}

/** WAITGRAPH_DEADLOCK_TIMEOUT: milliseconds, or 0/false/off. Anything else is warned about and ignored. */
export function deadlockTimeoutFromEnvironment(
  env: Record<string, string | undefined>,
): number | undefined {
  const raw = env["WAITGRAPH_DEADLOCK_TIMEOUT"]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  if (raw === "false" || raw === "off") return 0;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= 0) return n;
  process.emitWarning(
    `WAITGRAPH_DEADLOCK_TIMEOUT=${JSON.stringify(env["WAITGRAPH_DEADLOCK_TIMEOUT"])} is not a non-negative number of milliseconds or off; using ${dog.timeoutMs}`,
    { code: "WAITGRAPH_ENV" },
  );
  return undefined;
}

function arm(): void {
  try {
    if (!dog.exitHooked) {
      dog.exitHooked = true;
      process.on("beforeExit", atExit);
    }
    if (dog.timeoutMs > 0 && dog.timer === undefined) {
      dog.timer = setTimeout(check, nextDelay());
      dog.timer.unref();
    }
  } catch (error) {
    internalError(error);
  }
}
onFirstBlocked(arm);

/** Until the youngest blocked wait is `deadlockTimeout` old (a cycle forms when its last wait blocks). */
function nextDelay(): number {
  let youngest = -Infinity;
  for (const w of blocked.values())
    if (!w.bounded && w.since > youngest) youngest = w.since;
  const left =
    youngest === -Infinity
      ? dog.timeoutMs
      : youngest + dog.timeoutMs - performance.now();
  return Math.max(1, Math.min(dog.timeoutMs, Math.ceil(left)));
}

function check(): void {
  dog.timer = undefined;
  try {
    if (!core.tracking.on || blocked.size === 0) return;
    const stuck = stuckWaits(blocked.values(), false);
    if (stuck.size > 0) reportStuck(stuck, "watchdog", dog.timeoutMs);
    if (blocked.size > 0 && dog.timeoutMs > 0) {
      dog.timer = setTimeout(check, nextDelay());
      dog.timer.unref();
    }
  } catch (error) {
    internalError(error);
  }
}

function atExit(): void {
  try {
    if (!core.tracking.on || blocked.size === 0) return;
    reportStuck(stuckWaits(blocked.values(), true), "exit");
  } catch (error) {
    internalError(error);
  }
}
