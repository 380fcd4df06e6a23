// The scenarios of lib/locking-selftest.c (Linux; checked against the DEPT tree's copy, which
// carries a v6.13+ mainline lockdep), shared by the sequential and the two-task runs.
import type { LockName } from "../../helpers/scenario.js";

/**
 * The circular-dependency family: each pair is `LOCK_UNLOCK_2(x, y)`, run in order. The last
 * pair closes the cycle. In the kernel these are `E()` of the "A-B-B-A deadlock" … rows.
 */
export const CYCLES: { name: string; pairs: [LockName, LockName][] }[] = [
  {
    name: "A-B-B-A",
    pairs: [
      ["A", "B"],
      ["B", "A"],
    ],
  },
  {
    name: "A-B-B-C-C-A",
    pairs: [
      ["A", "B"],
      ["B", "C"],
      ["C", "A"],
    ],
  },
  {
    name: "A-B-C-A-B-C",
    pairs: [
      ["A", "B"],
      ["C", "A"],
      ["B", "C"],
    ],
  },
  {
    name: "A-B-B-C-C-D-D-A",
    pairs: [
      ["A", "B"],
      ["B", "C"],
      ["C", "D"],
      ["D", "A"],
    ],
  },
  {
    name: "A-B-C-D-B-D-D-A",
    pairs: [
      ["A", "B"],
      ["C", "D"],
      ["B", "D"],
      ["D", "A"],
    ],
  },
  {
    name: "A-B-C-D-B-C-D-A",
    pairs: [
      ["A", "B"],
      ["C", "D"],
      ["B", "C"],
      ["D", "A"],
    ],
  },
];
