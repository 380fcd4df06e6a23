import assert from "node:assert/strict";
import { test } from "node:test";
import { alice, audit } from "../src/bank.js";

test("an audit finds alice's balance in order", async () => {
  assert.equal(await audit(alice), true);
});
