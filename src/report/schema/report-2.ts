// The JSON Schema (draft 2020-12) of `waitgraph/report@2`, the document `waitgraph run --json`
// and `waitgraph merge` write and `waitgraph report|view|merge|stats` read. @2 names the report
// kind `deadlock` (a wait-for cycle that really happened) and a lock's `site`, which late @1
// writers had added against @1's own rule; every @1 document is an @2 document in all but its
// `schema` string, so readers take both (../json.ts).
//
// This object is the one source of truth: `readDocument` (../json.ts) checks documents against
// it with the small interpreter in ./check.ts, and report-2.schema.json beside this file is its
// JSON text for other tools (test/report/json.test.ts keeps the two equal and validates real
// documents with ajv). The schema is strict — every object lists all its properties — so a field
// added to a report in src/core/report.ts fails that test until it is described here too;
// `readDocument` itself ignores properties it does not know, as a reader of a newer @2 should.

export const REPORT_SCHEMA_ID = "waitgraph/report@2";

/** The versions this reader takes, oldest first: an @1 document is valid under this schema. */
export const READABLE_SCHEMA_IDS: readonly string[] = [
  "waitgraph/report@1",
  REPORT_SCHEMA_ID,
];

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Schema = { [k: string]: Json };

const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const str = (description?: string): Schema =>
  description === undefined
    ? { type: "string" }
    : { type: "string", description };
const list = (items: Schema, description?: string): Schema => ({
  type: "array",
  items,
  ...(description !== undefined ? { description } : {}),
});

/** An object with exactly these properties; every one is required unless listed in `optional`. */
function object(
  properties: Record<string, Schema>,
  optional: readonly string[] = [],
  description?: string,
): Schema {
  return {
    type: "object",
    ...(description !== undefined ? { description } : {}),
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
    additionalProperties: false,
  };
}

const classRef = {
  id: str(
    "Stable class id, the same in every process running the same code (the merge key)",
  ),
  name: str("Display name"),
  type: str("What made the class: mutex, rwlock, semaphore, completion, …"),
  usage: str("lockdep's usage string: {+.+.} write only, {.+.+} read only"),
};

const lockRef = {
  ...classRef,
  read: ref("readMode"),
  instance: str("The instance's own name, when distinct from the class"),
  at: list(
    ref("frame"),
    'Where this hold was taken; with site "first-seen", where its locking pattern (chain) was first taken',
  ),
  site: {
    const: "first-seen",
    description:
      "Present when `at` is the chain's first-seen site, not this hold's own (the default; `sites: 'every'` records each hold's)",
  },
};

const base = {
  id: str("Identical findings share an id"),
  text: str("The report rendered as text (kernel-shaped)"),
  classes: list(str(), "Display names of the classes involved"),
  task: str("The task that made the finding"),
  held: list(ref("lockRef"), "The locks that task held, bottom first"),
  stack: list(ref("frame"), "The user-code stack at the finding"),
};

function report(
  kind: string,
  description: string,
  own: Record<string, Schema>,
  optional: readonly string[] = [],
): Schema {
  return object(
    { kind: { const: kind }, ...base, ...own },
    optional,
    description,
  );
}

const point = (extra: Record<string, Schema> = {}, optional: string[] = []) =>
  object(
    { fn: str(), class: ref("classRef"), at: list(ref("frame")), ...extra },
    optional,
  );

const reports: Record<string, Schema> = {
  circularDependency: report(
    "circular-dependency",
    "Taking `next` while holding `prev` closes a cycle in the class graph",
    {
      next: ref("lockRef"),
      prev: ref("lockRef"),
      chain: list(
        object(
          {
            class: ref("classRef"),
            read: ref("readMode"),
            stack: list(ref("frame")),
            process: str(
              "The process (or thread) that added this edge, when not the reporting one (a shared store)",
            ),
          },
          ["process"],
        ),
        "The existing chain next → … → prev in reverse order: chain[0] is prev's class",
      ),
      cycle: list(
        ref("classRef"),
        "The classes of the cycle, from next to prev",
      ),
      waits: list(
        object({
          start: point(),
          wait: point({ timeout: { type: "boolean" } }, ["timeout"]),
          event: point(),
        }),
        "DEPT's [S] [W] [E] view, when waits or events are on the cycle",
      ),
      timeout: {
        type: "boolean",
        description: "A wait with a timeout is on the cycle",
      },
      processes: list(
        str(),
        "Other processes (or threads) whose edges are on the cycle, found through a shared store",
      ),
    },
    ["waits", "timeout", "processes"],
  ),
  recursiveLocking: report(
    "recursive-locking",
    "A class taken while a lock of the same class is held",
    {
      next: ref("lockRef"),
      prev: ref("lockRef"),
      orderResult: { type: "number" },
      sameInstance: { type: "boolean" },
      certain: { type: "boolean" },
      pool: object(
        {
          size: { type: "integer", minimum: 2 },
          held: { type: "integer", minimum: 1 },
          flowsToHang: { type: "integer", minimum: 1 },
        },
        [],
        "Same instance of a lock of several units: the task holds `held` of `size` and asks for one more; `flowsToHang` tasks doing so at once hang it",
      ),
    },
    ["orderResult", "pool"],
  ),
  badUnlockBalance: report(
    "bad-unlock-balance",
    "A releaser called again after the lock was released",
    { lock: ref("lockRef") },
  ),
  heldAtTaskEnd: report(
    "held-at-task-end",
    "A task() settled while still holding locks it took",
    { locks: list(ref("lockRef")) },
  ),
  assertionFailed: report(
    "assertion-failed",
    "assertHeld / assertNotHeld failed",
    {
      assertion: { enum: ["held", "held-read", "held-write", "not-held"] },
      lock: ref("classRef"),
    },
  ),
  nestLockNotHeld: report(
    "nest-lock-not-held",
    "nestLock given, but the nest lock is not held by the task",
    { lock: ref("lockRef"), nestLock: ref("classRef") },
  ),
  invalidAnnotation: report(
    "invalid-annotation",
    "An annotation the validator cannot use",
    { message: str() },
  ),
  limitExceeded: report(
    "limit-exceeded",
    "A named capacity ran out; what needed it was not validated",
    { limit: str(), max: { type: "integer", minimum: 0 } },
  ),
  deadlock: report(
    "deadlock",
    "Flows blocked for good now, each waiting for what another blocked flow holds",
    {
      found: { enum: ["exit", "watchdog"] },
      flows: list(
        ref("blockedFlow"),
        "The flows of the cycle, oldest wait first",
      ),
      blocked: list(ref("blockedFlow"), "Blocked waits not on the cycle"),
      broken: { type: "integer", minimum: 1 },
    },
    ["broken"],
  ),
  internalError: report(
    "internal-error",
    "A bug in waitgraph, caught before it reached the program",
    { message: str(), error: str() },
  ),
};

const frame = object(
  {
    fn: str(),
    file: str("Absolute path (or file: URL) of the source file"),
    line: { type: "integer", minimum: 0 },
    column: { type: "integer", minimum: 0 },
  },
  [],
  "One frame of user code",
);

const edge = object(
  {
    from: str("Display name of the held class"),
    to: str("Display name of the class taken while `from` was held"),
    fromId: str("Stable id of `from`: one of snapshot.classes[].id"),
    toId: str("Stable id of `to`: one of snapshot.classes[].id"),
    read: object({
      SR: { type: "boolean" },
      ER: { type: "boolean" },
      SN: { type: "boolean" },
      EN: { type: "boolean" },
    }),
    stack: list(ref("frame"), "Where `to` was taken while `from` was held"),
    fromStack: list(ref("frame"), "Where `from` was taken; empty when unknown"),
    timeout: {
      type: "boolean",
      description: "Every wait that made it had a timeout",
    },
  },
  ["fromStack", "timeout"],
  "A dependency: `to` was taken (or waited for) while `from` was held",
);

export const reportSchema: Schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "urn:waitgraph:schema:report-2",
  title: "waitgraph report document, version 2",
  description:
    "What a waitgraph run found (reports) and the class graph it recorded (snapshot). Readers check `schema` first.",
  ...object(
    {
      schema: {
        enum: [...READABLE_SCHEMA_IDS],
        description: "The version; writers write the last, readers take any",
      },
      meta: object(
        {
          waitgraph: str("The version of waitgraph that wrote the document"),
          root: str(
            "Absolute directory source paths are shown relative to (the run's working directory; SARIF's %SRCROOT%)",
          ),
          merged: list(
            object({
              source: str("The input as named on the command line"),
              reports: { type: "integer", minimum: 0 },
              classes: { type: "integer", minimum: 0 },
              edges: { type: "integer", minimum: 0 },
            }),
            "Only in a document `waitgraph merge` wrote: its inputs, in order",
          ),
        },
        ["root", "merged"],
      ),
      reports: list(ref("report")),
      snapshot: object({
        classes: list(
          object({ id: str(), name: str(), type: str() }),
          "Every lock or event class the run recorded",
        ),
        edges: list(ref("edge")),
      }),
    },
    [],
  ),
  $defs: {
    readMode: {
      enum: [0, 1, 2],
      description: "0 exclusive (write), 1 shared, 2 shared recursive",
    },
    frame,
    classRef: object(classRef),
    lockRef: object(lockRef, ["instance", "site"]),
    blockedFlow: object(
      {
        flow: { type: "integer", minimum: 1 },
        task: str(),
        waitsFor: ref("lockRef"),
        blockedMs: { type: "integer", minimum: 0 },
        holds: list(ref("lockRef")),
        heldBy: list({ type: "integer", minimum: 1 }),
        reason: str(),
      },
      ["reason"],
      "One blocked flow of a deadlock",
    ),
    edge,
    report: {
      description: "A report: a discriminated union on `kind`",
      oneOf: Object.keys(reports).map((k) => ref(k)),
    },
    ...reports,
  },
};
