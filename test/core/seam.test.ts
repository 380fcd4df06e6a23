// The seam is this project's lockdep.h: the verbs primitives and adapters tell the validator
// what a lock or an event does, and nothing else (DESIGN.md). These tests keep it that way: a
// new export has to be added here on purpose, and the untracked build's stub must offer every
// value the seam does, or a primitive using it stops bundling without the tracker.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as seam from "../../src/core/seam.js";
import * as stub from "../../bench/untracked/seam-stub.js";

const VERBS = [
  // lockdep: init, acquire (with read/try/nest flags and the user's site), sync,
  // contended, acquired, release (also: abandoned, suspended, again), assertion
  "lockInit",
  "lockAcquire",
  "lockSync",
  "lockContended",
  "lockAcquired",
  "lockRelease",
  "assertion",
  // DEPT: event classes, waits, events, event contexts
  "eventInit",
  "newEventState",
  "eventWait",
  "awaitIsWait",
  "eventWithdrawn",
  "eventRaise",
  "ecxtEnter",
  // the running flow: what it holds, and holding in callback style (the ALS fallback)
  "heldBy",
  "runHolding",
  "adopt",
  // the one switch
  "tracking",
];

test("the seam exports its verbs and nothing else", () => {
  assert.deepEqual(Object.keys(seam).sort(), [...VERBS].sort());
});

test("the untracked stub offers every verb, each doing nothing", () => {
  assert.deepEqual(Object.keys(stub).sort(), [...VERBS].sort());
  assert.equal(stub.tracking.on, false);
  assert.equal(stub.lockAcquire(undefined, {}, 0, undefined, false), undefined);
  // An untracked lock is still a working lock: its callback runs.
  assert.equal(
    stub.runHolding(undefined, () => 42),
    42,
  );
});

test("every verb is a no-op on an untracked object, with tracking on", () => {
  const instance = {};
  assert.equal(
    seam.lockAcquire(undefined, instance, 0, undefined, false),
    undefined,
  );
  assert.equal(seam.lockSync(undefined, instance, 0), undefined);
  assert.equal(
    seam.eventWait(undefined, instance, seam.newEventState(), false, {
      elsewhere: () => false,
    }),
    undefined,
  );
  assert.equal(seam.ecxtEnter(undefined, instance), undefined);
  assert.equal(seam.heldBy(instance), undefined);
});
