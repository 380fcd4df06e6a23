// How many flows may hold one lock instance at once: 1 for a mutex, a semaphore's permits, a
// pool's size. Known once per instance, here, and read by every rule that needs it: the
// certainty of a same-instance re-take, a pool report's "N / k flows would hang it", and the
// wait-for graph's test of whether a wait's holders are all there are (stuck.ts). An instance
// may stand in for a lock made elsewhere (knex's tarn pool counts in its knex's class).
// A leaf: it imports only the process state, so the validator and the wait-for graph can both
// read it without an import cycle.
import { state } from "./process-state.js";

const capacities = state.capacities;

/** `capacity` units of `instance` exist; undefined (not known) claims nothing. */
export function noteCapacity(
  instance: object,
  capacity: number | undefined,
): void {
  if (capacity !== undefined && capacity >= 1)
    capacities.set(instance, capacity);
}

export function capacityOf(instance: object): number | undefined {
  return capacities.get(instance);
}
