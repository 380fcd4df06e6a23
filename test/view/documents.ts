// Documents for the output tests: recorded from real runs of the tracker in this process (so the
// snapshot and reports are exactly what `waitgraph run --json` would write), and built from the
// hand-made report fixtures of the text renderer.
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Mutex, RwLock, Semaphore, task, tracker } from "../../src/index.js";
import type { Report, ReportData } from "../../src/core/report.js";
import { renderText } from "../../src/report/text.js";
import { toDocument, type ReportDocument } from "../../src/report/json.js";
import { VERSION } from "../../src/report/version.js";
import { fixtures } from "../report/fixtures.js";

export const root = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);
export const self = relative(root, fileURLToPath(import.meta.url));

/** Runs `scenario` with a fresh tracker (policy silent) and returns its document. */
export async function record(
  scenario: () => Promise<void>,
): Promise<ReportDocument> {
  tracker.configure({ policy: "silent" });
  tracker.reset();
  await scenario();
  const doc = toDocument(tracker.reports(), tracker.snapshot(), {
    waitgraph: VERSION,
    root,
  });
  tracker.reset();
  // Through JSON, as a file would carry it.
  return JSON.parse(JSON.stringify(doc)) as ReportDocument;
}

/**
 * A small shop: transfers lock two accounts in opposite orders (ABBA), an order flow closes a
 * three-class cycle with a read lock on it, a handler asks its pool for a second connection
 * (recursive locking), plus dependencies on no cycle, a read-lock edge and a task that ends
 * holding a lock.
 */
export async function shop(): Promise<void> {
  const account = new Mutex({ name: "account" });
  const ledger = new Mutex({ name: "ledger" });
  const orders = new Mutex({ name: "orders" });
  const inventory = new RwLock({ name: "inventory" });
  const shipping = new Mutex({ name: "shipping" });
  const request = new Mutex({ name: "request" });
  const cache = new RwLock({ name: "price-cache" });
  const pool = new Semaphore(2, { name: "db-pool" });
  const audit = new Mutex({ name: "audit" });

  await task("transfer", async () => {
    const a = await account.acquire(); // shop: transfer takes account
    const l = await ledger.acquire(); // shop: transfer takes ledger
    l();
    a();
  });
  await task("reconcile", async () => {
    const l = await ledger.acquire(); // shop: reconcile takes ledger
    const a = await account.acquire(); // shop: reconcile takes account
    a();
    l();
  });
  await task("checkout", async () => {
    const r = await request.acquire();
    const o = await orders.acquire();
    const i = await inventory.acquireRead();
    const s = await shipping.acquire();
    s();
    i();
    o();
    const a = await account.acquire();
    a();
    r();
  });
  await task("restock", async () => {
    const s = await shipping.acquire();
    const o = await orders.acquire(); // shop: restock takes orders under shipping
    o();
    s();
  });
  await task("prices", async () => {
    const i = await inventory.acquireRead();
    const c = await cache.acquireRead();
    c();
    i();
  });
  await task("handler", async () => {
    await pool.runExclusive(() => pool.runExclusive(async () => {})); // shop: second connection
  });
  await task("leaky", async () => {
    await audit.acquire(); // shop: never released
  }).catch(() => {});
}

/** The text renderer's fixtures as reports (with their text), every kind at least once. */
export function fixtureReports(): Report[] {
  return Object.values(fixtures).map(
    (data: ReportData) => ({ ...data, text: renderText(data) }) as Report,
  );
}

/** A document of the fixture reports, with a snapshot holding the classes and edges they name. */
export function fixtureDocument(
  pick: (name: string) => boolean = () => true,
): ReportDocument {
  const reports = Object.entries(fixtures)
    .filter(([name]) => pick(name))
    .map(([, data]) => ({ ...data, text: renderText(data) }) as Report);
  const classes = new Map<string, { id: string; name: string; type: string }>();
  const edges = new Map<string, ReportDocument["snapshot"]["edges"][number]>();
  const cls = (c: { id: string; name: string; type: string }) => {
    if (!classes.has(c.id))
      classes.set(c.id, { id: c.id, name: c.name, type: c.type });
  };
  for (const r of reports) {
    for (const h of r.held) cls(h);
    if (r.kind === "circular-dependency") {
      r.cycle.forEach(cls);
      const n = r.cycle.length;
      for (let j = 0; j + 1 < n; j++) {
        const from = r.cycle[j]!;
        const to = r.cycle[j + 1]!;
        const link = r.chain[n - 2 - j]!;
        edges.set(`${from.id}>${to.id}`, {
          from: from.name,
          to: to.name,
          fromId: from.id,
          toId: to.id,
          read: {
            SR: false,
            ER: link.read === 2,
            SN: false,
            EN: link.read !== 2,
          },
          stack: link.stack,
          fromStack: [],
          timeout: false,
        });
      }
    }
    if (r.kind === "recursive-locking") cls(r.next);
  }
  return toDocument(
    reports,
    { classes: [...classes.values()], edges: [...edges.values()] },
    { waitgraph: VERSION },
  );
}

export interface CliRun {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** `waitgraph <argv>` in this process, in `cwd`, with its output captured. */
export async function cli(argv: string[], cwd: string): Promise<CliRun> {
  const { main } = await import("../../src/cli/main.js");
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    cwd,
    env: {},
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}
