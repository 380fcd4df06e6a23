// One linter. Besides the recommended rules it keeps the layering of DESIGN.md true:
//
//   cli ─────┐
//   view ────┼──► report ──┐
//   integrations ──────────┼──► core ◄── primitives ◄── adapters
//   stores ────────────────┘
//
// A folder may import only the folders its arrows reach. `src/index.ts` and the other
// entry points at the top of src/ compose the layers and may import any of them.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const layers = [
  "core",
  "primitives",
  "adapters",
  "report",
  "view",
  "stores",
  "integrations",
  "cli",
];
const allowed = {
  core: [],
  primitives: ["core"],
  adapters: ["core", "primitives"],
  report: ["core"],
  view: ["report", "core"],
  stores: ["core"],
  // The runner integrations install the library instrumentation (adapters/instrument.ts) in
  // each test process, so that the documented runner setup alone checks third-party locks.
  integrations: ["core", "report", "view", "stores", "adapters"],
  cli: ["report", "view", "core", "stores", "integrations"],
};

const layerRules = layers.map((layer) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          ...layers
            .filter(
              (other) => other !== layer && !allowed[layer].includes(other),
            )
            .map((other) => ({
              group: [`**/${other}/*`, `../${other}`, `../../${other}`],
              message: `src/${layer} may not import src/${other} (see the layer arrows in DESIGN.md).`,
            })),
          {
            group: ["../index.js", "../../index.js"],
            message: "Layers may not import the public entry point.",
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "artifacts/",
      "coverage/",
      "examples/**/node_modules/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        globalThis: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // core is the validator: no I/O and no third-party code. node:v8 and node:async_hooks
    // are the two runtime facilities the task tracker is built on.
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...layers
              .filter((other) => other !== "core")
              .map((other) => ({
                group: [`../${other}/*`, `../${other}`],
                message: `src/core may not import src/${other}.`,
              })),
            {
              regex: "^(?!\\.|node:v8$|node:async_hooks$)",
              message:
                "src/core imports only its own files, node:v8 and node:async_hooks.",
            },
          ],
        },
      ],
    },
  },
  ...layerRules.filter((r) => !r.files[0].startsWith("src/core/")),
);
