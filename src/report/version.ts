// The version printed on a report's ident line (the kernel's `print_kernel_ident()`).
// Kept equal to package.json's version by test/report/text.test.ts; report/ stays a pure
// layer, so it does not read package.json at run time.
export const VERSION = "0.1.0";
