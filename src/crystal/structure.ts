/**
 * Structure: a periodic crystal = lattice + species (element symbols) + fractional coordinates.
 * Ordered structures only (one element per site); partial occupancies are reported by the
 * CIF reader, not silently rounded.
 */
import { Composition } from "./composition.ts";
import { StructureError } from "./errors.ts";
import { Lattice } from "./lattice.ts";
import type { Vec3 } from "./linalg.ts";

export interface StructureOptions {
  /** Free-form per-structure properties (e.g. material_id, formation_energy_per_atom). */
  properties?: Record<string, unknown>;
  /** Skip validation of species/coordinates (only for trusted internal constructions). */
  validate?: boolean;
}

export class Structure {
  readonly lattice: Lattice;
  /** Element symbol of each site. */
  readonly species: readonly string[];
  /** Fractional coordinates of each site (not wrapped into [0, 1)). */
  readonly fracCoords: readonly Vec3[];
  readonly properties: Record<string, unknown>;

  constructor(
    lattice: Lattice | readonly (readonly number[])[],
    species: readonly string[],
    fracCoords: readonly (readonly number[])[],
    options: StructureOptions = {},
  ) {
    this.lattice = lattice instanceof Lattice ? lattice : new Lattice(lattice);
    if (species.length !== fracCoords.length)
      throw new StructureError(
        `Structure has ${species.length} species but ${fracCoords.length} coordinate rows: they must match one to one.`,
      );
    if (options.validate !== false) {
      fracCoords.forEach((f, i) => {
        if (f.length !== 3 || f.some((x) => typeof x !== "number" || !Number.isFinite(x)))
          throw new StructureError(`Site ${i} (${species[i]}) has non-finite or malformed fractional coordinates ${JSON.stringify(f)}.`);
      });
      // Composition validates the element symbols (ElementError names the unknown one).
      new Composition(countSpecies(species));
    }
    this.species = [...species];
    this.fracCoords = fracCoords.map((f) => [f[0], f[1], f[2]] as Vec3);
    this.properties = { ...(options.properties ?? {}) };
  }

  /** Structure from Cartesian coordinates (Å). */
  static fromCartesian(
    lattice: Lattice | readonly (readonly number[])[],
    species: readonly string[],
    cartCoords: readonly (readonly number[])[],
    options: StructureOptions = {},
  ): Structure {
    const lat = lattice instanceof Lattice ? lattice : new Lattice(lattice);
    return new Structure(lat, species, cartCoords.map((c) => lat.getFractionalCoords(c)), options);
  }

  /** Number of sites (pymatgen's `len(structure)`). */
  get length(): number {
    return this.species.length;
  }

  get cartCoords(): Vec3[] {
    return this.fracCoords.map((f) => this.lattice.getCartesianCoords(f));
  }

  get composition(): Composition {
    return new Composition(countSpecies(this.species));
  }

  get volume(): number {
    return this.lattice.volume;
  }

  /** Volume per atom in Å³. */
  get volumePerAtom(): number {
    return this.lattice.volume / this.length;
  }

  /** Mass density in g/cm³ (1 amu/Å³ = 1.66053906660 g/cm³). */
  get density(): number {
    return (this.composition.weight / this.volume) * 1.6605390666;
  }

  /** Deep copy; `overrides` replace fields of the copy. */
  copy(overrides: { lattice?: Lattice; species?: readonly string[]; fracCoords?: readonly (readonly number[])[]; properties?: Record<string, unknown> } = {}): Structure {
    return new Structure(
      overrides.lattice ?? this.lattice,
      overrides.species ?? this.species,
      overrides.fracCoords ?? this.fracCoords,
      { properties: overrides.properties ?? this.properties, validate: false },
    );
  }

  toString(): string {
    const [a, b, c, al, be, ga] = this.lattice.parameters;
    const head = `Structure ${this.composition.formula}\nabc: ${[a, b, c].map((x) => x.toFixed(4)).join(" ")}  angles: ${[al, be, ga].map((x) => x.toFixed(2)).join(" ")}`;
    const sites = this.species.map((s, i) => `${String(i).padStart(3)} ${s.padEnd(3)} ${this.fracCoords[i].map((x) => x.toFixed(6)).join(" ")}`);
    return [head, ...sites].join("\n");
  }
}

/** Counts of each element symbol, in order of first appearance. */
export function countSpecies(species: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of species) counts.set(s, (counts.get(s) ?? 0) + 1);
  return counts;
}
