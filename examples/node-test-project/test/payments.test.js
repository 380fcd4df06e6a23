import assert from "node:assert/strict";
import { test } from "node:test";
import { alice, bob, transfer } from "../src/bank.js";

test("alice pays bob the rent", async () => {
  await transfer(alice, bob, 30);
  assert.equal(bob.balance, 130);
});
