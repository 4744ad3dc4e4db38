/**
 * End to end: src/train_vae.ts as a subprocess on a tiny model and 8 structures. An
 * interrupted run resumed from its checkpoint ends with exactly the weights and optimizer
 * state of an uninterrupted run (same seed), and the outputs are where the config says.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TINY = ["encoder", "decoder"].flatMap((part) => [
  `vae_module.${part}.d_model=16`,
  `vae_module.${part}.nhead=2`,
  `vae_module.${part}.dim_feedforward=32`,
  `vae_module.${part}.num_layers=1`,
]);

function train(outDir: string, extra: string[]): string {
  const args = ["--import", "tsx", "src/train_vae.ts", "experiment=mp_20/vae_dng", `paths.output_dir=${outDir}`, "+data.limit=8", "data.batch_size=4", "trainer.val_check_interval=2", "vae_module.max_atoms=20", ...TINY, ...extra];
  const res = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, CI: "1" } });
  const out = `${res.stdout}${res.stderr}`;
  assert.is(res.status, 0, out.slice(-2000));
  return out;
}

const sha = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).sha256 as string;

test("train, stop, resume = one uninterrupted run; metrics, best/last checkpoints, export", () => {
  const root = mkdtempSync(join(tmpdir(), "train-vae-"));
  try {
    const straight = join(root, "straight");
    train(straight, ["trainer.max_steps=4", `+export_dir=${join(root, "export")}`]);
    const first = join(root, "first");
    train(first, ["trainer.max_steps=2"]);
    const out = train(join(root, "second"), ["trainer.max_steps=4", `ckpt_path=${join(first, "checkpoints", "last")}`]);
    assert.match(out, /resumed from .* at step 2/);
    assert.is(sha(join(root, "second", "checkpoints", "last")), sha(join(straight, "checkpoints", "last")));
    for (const f of ["config.yaml", "metrics.jsonl", "checkpoints/best/weights.bin", "checkpoints/last/meta.json"]) assert.ok(existsSync(join(straight, f)), f);
    const lines = readFileSync(join(straight, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.split === "train").map((l) => l.step), [1, 2, 3, 4]);
    assert.ok(lines.some((l) => l.split === "val" && Number.isFinite(l.loss)));
    const stats = lines.find((l) => l.split === "latent_stats");
    assert.ok(stats.std > 0 && stats.count > 0);
    const meta = JSON.parse(readFileSync(join(root, "export", "meta.json"), "utf8"));
    assert.is(meta.meta.latentStd, stats.std);
    assert.is(meta.optimizer, null, "the exported copy carries no optimizer state");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
