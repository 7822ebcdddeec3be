// The exact-resume check the network tests share: N steps, save, load into a fresh network built
// from another seed, M more steps, against N + M uninterrupted steps, bit for bit.

import { expect } from 'vitest';
import type { CnnModel } from '../../src/nn/model.js';
import type { StateTensor } from '../../src/nn/native.js';

export const byName = (state: StateTensor[]) => new Map(state.map((t) => [t.name, t]));
export const valuesOf = (state: StateTensor[]) => Object.fromEntries(state.map((t) => [t.name, Array.from(t.values)]));

/**
 * `make(seed)` builds the network; 3 steps + save + load + 2 steps must equal 5 steps in state and
 * scores. `tracked` names a batch-norm step counter that must read 5 after them.
 */
export async function expectExactResume(make: (seed: number) => Promise<CnnModel>, x: Float32Array, y: Int32Array, lr: number, file: string, tracked?: string): Promise<void> {
  const whole = await make(9);
  for (let i = 0; i < 5; i++) await whole.trainStep(x, y, lr);
  const first = await make(9);
  for (let i = 0; i < 3; i++) await first.trainStep(x, y, lr);
  await first.save(file);
  const resumed = await make(123);
  await resumed.load(file);
  expect(valuesOf(await resumed.state())).toEqual(valuesOf(await first.state()));
  for (let i = 0; i < 2; i++) await resumed.trainStep(x, y, lr);
  const a = await whole.state();
  if (tracked !== undefined) expect(byName(a).get(tracked)!.values[0]).toBe(5);
  expect(valuesOf(await resumed.state())).toEqual(valuesOf(a));
  expect(Array.from(await resumed.predict(x))).toEqual(Array.from(await whole.predict(x)));
}
