import assert from "node:assert/strict";
import { test } from "node:test";
import { alice, bob, transfer } from "../src/bank.js";

test("bob refunds alice", async () => {
  await transfer(bob, alice, 10);
  assert.equal(alice.balance, 110);
});
