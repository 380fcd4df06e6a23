// The one door from a store (src/stores) into the tracker: attach a sink for this isolate's new
// dependencies, hand over the ones other isolates published. One store per process.
import { WaitgraphError } from "./errors.js";
import { core } from "./instance.js";
import {
  SharedGraph,
  type EdgeSink,
  type Origin,
  type SharedEdge,
} from "./shared-graph.js";

export type { EdgeSink, Origin, SharedEdge };

export interface Sharing {
  readonly origin: Origin;
  /** Dependencies other isolates published; cycles they close with this isolate's are reported. */
  receive(edges: readonly SharedEdge[]): void;
  /** What the shared graph holds and could not take. */
  counts(): { edges: number; received: number; unchecked: number };
  /** Stops sharing: later dependencies stay local. */
  detach(): void;
}

export const STORE_ERROR = "ERR_WAITGRAPH_STORE";

export function share(origin: Origin, sink: EdgeSink): Sharing {
  const validator = core.validator;
  if (validator.shared !== undefined)
    throw new WaitgraphError(
      STORE_ERROR,
      `Expected one store per process, got a second (${validator.shared.origin.name} shares through one already)`,
    );
  const graph = new SharedGraph(origin, sink);
  validator.shared = graph;
  // What this isolate recorded before it joined (a main thread joins when its first worker
  // starts; `connectStore` may be called mid-program) is published and checked now.
  for (const edge of validator.ownEdges(origin)) {
    const report = graph.local(edge, () => []);
    if (report !== undefined)
      core.reporter.unthrown(core.reporter.emit(report));
  }
  return {
    origin,
    receive: (edges) => {
      if (validator.shared === graph) validator.received(edges);
    },
    counts: () => ({
      edges: graph.edgeCount,
      received: graph.received,
      unchecked: graph.unchecked,
    }),
    detach: () => {
      if (validator.shared === graph) validator.shared = undefined;
    },
  };
}
