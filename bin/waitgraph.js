#!/usr/bin/env node
// The `waitgraph` command. The CLI itself is compiled TypeScript in dist/ (src/cli/main.ts).
let cli;
try {
  cli = await import("../dist/cli/main.js");
} catch (error) {
  if (
    error?.code !== "ERR_MODULE_NOT_FOUND" ||
    !String(error.message).includes("dist")
  )
    throw error;
  process.stderr.write(
    "waitgraph: this copy is not built (dist/ is missing); run `npm run build` in its folder\n",
  );
  process.exit(2);
}
const io = {
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
cli.exit(await cli.main(process.argv.slice(2), io));
