import { expect, test } from "vitest";
import { alice, bob, transfer } from "../src/bank.js";

test("alice pays bob the rent", async () => {
  await transfer(alice, bob, 30);
  expect(bob.balance).toBe(130);
});
