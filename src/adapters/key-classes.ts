// Per-key lock classes for a library whose locks are named by the program (async-lock keys,
// Web Lock names, redlock resources, PostgreSQL advisory keys). Keys made per entity
// (`user:${id}`) would fill the process's class table and stop checking everywhere, so one
// table makes at most `max` classes; past it, new keys share one overflow class and the user
// is told once, with how to group keys.
//
// The overflow class is never checked: it holds keys of every place in every order, and two
// keys taken in ascending order — healthy sorted locking — would be one class taken twice, a
// false recursive-locking report.
import { limitExceeded } from "../core/findings.js";
import type { LockMap } from "../core/seam.js";

/** The overflow class's name part: what every key past the cap shares. */
export const OVERFLOW = "…";

export interface Overflow {
  /** The limit-exceeded report's id (after `limit-exceeded:`). */
  readonly id: string;
  /** The overflow class as the report names it. */
  readonly className: string;
  /** What ran out, and how to group keys. */
  readonly limit: string;
}

export class KeyClasses {
  private readonly maps = new Map<string, LockMap | undefined>();

  constructor(
    private readonly max: number,
    /** Read when the cap is reached (the names may change when a lock is tracked again). */
    private readonly overflow: () => Overflow,
    /** Makes the class of `cls`; `validate` is false for the overflow class. */
    private readonly make: (
      cls: string,
      validate: boolean,
    ) => LockMap | undefined,
  ) {}

  /** The class of key class `cls`, made on first use. */
  mapOf(cls: string): LockMap | undefined {
    if (this.maps.has(cls)) return this.maps.get(cls);
    let validate = true;
    if (this.maps.size >= this.max) {
      cls = OVERFLOW;
      if (this.maps.has(cls)) return this.maps.get(cls);
      validate = false;
      const o = this.overflow();
      limitExceeded(o.id, o.className, o.limit, this.max);
    }
    const map = this.make(cls, validate);
    this.maps.set(cls, map);
    return map;
  }

  /** Forgets every class made (a lock tracked again with other names): made anew on use. */
  clear(): void {
    this.maps.clear();
  }
}

/**
 * One instance per key in use: "same instance" means the same named lock, however many
 * acquisitions name it; dropped when its last user releases.
 */
export class KeyTokens<T extends object> {
  private readonly entries = new Map<string, { token: T; users: number }>();

  constructor(private readonly make: (key: string) => T) {}

  take(key: string): T {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { token: this.make(key), users: 0 };
      this.entries.set(key, entry);
    }
    entry.users++;
    return entry.token;
  }

  drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined && --entry.users === 0) this.entries.delete(key);
  }
}
