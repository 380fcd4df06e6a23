// docs/benchmarks.md has one part per benchmark program: the page of bench/run.ts (the
// micro-benchmarks and the service benchmark) and, below it, sections that other programs
// measure on their own (bench/startup.ts), each
// between `<!-- section:NAME -->` and `<!-- /section:NAME -->`. A program rewrites only its own
// section, and bench/run.ts keeps every section when it regenerates the rest, so no number in
// the page is ever typed by hand or lost by another program's run.

const open = (name: string): string => `<!-- section:${name} -->`;
const close = (name: string): string => `<!-- /section:${name} -->`;

/** The marked sections of `doc`, in order, markers included, with their names. */
export function sectionsOf(doc: string): { name: string; text: string }[] {
  return [
    ...doc.matchAll(/<!-- section:([\w-]+) -->[\s\S]*?<!-- \/section:\1 -->/g),
  ].map((m) => ({ name: m[1]!, text: m[0] }));
}

/** `doc` with section `name` set to `body` (appended when it is not there yet). */
export function withSection(doc: string, name: string, body: string): string {
  const block = `${open(name)}\n${body.trim()}\n${close(name)}`;
  const start = doc.indexOf(open(name));
  const end = doc.indexOf(close(name));
  if (start !== -1 && end > start)
    return doc.slice(0, start) + block + doc.slice(end + close(name).length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

/**
 * The freshly rendered page `fresh`, followed by the sections `old` had, except those named in
 * `owned`: what bench/run.ts now measures itself (the service benchmark, once a section of its
 * own) must not come back from an older run.
 */
export function keepSections(
  fresh: string,
  old: string,
  owned: readonly string[] = [],
): string {
  const kept = sectionsOf(old).filter((s) => !owned.includes(s.name));
  if (kept.length === 0) return fresh;
  return `${fresh.trimEnd()}\n\n${kept.map((s) => s.text).join("\n\n")}\n`;
}
