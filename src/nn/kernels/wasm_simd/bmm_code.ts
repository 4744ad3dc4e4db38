/**
 * The batched matrix product `out[t] = op(A[t]) · op(B[t])` as WebAssembly SIMD code
 * (f32x4), emitted with emitter.ts. Written for attention's many small products
 * ([512, 20, 32] × [512, 32, 20] and friends), where tfjs-backend-wasm runs a scalar loop.
 *
 * Layout: every operand is addressed through byte strides, so transposes cost nothing on
 * the left operand (each A element is loaded once and splatted into four lanes) and B is
 * read along its rows. When B's rows are not contiguous in memory (transposeB) or not a
 * whole number of vectors (n % 4 ≠ 0), each B matrix is first packed into a zero-padded
 * [k, nPad] scratch block (nPad = n rounded up to 4): O(k·n) moves against O(m·k·n)
 * multiply-adds. Output rows are written with full vector stores; a last partial vector
 * goes through a 16-byte scratch slot and is copied lane by lane, so nothing is ever
 * written past a row.
 *
 * The register tile is two output rows × 16 columns: eight accumulators, so eight
 * independent add chains hide the add latency, each B vector loaded feeds two rows and
 * each splatted A element four vectors. Columns left over go in 2 × 4 tiles, an odd last
 * row in 1 × 16 and 1 × 4 tiles.
 *
 * Exports (all addresses and strides in bytes; sizes ≥ 1):
 *   bmm(a, b, out, scratch, batch, m, k, n, aBatch, aRow, aCol, bBatch, bRow, bCol, pack)
 * scratch must hold k·nPad + 4 floats. aBatch / bBatch = 0 broadcast one matrix over the batch.
 */
import { encodeModule, FunctionBuilder, type MemoryImport } from "./emitter.ts";

const I32 = "i32" as const;

/** `for (i = 0; i < limit; i += step) body()` as block/loop; `limit` is a local. */
function forUpTo(f: FunctionBuilder, i: number, limit: number, step: number, body: () => void): void {
  f.i32Const(0).localSet(i);
  f.block().loop();
  f.localGet(i).localGet(limit).i32GeS().brIf(1);
  body();
  f.localGet(i).i32Const(step).i32Add().localSet(i).br(0);
  f.end().end();
}

/** `local += value of local` (byte pointers walking along a stride). */
function advance(f: FunctionBuilder, pointer: number, stride: number): void {
  f.localGet(pointer).localGet(stride).i32Add().localSet(pointer);
}

/**
 * pack(src, dst, k, n, nPad, rowStride, colStride): dst[p, j] = src[p·rowStride + j·colStride]
 * for j < n, 0 for n ≤ j < nPad. The zero columns keep padded lanes finite.
 */
function packFunction(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32]);
  const [src, dst, k, n, nPad, rowStride, colStride] = [0, 1, 2, 3, 4, 5, 6];
  const [p, j, rowPtr, srcPtr] = [f.addLocal(I32), f.addLocal(I32), f.addLocal(I32), f.addLocal(I32)];
  f.localGet(src).localSet(rowPtr);
  forUpTo(f, p, k, 1, () => {
    f.localGet(rowPtr).localSet(srcPtr);
    forUpTo(f, j, n, 1, () => {
      f.localGet(dst).localGet(srcPtr).f32Load().f32Store();
      f.localGet(dst).i32Const(4).i32Add().localSet(dst);
      advance(f, srcPtr, colStride);
    });
    f.block().loop(); // j continues from n up to nPad
    f.localGet(j).localGet(nPad).i32GeS().brIf(1);
    f.localGet(dst).f32Const(0).f32Store();
    f.localGet(dst).i32Const(4).i32Add().localSet(dst);
    f.localGet(j).i32Const(1).i32Add().localSet(j).br(0);
    f.end().end();
    advance(f, rowPtr, rowStride);
  });
  return f;
}

/** Locals of the gemm function, by role (per tile row r: ap[r], rowOut[r], s[r]). */
interface GemmLocals {
  a: number; b: number; ldb: number; out: number; m: number; k: number; n: number; aRow: number; aCol: number; tmp: number;
  i: number; j: number; p: number; nPad: number; aRowPtr: number; outRow: number; bp: number; col: number;
  ap: number[]; rowOut: number[]; s: number[]; bv: number; acc: number[];
}

/** Rows per register tile, and f32x4 vectors per tile row in the wide column tiles. */
const TILE_ROWS = 2;
const TILE_VECTORS = 4;

/** Writes `acc` (tile row r, vector q) at column j + 4q: a full store, or lane by lane at the row's end. */
function storeVector(f: FunctionBuilder, l: GemmLocals, r: number, q: number, acc: number): void {
  const row = l.rowOut[r]!;
  f.localGet(l.j).i32Const(4 * q + 4).i32Add().localGet(l.n).i32LeS().if();
  f.localGet(row).localGet(l.j).i32Const(4).i32Mul().i32Add().localGet(acc).v128Store(16 * q);
  f.else();
  f.localGet(l.tmp).localGet(acc).v128Store();
  // col runs over the 1–3 real columns left: j + 4q … n − 1
  f.localGet(l.j).i32Const(4 * q).i32Add().localSet(l.col);
  f.block().loop();
  f.localGet(l.col).localGet(l.n).i32GeS().brIf(1);
  f.localGet(row).localGet(l.col).i32Const(4).i32Mul().i32Add();
  f.localGet(l.tmp).localGet(l.col).localGet(l.j).i32Sub().i32Const(4 * q).i32Sub().i32Const(4).i32Mul().i32Add().f32Load();
  f.f32Store();
  f.localGet(l.col).i32Const(1).i32Add().localSet(l.col).br(0);
  f.end().end();
  f.end();
}

/**
 * out[i + r, j … j + 4·vectors) = Σ_p A[i + r, p] · B[p, j …] for r < rows: rows·vectors
 * accumulators over the k loop; each B vector is loaded once and used for every row.
 */
function emitTile(f: FunctionBuilder, l: GemmLocals, rows: number, vectors: number): void {
  const acc = (r: number, q: number) => l.acc[r * vectors + q]!;
  for (let r = 0; r < rows; r++) for (let q = 0; q < vectors; q++) f.f32Const(0).f32x4Splat().localSet(acc(r, q));
  f.localGet(l.aRowPtr).localSet(l.ap[0]!);
  for (let r = 1; r < rows; r++) f.localGet(l.ap[r - 1]!).localGet(l.aRow).i32Add().localSet(l.ap[r]!);
  f.localGet(l.b).localGet(l.j).i32Const(4).i32Mul().i32Add().localSet(l.bp);
  f.localGet(l.k).localSet(l.p);
  f.loop(); // k ≥ 1: do … while (--p)
  for (let r = 0; r < rows; r++) f.localGet(l.ap[r]!).v128Load32Splat().localSet(l.s[r]!);
  for (let q = 0; q < vectors; q++) {
    f.localGet(l.bp).v128Load(16 * q).localSet(l.bv);
    for (let r = 0; r < rows; r++) f.localGet(acc(r, q)).localGet(l.s[r]!).localGet(l.bv).f32x4Mul().f32x4Add().localSet(acc(r, q));
  }
  for (let r = 0; r < rows; r++) advance(f, l.ap[r]!, l.aCol);
  advance(f, l.bp, l.ldb);
  f.localGet(l.p).i32Const(1).i32Sub().localTee(l.p).brIf(0);
  f.end();
  for (let r = 0; r < rows; r++) for (let q = 0; q < vectors; q++) storeVector(f, l, r, q, acc(r, q));
}

/** All column tiles of `rows` output rows starting at aRowPtr / outRow: 16 columns at a time, then 4. */
function emitRowBlock(f: FunctionBuilder, l: GemmLocals, rows: number): void {
  for (let r = 0; r < rows; r++) f.localGet(l.outRow).localGet(l.n).i32Const(4 * r).i32Mul().i32Add().localSet(l.rowOut[r]!);
  f.i32Const(0).localSet(l.j);
  f.block().loop(); // wide tiles while j + 16 ≤ nPad
  f.localGet(l.j).i32Const(4 * TILE_VECTORS).i32Add().localGet(l.nPad).i32LeS().i32Eqz().brIf(1);
  emitTile(f, l, rows, TILE_VECTORS);
  f.localGet(l.j).i32Const(4 * TILE_VECTORS).i32Add().localSet(l.j).br(0);
  f.end().end();
  f.block().loop(); // then one-vector tiles while j < n
  f.localGet(l.j).localGet(l.n).i32GeS().brIf(1);
  emitTile(f, l, rows, 1);
  f.localGet(l.j).i32Const(4).i32Add().localSet(l.j).br(0);
  f.end().end();
  for (let r = 0; r < rows; r++) advance(f, l.aRowPtr, l.aRow);
  f.localGet(l.outRow).localGet(l.n).i32Const(4 * rows).i32Mul().i32Add().localSet(l.outRow);
}

/** gemm(a, b, ldb, out, m, k, n, aRow, aCol, tmp): one product; B rows are ldb bytes apart, readable up to nPad. */
function gemmFunction(): FunctionBuilder {
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const local = () => f.addLocal(I32);
  const perRow = (type: "i32" | "v128") => Array.from({ length: TILE_ROWS }, () => f.addLocal(type));
  const l: GemmLocals = {
    a: 0, b: 1, ldb: 2, out: 3, m: 4, k: 5, n: 6, aRow: 7, aCol: 8, tmp: 9,
    i: local(), j: local(), p: local(), nPad: local(), aRowPtr: local(), outRow: local(), bp: local(), col: local(),
    ap: perRow("i32"), rowOut: perRow("i32"), s: perRow("v128"), bv: f.addLocal("v128"),
    acc: Array.from({ length: TILE_ROWS * TILE_VECTORS }, () => f.addLocal("v128")),
  };
  f.localGet(l.n).i32Const(3).i32Add().i32Const(-4).i32And().localSet(l.nPad);
  f.localGet(l.a).localSet(l.aRowPtr);
  f.localGet(l.out).localSet(l.outRow);
  f.i32Const(0).localSet(l.i);
  f.block().loop(); // blocks of TILE_ROWS rows while i + TILE_ROWS ≤ m
  f.localGet(l.i).i32Const(TILE_ROWS).i32Add().localGet(l.m).i32LeS().i32Eqz().brIf(1);
  emitRowBlock(f, l, TILE_ROWS);
  f.localGet(l.i).i32Const(TILE_ROWS).i32Add().localSet(l.i).br(0);
  f.end().end();
  f.block().loop(); // then single rows
  f.localGet(l.i).localGet(l.m).i32GeS().brIf(1);
  emitRowBlock(f, l, 1);
  f.localGet(l.i).i32Const(1).i32Add().localSet(l.i).br(0);
  f.end().end();
  return f;
}

const PACK = 0;
const GEMM = 1;

/** bmm(...): the batch loop; packs B[t] when asked (once only when B is broadcast). */
function bmmFunction(): FunctionBuilder {
  const f = new FunctionBuilder(Array.from({ length: 15 }, () => I32));
  const [a, b, out, scratch, batch, m, k, n, aBatch, aRow, aCol, bBatch, bRow, bCol, pack] = Array.from({ length: 15 }, (_, i) => i);
  const [t, nPad, tmp, outStride] = [f.addLocal(I32), f.addLocal(I32), f.addLocal(I32), f.addLocal(I32)];
  f.localGet(n).i32Const(3).i32Add().i32Const(-4).i32And().localSet(nPad);
  f.localGet(scratch).localGet(k).localGet(nPad).i32Mul().i32Const(4).i32Mul().i32Add().localSet(tmp);
  f.localGet(m).localGet(n).i32Mul().i32Const(4).i32Mul().localSet(outStride);
  const gemmArgs = (bPtr: () => void, ldb: () => void) => {
    f.localGet(a); bPtr(); ldb();
    f.localGet(out).localGet(m).localGet(k).localGet(n).localGet(aRow).localGet(aCol).localGet(tmp).call(GEMM);
  };
  forUpTo(f, t, batch, 1, () => {
    f.localGet(pack).if();
    f.localGet(t).i32Eqz().localGet(bBatch).i32Const(0).i32Ne().i32Or().if();
    f.localGet(b).localGet(scratch).localGet(k).localGet(n).localGet(nPad).localGet(bRow).localGet(bCol).call(PACK);
    f.end();
    gemmArgs(() => f.localGet(scratch), () => f.localGet(nPad).i32Const(4).i32Mul());
    f.else();
    gemmArgs(() => f.localGet(b), () => f.localGet(bRow));
    f.end();
    advance(f, a, aBatch);
    advance(f, b, bBatch);
    advance(f, out, outStride);
  });
  return f;
}

/** The module bytes, importing `env.memory` with the given sharing (it must match tfjs's memory). */
export function batchMatMulModule(memory: MemoryImport): Uint8Array {
  return encodeModule({
    memory,
    functions: [{ body: packFunction() }, { body: gemmFunction() }, { name: "bmm", body: bmmFunction() }],
  });
}

/** The exported kernel, as instantiated. */
export type BmmFunction = (
  a: number, b: number, out: number, scratch: number, batch: number, m: number, k: number, n: number,
  aBatch: number, aRow: number, aCol: number, bBatch: number, bRow: number, bCol: number, pack: number,
) => void;
