// The guard `lock()` resolves to: `await using g = await m.lock()` releases at scope exit.
import { adopt, runHolding, type HeldLock } from "../core/seam.js";
import type { Release } from "./acquire.js";

export interface Guard {
  release(): void;
  [Symbol.dispose](): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * `await using` reads `[Symbol.asyncDispose]` in the caller's continuation, at the declaration.
 * The getter adopts the hold there, which is how the AsyncLocalStorage fallback learns that the
 * continuation holds the lock (reference §3.3 D); with promise hooks it already knows.
 */
export function guard(release: Release, hold: HeldLock | undefined): Guard {
  const dispose = (): Promise<void> => {
    release();
    return Promise.resolve();
  };
  return {
    release,
    [Symbol.dispose]: release,
    get [Symbol.asyncDispose]() {
      adopt(hold);
      return dispose;
    },
  };
}

/** Runs `fn` under an acquired lock and releases it whatever happens. */
export async function runUnder<T>(
  acquired: Promise<{ release: Release; hold: HeldLock | undefined }>,
  fn: () => Promise<T> | T,
): Promise<T> {
  const { release, hold } = await acquired;
  try {
    return await runHolding(hold, fn);
  } finally {
    release();
  }
}

export const pair = (release: Release, hold: HeldLock | undefined) => ({
  release,
  hold,
});
