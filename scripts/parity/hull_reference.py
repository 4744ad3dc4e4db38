#!/usr/bin/python3
"""Reference fixture for PhaseDiagram parity (run by hand with Debian's pymatgen).

Builds pymatgen phase diagrams over the bundled MP-20 subset's formation energies
(elements added at 0 eV/atom, the convention of the bundled reference) and records, for
>= 500 query compositions of 1-5 elements, the signed energy above hull
(`get_decomp_and_e_above_hull(..., allow_negative=True)`), the hull energy and the
decomposition; plus the set of stable entries.

Why one PhaseDiagram per chemical system: a single pymatgen PhaseDiagram over all ~85
elements would ask qhull for an ~85-dimensional hull, which it cannot do. The hull energy
of a composition only involves entries whose elements are a subset of the composition's
elements (any other entry would need a negative amount of a missing element), so the
per-system diagram is exact, and it is what PatchedPhaseDiagram does internally too.

Usage: /usr/bin/python3 scripts/parity/hull_reference.py [datasets/mp_20] [out.json]
Writes test/fixtures/crystal/hull_mp20.json by default.
"""
import gzip
import io
import json
import os
import sys
from itertools import chain

import numpy as np
import pandas as pd
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Element
from pymatgen.io.cif import CifParser

SEED = 20240605
SPLITS = ("train", "val", "test")


def find_dataset_dir():
    for cand in (sys.argv[1] if len(sys.argv) > 1 else None, "datasets/mp_20", "/work/shared/datasets/mp_20"):
        if cand and os.path.exists(os.path.join(cand, "train.csv.gz")):
            return cand
    sys.exit("MP-20 CSVs not found: pass the folder holding train.csv.gz as the first argument")


def cif_formula(cif_text):
    """Cell composition from the CIF's species (pretty_formula is only the reduced one)."""
    structure = CifParser(io.StringIO(cif_text)).get_structures(primitive=False)[0]
    return structure.composition


def load_entries(folder):
    rows = []
    for split in SPLITS:
        with gzip.open(os.path.join(folder, f"{split}.csv.gz"), "rt") as fh:
            df = pd.read_csv(fh)
        for _, r in df.iterrows():
            comp = cif_formula(r["cif"])
            # The CIF composition and pretty_formula must agree; otherwise the data set is broken.
            assert comp.reduced_formula == Composition(r["pretty_formula"]).reduced_formula, r["material_id"]
            rows.append({
                "id": r["material_id"],
                "formula": comp.formula.replace(" ", ""),
                "energyPerAtom": float(r["formation_energy_per_atom"]),
            })
    return rows


def to_pd_entry(formula, energy_per_atom, entry_id):
    comp = Composition(formula)
    return PDEntry(comp, energy_per_atom * comp.num_atoms, name=entry_id, attribute=entry_id)


class SystemDiagrams:
    """Caches one pymatgen PhaseDiagram per chemical system."""

    def __init__(self, entries):
        self.entries = entries
        self.cache = {}

    def get(self, elements):
        key = tuple(sorted(elements))
        if key not in self.cache:
            allowed = set(key)
            subset = [e for e in self.entries if {el.symbol for el in e.composition.elements} <= allowed]
            refs = [PDEntry(Composition(el), 0.0, name=f"{el}:ref", attribute=f"{el}:ref") for el in key]
            self.cache[key] = PhaseDiagram(subset + refs, elements=[Element(el) for el in key])
        return self.cache[key]


def chemsys(formula):
    return sorted(el.symbol for el in Composition(formula).elements)


def random_amounts(rng, elements):
    return "".join(f"{el}{int(rng.integers(1, 9))}" for el in elements)


def make_queries(rng, rows, diagrams):
    """(formula, energy per atom, kind) tuples: see the module doc for the mix."""
    all_elements = sorted(set(chain.from_iterable(chemsys(r["formula"]) for r in rows)))
    queries = []
    for i in rng.choice(len(rows), 150, replace=False):  # entries with their own energies
        queries.append((rows[i]["formula"], rows[i]["energyPerAtom"], "entry", rows[i]["id"]))
    for i in rng.choice(len(rows), 200, replace=False):  # perturbed entries, sometimes a supercell
        scale = int(rng.integers(1, 3))
        comp = Composition(rows[i]["formula"]) * scale
        queries.append((comp.formula.replace(" ", ""), rows[i]["energyPerAtom"] + rng.normal(0, 0.15), "perturbed", None))
    multi = [r for r in rows if len(chemsys(r["formula"])) >= 2]
    for i in rng.choice(len(multi), 200, replace=False):  # random compositions in existing systems
        formula = random_amounts(rng, chemsys(multi[i]["formula"]))
        hull = diagrams.get(chemsys(formula)).get_hull_energy_per_atom(Composition(formula))
        queries.append((formula, hull + rng.normal(0, 0.2), "random", None))
    for _ in range(40):  # elements
        queries.append((str(rng.choice(all_elements)), rng.normal(0.05, 0.1), "element", None))
    for n_el, count in ((4, 60), (5, 80)):  # wide systems: an entry's system plus random elements
        for _ in range(count):
            base = chemsys(multi[int(rng.integers(len(multi)))]["formula"])[:n_el]
            extra = [el for el in rng.permutation(all_elements) if el not in base][: n_el - len(base)]
            elements = sorted(base + extra)
            formula = random_amounts(rng, elements)
            hull = diagrams.get(elements).get_hull_energy_per_atom(Composition(formula))
            queries.append((formula, hull + rng.normal(0, 0.1), f"{n_el}-element", None))
    return queries


def evaluate(query, diagrams):
    formula, energy, kind, entry_id = query
    pd_ = diagrams.get(chemsys(formula))
    if entry_id is not None:  # the diagram's own entry object: pymatgen's in-diagram path
        entry = next(e for e in pd_.all_entries if e.attribute == entry_id)
    else:
        entry = to_pd_entry(formula, energy, "query")
    decomp, e_hull = pd_.get_decomp_and_e_above_hull(entry, allow_negative=True)
    hull = pd_.get_hull_energy_per_atom(Composition(formula))
    return {
        "formula": formula,
        "energyPerAtom": float(energy),
        "kind": kind,
        **({"entryId": entry_id} if entry_id else {}),
        "eAboveHull": float(e_hull),
        "hullEnergyPerAtom": float(hull),
        "decomposition": sorted(
            ({"id": e.attribute, "fraction": float(f)} for e, f in decomp.items() if f > 1e-12),
            key=lambda d: d["id"],
        ),
    }


def stable_ids(rows, diagrams):
    """An entry is stable when pymatgen lists it among the stable entries of its own system."""
    stable = set()
    for r in rows:
        pd_ = diagrams.get(chemsys(r["formula"]))
        stable.update(e.attribute for e in pd_.stable_entries if not e.attribute.endswith(":ref"))
    return sorted(stable)


def main():
    import pymatgen.core

    folder = find_dataset_dir()
    out = sys.argv[2] if len(sys.argv) > 2 else "test/fixtures/crystal/hull_mp20.json"
    rows = load_entries(folder)
    entries = [to_pd_entry(r["formula"], r["energyPerAtom"], r["id"]) for r in rows]
    diagrams = SystemDiagrams(entries)
    rng = np.random.default_rng(SEED)
    queries = make_queries(rng, rows, diagrams)
    results = [evaluate(q, diagrams) for q in queries]
    fixture = {
        "description": "pymatgen PhaseDiagram on MP-20 subset formation energies (elements at 0 eV/atom)",
        "pymatgen": getattr(pymatgen.core, "__version__", "unknown"),
        "seed": SEED,
        "entries": rows,
        "stableIds": stable_ids(rows, diagrams),
        "queries": results,
    }
    tmp = out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(fixture, fh, separators=(",", ":"))
    os.replace(tmp, out)
    print(f"{len(rows)} entries, {len(results)} queries, {len(fixture['stableIds'])} stable -> {out}")


if __name__ == "__main__":
    main()
