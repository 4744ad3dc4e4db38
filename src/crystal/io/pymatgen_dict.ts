/**
 * pymatgen interop: `Structure.as_dict()` / `Structure.from_dict()` JSON, so structures pass
 * between this library and Python (`json.dump(s.as_dict())` there, `structureFromPymatgenDict`
 * here, and back).
 *
 * Schema (pymatgen ≥ 2022): {"@module", "@class", "charge", "lattice": {matrix, pbc, a, b, c,
 * alpha, beta, gamma, volume}, "sites": [{species: [{element, occu}], abc, xyz, label,
 * properties}], "properties"}.
 * Only ordered, fully periodic structures map onto `Structure`; anything else is a typed error.
 */
import { PymatgenDictError } from "../errors.ts";
import { Lattice } from "../lattice.ts";
import { Structure } from "../structure.ts";
import { elementFromTypeSymbol } from "./species_symbol.ts";

export interface PymatgenSpeciesDict {
  element: string;
  occu: number;
  oxidation_state?: number;
  [key: string]: unknown;
}

export interface PymatgenSiteDict {
  species: PymatgenSpeciesDict[];
  abc: number[];
  xyz?: number[];
  label?: string;
  properties?: Record<string, unknown>;
}

export interface PymatgenLatticeDict {
  matrix: number[][];
  pbc?: boolean[];
  a?: number;
  b?: number;
  c?: number;
  alpha?: number;
  beta?: number;
  gamma?: number;
  volume?: number;
}

export interface PymatgenStructureDict {
  "@module": string;
  "@class": string;
  charge: number;
  lattice: PymatgenLatticeDict;
  sites: PymatgenSiteDict[];
  properties: Record<string, unknown>;
}

/**
 * Structure-level property keys this module maps onto site-level fields of the dict instead of
 * copying them: per-site occupancies (→ species occu) and per-site properties.
 */
const SITE_LEVEL_KEYS = new Set(["occupancies", "siteProperties", "charge"]);

/**
 * pymatgen's `Structure.as_dict()` for `structure`. Site labels are the element symbols (pymatgen's
 * default); `properties.occupancies` and `properties.siteProperties` become per-site fields.
 */
export function structureToPymatgenDict(structure: Structure): PymatgenStructureDict {
  const lat = structure.lattice;
  const [a, b, c, alpha, beta, gamma] = lat.parameters;
  const occ = structure.properties.occupancies as number[] | undefined;
  const siteProps = (structure.properties.siteProperties ?? {}) as Record<string, unknown[]>;
  const cart = structure.cartCoords;
  const sites = structure.species.map((el, i) => ({
    species: [{ element: el, occu: occ?.[i] ?? 1 }],
    abc: [...structure.fracCoords[i]],
    xyz: cart[i],
    label: el,
    properties: Object.fromEntries(Object.entries(siteProps).map(([k, v]) => [k, v[i]])),
  }));
  const properties = Object.fromEntries(Object.entries(structure.properties).filter(([k]) => !SITE_LEVEL_KEYS.has(k)));
  return {
    "@module": "pymatgen.core.structure",
    "@class": "Structure",
    charge: typeof structure.properties.charge === "number" ? structure.properties.charge : 0,
    lattice: { matrix: lat.matrix.map((r) => [...r]), pbc: [true, true, true], a, b, c, alpha, beta, gamma, volume: lat.volume },
    sites,
    properties,
  };
}

/**
 * Structure from a pymatgen `Structure.as_dict()` object (e.g. `JSON.parse` of a file written by
 * `json.dump(s.as_dict(), f)`). Oxidation states are dropped (the Structure holds elements);
 * a non-zero charge is kept in `properties.charge`, site properties in `properties.siteProperties`.
 * @throws PymatgenDictError for a non-Structure dict, a missing field, a non-periodic lattice,
 *   a disordered or partially occupied site (unless `occupancyTolerance` allows), or an unknown element.
 */
export function structureFromPymatgenDict(d: unknown, options: { occupancyTolerance?: number } = {}): Structure {
  const dict = checkShape(d);
  const lattice = readLattice(dict.lattice);
  const tol = options.occupancyTolerance ?? 0;
  const species: string[] = [];
  const occupancies: number[] = [];
  dict.sites.forEach((site, i) => {
    const [el, occu] = readSiteSpecies(site, i, tol);
    species.push(el);
    occupancies.push(occu);
  });
  const frac = dict.sites.map((site, i) => readFrac(site, i, lattice));
  const properties: Record<string, unknown> = { ...(isObject(dict.properties) ? dict.properties : {}) };
  if (occupancies.some((o) => o < 1)) properties.occupancies = occupancies;
  if (typeof dict.charge === "number" && dict.charge !== 0) properties.charge = dict.charge;
  const siteProps = collectSiteProperties(dict.sites);
  if (siteProps) properties.siteProperties = siteProps;
  return new Structure(lattice, species, frac, { properties });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function checkShape(d: unknown): PymatgenStructureDict {
  if (!isObject(d)) throw new PymatgenDictError(`Expected a pymatgen Structure dict (an object), got ${typeof d}.`);
  const cls = d["@class"];
  if (cls !== undefined && cls !== "Structure")
    throw new PymatgenDictError(`Expected a dict with "@class": "Structure", got "${String(cls)}" (Molecule and other classes are not structures).`);
  if (!isObject(d.lattice)) throw new PymatgenDictError(`The dict has no "lattice" object: pass the output of pymatgen's Structure.as_dict().`);
  if (!Array.isArray(d.sites) || d.sites.length === 0) throw new PymatgenDictError(`The dict has no "sites" (a non-empty list is required).`);
  return d as unknown as PymatgenStructureDict;
}

function readLattice(l: PymatgenLatticeDict): Lattice {
  if (l.pbc && !(Array.isArray(l.pbc) && l.pbc.length === 3 && l.pbc.every((p) => p === true)))
    throw new PymatgenDictError(`lattice.pbc is ${JSON.stringify(l.pbc)}: only fully periodic structures (pbc [true, true, true]) are supported.`);
  try {
    return new Lattice(l.matrix);
  } catch (e) {
    throw new PymatgenDictError(`lattice.matrix is not a valid lattice: ${(e as Error).message}`);
  }
}

/** The site's element and occupancy; a site with several species is disordered and rejected. */
function readSiteSpecies(site: PymatgenSiteDict, i: number, tol: number): [string, number] {
  if (!isObject(site) || !Array.isArray(site.species) || site.species.length === 0)
    throw new PymatgenDictError(`sites[${i}] has no "species" list.`);
  if (site.species.length > 1)
    throw new PymatgenDictError(
      `sites[${i}] is disordered (${site.species.map((s) => `${s.element}:${s.occu}`).join(", ")}); a Structure holds one element per site. Order the structure in pymatgen first.`,
    );
  const sp = site.species[0];
  const el = typeof sp.element === "string" ? elementFromTypeSymbol(sp.element) : undefined;
  if (!el || el !== sp.element) throw new PymatgenDictError(`sites[${i}].species[0].element '${String(sp.element)}' is not an element symbol (e.g. "Fe").`);
  const occu = sp.occu ?? 1;
  if (typeof occu !== "number" || !(occu > 0) || occu > 1 + 1e-6)
    throw new PymatgenDictError(`sites[${i}] (${el}) has occupancy ${String(occu)}; it must be in (0, 1].`);
  if (occu < 1 - tol - 1e-12)
    throw new PymatgenDictError(`sites[${i}] (${el}) is partially occupied (occu ${occu}); pass { occupancyTolerance: ${+(1 - occu).toPrecision(6)} } to accept it.`);
  return [el, occu];
}

/** Fractional coordinates from "abc", or from "xyz" when "abc" is absent. */
function readFrac(site: PymatgenSiteDict, i: number, lattice: Lattice): number[] {
  const ok = (v: unknown): v is number[] => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (ok(site.abc)) return site.abc;
  if (site.abc === undefined && ok(site.xyz)) return lattice.getFractionalCoords(site.xyz);
  throw new PymatgenDictError(`sites[${i}] has no valid "abc" (three finite fractional coordinates): got ${JSON.stringify(site.abc)}.`);
}

/** Site properties as columns ({magmom: [..per site..]}), or undefined when every site has none. */
function collectSiteProperties(sites: PymatgenSiteDict[]): Record<string, unknown[]> | undefined {
  const keys = new Set(sites.flatMap((s) => (isObject(s.properties) ? Object.keys(s.properties) : [])));
  if (keys.size === 0) return undefined;
  return Object.fromEntries([...keys].map((k) => [k, sites.map((s) => (isObject(s.properties) ? s.properties[k] ?? null : null))]));
}
