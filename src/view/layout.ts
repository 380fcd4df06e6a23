// A layered drawing of a directed graph (Sugiyama, Tagawa and Toda 1981, in its plainest form),
// left to right, deterministic: the same graph in the same order gives the same picture.
//
//  1. cycles: a depth-first search in input order; an edge back to a node on the search path is
//     laid out reversed (a reported cycle always has one: A → B → A).
//  2. layers: longest path from the sources, so every laid-out edge points rightwards.
//  3. dummies: an edge spanning k layers gets k - 1 waypoints, one per layer it crosses.
//  4. order: barycenter sweeps, down then up, keeping the order with the fewest crossings.
//  5. coordinates: layers in columns; in a column, each vertex pulled towards the mean height of
//     its neighbours, then pushed apart to keep the minimum gap, in order.
// Self-loops take no part; the renderer draws them on their node.

export interface LayoutInput {
  /** Width and height of each node, in input order. */
  sizes: readonly { width: number; height: number }[];
  /** Edges as [from, to] node indexes; duplicates and self-loops are allowed. */
  edges: readonly (readonly [number, number])[];
}

export interface Point {
  x: number;
  y: number;
}

export interface LayoutNode {
  x: number;
  y: number;
  width: number;
  height: number;
  layer: number;
}

export interface LayoutEdge {
  /** From the source's port through each waypoint to the target's port. Empty for a self-loop. */
  points: Point[];
  /** Laid out against the layer direction (it closes a cycle): drawn right to left. */
  reversed: boolean;
  selfLoop: boolean;
}

export interface Layout {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  width: number;
  height: number;
}

export const MARGIN = 24;
const LAYER_GAP = 110;
const NODE_GAP = 26;
const DUMMY_HEIGHT = 14;
const SWEEPS = 8;

export function layout(input: LayoutInput): Layout {
  const n = input.sizes.length;
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of input.edges)
    if (a !== b && !out[a]!.includes(b)) out[a]!.push(b);

  // 1. Back edges of a DFS in input order.
  const reversed = new Set<string>();
  const state = new Uint8Array(n);
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [v, i] = top;
      if (i === out[v]!.length) {
        state[v] = 2;
        stack.pop();
        continue;
      }
      top[1]++;
      const w = out[v]![i]!;
      if (state[w] === 1) reversed.add(`${v},${w}`);
      else if (state[w] === 0) {
        state[w] = 1;
        stack.push([w, 0]);
      }
    }
  }
  // The laid-out DAG: every edge once, back edges turned around.
  const dag: [number, number][] = [];
  const inDag = new Set<string>();
  for (let v = 0; v < n; v++)
    for (const w of out[v]!) {
      const [a, b] = reversed.has(`${v},${w}`) ? [w, v] : [v, w];
      if (inDag.has(`${a},${b}`)) continue;
      inDag.add(`${a},${b}`);
      dag.push([a, b]);
    }

  // 2. Longest-path layers, Kahn's order by index.
  const layerOf = new Array<number>(n).fill(0);
  const indegree = new Array<number>(n).fill(0);
  const succ: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of dag) {
    succ[a]!.push(b);
    indegree[b]!++;
  }
  const ready = [...Array(n).keys()].filter((v) => indegree[v] === 0);
  for (let head = 0; head < ready.length; head++) {
    const v = ready[head]!;
    for (const w of succ[v]!) {
      layerOf[w] = Math.max(layerOf[w]!, layerOf[v]! + 1);
      if (--indegree[w]! === 0) ready.push(w);
    }
  }

  // 3. Waypoints: vertex ids n.. are dummies. chains[k] is DAG edge k as a vertex list.
  const vLayer = [...layerOf];
  const vHeight = input.sizes.map((s) => s.height);
  const chains = dag.map(([a, b]) => {
    const chain = [a];
    for (let l = layerOf[a]! + 1; l < layerOf[b]!; l++) {
      chain.push(vLayer.length);
      vLayer.push(l);
      vHeight.push(DUMMY_HEIGHT);
    }
    chain.push(b);
    return chain;
  });
  const vCount = vLayer.length;
  const up: number[][] = Array.from({ length: vCount }, () => []);
  const down: number[][] = Array.from({ length: vCount }, () => []);
  for (const chain of chains)
    for (let i = 0; i + 1 < chain.length; i++) {
      down[chain[i]!]!.push(chain[i + 1]!);
      up[chain[i + 1]!]!.push(chain[i]!);
    }

  // 4. Order within layers.
  const layerCount = Math.max(0, ...vLayer) + 1;
  let layers: number[][] = Array.from(
    { length: n === 0 ? 0 : layerCount },
    () => [],
  );
  for (let v = 0; v < vCount; v++) layers[vLayer[v]!]!.push(v);
  const pos = new Array<number>(vCount).fill(0);
  const index = (ls: number[][]): void =>
    ls.forEach((l) => l.forEach((v, i) => (pos[v] = i)));
  index(layers);
  const sortBy = (layer: number[], neighbours: number[][]): number[] => {
    const keyed = layer.map((v, i) => {
      const ns = neighbours[v]!;
      const bary =
        ns.length === 0 ? i : ns.reduce((s, u) => s + pos[u]!, 0) / ns.length;
      return { v, bary, i };
    });
    keyed.sort((a, b) => a.bary - b.bary || a.i - b.i);
    return keyed.map((k) => k.v);
  };
  let best = layers.map((l) => [...l]);
  let bestCrossings = crossings(layers, down, pos);
  for (let sweep = 0; sweep < SWEEPS && bestCrossings > 0; sweep++) {
    if (sweep % 2 === 0)
      for (let l = 1; l < layers.length; l++) {
        layers[l] = sortBy(layers[l]!, up);
        index([layers[l]!]);
      }
    else
      for (let l = layers.length - 2; l >= 0; l--) {
        layers[l] = sortBy(layers[l]!, down);
        index([layers[l]!]);
      }
    const c = crossings(layers, down, pos);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((l) => [...l]);
    }
  }
  layers = best;
  index(layers);

  // 5. Coordinates. x: columns as wide as their widest node.
  const colWidth = layers.map((l) =>
    Math.max(0, ...l.filter((v) => v < n).map((v) => input.sizes[v]!.width)),
  );
  const colX: number[] = [];
  let x = MARGIN;
  for (const w of colWidth) {
    colX.push(x);
    x += w + LAYER_GAP;
  }
  // y: stacked, then relaxed towards the neighbours' centres.
  const y = new Array<number>(vCount).fill(0);
  for (const l of layers) {
    let top = 0;
    for (const v of l) {
      y[v] = top;
      top += vHeight[v]! + NODE_GAP;
    }
  }
  const centre = (v: number): number => y[v]! + vHeight[v]! / 2;
  for (let round = 0; round < 6; round++) {
    const order = round % 2 === 0 ? layers : [...layers].reverse();
    for (const l of order) {
      const want = l.map((v) => {
        const ns = [...up[v]!, ...down[v]!];
        return ns.length === 0
          ? centre(v)
          : ns.reduce((s, u) => s + centre(u), 0) / ns.length;
      });
      place(l, want, vHeight, y);
    }
  }
  const minY = Math.min(0, ...y);
  const nodes: LayoutNode[] = input.sizes.map((s, v) => ({
    x: colX[vLayer[v]!]! + (colWidth[vLayer[v]!]! - s.width) / 2,
    y: y[v]! - minY + MARGIN,
    width: s.width,
    height: s.height,
    layer: vLayer[v]!,
  }));
  const waypoint = (v: number): Point => ({
    x: colX[vLayer[v]!]! + colWidth[vLayer[v]!]! / 2,
    y: y[v]! - minY + MARGIN + DUMMY_HEIGHT / 2,
  });

  const chainOf = new Map<string, number[]>();
  dag.forEach(([a, b], k) => chainOf.set(`${a},${b}`, chains[k]!));
  const edges: LayoutEdge[] = input.edges.map(([a, b]) => {
    if (a === b) return { points: [], reversed: false, selfLoop: true };
    const back = reversed.has(`${a},${b}`);
    const chain = chainOf.get(back ? `${b},${a}` : `${a},${b}`)!;
    const middle = chain.slice(1, -1).map(waypoint);
    const A = nodes[a]!;
    const B = nodes[b]!;
    // A back edge leaves its node's left side and enters the other's right side (and bows, in
    // the renderer), so that A → B and B → A between neighbours are two distinct curves. The
    // height of each port is set by spreadPorts.
    const start = back
      ? { x: A.x, y: A.y + A.height / 2 }
      : { x: A.x + A.width, y: A.y + A.height / 2 };
    const end = back
      ? { x: B.x + B.width, y: B.y + B.height / 2 }
      : { x: B.x, y: B.y + B.height / 2 };
    return {
      points: [start, ...(back ? middle.reverse() : middle), end],
      reversed: back,
      selfLoop: false,
    };
  });
  spreadPorts(edges, input.edges, nodes);
  const width = Math.max(
    MARGIN * 2,
    ...nodes.map((v) => v.x + v.width + MARGIN),
  );
  const height = Math.max(
    MARGIN * 2,
    ...nodes.map((v) => v.y + v.height + MARGIN),
    ...edges.flatMap((e) => e.points.map((p) => p.y + MARGIN)),
  );
  return { nodes, edges, width, height };
}

/**
 * Edges that meet a node on the same side get ports of their own, spread over that side in the
 * order of where their other ends are, so that arrowheads do not sit on one another.
 */
function spreadPorts(
  edges: LayoutEdge[],
  ends: readonly (readonly [number, number])[],
  nodes: readonly LayoutNode[],
): void {
  const sides = new Map<string, { point: Point; toward: Point }[]>();
  const attach = (node: number, point: Point, toward: Point): void => {
    const side = `${node}:${point.x === nodes[node]!.x ? "left" : "right"}`;
    let list = sides.get(side);
    if (list === undefined) sides.set(side, (list = []));
    list.push({ point, toward });
  };
  edges.forEach((e, k) => {
    if (e.selfLoop) return;
    const [a, b] = ends[k]!;
    const pts = e.points;
    attach(a, pts[0]!, pts[1]!);
    attach(b, pts[pts.length - 1]!, pts[pts.length - 2]!);
  });
  for (const [side, list] of sides) {
    const node = nodes[Number(side.split(":")[0])]!;
    list.sort((p, q) => p.toward.y - q.toward.y || p.toward.x - q.toward.x);
    const span = Math.min(node.height - 12, 8 * (list.length - 1));
    list.forEach(({ point }, i) => {
      point.y =
        node.y +
        node.height / 2 +
        (list.length === 1 ? 0 : -span / 2 + (span * i) / (list.length - 1));
    });
  }
}

/**
 * Puts a layer's vertices as near their wanted centres as the order and the gaps allow: each
 * first pushed down below its predecessor, then the whole layer shifted so that on average it
 * sits where it wants to be, then pushed up from the bottom where the shift made room.
 */
function place(
  layer: number[],
  want: number[],
  height: number[],
  y: number[],
): void {
  if (layer.length === 0) return;
  const top = layer.map((v, i) => want[i]! - height[v]! / 2);
  for (let i = 1; i < layer.length; i++) {
    const prev = layer[i - 1]!;
    top[i] = Math.max(top[i]!, top[i - 1]! + height[prev]! + NODE_GAP);
  }
  const shift =
    layer.reduce((s, v, i) => s + (want[i]! - height[v]! / 2 - top[i]!), 0) /
    layer.length;
  for (let i = 0; i < layer.length; i++) top[i]! += shift;
  for (let i = layer.length - 2; i >= 0; i--) {
    const v = layer[i]!;
    top[i] = Math.min(top[i]!, top[i + 1]! - height[v]! - NODE_GAP);
  }
  layer.forEach((v, i) => (y[v] = Math.round(top[i]!)));
}

/** Crossings between adjacent layers (pairwise; capped work for large graphs). */
function crossings(
  layers: number[][],
  down: number[][],
  pos: number[],
): number {
  let total = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const segs: [number, number][] = [];
    for (const v of layers[l]!)
      for (const w of down[v]!) segs.push([pos[v]!, pos[w]!]);
    if (segs.length > 1500) return 0;
    for (let i = 0; i < segs.length; i++)
      for (let j = i + 1; j < segs.length; j++) {
        const [a1, b1] = segs[i]!;
        const [a2, b2] = segs[j]!;
        if ((a1 - a2) * (b1 - b2) < 0) total++;
      }
  }
  return total;
}
