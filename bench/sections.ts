// docs/benchmarks.md has one part per benchmark program: the micro-benchmarks of bench/run.ts
// and, below them, sections that other programs measure on their own (bench/service, …), each
// between `<!-- section:NAME -->` and `<!-- /section:NAME -->`. A program rewrites only its own
// section, and bench/run.ts keeps every section when it regenerates the rest, so no number in
// the page is ever typed by hand or lost by another program's run.

const open = (name: string): string => `<!-- section:${name} -->`;
const close = (name: string): string => `<!-- /section:${name} -->`;

/** The marked sections of `doc`, in order, markers included. */
export function sectionsOf(doc: string): string[] {
  return [
    ...doc.matchAll(/<!-- section:([\w-]+) -->[\s\S]*?<!-- \/section:\1 -->/g),
  ].map((m) => m[0]);
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

/** The freshly rendered micro-benchmark page `fresh`, followed by the sections `old` had. */
export function keepSections(fresh: string, old: string): string {
  const kept = sectionsOf(old);
  if (kept.length === 0) return fresh;
  return `${fresh.trimEnd()}\n\n${kept.join("\n\n")}\n`;
}
