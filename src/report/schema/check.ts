// A small interpreter for the part of JSON Schema that report-2.ts uses: type (one name),
// const, enum, minimum, properties / required / additionalProperties: false, items, $ref into
// $defs, and oneOf. It answers with the first mismatch, phrased for a person: the path of the
// value, what was expected there and what was found. A oneOf whose branches each fix `kind` to
// a constant is read as a discriminated union: the value's `kind` picks the branch, so an error
// inside a report names that report's field rather than "matched no branch".
//
// Why not ajv: src/report is a pure layer that ships without third-party code at run time; the
// tests run ajv over the same schema to keep this interpreter honest.
import { describe } from "../../core/errors.js";

type Schema = { readonly [k: string]: unknown };

export interface Mismatch {
  /** Where, as in JavaScript: `reports[2].next.at[0].line`; empty for the document itself. */
  readonly path: string;
  /** What was expected there, as a phrase: `an integer ≥ 0`, `one of "a", "b"`. */
  readonly expected: string;
  /** What was found, described: `"12" (string)`, `nothing`. */
  readonly found: string;
}

export interface CheckOptions {
  /** Accept properties the schema does not list (a reader of a newer minor document). */
  readonly ignoreUnknown?: boolean;
}

/** The first place where `value` does not match `schema`, or undefined when it matches. */
export function check(
  schema: Schema,
  value: unknown,
  options: CheckOptions = {},
): Mismatch | undefined {
  return new Checker(schema, options).at(schema, value, "");
}

class Checker {
  constructor(
    private readonly root: Schema,
    private readonly options: CheckOptions,
  ) {}

  at(schema: Schema, value: unknown, path: string): Mismatch | undefined {
    const s = this.resolve(schema);
    if ("oneOf" in s) return this.oneOf(s["oneOf"] as Schema[], value, path);
    if ("const" in s && value !== s["const"])
      return miss(path, JSON.stringify(s["const"]), value);
    if ("enum" in s) {
      const options = s["enum"] as unknown[];
      if (!options.includes(value))
        return miss(path, oneOfPhrase(options), value);
    }
    const type = s["type"] as string | undefined;
    if (type !== undefined && !hasType(value, type))
      return miss(path, this.phrase(s), value);
    if (
      typeof value === "number" &&
      typeof s["minimum"] === "number" &&
      value < s["minimum"]
    )
      return miss(path, this.phrase(s), value);
    if (type === "array") {
      const items = s["items"] as Schema | undefined;
      if (items === undefined) return undefined;
      const array = value as unknown[];
      for (let i = 0; i < array.length; i++) {
        const m = this.at(items, array[i], `${path}[${i}]`);
        if (m !== undefined) return m;
      }
    }
    if (type === "object") return this.object(s, value as object, path);
    return undefined;
  }

  private object(s: Schema, value: object, path: string): Mismatch | undefined {
    const properties = (s["properties"] ?? {}) as Record<string, Schema>;
    const record = value as Record<string, unknown>;
    for (const name of (s["required"] ?? []) as string[])
      if (!Object.hasOwn(record, name))
        return {
          path: join(path, name),
          expected: this.phrase(properties[name] ?? {}),
          found: "nothing",
        };
    for (const [name, sub] of Object.entries(properties)) {
      if (!Object.hasOwn(record, name)) continue;
      const m = this.at(sub, record[name], join(path, name));
      if (m !== undefined) return m;
    }
    if (
      s["additionalProperties"] === false &&
      this.options.ignoreUnknown !== true
    )
      for (const name of Object.keys(record))
        if (!Object.hasOwn(properties, name))
          return miss(
            join(path, name),
            `absent (${path === "" ? "the document" : `\`${path}\``} has no property ${JSON.stringify(name)})`,
            record[name],
          );
    return undefined;
  }

  /** A union; when every branch fixes `kind`, the value's `kind` picks the branch. */
  private oneOf(
    branches: Schema[],
    value: unknown,
    path: string,
  ): Mismatch | undefined {
    const resolved = branches.map((b) => this.resolve(b));
    const kinds: unknown[] = resolved.map(
      (b) =>
        ((b["properties"] ?? {}) as Record<string, Schema>)["kind"]?.["const"],
    );
    if (kinds.every((k) => typeof k === "string")) {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return miss(path, "an object", value);
      const kind = (value as Record<string, unknown>)["kind"];
      const i = kinds.findIndex((k) => k === kind);
      if (i === -1)
        return Object.hasOwn(value, "kind")
          ? miss(join(path, "kind"), oneOfPhrase(kinds), kind)
          : {
              path: join(path, "kind"),
              expected: oneOfPhrase(kinds),
              found: "nothing",
            };
      return this.at(resolved[i]!, value, path);
    }
    const misses = resolved.map((b) => this.at(b, value, path));
    const matched = misses.filter((m) => m === undefined).length;
    if (matched === 1) return undefined;
    return miss(
      path,
      `exactly one of: ${resolved.map((b) => this.phrase(b)).join("; ")}`,
      value,
    );
  }

  private resolve(schema: Schema): Schema {
    let s = schema;
    for (let hops = 0; typeof s["$ref"] === "string"; hops++) {
      const name = /^#\/\$defs\/(.+)$/.exec(s["$ref"])?.[1];
      const defs = this.root["$defs"] as Record<string, Schema> | undefined;
      const target = name === undefined ? undefined : defs?.[name];
      if (target === undefined || hops > 16)
        throw new Error(`schema: cannot resolve ${s["$ref"]}`);
      s = target;
    }
    return s;
  }

  /** What a schema asks for, as a phrase. */
  private phrase(schema: Schema): string {
    const s = this.resolve(schema);
    if ("const" in s) return JSON.stringify(s["const"]);
    if ("enum" in s) return oneOfPhrase(s["enum"] as unknown[]);
    if ("oneOf" in s) return "an object";
    const type = s["type"] as string | undefined;
    const min = typeof s["minimum"] === "number" ? ` ≥ ${s["minimum"]}` : "";
    switch (type) {
      case "integer":
        return `an integer${min}`;
      case "number":
        return `a number${min}`;
      case "array":
        return "an array";
      case "object":
        return "an object";
      case "string":
        return "a string";
      case "boolean":
        return "a boolean";
      default:
        return "a value";
    }
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return Number.isInteger(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return (
        typeof value === "object" && value !== null && !Array.isArray(value)
      );
    case "null":
      return value === null;
    default:
      return false;
  }
}

function miss(path: string, expected: string, value: unknown): Mismatch {
  return { path, expected, found: describe(value) };
}

function oneOfPhrase(options: readonly unknown[]): string {
  return `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
}

function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}
