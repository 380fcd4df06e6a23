// Turns stuck waits (stuck.ts) into `deadlock` reports, once per deadlock, and under
// `policy: 'throw'` breaks each cycle as PostgreSQL does: one waiter of the cycle — the one
// that blocked last — is rejected with DeadlockError, so the others proceed.
import type { BlockedFlow } from "./deadlock-report.js";
import { DeadlockError } from "./errors.js";
import type { HeldLock } from "./held-lock.js";
import { core } from "./instance.js";
import type { LockRef, Report } from "./report.js";
import { report } from "./findings.js";
import { userFrames } from "./stack.js";
import { holdersOf, locksHeld, stuckGroups, type StuckGroup } from "./stuck.js";
import { lockRef } from "./validator.js";
import type { BlockedWait } from "./wait-for.js";
import { state } from "./process-state.js";

/** Waits already in a deadlock report: the watchdog and the exit report each deadlock once. */
const reported = state.deadlocksReported;

/** Reports the deadlocks among `stuck` not reported yet; returns how many it reported. */
export function reportStuck(
  stuck: Set<BlockedWait>,
  found: "exit" | "watchdog",
  /** Under the watchdog, a cycle is reported once its youngest wait is this old (ms). */
  minAge = 0,
): number {
  const now = performance.now();
  let n = 0;
  for (const group of stuckGroups(stuck)) {
    const waits = [...group.cycle, ...group.behind];
    if (waits.every((w) => reported.has(w.hold))) continue;
    if (found === "watchdog") {
      if (group.cycle.length === 0) continue;
      if (group.cycle.some((w) => now - w.since < minAge)) continue;
    }
    for (const w of waits) reported.add(w.hold);
    const victim = core.reporter.policy === "throw" ? victimOf(group) : -1;
    const r = report(deadlockData(group, stuck, found, victim, now));
    if (victim >= 0) group.cycle[victim]!.cancel!(new DeadlockError(r));
    n++;
  }
  return n;
}

/** The waiter to reject: the most recent wait of the cycle that can be withdrawn alone. */
function victimOf(group: StuckGroup): number {
  for (let i = group.cycle.length - 1; i >= 0; i--)
    if (group.cycle[i]!.cancel !== undefined) return i;
  return -1;
}

function deadlockData(
  group: StuckGroup,
  stuck: Set<BlockedWait>,
  found: "exit" | "watchdog",
  victim: number,
  now: number,
): Omit<Report & { kind: "deadlock" }, "text"> {
  const all = [...group.cycle, ...group.behind];
  const number = new Map(all.map((w, i) => [w, i + 1]));
  const label = instanceLabels(all);
  const ref = (h: HeldLock): LockRef => {
    const r = lockRef(h);
    const name = label.get(h.instance);
    return name === undefined ? r : { ...r, instance: name };
  };
  const flow = (w: BlockedWait, onCycle: boolean): BlockedFlow => {
    const holders = holdersOf(w, stuck);
    const heldBy = holders
      .map((v) => number.get(v))
      .filter((k): k is number => k !== undefined);
    const out: BlockedFlow = {
      flow: number.get(w)!,
      task: w.frame.task.name,
      waitsFor: ref(w.hold),
      blockedMs: Math.round(now - w.since),
      holds: locksHeld(w).map(ref),
      heldBy,
    };
    if (!onCycle) out.reason = reasonOf(w, holders.length > 0, found);
    return out;
  };
  const flows = group.cycle.map((w) => flow(w, true));
  const blocked = group.behind.map((w) => flow(w, false));
  const first = group.cycle[victim] ?? all[0]!;
  const sites = all.map((w) => `${w.hold.cls.id}@${siteKey(w.hold)}`);
  return {
    kind: "deadlock",
    id: `deadlock:${sites.sort().join(",")}`,
    classes: [...new Set(all.map((w) => w.hold.cls.name))],
    task: first.frame.task.name,
    held: locksHeld(first).map(ref),
    stack: userFrames(first.hold.chain?.trace),
    found,
    flows,
    blocked,
    ...(victim >= 0 ? { broken: victim + 1 } : {}),
  };
}

function reasonOf(
  w: BlockedWait,
  heldByBlocked: boolean,
  found: "exit" | "watchdog",
): string {
  const what = w.hold.cls.name;
  if (heldByBlocked) return `${what} is held by a flow that is itself blocked`;
  return found === "exit"
    ? `${what} is held by no blocked flow: its holder awaits something waitgraph does not track or never released it, and nothing is left to run that could release it`
    : `${what} is held by no blocked flow`;
}

/** Instances of one class in the same report get numbers (`account#1`, `account#2`). */
function instanceLabels(waits: BlockedWait[]): Map<object, string> {
  const byClass = new Map<string, object[]>();
  const add = (h: HeldLock): void => {
    const list = byClass.get(h.cls.name) ?? [];
    if (!list.includes(h.instance)) list.push(h.instance);
    byClass.set(h.cls.name, list);
  };
  for (const w of waits) {
    add(w.hold);
    for (const h of locksHeld(w)) add(h);
  }
  const out = new Map<object, string>();
  for (const [name, instances] of byClass)
    if (instances.length > 1)
      instances.forEach((inst, i) => out.set(inst, `${name}#${i + 1}`));
  return out;
}

function siteKey(h: HeldLock): string {
  const f = userFrames(h.chain?.trace, 1)[0];
  return f === undefined ? "" : `${f.file}:${f.line}`;
}
