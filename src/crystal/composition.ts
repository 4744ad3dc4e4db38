/**
 * TEMPORARY minimal Composition so the core type-checks; the composition/elements helper
 * replaces this file with the full implementation (same constructor and property names).
 */
export class Composition {
  readonly amounts: Map<string, number>;
  constructor(amounts: Map<string, number> | Record<string, number>) {
    this.amounts = amounts instanceof Map ? new Map(amounts) : new Map(Object.entries(amounts));
  }
  get formula(): string {
    return [...this.amounts].map(([e, n]) => `${e}${n}`).join(" ");
  }
  get weight(): number {
    return NaN;
  }
}
