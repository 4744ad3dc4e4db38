/**
 * Child process for the crash test: saves a checkpoint of a fresh run (seed from argv)
 * to argv[2] and, when the save reaches stage argv[3], prints "STAGE <name>" and hangs so
 * the parent can SIGKILL it exactly there.
 * Usage: node --import tsx test/nn/helpers/checkpoint_child.ts <dir> <stage> <seed>
 */
import { useTestBackend } from "./backend.ts";
import { saveCheckpoint, type SaveStage } from "../../../src/nn/checkpoint.ts";
import { makeRun } from "./tiny_run.ts";

await useTestBackend();
const [dir, stopAt, seed] = process.argv.slice(2);
const run = makeRun(Number(seed));
await saveCheckpoint(
  dir,
  { module: run.model, optimizer: run.optimizer, rng: run.rng, config: { seed: Number(seed) } },
  {
    onStage: async (stage: SaveStage) => {
      if (stage !== stopAt) return;
      process.stdout.write(`STAGE ${stage}\n`);
      setInterval(() => {}, 1000); // keep the event loop alive
      await new Promise(() => {}); // never resolves: the parent kills us here
    },
  },
);
process.stdout.write("DONE\n");
