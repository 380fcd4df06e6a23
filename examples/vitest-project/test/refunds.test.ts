import { expect, test } from "vitest";
import { alice, bob, transfer } from "../src/bank.js";

test("bob refunds alice", async () => {
  await transfer(bob, alice, 10);
  expect(alice.balance).toBe(110);
});
