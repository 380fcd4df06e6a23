// Lock classes: what the graph is about.
//
// lockdep (reference §1.2): every lock initialised at the same source location shares one class;
// an explicit key names a class; a class is (key, subclass) with subclasses 0..7, each a class
// of its own. Here a key is a construction site (the default), a string (a stable class shared
// by everything that names it), or a `LockClassKey` object (one class per key object). A class is
// created lazily, the first time a lock of that (key, subclass) is used.
import { brand, isInstance } from "./brand.js";
import {
  formatSite,
  isUserFile,
  kept,
  stackBelow,
  userFrames,
  type Skip,
  type Trace,
} from "./stack.js";
import {
  boundedIdName,
  boundedName,
  type ClassRef,
  type ReadMode,
} from "./report.js";
import type { ChainRecord } from "./held-lock.js";
import { checkString } from "./arguments.js";

export const MAX_SUBCLASSES = 8;

/** The function (or constructor) whose frame and callers' frames above it are left out of a site. */
export type { Skip };

/** An explicit class identity: every lock given the same `LockClassKey` object shares one class. */
export class LockClassKey {
  readonly name: string | undefined;
  constructor(name?: string) {
    checkString("name", name);
    this.name = name;
  }
  /** A key made by any installed copy is a key (brand.ts). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}
brand(LockClassKey.prototype, "LockClassKey");

/** `order(held, next)` for two instances of one class: < 0 means `next` may be taken under `held`. */
export type OrderFn = (held: never, next: never) => number;

export interface ClassOptions {
  name?: string;
  key?: string | LockClassKey;
  order?: (held: never, next: never) => number;
  validate?: boolean;
  /**
   * For a lock of several units (a semaphore, a pool): at most this many flows use it at once.
   * A flow holding k of its N units that asks for one more hangs it only when ⌈N / k⌉ flows do
   * the same together; with fewer promised, that nested acquisition is not reported.
   */
  concurrency?: number;
}

/**
 * One key: a site, a string or a LockClassKey. Owns up to eight classes, one per subclass.
 * A record belongs to one generation of the registry (tracker.reset() starts the next): a
 * lock made before a reset keeps its old record, and resolves it again by `raw` the first time
 * it needs a class afterwards, so it shares the new record with locks made after the reset.
 */
export interface KeyRecord {
  generation: number;
  readonly kind: "site" | "string" | "object";
  readonly raw: string;
  readonly trace: Trace | undefined;
  name: string | undefined;
  validate: boolean;
  order: OrderFn | undefined;
  readonly classes: (LockClass | undefined)[];
}

/**
 * What kind of event an event class stands for, as its primitive declares it (eventInit): the
 * core names no primitive. A class without one is a lock.
 */
export interface EventKind {
  /** DEPT's names of its three points: where its event context starts, its wait, its event. */
  readonly start: string;
  readonly wait: string;
  readonly event: string;
  /**
   * Its waits sit in predicate loops over state a mutex guards (a condition variable): its
   * event never depends on a wait of another such class (dept.ts, eventRaise's design limit).
   */
  readonly predicateLoop?: boolean;
  /**
   * Structured work (a task): a context of this class awaiting an event of its own class is a
   * tree of work — the child never waits for its parent — not a cycle.
   */
  readonly tree?: boolean;
}

export class LockClass {
  /** Dense index: the node number in the graph and the unit of chain keys. */
  readonly index: number;
  readonly key: KeyRecord;
  readonly subclass: number;
  readonly type: string;
  /** The event it stands for; undefined for a lock. */
  readonly event: EventKind | undefined;
  /** Bit 0: ever taken for write; bit 1: ever taken for read. */
  usage = 0;
  /** Forgotten by tracker.reset(): holds of it, still on some task's list, no longer count. */
  retired = false;
  /**
   * The validated chain of taking this class with nothing held, per read mode (0–2; a wait is
   * an exclusive take, and a timed wait is slot 3): the most common acquisition or wait skips
   * the chain-cache lookup (its verdict cannot change: no held lock, no edge).
   */
  readonly aloneChain: (ChainRecord | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  private cachedName: string | undefined;
  private cachedId: string | undefined;
  nameVersion = 1;

  constructor(
    index: number,
    key: KeyRecord,
    subclass: number,
    type: string,
    event: EventKind | undefined,
  ) {
    this.index = index;
    this.key = key;
    this.subclass = subclass;
    this.type = type;
    this.event = event;
  }

  get validate(): boolean {
    return this.key.validate;
  }

  /** Display name: `name`, else the string key, else the construction site; `/s` for subclass s. */
  get baseName(): string {
    // Bounded (report.ts): a 1 MB key must not make a multi-MB report.
    if (this.key.name !== undefined) return boundedName(this.key.name);
    if (this.key.kind === "string") return boundedName(this.key.raw);
    return `${this.type}@${this.site()}`;
  }

  get name(): string {
    if (this.cachedName === undefined) {
      const version = this.nameVersion > 1 ? `#${this.nameVersion}` : "";
      this.cachedName =
        this.baseName +
        version +
        (this.subclass !== 0 ? `/${this.subclass}` : "");
    }
    return this.cachedName;
  }

  /** Stable across processes that run the same code: the key's name or its source-mapped site. */
  get id(): string {
    if (this.cachedId === undefined) {
      const base =
        this.key.kind === "string"
          ? `key:${boundedIdName(this.key.raw)}`
          : this.key.kind === "site"
            ? `site:${this.site()}`
            : `object:${boundedIdName(this.key.name ?? "LockClassKey")}@${this.site()}`;
      this.cachedId = base + (this.subclass !== 0 ? `/${this.subclass}` : "");
    }
    return this.cachedId;
  }

  site(): string {
    return formatSite(userFrames(this.key.trace, 1)[0]);
  }

  markUsed(read: ReadMode): void {
    const bit = read === 0 ? 1 : 2;
    if ((this.usage & bit) === 0) this.usage |= bit;
  }

  /** lockdep's `{usage}` for a lock only ever taken in process context with irqs on. */
  get usageString(): string {
    const w = (this.usage & 1) !== 0 ? "+" : ".";
    const r = (this.usage & 2) !== 0 ? "+" : ".";
    return `{${w}${r}${w}${r}}`;
  }

  ref(): ClassRef {
    return {
      id: this.id,
      name: this.name,
      type: this.type,
      usage: this.usageString,
    };
  }
}

/** Per-instance data (lockdep_map): which key, the instance name, a small class cache. */
export interface LockMap {
  /** Replaced by the current generation's record after a reset (ClassRegistry.current). */
  key: KeyRecord;
  readonly type: string;
  readonly instanceName: string | undefined;
  /** Set for an event object's class (eventInit). */
  readonly event?: EventKind;
  /** The user's promise: at most this many flows use it at once (ClassOptions.concurrency). */
  readonly concurrency?: number;
}

// Memory. A string key, a deferred's key and a task name (`task <name>`) each cost one record
// (~240 B with its map entry) until tracker.reset(); a construction site one more, with its
// stack. Both tables together hold at most `limits.keys` records (a named capacity, like
// lockdep's MAX_LOCKDEP_KEYS for classes): a lock whose key would be past it is made untracked,
// with one limit-exceeded report, as a lock past the class table is. reset() empties both
// tables, so keys used once (a key per request, a task name per job) do not pile up across
// resets: records still reachable are those of live locks. LockClassKey records live in a
// WeakMap and go with their key object.
export class ClassRegistry {
  readonly classes: LockClass[] = [];
  private readonly bySite = new Map<string, KeyRecord>();
  private readonly byString = new Map<string, KeyRecord>();
  private readonly byObject = new WeakMap<LockClassKey, KeyRecord>();
  private readonly namesInUse = new Map<string, number>();
  private generation = 0;
  /** `limits.classes` */
  limit: number;
  /** `limits.keys`: records in bySite and byString together. */
  keyLimit: number;
  /** Which table was full when classOf or keyFor last returned undefined. */
  refused: "classes" | "keys" = "classes";
  /**
   * Whether the last classOf made the class. False when a lock made before a reset found its
   * key's class already made since (by a lock made after the reset): the caller must not add
   * that class to the graph again (addNode would drop its edges).
   */
  created = false;

  constructor(limit: number, keyLimit: number) {
    this.limit = limit;
    this.keyLimit = keyLimit;
  }

  /** Site and string records held now (tests and stats). */
  get keyCount(): number {
    return this.bySite.size + this.byString.size;
  }

  private keyRoom(): boolean {
    if (this.keyCount < this.keyLimit) return true;
    this.refused = "keys";
    return false;
  }

  /**
   * Resolves a lock's key at construction; undefined when the key table is full (the lock
   * goes untracked). Options were validated by the seam.
   */
  keyFor(
    opts: ClassOptions | undefined,
    type: string,
    skip: Skip,
  ): KeyRecord | undefined {
    const key = opts?.key;
    let record: KeyRecord | undefined;
    if (typeof key === "string") {
      record = this.byString.get(key);
      if (record === undefined) {
        if (!this.keyRoom()) return undefined;
        record = this.newKey("string", key, undefined, opts);
        this.byString.set(key, record);
      }
    } else if (key instanceof LockClassKey) {
      record = this.byObject.get(key);
      if (record === undefined) {
        record = this.newKey("object", "", captureSiteTrace(skip), opts);
        if (record.name === undefined && key.name !== undefined)
          record.name = key.name;
        this.byObject.set(key, record);
      }
    } else {
      const raw = rawSite(skip);
      record = this.bySite.get(raw);
      if (record === undefined) {
        if (!this.keyRoom()) return undefined;
        record = this.newKey("site", raw, captureSiteTrace(skip), opts);
        this.bySite.set(raw, record);
      }
    }
    return record;
  }

  /**
   * The record of this generation for a lock's key: the lock's own when current, else the one
   * a lock made since the reset registered for the same string or site, else a fresh copy of
   * the old one (its name, `validate` and `order` are the key's, whoever first used it).
   * Undefined when the key table is full.
   */
  private current(map: LockMap): KeyRecord | undefined {
    const old = map.key;
    if (old.generation === this.generation) return old;
    if (old.kind === "object") {
      old.generation = this.generation; // one record per key object, across resets
      return old;
    }
    const table = old.kind === "string" ? this.byString : this.bySite;
    let record = table.get(old.raw);
    if (record === undefined) {
      if (!this.keyRoom()) return undefined;
      record = { ...old, generation: this.generation, classes: noClasses() };
      table.set(old.raw, record);
    } else if (
      record.name === undefined &&
      old.name !== undefined &&
      record.classes.every((c) => c === undefined)
    ) {
      // A lock made after the reset without a `name` registered the key first: the name the
      // key had before still applies (nothing has printed the class yet).
      record.name = old.name;
    }
    map.key = record;
    return record;
  }

  /**
   * The class of (key, subclass), created on first use; undefined when the class table (or,
   * for a lock made before a reset, the key table) is full — `refused` says which.
   */
  classOf(map: LockMap, subclass: number): LockClass | undefined {
    const existing = map.key.classes[subclass];
    if (existing !== undefined) return existing;
    this.created = false;
    if (this.current(map) === undefined) return undefined;
    const again = map.key.classes[subclass];
    if (again !== undefined) return again;
    if (this.classes.length >= this.limit) {
      this.refused = "classes";
      return undefined;
    }
    const cls = new LockClass(
      this.classes.length,
      map.key,
      subclass,
      map.type,
      map.event,
    );
    map.key.classes[subclass] = cls;
    this.classes.push(cls);
    this.created = true;
    // lockdep's name_version: a second class with the same display name prints as `name#2`.
    // Only an explicit name or string key can repeat; a site-based name is unique already,
    // and computing it would format a stack at class creation (formatting waits for a report).
    if (map.key.kind === "string" || map.key.name !== undefined) {
      const base = cls.baseName + (subclass !== 0 ? `/${subclass}` : "");
      const seen = this.namesInUse.get(base) ?? 0;
      cls.nameVersion = seen + 1;
      this.namesInUse.set(base, seen + 1);
    }
    return cls;
  }

  reset(): void {
    for (const cls of this.classes) {
      cls.retired = true;
      cls.key.classes.fill(undefined);
    }
    this.classes.length = 0;
    this.namesInUse.clear();
    this.bySite.clear();
    this.byString.clear();
    this.generation++;
  }

  private newKey(
    kind: KeyRecord["kind"],
    raw: string,
    trace: Trace | undefined,
    opts: ClassOptions | undefined,
  ): KeyRecord {
    return {
      generation: this.generation,
      kind,
      raw,
      trace,
      name: opts?.name,
      validate: opts?.validate ?? true,
      order: opts?.order as OrderFn | undefined,
      classes: noClasses(),
    };
  }
}

function noClasses(): (LockClass | undefined)[] {
  return new Array<LockClass | undefined>(MAX_SUBCLASSES).fill(undefined);
}

function captureSiteTrace(skip: Skip): Trace {
  return kept(stackBelow(skip, 16));
}

/**
 * The construction site as raw `file:line:col` of the first frame below `skip`, read from
 * structured call sites so that no string formatting or source mapping is paid per construction.
 * Source mapping happens once per site, when the class's name is first printed.
 */
function rawSite(skip: Skip): string {
  // Most constructions are called straight from user code: two frames are enough, and a
  // capture costs in proportion to its depth. A lock made inside waitgraph's own adapters
  // needs a deeper look.
  return siteWithin(skip, 2) ?? siteWithin(skip, 10) ?? "(unknown)";
}

const asCallSites = (_error: Error, callSites: NodeJS.CallSite[]) => callSites;

function siteWithin(skip: Skip, depth: number): string | undefined {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  Error.stackTraceLimit = depth;
  try {
    Error.prepareStackTrace = asCallSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, skip as never);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    for (const cs of sites ?? []) {
      // isUserFile understands file:// URLs (ESM) as well as paths: no URL parsing here.
      const file = cs.getFileName() ?? cs.getScriptNameOrSourceURL() ?? "";
      if (isUserFile(file))
        return `${file}:${cs.getLineNumber() ?? 0}:${cs.getColumnNumber() ?? 0}`;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}
