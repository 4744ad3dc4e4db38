/**
 * The WebAssembly SIMD BatchMatMul (src/nn/kernels/wasm_simd/): the binary emitter's
 * encodings, the planner's choices, and values + gradients of products with a batched
 * right operand on wasm against tfjs's pure-JS `cpu` back-end, to 1e-5 (relative above 1).
 * Each product test also checks the kernel's call counter, so a silently skipped kernel
 * (e.g. the memory not found) fails here instead of only being slower.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tf } from "../../src/nn/tf.ts";
import { initBackend } from "../../src/nn/backend.ts";
import { signedLeb128, unsignedLeb128, FunctionBuilder, encodeModule, webAssembly } from "../../src/nn/kernels/wasm_simd/emitter.ts";
import { batchMatMulModule } from "../../src/nn/kernels/wasm_simd/bmm_code.ts";
import { assertClose, values } from "./helpers/compare_backends.ts";
import { planBatchMatMul, setSimdBatchMatMulEnabled, simdBatchMatMulInfo } from "../../src/nn/kernels/wasm_simd/batch_mat_mul.ts";

const TOL = 1e-5;

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** matMul(a, b) and the gradients of sum(matMul · w) for fixed random a, b, w on `backend`. */
async function product(backend: string, sa: number[], sb: number[], ta: boolean, tb: boolean): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const a = tf.tensor(values(size(sa), 3), sa);
    const b = tf.tensor(values(size(sb), 5), sb);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb);
    const y = f(a, b);
    const w = tf.tensor(values(y.size, 11), y.shape);
    const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) => f(x, z).mul(w).sum())([a, b]);
    return [y, da!, db!].map((t) => t.dataSync() as Float32Array);
  });
}

/** Compares wasm with cpu and returns how many products the SIMD kernel computed. */
async function compare(sa: number[], sb: number[], ta = false, tb = false): Promise<number> {
  const before = simdBatchMatMulInfo().calls;
  const fast = await product("wasm", sa, sb, ta, tb);
  const used = simdBatchMatMulInfo().calls - before;
  const ref = await product("cpu", sa, sb, ta, tb);
  const label = `[${sa}]${ta ? "ᵀ" : ""}·[${sb}]${tb ? "ᵀ" : ""}`;
  ["value", "dA", "dB"].forEach((what, i) => assertClose(fast[i]!, ref[i]!, `${label} ${what}`, TOL));
  return used;
}

const FLAGS = [[false, false], [true, false], [false, true], [true, true]] as const;
const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);

test.before(async () => {
  assert.is((await initBackend({ backend: "wasm" })).backend, "wasm");
});

test.after(async () => {
  setSimdBatchMatMulEnabled(true);
  await tf.setBackend("wasm");
});

test("LEB128 encodings match the specification's examples", () => {
  assert.equal(unsignedLeb128(0), [0]);
  assert.equal(unsignedLeb128(127), [0x7f]);
  assert.equal(unsignedLeb128(128), [0x80, 0x01]);
  assert.equal(unsignedLeb128(624485), [0xe5, 0x8e, 0x26]);
  assert.equal(signedLeb128(-1), [0x7f]);
  assert.equal(signedLeb128(63), [0x3f]);
  assert.equal(signedLeb128(64), [0xc0, 0x00]);
  assert.equal(signedLeb128(-123456), [0xc0, 0xbb, 0x78]);
  assert.throws(() => unsignedLeb128(-1), /not a u32/);
});

test("emitted modules validate and run: a tiny SIMD function on a plain memory", () => {
  const wasm = webAssembly()!;
  for (const shared of [false, true]) assert.ok(wasm.validate(batchMatMulModule({ shared })), `shared=${shared}`);
  // double(p): four floats at p doubled with f32x4 (v128 load, add, store)
  const f = new FunctionBuilder(["i32"]);
  f.localGet(0).localGet(0).v128Load().localGet(0).v128Load().f32x4Add().v128Store();
  const memory = new wasm.Memory({ initial: 1 });
  const module = new wasm.Module(encodeModule({ memory: { shared: false }, functions: [{ name: "double", body: f }] }));
  const double = new wasm.Instance(module, { env: { memory } }).exports["double"] as (p: number) => void;
  new Float32Array(memory.buffer, 32, 4).set([1, -2, 3.5, 0]);
  double(32);
  assert.equal([...new Float32Array(memory.buffer, 32, 4)], [2, -4, 7, 0]);
});

test("planBatchMatMul: strides per transpose, and the products it leaves to tfjs", () => {
  const info = (shape: number[], dtype: tf.DataType = "float32") => ({ dataId: {}, shape, dtype }) as tf.TensorInfo;
  // A is stored [k, m] = [3, 5] and B [n, k] = [7, 3]: A's row index i steps 4 bytes, B is packed.
  const plan = planBatchMatMul(info([6, 3, 5]), info([6, 7, 3]), true, true)!;
  assert.equal([plan.batch, plan.m, plan.k, plan.n, plan.pack], [6, 5, 3, 7, true]);
  assert.equal(plan.a, [60, 4, 20]);
  assert.equal(plan.b, [84, 4, 12]);
  assert.is(planBatchMatMul(info([6, 5, 3]), info([6, 3, 8]), false, false)!.pack, false, "contiguous rows of whole vectors");
  assert.equal(planBatchMatMul(info([5, 8]), info([3, 8, 4]), false, false)!.a[0], 0, "one left matrix is broadcast");
  assert.is(planBatchMatMul(info([3, 5, 8]), info([8, 4]), false, false), undefined, "single right matrix: XNNPACK");
  assert.is(planBatchMatMul(info([2, 1, 5, 8]), info([1, 3, 8, 4]), false, false), undefined, "two-sided broadcast");
  assert.is(planBatchMatMul(info([3, 5, 8], "int32"), info([3, 8, 4], "int32"), false, false), undefined, "not float32");
  assert.is(planBatchMatMul(info([3, 0, 8]), info([3, 8, 4]), false, false), undefined, "empty");
});

test("attention shapes, all transpose flags: values and gradients match cpu, via the SIMD kernel", async () => {
  for (const [ta, tb] of FLAGS) {
    const used = await compare(swap([2, 3, 20, 32], ta), swap([2, 3, 32, 20], tb), ta, tb);
    // the product runs twice (once alone, once inside tf.grads), then dA and dB
    assert.is(used, 4, `forward + both gradient products through the kernel (ta=${ta}, tb=${tb})`);
  }
  assert.is(simdBatchMatMulInfo().status, "active");
});

test("odd sizes: k, m, n not multiples of 4, 16-column tiles with partial vectors", async () => {
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [3, 7, 5], [5, 3, 17], [2, 9, 33], [7, 1, 2], [4, 13, 19]];
  for (const [m, k, n] of shapes) {
    for (const [ta, tb] of FLAGS) assert.ok((await compare(swap([3, m, k], ta), swap([3, k, n], tb), ta, tb)) > 0);
  }
});

test("broadcast batches: one left matrix, rank-2 left operand, size-1 batch axes", async () => {
  assert.ok((await compare([1, 5, 8], [3, 8, 6])) > 0);
  assert.ok((await compare([5, 8], [2, 2, 6, 8], false, true)) > 0);
  assert.ok((await compare([2, 1, 8, 5], [2, 1, 8, 4], true, false)) > 0);
});

test("disabled or unbatched right operand: tfjs's own kernels run, same values", async () => {
  // only dB = Aᵀ·dY has a batched right operand (dY); the two forwards and dA = dY·Bᵀ stay on XNNPACK
  assert.is(await compare([4, 5, 8], [8, 6]), 1, "single right matrix stays on XNNPACK");
  setSimdBatchMatMulEnabled(false);
  try {
    assert.is(simdBatchMatMulInfo().status, "disabled");
    assert.is(await compare([3, 5, 8], [3, 6, 8], false, true), 0);
  } finally {
    setSimdBatchMatMulEnabled(true);
  }
});

test("results stay right after tfjs grows its memory (the kernel imports the same Memory)", async () => {
  await tf.setBackend("wasm");
  const memory = () => ((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength);
  const big = tf.zeros([memory() / 2]); // forces a growth: half the current heap in floats is twice its bytes
  try {
    assert.ok(memory() > big.size * 4, "heap grew");
    assert.ok((await compare([4, 6, 10], [4, 7, 10], false, true)) > 0);
  } finally {
    big.dispose();
  }
});

test.run();
