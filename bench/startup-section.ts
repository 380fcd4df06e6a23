// The start-up section of docs/benchmarks.md (bench/startup.ts writes it): a separate run from
// bench/run.ts's, marked so that each of the two scripts rewrites its own part of the file and
// keeps the other's.
export const BEGIN = "<!-- startup:begin (bench/startup.ts) -->";
export const END = "<!-- startup:end -->";

/** The marked section of `doc`, markers included; undefined when it has none. */
export function startupSection(doc: string): string | undefined {
  const at = doc.indexOf(BEGIN);
  const end = doc.indexOf(END, at);
  return at === -1 || end === -1 ? undefined : doc.slice(at, end + END.length);
}

/** `doc` with its start-up section replaced by `section`, or `section` appended. */
export function withStartupSection(doc: string, section: string): string {
  const old = startupSection(doc);
  return old === undefined
    ? `${doc.trimEnd()}\n\n${section}\n`
    : doc.replace(old, () => section);
}
