"""Reference fixtures for the crystal core, computed with pymatgen (run by hand, never from npm test).

Usage:  /usr/bin/python3 scripts/parity/lattice_parity.py
Writes:
  test/fixtures/crystal/lattice_parity.json    ~200 lattices: Niggli, LLL (+ mapping), distances
  test/fixtures/crystal/structure_parity.json  ~300 MP-20 structures: space group (spglib, symprec 0.1),
                                               density, sorted order; distance matrices for some

Lattices come from MP-20 CIF cell parameters; a quarter of them are deliberately skewed by a
random unimodular integer matrix (same lattice, ugly basis) to exercise the reductions and the
minimum-image search. Files are written to a temporary name and renamed.
"""
import csv
import gzip
import io
import json
import os
import sys
import warnings

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "crystal")


def dataset_path(split):
    for base in (os.path.join(ROOT, "datasets", "mp_20"), "/work/shared/datasets/mp_20"):
        p = os.path.join(base, f"{split}.csv.gz")
        if os.path.exists(p):
            return p
    sys.exit(f"MP-20 {split}.csv.gz not found under datasets/mp_20 or /work/shared/datasets/mp_20")


def rows(split):
    csv.field_size_limit(10**8)
    with gzip.open(dataset_path(split), "rt") as f:
        yield from csv.DictReader(f)


def unimodular(rng):
    """Random integer matrix with det +1 (product of shears), to skew a basis."""
    m = np.eye(3, dtype=int)
    for _ in range(4):
        i, j = rng.choice(3, 2, replace=False)
        s = np.eye(3, dtype=int)
        s[i, j] = rng.integers(-2, 3)
        m = s @ m
    assert round(np.linalg.det(m)) == 1
    return m


def write_json(name, obj):
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    os.replace(tmp, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def r(x, nd=10):
    return np.round(np.asarray(x, dtype=float), nd).tolist()


def lattice_entry(latt, rng):
    niggli = latt.get_niggli_reduced_lattice()
    pts = rng.random((3, 3)) * 2 - 0.5
    d, img = latt.get_distance_and_image(pts[0], pts[1])
    return {
        "matrix": latt.matrix.tolist(),
        "niggli": niggli.matrix.tolist(),
        "niggliParams": list(niggli.parameters),
        "lll": latt.lll_matrix.tolist(),
        "lllMapping": r(latt.lll_mapping, 6),
        "distance": {"frac1": pts[0].tolist(), "frac2": pts[1].tolist(), "distance": float(d), "image": img.tolist()},
        "allDistances": latt.get_all_distances(pts, pts).tolist(),
        "points": pts.tolist(),
    }


def structure_entry(s, with_matrix):
    sga = SpacegroupAnalyzer(s, symprec=0.1)
    ds = sga.get_symmetry_dataset()
    prim = sga.get_primitive_standard_structure()
    conv = sga.get_conventional_standard_structure()
    e = {
        "lattice": s.lattice.matrix.tolist(),
        "species": [site.specie.symbol for site in s],
        "fracCoords": s.frac_coords.tolist(),
        "spacegroup": sga.get_space_group_number(),
        "symbol": sga.get_space_group_symbol(),
        "wyckoffs": list(ds["wyckoffs"]),
        "equivalentAtoms": [int(x) for x in ds["equivalent_atoms"]],
        "primitiveNumSites": len(prim),
        "conventionalNumSites": len(conv),
        "density": s.density,
        "sortedSpecies": [site.specie.symbol for site in s.get_sorted_structure()],
    }
    if with_matrix:
        e["distanceMatrix"] = r(s.distance_matrix)
    return e


def main():
    rng = np.random.default_rng(20261127)
    lattices, structures = [], []
    for split, n_lat, n_struct in (("train", 120, 200), ("val", 40, 50), ("test", 40, 50)):
        for i, row in enumerate(rows(split)):
            if i >= max(n_lat, n_struct):
                break
            s = Structure.from_str(row["cif"], fmt="cif")
            if i < n_lat:
                latt = s.lattice
                if i % 4 == 3:
                    latt = Lattice(unimodular(rng) @ latt.matrix)
                e = lattice_entry(latt, rng)
                e["source"] = f"{split}:{row['material_id']}" + (":skewed" if i % 4 == 3 else "")
                lattices.append(e)
            if i < n_struct:
                e = structure_entry(s, with_matrix=i < 10)
                e["materialId"] = row["material_id"]
                e["datasetSpacegroup"] = int(row["spacegroup.number"])
                structures.append(e)
    write_json("lattice_parity.json", {"generator": "scripts/parity/lattice_parity.py", "lattices": lattices})
    write_json("structure_parity.json", {"generator": "scripts/parity/lattice_parity.py", "structures": structures})


if __name__ == "__main__":
    main()
