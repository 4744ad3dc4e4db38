/**
 * src/sample.ts (`npm run sample -- num_samples=N output_dir=DIR`) as a subprocess on the
 * bundled LDM: one CIF per decoded structure that our CIF parser reads back as the structure
 * of the matching pymatgen dict in structures.json; bad arguments are ConfigErrors.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCif } from "../../src/crystal/io/cif.ts";
import { structureFromPymatgenDict } from "../../src/crystal/io/pymatgen_dict.ts";
import { StructureMatcher } from "../../src/crystal/structure_matcher.ts";

function sample(args: string[]): { status: number | null; out: string } {
  const res = spawnSync(process.execPath, ["--import", "tsx", "src/sample.ts", ...args], { encoding: "utf8", env: { ...process.env, CI: "1" } });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

test("sample writes one CIF per decoded structure + pymatgen dicts; the CIFs parse back to the same structures", () => {
  const dir = mkdtempSync(join(tmpdir(), "sample-cli-"));
  try {
    const { status, out } = sample(["num_samples=4", `output_dir=${dir}`, "sampling_steps=5", "evaluate=false", "progress=false", "seed=1"]);
    assert.is(status, 0, out.slice(-2000));
    const dicts = JSON.parse(readFileSync(join(dir, "structures.json"), "utf8")) as unknown[];
    assert.is(dicts.length, 4);
    const cifs = readdirSync(dir).filter((f) => f.endsWith(".cif")).sort();
    assert.is(cifs.length, dicts.filter((d) => d !== null).length);
    const matcher = new StructureMatcher();
    for (const f of cifs) {
      const fromCif = parseCif(readFileSync(join(dir, f), "utf8"));
      const fromDict = structureFromPymatgenDict(dicts[Number(f.slice(0, 4))]);
      assert.is(f.slice(5, -4), fromCif.composition.reducedFormula, "file name carries the reduced formula");
      assert.is(fromCif.composition.reducedFormula, fromDict.composition.reducedFormula, f);
      assert.ok(matcher.fit(fromCif, fromDict), `${f} matches its dict`);
    }
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    assert.ok(summary.structures_per_second > 0);
    assert.not.ok(readdirSync(dir).some((f) => f.includes(".tmp-")), "no temporary files left");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad sample arguments fail at start with a ConfigError naming the key", () => {
  const dir = join(tmpdir(), `sample-cli-bad-${process.pid}`);
  const cases: [string[], RegExp][] = [
    [["num_sample=4"], /ConfigError: key "num_sample".*Did you mean "num_samples"/],
    [["num_samples=0"], /key "num_samples": must be a positive integer/],
    [["condition_value=3.0", "num_samples=1", "evaluate=false"], /key "condition_value": this LDM is unconditional/],
  ];
  for (const [args, message] of cases) {
    const { status, out } = sample([...args, `output_dir=${dir}`]);
    assert.is(status, 1, args.join(" "));
    assert.match(out, message);
  }
  assert.not.ok(existsSync(dir), "nothing written for a refused run");
});

test.run();
