// One tracker per process, however many copies of waitgraph are installed: the first copy to
// load puts its core in a versioned global slot and every later copy uses that one (the
// OpenTelemetry pattern). Two copies then share one class table, one graph and one set of
// promise hooks instead of paying twice and seeing half each.
import { context, type Context } from "./context.js";
import { EventClock } from "./events.js";
import { Reporter } from "./policy.js";
import { Validator } from "./validator.js";

export interface Core {
  readonly version: 1;
  readonly tracking: { on: boolean };
  readonly context: Context;
  readonly reporter: Reporter;
  readonly validator: Validator;
  readonly events: EventClock;
}

const SLOT = Symbol.for("waitgraph.core/v1");

function create(): Core {
  const reporter = new Reporter();
  return {
    version: 1,
    tracking: { on: false },
    context,
    reporter,
    validator: new Validator(
      (data) => reporter.emit(data),
      (report) => reporter.unthrown(report),
    ),
    events: new EventClock(),
  };
}

const slot = globalThis as { [SLOT]?: Core };
export const core: Core = (slot[SLOT] ??= create());
