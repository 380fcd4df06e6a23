// A promise resolved only after a lock that its awaiter holds. The awaiter waits for the
// promise; the code that resolves it waits for the awaiter's lock. Nothing in the stack says
// so, and Node just exits or stalls with a pending promise.
//
// A config cache: `reload()` fetches a new config, stores it under the cache lock and then
// resolves the reload's `deferred`. `get()` takes the cache lock and, if a reload is in flight,
// awaits it — still holding the lock. In this run the reload that `get()` waits for fails, and
// its failure path rejects without storing (no lock), so nothing hangs. The day a reload
// succeeds while a `get()` waits, the reload waits for the lock `get()` holds, and `get()`
// waits for the reload, forever.
//
// waitgraph sees both halves in this run: at startup, `reload()` took the cache lock inside
// the event context of `config-loaded` (someone was awaiting it), so the load depends on the
// lock; later `get()` awaits a `config-loaded` while holding the lock. DEPT's report:
//   context A   [S] lock(config-cache)    get() took the lock…
//               [W] await(config-loaded)  …and awaits the reload under it…
//               [E] unlock(config-cache)  …so its unlock is not reachable;
//   context B   [S] await(config-loaded)  someone started awaiting the reload…
//               [W] lock(config-cache)    …which then waited for the lock…
//               [E] resolve(config-loaded) …before it could resolve.
//
// The fix: await the reload before taking the lock (or release it first, and re-check).
//
//   npx waitgraph run examples/deferred-after-lock.ts
import { Mutex, deferred, task, type Deferred } from "waitgraph";

interface Config {
  version: number;
}

let fetches = 0;
/** Stands in for an HTTP call; the second one fails. */
async function fetchConfig(): Promise<Config> {
  await new Promise((resolve) => setImmediate(resolve));
  fetches++;
  if (fetches === 2) throw new Error("config server unavailable");
  return { version: fetches };
}

class ConfigCache {
  private readonly lock = new Mutex({ name: "config-cache" });
  private value: Config = { version: 0 };
  private inFlight: Deferred<void> | undefined;

  /** Starts a reload in the background; resolves when the new config is stored. */
  reload(): Promise<void> {
    const loaded = deferred<void>({ name: "config-loaded" });
    this.inFlight = loaded;
    void task("reload", async () => {
      let config: Config;
      try {
        config = await fetchConfig();
      } catch (error) {
        loaded.reject(error); // no lock on the failure path
        return;
      }
      const release = await this.lock.acquire();
      this.value = config;
      release();
      loaded.resolve();
    });
    return loaded.promise;
  }

  async get(): Promise<Config> {
    const release = await this.lock.acquire();
    try {
      // Waits for the reload while holding the lock the reload needs to store its result.
      if (this.inFlight !== undefined)
        await this.inFlight.promise.catch(() => undefined);
      return this.value;
    } finally {
      release();
    }
  }
}

async function main() {
  const cache = new ConfigCache();
  await cache.reload(); // startup: wait for the first config
  const reloading = cache.reload().catch((error: unknown) => {
    console.log(`reload failed: ${(error as Error).message}`);
  });
  const config = await cache.get();
  await reloading;
  console.log(`serving config version ${config.version}`);
}

void main();
