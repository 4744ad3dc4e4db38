#!/usr/bin/python3
"""Reference fixture for Composition parity with pymatgen (run by hand, never from npm test).

Usage: /usr/bin/python3 scripts/parity/formula_parity.py
Writes test/fixtures/crystal/reduced_formula_pymatgen.json (atomically), read by
test/crystal/composition.test.ts.

Cases:
  * every row of datasets/mp_20/*.csv.gz, and the first 150 distinct compositions of each
    perov_5 / carbon_24 file (all of them would break the 1 MB fixture budget):
    species counts of the CIF as pymatgen parses it (Structure.from_str, no primitive
    reduction), in pymatgen's site order;
  * a few hundred synthetic formula strings: hand-picked special cases (special formulas,
    polyanions, noble gases with NaN electronegativity, near-integers, fractions, nesting)
    plus seeded random ones over all 118 elements.
For each case pymatgen 2022.11's formula, reduced_formula + factor, alphabetical, anonymized,
hill formula, chemical system, str(), num_atoms and weight are recorded.
"""
import csv
import gzip
import io
import json
import os
import random
import sys
import warnings
from importlib.metadata import version

from pymatgen.core import Composition, Element, Structure

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "test", "fixtures", "crystal", "reduced_formula_pymatgen.json")
FIELDS = ["formula", "reduced_formula", "factor", "alphabetical_formula", "anonymized_formula",
          "hill_formula", "chemical_system", "str", "num_atoms", "weight"]

HAND_PICKED = """
O O2 O3 O4 H H2 H3 H2O H2O2 HO H4O4 LiO Li2O2 Li4O4 NaO Na2O2 KO KO2 K2O2 CsO RbO Rb3O3 N N2 N6 F F4 Cl
Cl3 Br2 I2 Fe2O3 Fe4O6 LiFePO4 Li4Fe4P4O16 Ca3(PO4)2 Ca6(PO4)4 Sm(Fe5Mo)2 Fe(HO)2 Fe(OH)2 Li0.5CoO2
Mg(OH)2 K4(Fe(CN)6) K4Fe(CN)6 Y3N@C80 XeF2 XeF4 XeO3 KrF2 KrF2O HeNe Ar Ar2 ArHe2 He Ne3 NaCl CsCl
Na2SO4 Na4S2O8 Ba(NO3)2 Al2(SO4)3 CuSO4(H2O)5 Fe2.9999999999O Fe1.0000000001O Fe1.99999999999O
Li0.333333333O LiFe0.5Mn0.5PO4 (H2O)2.5 C C8 C60 Si SiO2 Si4O8 NaAlSi3O8 BaTiO3 SrTiO3 CaCO3
Ca2(CO3)2 NH4Cl NH4NO3 (NH4)2SO4 Li2O LiO2 Li3N Li6N2 Cs2O2 H2SO4 H4S2O8 CH4 C2H6 C6H12O6 HCl
Fe0.947O Li7La3Zr2O12 Li14La6Zr4O24 YBa2Cu3O7 Y2Ba4Cu6O14 Bi2Sr2CaCu2O8 Hg Na K Li Fe
Fe0.5 O0.25 Li0.5O0.25 Fe1e-3O Fe1.5e2O NaFe2(PO4)(SO4) Mn3(Co(CN)6)2 Ne(HeAr)2 XeKrAr
Co Ir Pt Au Os PtIr IrPt CoSi SiCo PbRe ReSb2 Ga2Se3 AlGaN2 In2Se3 TlI BiOCl SbSI
(OH)2Mg Fe2O3Fe2O3 [Fe(CN)6]K3 {Cu(NH3)4}SO4 Sr0.1La0.9MnO3 La0.7Sr0.3MnO3
Li0.1 Li3.5 Li0.001953125O Li0.005859375O Ba0.00001Ti0.99999O3 Ca1.23456789123O
""".split()


def pm_record(comp):
    formula, factor = comp.get_reduced_formula_and_factor()
    return {
        "formula": comp.formula,
        "reduced_formula": formula,
        "factor": float(factor),
        "alphabetical_formula": comp.alphabetical_formula,
        "anonymized_formula": comp.anonymized_formula,
        "hill_formula": comp.hill_formula,
        "chemical_system": comp.chemical_system,
        "str": str(comp),
        "num_atoms": float(comp.num_atoms),
        "weight": float(comp.weight),
    }


def dataset_counts():
    """Ordered species counts of every CIF in the bundled data sets (distinct ones only)."""
    seen, out = set(), []
    for name in ["mp_20", "perov_5", "carbon_24"]:
        folder = os.path.join(ROOT, "datasets", name)
        for fname in sorted(os.listdir(folder)):
            if not fname.endswith(".csv.gz"):
                continue
            kept = 0
            with gzip.open(os.path.join(folder, fname), "rt", newline="") as fh:
                for row in csv.DictReader(fh):
                    if name != "mp_20" and kept >= 150:
                        break
                    counts = species_counts(row["cif"])
                    key = json.dumps(counts)
                    if name == "mp_20" or key not in seen:
                        out.append({"source": f"{name}/{fname}:{row['material_id']}", "counts": counts})
                        kept += 1
                    seen.add(key)
    return out


def species_counts(cif):
    s = Structure.from_str(cif, fmt="cif")
    counts = {}
    for site in s:
        sym = site.specie.symbol
        counts[sym] = counts.get(sym, 0) + 1
    return [[k, v] for k, v in counts.items()]


def random_formula(rng):
    """Random formula over all elements: integer multiples, fractions, an occasional group."""
    n = rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6])
    pool = [e.symbol for e in Element]
    noble = ["He", "Ne", "Ar", "Kr", "Xe", "Rn"]
    syms = rng.sample(pool, n)
    if rng.random() < 0.2:
        syms[rng.randrange(n)] = rng.choice(noble)
        syms = list(dict.fromkeys(syms))
    mult = rng.choice([1, 1, 1, 2, 3, 4, 6])
    frac = rng.random() < 0.15
    parts = []
    for s in syms:
        amt = rng.randint(1, 12) * mult
        text = "" if amt == 1 and rng.random() < 0.7 else str(amt)
        if frac and rng.random() < 0.5:
            text = rng.choice(["0.5", "0.25", "0.1", "1.5", "0.333", "2.75", "0.05"])
        parts.append(s + text)
    if len(parts) >= 3 and rng.random() < 0.3:
        k = rng.randint(2, 4)
        parts = parts[:-2] + [f"({parts[-2]}{parts[-1]}){k}"]
    return "".join(parts)


def synthetic_formulas():
    rng = random.Random(20251127)
    forms = list(HAND_PICKED) + ["Fe 2 O 3", "Li Fe P O4"]
    while len(forms) < 600:
        f = random_formula(rng)
        if f not in forms:
            forms.append(f)
    return forms


def main():
    warnings.simplefilter("ignore")
    cases = []
    for f in synthetic_formulas():
        # pymatgen 2022.11 groups only (); [] and {} are accepted by our parser (and newer pymatgen).
        pm_input = f.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")")
        cases.append({"input": f, **pm_record(Composition(pm_input))})
    for c in dataset_counts():
        cases.append({"source": c["source"], "counts": c["counts"], **pm_record(Composition(dict(c["counts"])))})
    doc = {
        "_source": f"scripts/parity/formula_parity.py with pymatgen {version('pymatgen')} (MIT licence)",
        "fields": FIELDS,
        "cases": cases,
    }
    tmp = OUT + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("{\n" + f'"_source": {json.dumps(doc["_source"])},\n"fields": {json.dumps(FIELDS)},\n"cases": [\n')
        fh.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        fh.write("\n]}\n")
    os.replace(tmp, OUT)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
