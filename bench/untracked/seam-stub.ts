// The seam with tracking compiled out: the honest baseline of every "× untracked" ratio.
//
// bench/build.ts bundles a primitive (src/primitives/mutex.ts …) with esbuild and resolves its
// imports of src/core/seam.ts to this file instead. The result is the same lock code, byte for
// byte, with `tracking.on` a frozen `false` and every seam call a no-op, so what the tracked
// build costs on top of it is exactly the tracker. No tracker file of src/core reaches the
// bundle (the build checks its inputs), so no promise hooks are installed and no tracker
// exists; what primitives import besides the seam (argument and class-option checks, errors)
// is tracker-free and runs the same in both builds.
//
// It exports every verb of the seam (test/core/seam.test.ts checks), each typed as its real
// counterpart: when the seam's signatures change, the typecheck points here, and a new verb
// fails that test until it is added here too. `runHolding` still runs its
// callback: an untracked lock must stay a working lock.
import type * as seam from "../../src/core/seam.js";

export type {
  EventKind,
  EventState,
  HeldLock,
  LockMap,
} from "../../src/core/seam.js";

/** Constant false: the primitives' `if (tracking.on)` branches are never taken. */
export const tracking: { readonly on: boolean } = Object.freeze({ on: false });

const nothing = (): undefined => undefined;

export const lockInit: typeof seam.lockInit = nothing;
export const eventInit: typeof seam.eventInit = nothing;
export const lockAcquire: typeof seam.lockAcquire = nothing;
export const lockSync: typeof seam.lockSync = nothing;
export const lockContended: typeof seam.lockContended = nothing;
export const lockAcquired: typeof seam.lockAcquired = nothing;
export const lockRelease: typeof seam.lockRelease = nothing;
export const assertion: typeof seam.assertion = nothing;
export const heldBy: typeof seam.heldBy = nothing;
export const adopt: typeof seam.adopt = nothing;
export const runHolding: typeof seam.runHolding = (_hold, fn) => fn();

// Waits and events (DEPT). The event state is plain data the primitive keeps either way.
export const newEventState: typeof seam.newEventState = (once = false) => ({
  requestGen: 0,
  requestTrace: undefined,
  once,
  happened: false,
  watch: 0,
});
export const eventWait: typeof seam.eventWait = nothing;
export const eventWithdrawn: typeof seam.eventWithdrawn = nothing;
export const eventRaise: typeof seam.eventRaise = nothing;
export const awaitIsWait: typeof seam.awaitIsWait = nothing;
export const ecxtEnter: typeof seam.ecxtEnter = nothing;
