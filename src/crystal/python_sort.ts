/**
 * CPython's `list.sort` for short lists, given a "less than" predicate.
 *
 * Why: pymatgen sorts elements by electronegativity, and noble gases have X = NaN. With NaN a
 * comparison-based sort is no longer a total order, so where a NaN element ends up depends on
 * the exact sequence of comparisons the sort makes. To print formulas with noble gases exactly
 * as pymatgen does, we make the same comparisons: for fewer than 64 items CPython's timsort is
 * "count the leading run (reverse it if strictly descending), then binary insertion sort the
 * rest" (Objects/listobject.c: count_run, binarysort). Longer lists use the same procedure, which
 * is still a correct stable sort; it only differs from CPython's merge passes when NaN keys are
 * present in a list of 64+ items, which a chemical formula never has.
 */

/** Returns a sorted copy of `items`; `lt(a, b)` must mean "a sorts strictly before b". */
export function pythonSort<T>(items: readonly T[], lt: (a: T, b: T) => boolean): T[] {
  const a = [...items];
  if (a.length < 2) return a;
  const runLength = countRun(a, lt);
  binaryInsertionSort(a, runLength, lt);
  return a;
}

/**
 * Length of the run at the start of `a`: non-descending, or strictly descending (which is
 * reversed in place so that the run becomes ascending, keeping the sort stable).
 */
function countRun<T>(a: T[], lt: (x: T, y: T) => boolean): number {
  let n = 2;
  if (lt(a[1], a[0])) {
    while (n < a.length && lt(a[n], a[n - 1])) n++;
    const run = a.slice(0, n).reverse();
    a.splice(0, n, ...run);
  } else {
    while (n < a.length && !lt(a[n], a[n - 1])) n++;
  }
  return n;
}

/** Inserts a[start..] one by one into the sorted prefix, after any equal items (stability). */
function binaryInsertionSort<T>(a: T[], start: number, lt: (x: T, y: T) => boolean): void {
  for (let i = start; i < a.length; i++) {
    const pivot = a[i];
    let lo = 0;
    let hi = i;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lt(pivot, a[mid])) hi = mid;
      else lo = mid + 1;
    }
    a.splice(i, 1);
    a.splice(lo, 0, pivot);
  }
}
