// Types recognised across installed copies of waitgraph. `instanceof` sees one copy's class
// only: with two copies in node_modules, a LockClassKey (or a Mutex, or a DeadlockError) made
// by one was not one to the other — a shared key made two classes, a Condition refused the
// other copy's Mutex, an adapter took the other core's DeadlockError for a hold. A brand is a
// `Symbol.for` key on the prototype (or the instance) listing the type and its ancestors, so
// `instanceof` answers for any copy, subclasses included.
const kBrand = Symbol.for("waitgraph.brand/v1");

type Branded = { readonly [kBrand]?: readonly string[] };

/** The brands an object carries (its own type's first). */
function brandsOf(value: unknown): readonly string[] | undefined {
  try {
    if ((typeof value !== "object" && typeof value !== "function") || !value)
      return undefined;
    const brands = (value as Branded)[kBrand];
    return Array.isArray(brands) ? brands : undefined;
  } catch {
    return undefined; // a Proxy whose `get` throws is none of ours
  }
}

/** Marks `target` (a prototype or an instance) with `names`, and with whatever its prototype is. */
export function brand(target: object, ...names: string[]): void {
  const inherited = brandsOf(Object.getPrototypeOf(target)) ?? [];
  Object.defineProperty(target, kBrand, {
    value: Object.freeze([...names, ...inherited]),
    enumerable: false,
  });
}

/** True when `value` was branded `name` by any copy. */
export function hasBrand(value: unknown, name: string): boolean {
  return brandsOf(value)?.includes(name) === true;
}

/**
 * `instanceof` for a branded class: this copy's prototype chain, or a brand by its name. Put on
 * the class as `static [Symbol.hasInstance]`; a subclass inherits it and matches by its own name.
 */
export function isInstance(
  cls: abstract new (...args: never[]) => unknown,
  value: unknown,
): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true;
  // Only a branded value can be another copy's: its class's name is read for those alone
  // (`attempt instanceof DeadlockError` on a hold is on every acquisition's path).
  const brands = brandsOf(value);
  return brands !== undefined && brands.includes(cls.name);
}
