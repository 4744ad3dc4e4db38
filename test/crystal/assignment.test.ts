import { test } from "uvu";
import * as assert from "uvu/assert";
import { AssignmentError, linearSumAssignment } from "../../src/crystal/assignment.ts";
import { mulberry32 } from "./matcher_pairs.ts";

/** Exhaustive minimum over all injective row→column maps (small sizes only). */
function bruteForce(cost: number[], n: number, m: number): number {
  let best = Infinity;
  const used = new Array(m).fill(false);
  const rec = (i: number, acc: number) => {
    if (i === n) return void (best = Math.min(best, acc));
    for (let j = 0; j < m; j++)
      if (!used[j]) {
        used[j] = true;
        rec(i + 1, acc + cost[i * m + j]);
        used[j] = false;
      }
  };
  rec(0, 0);
  return best;
}

test("matches brute force on random square and rectangular problems", () => {
  const rand = mulberry32(7);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rand() * 6);
    const m = n + Math.floor(rand() * 3);
    // Integer costs make ties frequent, which exercises the tie-breaking paths.
    const cost = Array.from({ length: n * m }, () => (trial % 2 ? Math.floor(rand() * 5) : rand() * 10));
    const { rowToCol, cost: total } = linearSumAssignment(cost, n, m);
    assert.equal(new Set(rowToCol).size, n, "columns are distinct");
    assert.ok(Math.abs(total - bruteForce(cost, n, m)) < 1e-9, `trial ${trial}`);
  }
});

test("known 3×3 instance", () => {
  const cost = [4, 1, 3, 2, 0, 5, 3, 2, 2];
  const r = linearSumAssignment(cost, 3, 3);
  assert.equal([...r.rowToCol], [1, 0, 2]);
  assert.is(r.cost, 5);
});

test("large forbidden costs are avoided when a finite assignment exists", () => {
  const F = 1e20;
  const r = linearSumAssignment([F, 1, 2, F], 2, 2);
  assert.equal([...r.rowToCol], [1, 0]);
});

test("bad input raises AssignmentError", () => {
  assert.throws(() => linearSumAssignment([1, 2], 2, 1), (e: unknown) => e instanceof AssignmentError);
  assert.throws(() => linearSumAssignment([1, 2, 3], 2, 2), (e: unknown) => e instanceof AssignmentError);
  assert.throws(() => linearSumAssignment([1, NaN, 3, 4], 2, 2), (e: unknown) => e instanceof AssignmentError);
});

test.run();
