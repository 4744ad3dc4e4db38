"""Prints the element display table of src/notebook/element_style.ts from pymatgen's data.

Jmol colours come from pymatgen/vis/ElementColorSchemes.yaml and covalent radii (Cordero et al.,
Dalton Trans. 2008) from pymatgen.analysis.molecule_structure_comparator.CovalentRadius.
Run by hand: /usr/bin/python3 scripts/parity/element_style.py > /tmp/table.txt
"""
import os
import yaml
import pymatgen
from pymatgen.core import Element
from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

import pymatgen.vis
path = os.path.join(os.path.dirname(pymatgen.vis.__file__), "ElementColorSchemes.yaml")
jmol = yaml.safe_load(open(path))["Jmol"]
rows = sorted(jmol.items(), key=lambda kv: Element(kv[0]).Z)
for sym, (r, g, b) in rows:
    radius = CovalentRadius.radius.get(sym)
    rad = "null" if radius is None else f"{radius:.2f}"
    print(f'  {sym}: ["#{r:02x}{g:02x}{b:02x}", {rad}],')
