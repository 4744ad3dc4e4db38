/**
 * Registering reward components by name, for notebooks and YAML configs.
 *
 * In a notebook:
 *
 *   registerReward("my_density_reward", AtomicDensityReward);              // a class
 *   registerReward("small_cells", (structures) => structures.map((s) => -s.length));  // a function
 *   const r = createReward("my_density_reward", { weight: 0.5, normalize_fn: "norm" });
 *
 * In YAML, list the file that calls `registerReward` under `custom_modules:` and use the name
 * as a `_target_` (the config loader imports the file, which registers the name):
 *
 *   custom_modules: [my_rewards/atomic_density.ts]
 *   reward_fn:
 *     components:
 *       - _target_: my_density_reward
 *         weight: 1.0
 *         target_density: 0.05
 *
 * A plain function receives the valid structures only (decode failures are left out and get
 * the lowest valid reward) and is wrapped in a CustomReward. Config kwargs are snake_case and
 * map onto the class's camelCase options. The built-in components are registered under their
 * seed names (and `src.rl_module.components.*` aliases) through {@link rewardFactory}.
 */
import { RewardError } from "../crystal/errors.ts";
import { registerTarget, type Kwargs, type TargetFactory } from "../config/registry.ts";
import { camelizeKeys, checkUnknownKeys, toSnakeCase } from "../config/schema.ts";
import {
  CompositionDiversityReward,
  CreativityReward,
  CustomReward,
  EnergyReward,
  PredictorReward,
  RewardComponent,
  StructureDiversityReward,
  type RewardComponentOptions,
  type RewardFunction,
} from "./components.ts";
import { ReinforceReward } from "./reward.ts";

/** A component class whose constructor takes camelCase options. */
export type RewardComponentClass = new (options: any) => RewardComponent;

const COMMON_KEYS = ["weight", "normalize_fn", "eps", "name"];

/** Built-in `_target_` names → [class, allowed snake_case kwargs]. */
const BUILT_INS: Record<string, [new (options: any) => unknown, string[]]> = {
  CustomReward: [CustomReward, [...COMMON_KEYS]],
  PredictorReward: [PredictorReward, [...COMMON_KEYS, "predictor", "target_name", "target_value", "clip_min", "clip_max"]],
  CreativityReward: [CreativityReward, [...COMMON_KEYS, "k"]],
  EnergyReward: [EnergyReward, [...COMMON_KEYS]],
  StructureDiversityReward: [StructureDiversityReward, [...COMMON_KEYS]],
  CompositionDiversityReward: [CompositionDiversityReward, [...COMMON_KEYS]],
  ReinforceReward: [ReinforceReward, ["components", "normalize_fn", "eps", "reference_dataset", "aggregation", "metrics"]],
};

/** Names of the built-in reward targets (config targets.ts registers these lazily). */
export const BUILT_IN_REWARD_TARGETS: readonly string[] = Object.keys(BUILT_INS);

/** Factory of a built-in reward target: checks kwargs, camelCases them, constructs. */
export function rewardFactory(name: string): TargetFactory {
  const entry = BUILT_INS[name];
  if (!entry) throw new RewardError(`no built-in reward "${name}"; built-ins: ${BUILT_IN_REWARD_TARGETS.join(", ")}`);
  const [Cls, allowed] = entry;
  return (kw: Kwargs) => {
    checkUnknownKeys(snakeKeys(kw), allowed, name);
    return new Cls(camelizeKeys(kw, { deep: false }));
  };
}

/** Keys in snake_case (createReward also accepts camelCase options). */
function snakeKeys(kw: Kwargs): Kwargs {
  return Object.fromEntries(Object.entries(kw).map(([k, v]) => [toSnakeCase(k), v]));
}

const userRewards = new Map<string, RewardComponentClass | RewardFunction>();

function isComponentClass(x: unknown): x is RewardComponentClass {
  return typeof x === "function" && x.prototype instanceof RewardComponent;
}

function userFactory(name: string, impl: RewardComponentClass | RewardFunction): (kw: Kwargs) => RewardComponent {
  if (isComponentClass(impl)) return (kw) => new impl(camelizeKeys(kw, { deep: false }));
  return (kw) => {
    checkUnknownKeys(snakeKeys(kw), COMMON_KEYS, name);
    return new CustomReward({ name, ...camelizeKeys<RewardComponentOptions>(kw, { deep: false }), compute: impl });
  };
}

/**
 * Registers a reward under `name` for {@link createReward} and as a config `_target_`.
 * `impl` is a RewardComponent subclass or a function `(structures) => number[]`.
 * Registering the same implementation again is a no-op (so a module can be imported twice);
 * a different one under a taken name needs `{ replace: true }`.
 */
export function registerReward(name: string, impl: RewardComponentClass | RewardFunction, options: { replace?: boolean } = {}): void {
  if (typeof name !== "string" || !/^[A-Za-z_][\w.]*$/.test(name)) {
    throw new RewardError(`registerReward: name must be an identifier like "my_density_reward", got ${JSON.stringify(name)}`);
  }
  if (typeof impl !== "function") throw new RewardError(`registerReward("${name}"): pass a RewardComponent subclass or a function (structures) => number[]`);
  if (name in BUILT_INS) throw new RewardError(`registerReward: "${name}" is a built-in reward; pick another name`);
  const existing = userRewards.get(name);
  if (existing === impl) return;
  if (existing && !options.replace) throw new RewardError(`registerReward: "${name}" is already registered; pass { replace: true } to replace it`);
  userRewards.set(name, impl);
  registerTarget(name, userFactory(name, impl), { replace: true });
}

/** Builds a registered (or built-in) reward component from snake_case or camelCase options. */
export function createReward(name: string, kwargs: Record<string, unknown> = {}): RewardComponent {
  const impl = userRewards.get(name);
  if (impl) return userFactory(name, impl)(kwargs);
  if (name in BUILT_INS && name !== "ReinforceReward") return rewardFactory(name)(kwargs, []) as RewardComponent;
  throw new RewardError(`unknown reward "${name}"; registered: ${registeredRewards().join(", ")}. Register it with registerReward("${name}", ...)`);
}

/** Names usable with {@link createReward}: built-in components and user registrations. */
export function registeredRewards(): string[] {
  return [...BUILT_IN_REWARD_TARGETS.filter((n) => n !== "ReinforceReward"), ...[...userRewards.keys()].sort()];
}
