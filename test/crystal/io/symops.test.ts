import { test } from "uvu";
import * as assert from "uvu/assert";
import { SymmOp } from "../../../src/crystal/io/symops.ts";
import { SymmOpParseError } from "../../../src/crystal/errors.ts";

const close = (a: readonly number[], b: readonly number[], tol = 1e-12) => a.every((x, i) => Math.abs(x - b[i]) <= tol);

test("parses signs, fractions and decimals in any term order", () => {
  const op = SymmOp.fromXyzString("-x+1/2, 0.25+y , -z-x");
  assert.equal(op.rotation, [
    [-1, 0, 0],
    [0, 1, 0],
    [-1, 0, -1],
  ]);
  assert.equal(op.translation, [0.5, 0.25, 0]);
  assert.ok(close(op.operate([0.1, 0.2, 0.3]), [0.4, 0.45, -0.4]));
});

test("accepts upper case, coefficients and space-separated triplets", () => {
  const op = SymmOp.fromXyzString("X-Y, 2*x, 1/3+Z");
  assert.equal(op.rotation, [
    [1, -1, 0],
    [2, 0, 0],
    [0, 0, 1],
  ]);
  assert.ok(close(op.translation, [0, 0, 1 / 3]));
  assert.equal(SymmOp.fromXyzString("x y z").isIdentity, true);
});

test("toXyzString matches pymatgen's as_xyz_string", () => {
  // Reference strings printed by pymatgen 2022.11 SymmOp.from_xyz_string(...).as_xyz_string().
  assert.is(SymmOp.fromXyzString("-x+1/2, y+0.25, -z-x").toXyzString(), "-x+1/2, y+1/4, -x-z");
  assert.is(SymmOp.fromXyzString("x-y, x, z+1/3").toXyzString(), "x-y, x, z+1/3");
  assert.is(SymmOp.identity().toXyzString(), "x, y, z");
});

test("identity is recognised; a pure translation is not identity", () => {
  assert.ok(SymmOp.fromXyzString("x,y,z").isIdentity);
  assert.not.ok(SymmOp.fromXyzString("x+1/2,y+1/2,z").isIdentity);
});

test("malformed triplets throw SymmOpParseError naming the input", () => {
  for (const bad of ["x,y", "x,y,z,x", "x,,z", "x+,y,z", "x,y,w", "x*y,y,z", "x,1/0,z"]) {
    assert.throws(() => SymmOp.fromXyzString(bad), (e: unknown) => e instanceof SymmOpParseError && (e as Error).message.includes(bad), bad);
  }
});

test.run();
