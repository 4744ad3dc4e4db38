#!/usr/bin/python3
"""pymatgen reference for crystal-grpo's StructureMatcher (run by hand with Debian's python3).

Modes (structures come from a JSON file written by scripts/parity/dump_matcher_pairs.ts or by
bench/matcher.ts, each {"lattice": 3x3, "species": [...], "frac": [[...]]}):

  pairs IN.json OUT.json     IN = {"pairs": [{"spec": [...], "a": S, "b": S}]}
                             OUT = {"pymatgen": version, "seconds": fit wall time,
                                    "rows": [[*spec, fit, rms or null, max_dist or null]]}
  options IN.json OUT.json   pairs with non-default matcher options (see run_options)
  fit IN.json OUT.json       like pairs, but only StructureMatcher().fit, timed: {"seconds", "fit": [bool]}
  amd IN.json OUT.json       IN = {"structures": [S], "k": k}; OUT = {"amd": [[k floats]]}: for each
                             site the k nearest periodic-neighbour distances (pymatgen
                             get_neighbor_list), averaged over sites — an independent AMD reference
  novelty IN.json OUT.json   IN = {"reference": [S], "generated": [S]}
                             OUT = {"seconds", "index_seconds", "query_seconds", "novel": [bool]}:
                             reference grouped by reduced formula once ("index"), then pymatgen
                             StructureMatcher().fit against every same-formula reference structure

Regenerate the committed fixture:
  node --import tsx scripts/parity/dump_matcher_pairs.ts /tmp/matcher_pairs.json
  /usr/bin/python3 scripts/parity/matcher_reference.py pairs /tmp/matcher_pairs.json \
      test/fixtures/matcher/pymatgen_verdicts.json
  node --import tsx scripts/parity/dump_matcher_pairs.ts /tmp/matcher_options.json options
  /usr/bin/python3 scripts/parity/matcher_reference.py options /tmp/matcher_options.json \
      test/fixtures/matcher/pymatgen_options.json
"""
import json
import sys
import time
import warnings

import pymatgen
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure

warnings.filterwarnings("ignore")


def to_structure(d):
    return Structure(Lattice(d["lattice"]), d["species"], d["frac"])


def run_fit(src, dst):
    """Only the timed fits (for bench/matcher.ts): OUT = {"seconds": ..., "fit": [bool]}."""
    data = json.load(open(src))
    pairs = [(to_structure(p["a"]), to_structure(p["b"])) for p in data["pairs"]]
    matcher = StructureMatcher()
    t0, c0 = time.perf_counter(), time.process_time()
    fits = [bool(matcher.fit(a, b)) for a, b in pairs]
    write_json(dst, {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "fit": fits})


def run_options(src, dst):
    """Non-default options: IN pairs carry "options" (pymatgen keyword names, plus "symmetric"
    for fit(..., symmetric=True)); OUT = {"rows": [[*spec, options, fit]]}."""
    data = json.load(open(src))
    rows = []
    for p in data["pairs"]:
        opts = dict(p["options"])
        symmetric = opts.pop("symmetric", False)
        fit = StructureMatcher(**opts).fit(to_structure(p["a"]), to_structure(p["b"]), symmetric=symmetric)
        rows.append(list(p["spec"]) + [p["options"], bool(fit)])
    write_json(dst, {"rows": rows})


def run_pairs(src, dst):
    data = json.load(open(src))
    pairs = [(p["spec"], to_structure(p["a"]), to_structure(p["b"])) for p in data["pairs"]]
    matcher = StructureMatcher()
    t0 = time.perf_counter()
    fits = [matcher.fit(a, b) for _, a, b in pairs]
    seconds = time.perf_counter() - t0
    rows = []
    for (spec, a, b), fit in zip(pairs, fits):
        rms = matcher.get_rms_dist(a, b)
        rows.append(list(spec) + [bool(fit), None if rms is None else round(float(rms[0]), 8),
                                  None if rms is None else round(float(rms[1]), 8)])
    out = {"pymatgen": getattr(pymatgen, "__version__", "2022.11"), "seconds": seconds, "rows": rows}
    write_json(dst, out)


def run_novelty(src, dst):
    data = json.load(open(src))
    reference = [to_structure(d) for d in data["reference"]]
    generated = [to_structure(d) for d in data["generated"]]
    matcher = StructureMatcher()
    t0 = time.perf_counter()
    by_formula = {}
    for s in reference:
        by_formula.setdefault(s.composition.reduced_formula, []).append(s)
    t1 = time.perf_counter()
    novel = []
    for g in generated:
        cands = by_formula.get(g.composition.reduced_formula, [])
        novel.append(not any(matcher.fit(g, r) for r in cands))
    t2 = time.perf_counter()
    write_json(dst, {"seconds": t2 - t0, "index_seconds": t1 - t0, "query_seconds": t2 - t1, "novel": novel})


def amd_of(s, k):
    import numpy as np
    r = (3 * (k + 1) * s.volume / (4 * np.pi * len(s))) ** (1 / 3) * 1.5
    while True:
        centers, _, _, dists = s.get_neighbor_list(r)
        rows = []
        for i in range(len(s)):
            d = np.sort(dists[centers == i])
            d = d[d > 1e-8]
            if len(d) < k:
                break
            rows.append(d[:k])
        if len(rows) == len(s):
            return np.mean(rows, axis=0).tolist()
        r *= 1.5


def run_amd(src, dst):
    data = json.load(open(src))
    k = data.get("k", 100)
    write_json(dst, {"k": k, "amd": [[round(x, 10) for x in amd_of(to_structure(d), k)] for d in data["structures"]]})


def write_json(dst, obj):
    tmp = dst + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    import os
    os.replace(tmp, dst)


if __name__ == "__main__":
    mode, src, dst = sys.argv[1:4]
    {"pairs": run_pairs, "options": run_options, "fit": run_fit, "novelty": run_novelty, "amd": run_amd}[mode](src, dst)
