/**
 * crystal-grpo public API. One barrel for notebooks, scripts and `import ... from "crystal-grpo"`.
 * Sections are grouped by module (see ../shared/DESIGN.md); keep each export in its section.
 */

// --- crystal core ---
export * from "./crystal/errors.ts";
export { Lattice } from "./crystal/lattice.ts";
export { Structure, countSpecies, type StructureOptions } from "./crystal/structure.ts";
export { Composition } from "./crystal/composition.ts";

// --- crystal I/O ---

// --- data ---

// --- nn (tensor engine) ---

// --- metrics ---

// --- notebook ---
