#!/usr/bin/python3
"""Reference fixtures for crystal I/O (CIF, POSCAR, pymatgen dict), made with Debian's pymatgen.

Run by hand from the repository root (never from `npm test`):

    /usr/bin/python3 scripts/parity/make_io_fixtures.py

It writes, under test/fixtures/crystal/io/:
  mp20_test_pymatgen.json   pymatgen's parse (Structure.from_str(cif, fmt="cif")) of every MP-20 test CIF
  symmetrized/*.cif         CIFs written by pymatgen's CifWriter with symprec (space-group operations)
  symmetrized_pymatgen.json pymatgen's parse of those CIFs (the sites our symmetry expansion must give)
  pymatgen_dicts.json       Structure.as_dict() of a few structures (one with oxidation states + magmoms)
  poscars_pymatgen.json     pymatgen Poscar text (direct and Cartesian) and the structure it encodes

Then it runs scripts/parity/write_io_outputs.ts (our writers) and loads OUR dicts, CIFs and
POSCARs in pymatgen, printing whether each describes the same structure as pymatgen's own parse.
"""
import gzip
import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.io.vasp import Poscar

OUT = "test/fixtures/crystal/io"


def mp20_path(split):
    local = f"datasets/mp_20/{split}.csv.gz"
    return local if os.path.exists(local) else f"/work/shared/datasets/mp_20/{split}.csv.gz"


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def structure_record(s):
    return {
        "matrix": s.lattice.matrix.tolist(),
        "species": [site.specie.symbol for site in s],
        "frac_coords": s.frac_coords.tolist(),
    }


def reference_structures():
    """Small structures with real space groups (literature cell parameters)."""
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.6402), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    zno = Structure.from_spacegroup(
        "P6_3mc", Lattice.hexagonal(3.2498, 5.2066), ["Zn", "O"], [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.3819]]
    )
    tio2 = Structure.from_spacegroup(
        "P4_2/mnm", Lattice.tetragonal(4.5937, 2.9587), ["Ti", "O"], [[0, 0, 0], [0.3048, 0.3048, 0]]
    )
    # Monoclinic P2_1/c with a general position: exercises non-orthogonal cells and translations.
    mono = Structure.from_spacegroup(
        "P2_1/c", Lattice.monoclinic(5.1, 6.2, 7.3, 101.5), ["Ca", "O"], [[0.12, 0.23, 0.34], [0.41, 0.07, 0.19]]
    )
    return {"NaCl": nacl, "ZnO": zno, "TiO2": tio2, "CaO_P21c": mono}


def write_symmetrized(structs):
    os.makedirs(f"{OUT}/symmetrized", exist_ok=True)
    expected = {}
    for name, s in structs.items():
        text = str(CifWriter(s, symprec=0.01))
        atomic_write(f"{OUT}/symmetrized/{name}.cif", text)
        expected[name] = structure_record(Structure.from_str(text, fmt="cif"))
    atomic_write(f"{OUT}/symmetrized_pymatgen.json", json.dumps(expected, indent=1))


def write_dicts(structs, mp20):
    dicts = {name: s.as_dict() for name, s in structs.items()}
    decorated = structs["NaCl"].copy()
    decorated.add_oxidation_state_by_element({"Na": 1, "Cl": -1})
    decorated.add_site_property("magmom", [0.0] * len(decorated))
    dicts["NaCl_oxi_magmom"] = decorated.as_dict()
    dicts[mp20.iloc[0]["material_id"]] = Structure.from_str(mp20.iloc[0]["cif"], fmt="cif").as_dict()
    atomic_write(f"{OUT}/pymatgen_dicts.json", json.dumps(dicts, indent=1))


def write_poscars(structs):
    out = {}
    for name in ("ZnO", "CaO_P21c"):
        s = structs[name]
        p = Poscar(s)
        out[name] = {
            "direct": p.get_string(direct=True),
            "cartesian": p.get_string(direct=False),
            **structure_record(s),
        }
    atomic_write(f"{OUT}/poscars_pymatgen.json", json.dumps(out, indent=1))


def same_structure(a, b, tol=1e-6):
    """Same lattice matrix, species and fractional coordinates (periodic), site by site."""
    if len(a) != len(b) or [x.specie.symbol for x in a] != [x.specie.symbol for x in b]:
        return False
    if not np.allclose(a.lattice.matrix, b.lattice.matrix, atol=tol):
        return False
    d = a.frac_coords - b.frac_coords
    return bool(np.all(np.abs(d - np.round(d)) < tol))


def check_ours(mp20):
    subprocess.run(["node", "--import", "tsx", "scripts/parity/write_io_outputs.ts", "20"], check=True)
    with open(f"{OUT}/ours_outputs.json") as f:
        ours = json.load(f)
    cifs = dict(zip(mp20["material_id"], mp20["cif"]))
    bad = 0
    for rec in ours:
        ref = Structure.from_str(cifs[rec["material_id"]], fmt="cif")
        checks = {
            "dict": Structure.from_dict(rec["dict"]),
            "cif": Structure.from_str(rec["cif"], fmt="cif"),
            "poscar": Poscar.from_string(rec["poscar"]).structure,
        }
        for kind, s in checks.items():
            if not same_structure(ref, s):
                bad += 1
                print(f"MISMATCH {rec['material_id']} ({kind})")
        # Symmetrized CIF: pymatgen re-expands the orbits and sorts sites, so compare with a matcher
        # in the same cell (no primitive reduction, no scaling, no supercells).
        sym = Structure.from_str(rec["cif_symprec"], fmt="cif")
        matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False, stol=0.05)
        if len(sym) != len(ref) or not matcher.fit(ref, sym):
            bad += 1
            print(f"MISMATCH {rec['material_id']} (symmetrized cif)")
    print(f"pymatgen loaded {len(ours)} of our dicts, P1 CIFs, symmetrized CIFs and POSCARs: {4 * len(ours) - bad} match, {bad} differ")
    return bad


def main():
    mp20 = pd.read_csv(mp20_path("test"))
    records = [{"material_id": mid, **structure_record(Structure.from_str(cif, fmt="cif"))} for mid, cif in zip(mp20["material_id"], mp20["cif"])]
    atomic_write(f"{OUT}/mp20_test_pymatgen.json", json.dumps(records))
    structs = reference_structures()
    write_symmetrized(structs)
    write_dicts(structs, mp20)
    write_poscars(structs)
    print(f"wrote fixtures for {len(records)} MP-20 test rows and {len(structs)} symmetrized structures")
    sys.exit(1 if check_ours(mp20) else 0)


if __name__ == "__main__":
    main()
