/**
 * linalg: the project's one half-to-even rounding (`roundHalfEven`, used by LLL size reduction,
 * matcher supercell sizes and diffusion timestep respacing), against CPython's `round()`.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { roundHalfEven } from "../../src/crystal/linalg.ts";

// Expected values printed by CPython 3 `round(x)` (/usr/bin/python3) for the same doubles.
const PYTHON_ROUND: [number, number][] = [
  [0.5, 0],
  [1.5, 2],
  [2.5, 2],
  [-0.5, 0],
  [-1.5, -2],
  [-2.5, -2],
  [-3.5, -4],
  [0.49999999999999994, 0],
  [2.4999999999999996, 2],
  [3.5000000000000004, 4],
  [7.25, 7],
  [2 ** 52 + 1, 2 ** 52 + 1],
];

test("roundHalfEven equals Python's round() on ties, near-ties and large integers", () => {
  for (const [x, want] of PYTHON_ROUND) assert.is(roundHalfEven(x) + 0, want, `round(${x})`);
});

test("roundHalfEven agrees with Math.round everywhere except exact odd-result ties", () => {
  for (let i = -400; i <= 400; i++) {
    const x = i / 8; // exact binary fractions: ties at ±k + 0.5 and plenty of non-ties
    const tie = Math.abs(x % 1) === 0.5;
    const r = roundHalfEven(x);
    if (!tie) assert.is(r, Math.round(x), `x = ${x}`);
    else assert.ok(r % 2 === 0 && Math.abs(r - x) === 0.5, `tie ${x} → ${r} is not the even neighbour`);
  }
});

test.run();
