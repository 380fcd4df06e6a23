// One sample: a fresh `node` process measures one variant of one bench (reference/async-context.md
// §1). It warms up, times `batches` batches, and prints one JSON line: the median batch in ns per
// operation, every batch, and the variant's own check (bench/subjects.ts). bench/run.ts starts it
// from its build directory with the repository root as working directory.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Bench } from "./harness.js";
import { median } from "./stats.js";

export interface ChildSpec {
  /** The built suite module, relative to the repository root. */
  suite: string;
  bench: string;
  variant: string;
  warmup: number;
  batches: number;
  batchSize: number;
}

export type ChildResult =
  | { ok: true; median: number; batches: number[] }
  | { ok: false; error: string };

async function sample(spec: ChildSpec): Promise<ChildResult> {
  const url = pathToFileURL(resolve(process.cwd(), spec.suite)).href;
  const { benches } = (await import(url)) as { benches: Bench[] };
  const bench = benches.find((b) => b.id === spec.bench);
  const variant = bench?.variants[spec.variant];
  if (bench === undefined || variant === undefined)
    return {
      ok: false,
      error: `no ${spec.bench}/${spec.variant} in ${spec.suite}`,
    };
  const ops = bench.opsPerIteration ?? 1;
  const { loop, beforeBatch, check } = await variant.load();
  await loop(spec.warmup);
  const times: number[] = [];
  for (let i = 0; i < spec.batches; i++) {
    beforeBatch?.();
    const start = process.hrtime.bigint();
    await loop(spec.batchSize);
    const ns = Number(process.hrtime.bigint() - start);
    times.push(ns / (spec.batchSize * ops));
  }
  const problem = check?.(spec.batchSize);
  if (problem !== undefined) return { ok: false, error: problem };
  return { ok: true, median: median(times), batches: times };
}

async function main(): Promise<void> {
  let result: ChildResult;
  try {
    result = await sample(JSON.parse(process.argv[2] ?? "") as ChildSpec);
  } catch (error) {
    result = {
      ok: false,
      error:
        error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
