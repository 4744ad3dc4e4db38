/**
 * A tiny WebAssembly binary writer: just enough of the format (MVP sections, i32 integer
 * arithmetic, structured control flow, f32 and 128-bit SIMD loads/stores/arithmetic) to
 * build the hand-written kernels next to it at run time, without a compiler tool chain.
 *
 * The output is one module that imports a linear memory (`env.memory`) instead of
 * declaring its own, so that its functions work on tensors that tfjs-backend-wasm keeps in
 * *its* memory. Reference: the WebAssembly core specification, "Binary Format" chapter
 * (sections, LEB128 integers, instruction encodings) and the fixed-width SIMD proposal's
 * opcode table (all SIMD instructions are `0xFD` followed by a LEB128 sub-opcode).
 *
 *     const f = new FunctionBuilder(["i32", "i32"], []);
 *     f.localGet(0).localGet(1).f32Load().f32Store();   // *p0 = *p1
 *     const bytes = encodeModule({ memory: { shared: false }, functions: [{ name: "copy", body: f }] });
 */

/** Value types used by the kernels (their binary codes). */
export const VALUE_TYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
export type ValueType = keyof typeof VALUE_TYPE;

/** Unsigned LEB128: 7 bits per byte, low bits first, high bit set on all but the last byte. */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`unsignedLeb128: ${value} is not a u32`);
  const out: number[] = [];
  let v = value;
  do {
    const byte = v & 0x7f;
    v = Math.floor(v / 128);
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (two's complement); ends once the rest is pure sign extension of bit 6. */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`signedLeb128: ${value} is not an i32`);
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7; // arithmetic shift keeps the sign
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A length-prefixed byte vector, as sections and names are stored. */
function withLength(bytes: number[]): number[] {
  return [...unsignedLeb128(bytes.length), ...bytes];
}

function utf8Name(name: string): number[] {
  return withLength([...new TextEncoder().encode(name)]);
}

const SIMD_PREFIX = 0xfd;
/** The SIMD sub-opcodes that the kernels use. */
const SIMD = { load: 0x00, load32Splat: 0x09, store: 0x0b, f32x4Splat: 0x13, f32x4ExtractLane: 0x1f, f32x4Add: 0xe4, f32x4Mul: 0xe6 } as const;

/**
 * The body of one function: its signature, extra locals and instruction bytes, written
 * through chainable methods named after the WebAssembly text-format instructions.
 * Parameters are locals 0..params−1; `addLocal` returns the index of a new one.
 */
export class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly locals: ValueType[] = [];

  constructor(readonly params: readonly ValueType[], readonly results: readonly ValueType[] = []) {}

  addLocal(type: ValueType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  /** memarg: log2 of the alignment hint, then a constant byte offset added to the address. */
  private memOp(opcode: number[], alignLog2: number, offset: number): this {
    return this.op(...opcode, ...unsignedLeb128(alignLog2), ...unsignedLeb128(offset));
  }

  private simd(sub: number, ...immediates: number[]): this {
    return this.op(SIMD_PREFIX, ...unsignedLeb128(sub), ...immediates);
  }

  localGet(i: number): this { return this.op(0x20, ...unsignedLeb128(i)); }
  localSet(i: number): this { return this.op(0x21, ...unsignedLeb128(i)); }
  localTee(i: number): this { return this.op(0x22, ...unsignedLeb128(i)); }
  i32Const(v: number): this { return this.op(0x41, ...signedLeb128(v)); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32And(): this { return this.op(0x71); }
  i32Or(): this { return this.op(0x72); }
  i32Eqz(): this { return this.op(0x45); }
  i32Ne(): this { return this.op(0x47); }
  i32LtS(): this { return this.op(0x48); }
  i32LeS(): this { return this.op(0x4c); }
  i32GeS(): this { return this.op(0x4e); }
  /** Structured control: `block`/`loop`/`if` with an empty result type (0x40), closed by `end`. */
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  /** Branch to the `depth`-th enclosing label (0 = innermost): a loop's start, a block's end. */
  br(depth: number): this { return this.op(0x0c, ...unsignedLeb128(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...unsignedLeb128(depth)); }
  call(functionIndex: number): this { return this.op(0x10, ...unsignedLeb128(functionIndex)); }
  f32Load(offset = 0): this { return this.memOp([0x2a], 2, offset); }
  f32Store(offset = 0): this { return this.memOp([0x38], 2, offset); }
  f32Const(v: number): this {
    const bytes = new Uint8Array(new Float32Array([v]).buffer); // little-endian IEEE 754, as wasm stores it
    return this.op(0x43, ...bytes);
  }
  /** Alignment hints are 4 bytes: tensors are only guaranteed float-aligned. */
  v128Load(offset = 0): this { return this.memOp([SIMD_PREFIX, ...unsignedLeb128(SIMD.load)], 2, offset); }
  v128Store(offset = 0): this { return this.memOp([SIMD_PREFIX, ...unsignedLeb128(SIMD.store)], 2, offset); }
  /** Loads one f32 and repeats it in all four lanes. */
  v128Load32Splat(offset = 0): this { return this.memOp([SIMD_PREFIX, ...unsignedLeb128(SIMD.load32Splat)], 2, offset); }
  f32x4Splat(): this { return this.simd(SIMD.f32x4Splat); }
  f32x4ExtractLane(lane: number): this { return this.simd(SIMD.f32x4ExtractLane, lane); }
  f32x4Add(): this { return this.simd(SIMD.f32x4Add); }
  f32x4Mul(): this { return this.simd(SIMD.f32x4Mul); }

  /** The code-section entry: size, local declarations (runs of one type), code, `end`. */
  encode(): number[] {
    const runs: Array<[number, ValueType]> = [];
    for (const type of this.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === type) last[0]++;
      else runs.push([1, type]);
    }
    const decls = [...unsignedLeb128(runs.length), ...runs.flatMap(([count, type]) => [...unsignedLeb128(count), VALUE_TYPE[type]])];
    return withLength([...decls, ...this.code, 0x0b]);
  }
}

/** The imported memory: a shared one must state a maximum, and the importer's must fit it. */
export interface MemoryImport {
  shared: boolean;
  /** Maximum in 64 KiB pages; for shared memory defaults to 65536 (4 GiB, the wasm32 limit). */
  maximumPages?: number;
}

export interface ModuleSpec {
  memory: MemoryImport;
  /** Functions in index order; those with a `name` are exported under it. */
  functions: Array<{ name?: string; body: FunctionBuilder }>;
}

function section(id: number, contents: number[]): number[] {
  return [id, ...withLength(contents)];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb128(items.length), ...items.flat()];
}

function signature(f: FunctionBuilder): string {
  return `${f.params.join(",")}->${f.results.join(",")}`;
}

/** Limits of the imported memory: flags 0 (min), 1 (min, max) or 3 (shared, min, max). */
function memoryLimits(memory: MemoryImport): number[] {
  const max = memory.maximumPages ?? (memory.shared ? 65536 : undefined);
  if (max === undefined) return [0x00, ...unsignedLeb128(0)];
  return [memory.shared ? 0x03 : 0x01, ...unsignedLeb128(0), ...unsignedLeb128(max)];
}

/** The complete module bytes: type, import, function, export and code sections. */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const signatures = [...new Set(spec.functions.map((f) => signature(f.body)))];
  const types = signatures.map((sig) => {
    const f = spec.functions.find((g) => signature(g.body) === sig)!.body;
    return [0x60, ...vector(f.params.map((t) => [VALUE_TYPE[t]])), ...vector(f.results.map((t) => [VALUE_TYPE[t]]))];
  });
  const imports = [[...utf8Name("env"), ...utf8Name("memory"), 0x02, ...memoryLimits(spec.memory)]];
  const functionTypes = spec.functions.map((f) => unsignedLeb128(signatures.indexOf(signature(f.body))));
  const exports = spec.functions.flatMap((f, index) => (f.name ? [[...utf8Name(f.name), 0x00, ...unsignedLeb128(index)]] : []));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vector(types)),
    ...section(2, vector(imports)),
    ...section(3, vector(functionTypes)),
    ...section(7, vector(exports)),
    ...section(10, vector(spec.functions.map((f) => f.body.encode()))),
  ];
  return Uint8Array.from(bytes);
}

/**
 * The parts of the runtime's `WebAssembly` API that the kernels use, typed here because
 * the project compiles against lib ES2022 without the DOM declarations that define it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}

/** The global WebAssembly object, or undefined where the runtime has none. */
export function webAssembly(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}
