// A library's exports with some of them replaced, as a new object: a CommonJS exports object
// may define its exports as getters that cannot be redefined (TypeScript's re-exports), and an
// ES module namespace is frozen. Non-enumerable marks such as `__esModule` are kept.
export function copyExports(
  original: object,
  replaced: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(original)) {
    const descriptor = Object.getOwnPropertyDescriptor(original, name)!;
    let value: unknown;
    try {
      value = (original as Record<string, unknown>)[name];
    } catch {
      continue;
    }
    Object.defineProperty(out, name, {
      value: Object.hasOwn(replaced, name) ? replaced[name] : value,
      enumerable: descriptor.enumerable ?? true,
      writable: true,
      configurable: true,
    });
  }
  for (const name of Object.keys(replaced))
    if (!Object.hasOwn(out, name)) out[name] = replaced[name];
  return out;
}

/**
 * Makes `instanceof Tracked` true of every instance of `Base`: the subclass register hands out
 * stands for the library's class, and the program may meet instances made elsewhere (the
 * adapter's drop-in classes extend the original).
 */
export function standsFor(
  Tracked: abstract new (...args: never[]) => unknown,
  Base: abstract new (...args: never[]) => unknown,
): void {
  Object.defineProperty(Tracked, Symbol.hasInstance, {
    value: (value: unknown) => value instanceof Base,
    configurable: true,
  });
}
