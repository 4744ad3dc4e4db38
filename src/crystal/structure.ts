/**
 * Structure: a periodic crystal = lattice + species (element symbols) + fractional coordinates.
 * Ordered structures only (one element per site); partial occupancies are reported by the
 * CIF reader, not silently rounded.
 */
import { Composition } from "./composition.ts";
import { StructureError } from "./errors.ts";
import { Lattice } from "./lattice.ts";
import { getElement } from "./elements.ts";
import { copyMat3, det3, inv3, isIntegerMat3, matmul3, vecmat3, wrap01, type Mat3, type Vec3 } from "./linalg.ts";

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

  /** Sites as plain records, in order (pymatgen's `structure.sites`). */
  get sites(): PeriodicSite[] {
    return this.species.map((s, i) => ({ species: s, fracCoords: [...this.fracCoords[i]] as Vec3 }));
  }

  /** Structure from a lattice and a list of sites (pymatgen's `Structure.from_sites`). */
  static fromSites(lattice: Lattice | readonly (readonly number[])[], sites: readonly PeriodicSite[], options: StructureOptions = {}): Structure {
    return new Structure(
      lattice,
      sites.map((s) => s.species),
      sites.map((s) => s.fracCoords),
      options,
    );
  }

  private checkIndex(i: number, what = "site index"): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length)
      throw new StructureError(`${what} ${i} is out of range: this ${this.length}-site structure has indices 0…${this.length - 1}.`);
  }

  /**
   * Distance (Å) between sites i and j: the nearest periodic image of j, or the image `jimage`
   * (integer lattice translation) when given. Exact for skewed cells (see Lattice.getDistanceAndImage).
   */
  getDistance(i: number, j: number, jimage?: readonly number[]): number {
    this.checkIndex(i);
    this.checkIndex(j);
    return this.lattice.getDistanceAndImage(this.fracCoords[i], this.fracCoords[j], jimage).distance;
  }

  /**
   * Minimum-image distance matrix (pymatgen's `distance_matrix`): row i is a Float64Array view
   * into one n×n buffer, so `dm[i][j]` reads naturally and the data stays contiguous.
   */
  get distanceMatrix(): Float64Array[] {
    const n = this.length;
    const flat = this.lattice.getAllDistances(this.fracCoords, this.fracCoords);
    return Array.from({ length: n }, (_, i) => flat.subarray(i * n, (i + 1) * n));
  }

  /**
   * All sites (any periodic image) within `r` Å of site i, excluding site i itself
   * (pymatgen's `get_neighbors`). Images are enumerated over the box bounded by the
   * reciprocal-lattice projections of the sphere, which is exact for skewed cells.
   * Sorted by distance, then index.
   */
  getNeighbors(i: number, r: number): Neighbor[] {
    this.checkIndex(i);
    const center = this.lattice.getCartesianCoords(this.fracCoords[i]);
    return this.lattice
      .getPointsInSphere(this.fracCoords, center, r)
      .filter((p) => !(p.index === i && p.image.every((x) => x === 0)))
      .map((p) => ({ index: p.index, species: this.species[p.index], distance: p.distance, image: p.image, fracCoords: p.fracCoords }))
      .sort((a, b) => a.distance - b.distance || a.index - b.index);
  }

  /** `getNeighbors(i, r)` for every site i (pymatgen's `get_all_neighbors`). */
  getAllNeighbors(r: number): Neighbor[][] {
    return this.species.map((_, i) => this.getNeighbors(i, r));
  }

  /**
   * Copy with sites sorted as pymatgen's `get_sorted_structure` sorts them: by the species'
   * Pauling electronegativity, ties broken by symbol, stable. A custom `key` replaces
   * electronegativity (compared with <, then the symbol breaks ties).
   */
  getSortedStructure(options: { key?: (site: PeriodicSite) => number | string; reverse?: boolean } = {}): Structure {
    const sites = this.sites;
    const key = options.key ?? ((s: PeriodicSite) => getElement(s.species).X);
    const cmp = (a: PeriodicSite, b: PeriodicSite): number => {
      const [ka, kb] = [key(a), key(b)];
      if (ka < kb) return -1;
      if (ka > kb) return 1;
      return a.species < b.species ? -1 : a.species > b.species ? 1 : 0;
    };
    const order = sites.map((_, i) => i).sort((x, y) => (options.reverse ? -1 : 1) * cmp(sites[x], sites[y]));
    return this.copy({ species: order.map((i) => this.species[i]), fracCoords: order.map((i) => this.fracCoords[i]) });
  }

  /**
   * Copy with every site moved by a random Cartesian vector of length `distance` Å, or of a
   * length drawn uniformly from [minDistance, distance] when `minDistance` is given
   * (pymatgen's `perturb`, which mutates; ours returns a new structure). Directions are
   * isotropic (normalised Gaussian vectors); coordinates are wrapped into [0, 1).
   * @param rng uniform generator on [0, 1); pass a seeded one for reproducible results.
   */
  perturb(distance: number, minDistance?: number, rng: () => number = Math.random): Structure {
    if (!(distance >= 0) || !Number.isFinite(distance))
      throw new StructureError(`perturb distance must be a finite number >= 0 Å, got ${distance}.`);
    if (minDistance !== undefined && !(minDistance >= 0 && minDistance <= distance))
      throw new StructureError(`perturb minDistance must be in [0, distance=${distance}] Å, got ${minDistance}.`);
    const frac = this.fracCoords.map((f) => {
      const v = randomUnitVector(rng);
      const len = minDistance === undefined ? distance : minDistance + (distance - minDistance) * rng();
      const cart = this.lattice.getCartesianCoords(f);
      return this.lattice.getFractionalCoords([cart[0] + v[0] * len, cart[1] + v[1] * len, cart[2] + v[2] * len]).map(wrap01);
    });
    return this.copy({ fracCoords: frac });
  }

  /**
   * Supercell (pymatgen's `make_supercell`): `scaling` is a number (n·I), three factors
   * (diagonal) or a full integer 3×3 matrix S, new lattice = S · lattice. Sites are listed
   * site by site, each followed by its copies, and wrapped into [0, 1), as pymatgen orders them.
   */
  makeSupercell(scaling: number | readonly number[] | readonly (readonly number[])[]): Structure {
    const s = scalingMatrix(scaling);
    const lattice = new Lattice(matmul3(s, this.lattice.matrix));
    const points = latticePointsInSupercell(s);
    const sInv = inv3(s);
    const species: string[] = [];
    const frac: Vec3[] = [];
    this.fracCoords.forEach((f, i) => {
      const base = vecmat3(f, sInv);
      for (const p of points) {
        species.push(this.species[i]);
        frac.push([wrap01(base[0] + p[0]), wrap01(base[1] + p[1]), wrap01(base[2] + p[2])]);
      }
    });
    return new Structure(lattice, species, frac, { properties: this.properties, validate: false });
  }

  /**
   * Copy with sites `indices` moved by `vector` (fractional by default, Cartesian Å with
   * `{ fracCoords: false }`), wrapped into [0, 1) unless `toUnitCell: false` (pymatgen's `translate_sites`).
   */
  translateSites(indices: number | readonly number[], vector: readonly number[], options: { fracCoords?: boolean; toUnitCell?: boolean } = {}): Structure {
    if (vector.length !== 3 || vector.some((x) => !Number.isFinite(x)))
      throw new StructureError(`translateSites needs a finite 3-vector, got ${JSON.stringify(vector)}.`);
    const idx = typeof indices === "number" ? [indices] : indices;
    idx.forEach((i) => this.checkIndex(i));
    const dv = options.fracCoords === false ? this.lattice.getFractionalCoords(vector) : vector;
    const frac = this.fracCoords.map((f) => [...f] as Vec3);
    for (const i of idx) {
      const g: Vec3 = [frac[i][0] + dv[0], frac[i][1] + dv[1], frac[i][2] + dv[2]];
      frac[i] = options.toUnitCell === false ? g : (g.map(wrap01) as Vec3);
    }
    return this.copy({ fracCoords: frac });
  }

  /** Copy with every fractional coordinate wrapped into [0, 1). */
  wrapped(): Structure {
    return this.copy({ fracCoords: this.fracCoords.map((f) => f.map(wrap01)) });
  }

  /**
   * True when no two distinct sites are within `tol` Å (minimum image), as pymatgen's
   * `is_valid` (a one-site structure is always valid; a site's own images are not checked).
   */
  isValid(tol = 0.5): boolean {
    const n = this.length;
    if (n <= 1) return true;
    const d = this.lattice.getAllDistances(this.fracCoords, this.fracCoords);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (d[i * n + j] <= tol) return false;
    return true;
  }

  /** Copy whose lattice is scaled to `volume` Å³ (shape and fractional coordinates kept). */
  scaleLattice(volume: number): Structure {
    return this.copy({ lattice: this.lattice.scale(volume) });
  }

  /**
   * Throws StructureError for a structure no physical crystal can have: zero sites, or two
   * sites (minimum image) closer than `minDistance` Å (default 0.1), naming the pair.
   * Returns `this` so it can be chained.
   */
  assertReasonable(minDistance = 0.1): this {
    const formula = this.length ? this.composition.formula : "(empty)";
    if (this.length === 0)
      throw new StructureError("Structure has no sites: add at least one atom (species + fractional coordinates).");
    const n = this.length;
    const d = this.lattice.getAllDistances(this.fracCoords, this.fracCoords);
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++)
        if (d[i * n + j] < minDistance)
          throw new StructureError(
            `Structure ${formula}: sites ${i} (${this.species[i]}) and ${j} (${this.species[j]}) overlap ` +
              `(distance ${d[i * n + j].toFixed(4)} Å < ${minDistance} Å). Remove the duplicate site or fix its coordinates.`,
          );
    return this;
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

/** One site: element symbol and fractional coordinates. */
export interface PeriodicSite {
  species: string;
  fracCoords: Vec3;
}

/** A neighbour found by `Structure.getNeighbors`. */
export interface Neighbor {
  /** Index of the neighbouring site in the structure. */
  index: number;
  species: string;
  /** Distance (Å) from the central site. */
  distance: number;
  /** Integer lattice translation of the neighbour's image. */
  image: Vec3;
  /** Fractional coordinates of the image (site coordinates + image). */
  fracCoords: Vec3;
}

/** Isotropic unit vector from a normalised standard-normal triple (Box–Muller). */
function randomUnitVector(rng: () => number): Vec3 {
  for (let tries = 0; tries < 100; tries++) {
    const g = [0, 1, 2].map(() => gaussian(rng));
    const n = Math.hypot(g[0], g[1], g[2]);
    if (n > 1e-12) return [g[0] / n, g[1] / n, g[2] / n];
  }
  throw new StructureError("perturb: the random generator keeps returning degenerate values; pass a proper uniform [0, 1) rng.");
}

function gaussian(rng: () => number): number {
  const u1 = 1 - rng(); // (0, 1]: keeps log finite
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Normalises a supercell specification to an integer 3×3 matrix with positive determinant. */
function scalingMatrix(scaling: number | readonly number[] | readonly (readonly number[])[]): Mat3 {
  let s: Mat3;
  const rows = scaling as readonly unknown[];
  if (typeof scaling === "number") s = [[scaling, 0, 0], [0, scaling, 0], [0, 0, scaling]];
  else if (rows.length === 3 && rows.every((x) => typeof x === "number")) {
    const d = scaling as readonly number[];
    s = [[d[0], 0, 0], [0, d[1], 0], [0, 0, d[2]]];
  } else if (rows.length === 3 && rows.every((r) => Array.isArray(r) && r.length === 3)) s = copyMat3(scaling as number[][]);
  else throw new StructureError(`Supercell scaling must be a number, 3 factors or a 3×3 matrix, got ${JSON.stringify(scaling)}.`);
  if (!isIntegerMat3(s, 0) || s.some((r) => r.some((x) => !Number.isFinite(x))))
    throw new StructureError(`Supercell scaling must be all integers, got ${JSON.stringify(scaling)}.`);
  const det = det3(s);
  if (det <= 0)
    throw new StructureError(
      `Supercell scaling ${JSON.stringify(scaling)} has determinant ${det}: it must be positive (a zero determinant collapses the cell, a negative one makes it left-handed).`,
    );
  return s;
}

/**
 * Lattice points of the original cell inside the supercell S, in supercell fractional
 * coordinates, ordered a-major like pymatgen's `lattice_points_in_supercell`.
 */
function latticePointsInSupercell(s: Mat3): Vec3[] {
  const corners = [0, 1].flatMap((i) => [0, 1].flatMap((j) => [0, 1].map((k) => vecmat3([i, j, k], s))));
  const lo = [0, 1, 2].map((k) => Math.min(...corners.map((c) => c[k])));
  const hi = [0, 1, 2].map((k) => Math.max(...corners.map((c) => c[k])));
  const sInv = inv3(s);
  const out: Vec3[] = [];
  for (let i = lo[0]; i <= hi[0]; i++)
    for (let j = lo[1]; j <= hi[1]; j++)
      for (let k = lo[2]; k <= hi[2]; k++) {
        const f = vecmat3([i, j, k], sInv);
        if (f.every((x) => x >= -1e-10 && x < 1 - 1e-10)) out.push(f);
      }
  const n = Math.round(Math.abs(det3(s)));
  if (out.length !== n) throw new StructureError(`Internal error: found ${out.length} lattice points in a supercell of size ${n}.`);
  return out;
}
