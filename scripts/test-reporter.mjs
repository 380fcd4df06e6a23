// node's spec reporter, with todo tests reported as todos. A `todo` test that fails is expected
// to (test/corpus/real-world.test.ts pins known limits that way) and the runner counts it under
// "ℹ todo", not "ℹ fail"; but the spec reporter also lists it under "✖ failing tests:" with its
// whole assertion diff (and Node 20 prints that diff in place too, marked ✖), so a green run
// ended in four stack traces. Here a failing todo reaches the spec reporter as a passing test,
// which it prints as one line and leaves out of the failure list; that line's ✔ becomes ⚠, so
// every Node line prints "⚠ name (ms) # reason", as Node 22 and later print a failing todo in
// place. A todo that passes keeps its ✔ and says so: the limit it pins may be gone.
// Everything else, the closing summary (ℹ tests / pass / fail / todo) included, is the spec
// reporter's own output.
import { Readable, Transform } from "node:stream";
import { spec as Spec } from "node:test/reporters";

// Appended to the reason of a failing todo; the spec reporter prints `${color}${symbol}${name}
// (ms) # ${reason}` on one line (every Node line from 20 to 26), and on a line that carries the
// marker, the first ✔ (the symbol) becomes ⚠ and the marker goes.
const marker = "\u0000todo\u0000";
// eslint-disable-next-line no-control-regex -- an ANSI colour code may precede the symbol
const symbol = /(\x1b\[[0-9;]*m)?\u2714 /;

function isTodo(data) {
  return data.todo !== undefined && data.todo !== false;
}

async function* asTodos(source) {
  for await (const event of source) {
    if (event.type === "test:fail" && isTodo(event.data)) {
      const { error: _error, ...details } = event.data.details ?? {};
      const reason = event.data.todo === true ? "TODO" : event.data.todo;
      yield {
        type: "test:pass",
        data: { ...event.data, todo: `${reason}${marker}`, details },
      };
    } else if (event.type === "test:pass" && isTodo(event.data)) {
      const reason = event.data.todo === true ? "TODO" : event.data.todo;
      yield {
        type: "test:pass",
        data: {
          ...event.data,
          todo: `${reason} — PASSES NOW: the limit it pins may be fixed`,
        },
      };
    } else yield event;
  }
}

const warningSigns = new Transform({
  transform(chunk, _encoding, callback) {
    const lines = String(chunk).split("\n");
    const marked = lines.map((line) =>
      line.includes(marker)
        ? line
            .replace(marker, "")
            .replace(symbol, (_, color) =>
              color === undefined ? "\u26a0 " : "\x1b[33m\u26a0 ",
            )
        : line,
    );
    callback(null, marked.join("\n"));
  },
});

export default async function* reporter(source) {
  yield* Readable.from(asTodos(source)).pipe(new Spec()).pipe(warningSigns);
}
