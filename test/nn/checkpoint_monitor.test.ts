import { test } from "uvu";
import * as assert from "uvu/assert";
import { CheckpointMonitor, improvesOn, worstValue } from "../../src/nn/checkpoint_monitor.ts";
import { MonitorError } from "../../src/crystal/errors.ts";
import { ConfigError } from "../../src/config/errors.ts";

/** Feeds values in order; returns the verdicts as "I" (improved), "." (stale), "S" (stop) strings. */
function trace(monitor: CheckpointMonitor, values: number[]): string {
  return values
    .map((v) => {
      const { improved, shouldStop } = monitor.update(v);
      return (improved ? "I" : ".") + (shouldStop ? "S" : "");
    })
    .join(" ");
}

test("min mode: strictly lower is an improvement, ties are not; the first value always improves", () => {
  const m = new CheckpointMonitor({ monitor: "val/loss", mode: "min" });
  assert.is(m.best, Infinity);
  assert.is(trace(m, [5, 4, 4, 6, 3.5]), "I I . . I");
  assert.is(m.best, 3.5);
  assert.is(m.staleValidations, 0);
});

test("max mode: strictly higher is an improvement; the default mode is min", () => {
  const m = new CheckpointMonitor({ monitor: "val/reward", mode: "max" });
  assert.is(m.best, -Infinity);
  assert.is(trace(m, [-2, -1, -1.5, -1, 0.25]), "I I . . I");
  assert.is(m.best, 0.25);
  assert.is(new CheckpointMonitor({ monitor: "x" }).mode, "min");
  assert.ok(improvesOn(2, 1, "max") && !improvesOn(2, 1, "min") && !improvesOn(1, 1, "min") && !improvesOn(1, 1, "max"));
  assert.is(worstValue("max"), -Infinity);
  assert.is(worstValue("min"), Infinity);
});

test("patience counts validations since the best one and stops when it is used up", () => {
  const m = new CheckpointMonitor({ monitor: "val/loss", mode: "min", patience: 2 });
  // An improvement resets the counter; two stale validations in a row stop.
  assert.is(trace(m, [3, 3.1, 2, 2.5, 2.2]), "I . I . .S");
  assert.is(m.staleValidations, 2);
  assert.is(m.best, 2);
  assert.is(m.stopReason(), "early stopping: val/loss did not improve in 2 validations");
  // Patience 1 stops at the first validation that does not improve.
  assert.is(trace(new CheckpointMonitor({ monitor: "m", mode: "max", patience: 1 }), [1, 2, 2]), "I I .S");
});

test("patience null, undefined and 0 all mean off: never stop", () => {
  const stale = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  for (const patience of [null, undefined, 0]) {
    const m = new CheckpointMonitor({ monitor: "val/loss", mode: "min", patience });
    assert.not.ok(m.earlyStopping, String(patience));
    assert.is(trace(m, stale), "I . . . . . . . . .", String(patience));
    assert.is(m.staleValidations, 9);
  }
});

test("a NaN or infinite monitored value is a MonitorError naming the metric; the state is unchanged", () => {
  const m = new CheckpointMonitor({ monitor: "val/reward", mode: "max", patience: 3 });
  m.update(0.5);
  m.update(0.4);
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => m.update(bad), (e: Error) => e instanceof MonitorError && /"val\/reward"/.test(e.message) && e.message.includes(String(bad)));
  }
  assert.equal(m.state(), { best: 0.5, staleValidations: 1 });
});

test("bad patience or mode is a ConfigError naming the key", () => {
  for (const patience of [-1, 1.5, NaN]) {
    assert.throws(() => new CheckpointMonitor({ monitor: "x", patience }), (e: Error) => e instanceof ConfigError && /callbacks\.early_stopping\.patience/.test(e.message));
  }
  assert.throws(() => new CheckpointMonitor({ monitor: "x", mode: "lowest" as never }), (e: Error) => e instanceof ConfigError && /callbacks\.early_stopping\.mode/.test(e.message));
});

test("state() / restore(): a resumed monitor continues the count; a best of null (JSON's ±∞) and absent fields are ignored", () => {
  const a = new CheckpointMonitor({ monitor: "val/loss", patience: 3 });
  trace(a, [2, 1, 1.5]);
  const stored = JSON.parse(JSON.stringify(a.state()));
  const b = new CheckpointMonitor({ monitor: "val/loss", patience: 3 });
  b.restore(stored);
  assert.is(trace(b, [1.2, 1.1]), ". .S", "stops where the uninterrupted monitor would");
  assert.is(trace(a, [1.2, 1.1]), ". .S");
  const fresh = new CheckpointMonitor({ monitor: "val/loss", mode: "max" });
  fresh.restore(JSON.parse(JSON.stringify(fresh.state())));
  assert.is(fresh.best, -Infinity);
  fresh.restore({});
  assert.equal(fresh.state(), { best: -Infinity, staleValidations: 0 });
  assert.is(fresh.describeBest(), "first validation since the start");
  fresh.update(0.12345);
  assert.is(fresh.describeBest(), "best so far 0.1235");
});

test.run();
