/**
 * Example custom reward (the seed's documentation example): steer generation towards a target
 * atomic number density, atoms per Å³.
 *
 *   reward = −|ρ − ρ_target| / ρ_target,   ρ = sites / cell volume
 *
 * (relative deviation, so the scale does not depend on the target; 0 is best). Use it from a
 * notebook with `new AtomicDensityReward({ targetDensity: 0.05 })`, or from YAML:
 *
 *   custom_modules: [src/rl_module/examples/atomic_density.ts]
 *   reward_fn:
 *     components:
 *       - _target_: my_density_reward
 *         target_density: 0.05
 *         normalize_fn: norm
 *
 * Importing this file registers the name "my_density_reward" (a second import is a no-op).
 * Decode failures (null slots) get the lowest reward of the valid structures.
 */
import { RewardError } from "../../crystal/errors.ts";
import { fillInvalid, RewardComponent, type RewardComponentOptions, type RewardContext } from "../components.ts";
import { registerReward } from "../custom_rewards.ts";

export interface AtomicDensityRewardOptions extends RewardComponentOptions {
  /** Target number density in atoms/Å³ (MP-20's median is about 0.06). */
  targetDensity: number;
}

export class AtomicDensityReward extends RewardComponent {
  readonly targetDensity: number;

  constructor(options: AtomicDensityRewardOptions) {
    super(options, "atomic_density");
    if (!(typeof options?.targetDensity === "number" && options.targetDensity > 0 && Number.isFinite(options.targetDensity))) {
      throw new RewardError(`AtomicDensityReward: target_density must be a positive number of atoms/Å³, got ${options?.targetDensity}`);
    }
    this.targetDensity = options.targetDensity;
  }

  compute(ctx: RewardContext): number[] {
    const valid = ctx.structures.flatMap((s) => (s ? [-Math.abs(s.length / s.volume - this.targetDensity) / this.targetDensity] : []));
    return fillInvalid(ctx.structures, valid);
  }
}

registerReward("my_density_reward", AtomicDensityReward);
