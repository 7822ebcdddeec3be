// The exact-resume check the network tests share: N steps, save, load into a fresh network built
// from another seed, M more steps, against N + M uninterrupted steps, bit for bit.

import { expect } from 'vitest';
import type { CnnModel } from '../../src/nn/model.js';
import type { StateTensor } from '../../src/nn/native.js';

export const byName = (state: StateTensor[]) => new Map(state.map((t) => [t.name, t]));
export const valuesOf = (state: StateTensor[]) => Object.fromEntries(state.map((t) => [t.name, Array.from(t.values)]));

/**
 * `make(seed)` builds the network; 3 steps + save + load + 2 steps must equal 5 steps in state and
 * scores. `tracked` names a batch-norm step counter and the count it must read after them (5 when
 * every step trained it). `backbone(step)`: the backbone's rate at each step (step 0 first), for a
 * model made with a backbone factor or freeze; absent: the one rate.
 */
export async function expectExactResume(
  make: (seed: number) => Promise<CnnModel>, x: Float32Array, y: Int32Array, lr: number, file: string,
  tracked?: string | { name: string; count: number }, backbone?: (step: number) => number,
): Promise<void> {
  const step = (model: CnnModel, i: number) => model.trainStep(x, y, lr, backbone?.(i));
  const whole = await make(9);
  for (let i = 0; i < 5; i++) await step(whole, i);
  const first = await make(9);
  for (let i = 0; i < 3; i++) await step(first, i);
  await first.save(file);
  const resumed = await make(123);
  await resumed.load(file);
  expect(valuesOf(await resumed.state())).toEqual(valuesOf(await first.state()));
  for (let i = 3; i < 5; i++) await step(resumed, i);
  const a = await whole.state();
  if (tracked !== undefined) {
    const { name, count } = typeof tracked === 'string' ? { name: tracked, count: 5 } : tracked;
    expect(byName(a).get(name)!.values[0]).toBe(count);
  }
  expect(valuesOf(await resumed.state())).toEqual(valuesOf(a));
  expect(Array.from(await resumed.predict(x))).toEqual(Array.from(await whole.predict(x)));
}
