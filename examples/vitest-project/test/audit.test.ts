import { expect, test } from "vitest";
import { alice, audit } from "../src/bank.js";

test("an audit finds alice's balance in order", async () => {
  expect(await audit(alice)).toBe(true);
});
