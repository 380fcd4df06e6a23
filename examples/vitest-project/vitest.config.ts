import { defineConfig } from "vitest/config";
import { waitgraph } from "waitgraph/vitest";

export default defineConfig({
  plugins: [waitgraph()],
});
