// Every exclusive waitgraph lock runs the same behaviour suite, with tracking on and off.
import { describe } from "node:test";
import { Mutex, RwLock, Semaphore } from "../../src/index.js";
import { exclusiveSuite, type ExclusiveLock } from "./exclusive-suite.js";
import { trackingOnAndOff } from "./support.js";

/** The write side of an RwLock, seen as an exclusive lock. */
function writeSide(rw: RwLock): ExclusiveLock {
  return {
    acquire: (o) => rw.acquireWrite(o),
    tryAcquire: (o) => rw.tryAcquireWrite(o),
    lock: (o) => rw.lockWrite(o),
    runExclusive: (fn, o) => rw.runWrite(fn, o),
    isLocked: () => {
      if (rw.isWriteLocked() !== rw.isLocked())
        throw new Error(
          "an RwLock with no readers: isLocked !== isWriteLocked",
        );
      return rw.isWriteLocked();
    },
  };
}

trackingOnAndOff(() => {
  describe("Mutex", () => exclusiveSuite(() => new Mutex()));
  describe("Semaphore(1)", () => exclusiveSuite(() => new Semaphore(1)));
  describe("RwLock write side", () =>
    exclusiveSuite(() => writeSide(new RwLock())));
  describe("RwLock write side (recursiveRead)", () =>
    exclusiveSuite(() => writeSide(new RwLock({ recursiveRead: true }))));
});
