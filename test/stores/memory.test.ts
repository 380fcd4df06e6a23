// The in-memory store runs the compliance suite every store runs.
import { MemoryHub, MemoryStore } from "../../src/stores/memory.js";
import { compliance } from "./compliance.js";

compliance("memory", async () => {
  const hub = new MemoryHub();
  let raw = 0;
  return {
    store: () => new MemoryStore(hub),
    writeRaw: async (text) => hub.put(`raw ${++raw}`, text),
    pause: async () => {
      hub.down = true;
    },
    resume: async () => {
      hub.down = false;
    },
    end: async () => {},
  };
});
