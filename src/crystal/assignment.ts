/**
 * Linear sum assignment (the rectangular "Hungarian" problem): given an n×m cost matrix with
 * n ≤ m, choose one distinct column per row so that the summed cost is minimal.
 *
 * StructureMatcher pairs the sites of one crystal with the sites of the other by minimising the
 * summed squared distances, exactly the job of pymatgen's `LinearAssignment`. We solve it with
 * the shortest-augmenting-path form of Jonker–Volgenant (as described by Crouse, IEEE TAES 2016):
 * rows are added one at a time and each is routed to a free column along a Dijkstra shortest path
 * in reduced costs, keeping dual potentials so reduced costs stay non-negative. O(n²·m).
 */
import { CrystalError } from "./errors.ts";

/** Raised for a malformed cost matrix (wrong size, NaN) or a problem with no finite assignment. */
export class AssignmentError extends CrystalError {}

export interface Assignment {
  /** `rowToCol[i]` is the column assigned to row i. */
  rowToCol: Int32Array;
  /** Summed cost of the chosen entries. */
  cost: number;
}

/**
 * Optimal assignment of rows to distinct columns.
 * @param cost row-major n×m costs (n ≤ m); entries must be finite (use a large number to forbid a pair).
 * @throws AssignmentError when n > m, the buffer size is wrong, or an entry is not finite.
 */
export function linearSumAssignment(cost: ArrayLike<number>, n: number, m: number): Assignment {
  validateCost(cost, n, m);
  const u = new Float64Array(n); // row potentials
  const v = new Float64Array(m); // column potentials
  const colForRow = new Int32Array(n).fill(-1);
  const rowForCol = new Int32Array(m).fill(-1);
  const shortest = new Float64Array(m);
  const path = new Int32Array(m);
  const remaining = new Int32Array(m);
  const rowSeen = new Uint8Array(n);
  const colSeen = new Uint8Array(m);
  for (let row = 0; row < n; row++) {
    const { sink, minVal } = shortestAugmentingPath(cost, m, row, u, v, rowForCol, shortest, path, remaining, rowSeen, colSeen);
    updatePotentials(row, minVal, n, m, u, v, colForRow, shortest, rowSeen, colSeen);
    augment(sink, row, path, colForRow, rowForCol);
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += cost[i * m + colForRow[i]];
  return { rowToCol: colForRow, cost: total };
}

function validateCost(cost: ArrayLike<number>, n: number, m: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 0 || m < 0)
    throw new AssignmentError(`Assignment sizes must be non-negative integers, got ${n}×${m}.`);
  if (n > m)
    throw new AssignmentError(`Assignment needs rows ≤ columns, got ${n}×${m}: transpose the cost matrix.`);
  if (cost.length !== n * m)
    throw new AssignmentError(`Cost buffer has ${cost.length} entries but ${n}×${m} = ${n * m} were declared.`);
  for (let k = 0; k < cost.length; k++)
    if (!Number.isFinite(cost[k]))
      throw new AssignmentError(
        `Cost entry (${Math.floor(k / m)}, ${k % m}) is ${cost[k]}: use a large finite number to forbid a pairing.`,
      );
}

/** Dijkstra in reduced costs from `row` until a free column (the sink) is reached. */
function shortestAugmentingPath(
  cost: ArrayLike<number>,
  m: number,
  row: number,
  u: Float64Array,
  v: Float64Array,
  rowForCol: Int32Array,
  shortest: Float64Array,
  path: Int32Array,
  remaining: Int32Array,
  rowSeen: Uint8Array,
  colSeen: Uint8Array,
): { sink: number; minVal: number } {
  shortest.fill(Infinity);
  path.fill(-1);
  rowSeen.fill(0);
  colSeen.fill(0);
  // Columns are scanned in reverse so ties resolve towards low column indices, like scipy.
  for (let j = 0; j < m; j++) remaining[j] = m - 1 - j;
  let numRemaining = m;
  let minVal = 0;
  let i = row;
  let sink = -1;
  while (sink === -1) {
    rowSeen[i] = 1;
    let index = -1;
    let lowest = Infinity;
    const base = i * m;
    for (let it = 0; it < numRemaining; it++) {
      const j = remaining[it];
      const r = minVal + cost[base + j] - u[i] - v[j];
      if (r < shortest[j]) {
        path[j] = i;
        shortest[j] = r;
      }
      // Prefer a free column on ties: it ends the search sooner.
      if (shortest[j] < lowest || (shortest[j] === lowest && rowForCol[j] === -1)) {
        lowest = shortest[j];
        index = it;
      }
    }
    minVal = lowest;
    if (index === -1 || !Number.isFinite(minVal))
      throw new AssignmentError(`No finite assignment exists for row ${row}.`);
    const j = remaining[index];
    if (rowForCol[j] === -1) sink = j;
    else i = rowForCol[j];
    colSeen[j] = 1;
    remaining[index] = remaining[--numRemaining];
  }
  return { sink, minVal };
}

/** Dual update that keeps every reduced cost non-negative after the new row is routed. */
function updatePotentials(
  row: number,
  minVal: number,
  n: number,
  m: number,
  u: Float64Array,
  v: Float64Array,
  colForRow: Int32Array,
  shortest: Float64Array,
  rowSeen: Uint8Array,
  colSeen: Uint8Array,
): void {
  u[row] += minVal;
  for (let i = 0; i < n; i++) if (rowSeen[i] && i !== row) u[i] += minVal - shortest[colForRow[i]];
  for (let j = 0; j < m; j++) if (colSeen[j]) v[j] -= minVal - shortest[j];
}

/** Flip the matched/unmatched edges along the path that ends at `sink`. */
function augment(sink: number, row: number, path: Int32Array, colForRow: Int32Array, rowForCol: Int32Array): void {
  let j = sink;
  for (;;) {
    const i = path[j];
    rowForCol[j] = i;
    const prev = colForRow[i];
    colForRow[i] = j;
    j = prev;
    if (i === row) break;
  }
}
