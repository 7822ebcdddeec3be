// The input-gradient check the layer tests share: the addon's gradient of the loss with respect to
// the input against central finite differences of the loss, at the inputs where it is largest.

import { expect } from 'vitest';
import type { CnnModel } from '../../src/nn/model.js';

export interface GradientCheck {
  /** How many of the largest gradient entries are checked. */
  count: number;
  /** The largest entry must exceed this (a gradient that vanished checks nothing). */
  floor: number;
  /** Allowed |finite difference - gradient|: absolute + 5% of |gradient|. */
  absolute: number;
}

/** Checks the gradient at x and returns it. */
export async function expectInputGradient(model: CnnModel, x: Float32Array, labels: Int32Array, check: GradientCheck): Promise<Float32Array> {
  const { gradient } = await model.inputGradient(x, labels);
  const largest = Array.from(gradient.keys()).sort((a, b) => Math.abs(gradient[b]!) - Math.abs(gradient[a]!)).slice(0, check.count);
  expect(Math.abs(gradient[largest[0]!]!)).toBeGreaterThan(check.floor);
  const eps = 1e-2;
  for (const i of largest) {
    const plus = x.slice();
    plus[i]! += eps;
    const minus = x.slice();
    minus[i]! -= eps;
    const fd = ((await model.inputGradient(plus, labels)).loss - (await model.inputGradient(minus, labels)).loss) / (2 * eps);
    expect(Math.abs(fd - gradient[i]!), `input ${i}: ${fd} vs ${gradient[i]}`).toBeLessThan(check.absolute + 0.05 * Math.abs(gradient[i]!));
  }
  return gradient;
}
