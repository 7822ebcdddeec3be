// Eqs. (6) and (7) of seed 004: closed forms against direct integration and against Monte Carlo
// over seeded R_motion samples; the least-squares line of eq. (3).

import { describe, expect, it } from 'vitest';
import { fitLine, gammaPdf, mcnnAccuracy, mcnnParams, PAPER_MCNN_FIT, rateSent, type McnnParams } from '../../../src/rate/mcnn/index.js';
import { mulberry32 } from '../../../src/util/random.js';
import { gammaSampler, samples } from './sampler.js';

// The paper's fits plus accuracies and I_SP it does not state: these values are ours.
const P: McnnParams = { ...PAPER_MCNN_FIT, isp: 40, acc3d: 0.881, acc2d: 0.85, accsp: 0.8 };
const MEAN = P.alpha / P.beta;

describe('eq. (7) R_sent and eq. (6) accuracy', () => {
  it('all 3D costs a3D * alpha/beta + b3D = 50.35 kbps (the paper\'s 3D-CNN-F at 50 kbps); all 2D and spatial only likewise', () => {
    expect(MEAN).toBeCloseTo(18.6923, 4);
    expect(rateSent(P, Infinity, Infinity)).toBeCloseTo(50.35, 12);
    expect(rateSent(P, 0, Infinity)).toBeCloseTo(0.83 * MEAN + 4.27, 12);
    expect(rateSent(P, 0, 0)).toBe(40);
    expect(mcnnAccuracy(P, Infinity, Infinity)).toBeCloseTo(0.881, 15);
    expect(mcnnAccuracy(P, 0, Infinity)).toBeCloseTo(0.85, 15);
    expect(mcnnAccuracy(P, 0, 0)).toBeCloseTo(0.8, 15);
  });

  it('the closed form equals direct integration of eq. (4) to 1e-8', () => {
    const f = (x: number) => gammaPdf(x, P.alpha, P.beta);
    const integrate = (g: (x: number) => number, from: number, to: number, n = 100_000) => {
      const h = (to - from) / n;
      let sum = g(from) + g(to);
      for (let i = 1; i < n; i++) sum += (i % 2 ? 4 : 2) * g(from + i * h);
      return (sum * h) / 3;
    };
    for (const [rL, rH] of [[10, 30], [5, 5], [0, 25], [20, 60]] as const) {
      const direct =
        integrate((x) => (P.a3d * x + P.b3d) * f(x), 0, rL) + integrate((x) => (P.a2d * x + P.b2d) * f(x), rL, rH) + integrate((x) => P.isp * f(x), rH, 600);
      expect(Math.abs(rateSent(P, rL, rH) - direct)).toBeLessThan(1e-8);
    }
  });

  it('matches a Monte-Carlo estimate from 1e6 sampled R_motion values within 1%', () => {
    const xs = samples(1_000_000, gammaSampler(P.alpha, P.beta, 42));
    for (const [rL, rH] of [[10, 30], [0, 25], [15, Infinity], [18.7, 18.7], [5, 60]] as const) {
      let rate = 0;
      let correct = 0;
      for (const x of xs) {
        if (x < rL) [rate, correct] = [rate + P.a3d * x + P.b3d, correct + P.acc3d];
        else if (x < rH) [rate, correct] = [rate + P.a2d * x + P.b2d, correct + P.acc2d];
        else [rate, correct] = [rate + P.isp, correct + P.accsp];
      }
      expect(Math.abs(rateSent(P, rL, rH) / (rate / xs.length) - 1)).toBeLessThan(0.01);
      expect(Math.abs(mcnnAccuracy(P, rL, rH) - correct / xs.length)).toBeLessThan(0.001);
    }
  });

  it('rejects thresholds out of order and bad parameters with exact messages', () => {
    expect(() => rateSent(P, 5, 3)).toThrow('Expected thresholds with 0 <= rL <= rH but received rL = 5, rH = 3');
    expect(() => mcnnAccuracy(P, -1, 3)).toThrow('Expected thresholds with 0 <= rL <= rH but received rL = -1, rH = 3');
    expect(() => rateSent(P, NaN, 3)).toThrow('Expected thresholds with 0 <= rL <= rH but received rL = NaN, rH = 3');
    expect(() => rateSent({ ...P, alpha: 'x' } as unknown as McnnParams, 1, 2)).toThrow('Expected a positive number for alpha but received "x"');
    expect(() => mcnnParams({ ...P, beta: -0.1 })).toThrow('Expected a positive number for beta but received -0.1');
    expect(() => mcnnParams({ ...P, acc3d: 1.2 })).toThrow('Expected a fraction from 0 to 1 for acc3d but received 1.2');
    expect(() => mcnnParams({ ...P, isp: -1 })).toThrow('Expected a non-negative number for isp but received -1');
    expect(() => mcnnParams({ ...PAPER_MCNN_FIT, acc2d: 0.8 })).toThrow('Missing MCNN parameters isp, acc3d, accsp');
    expect(mcnnParams({ ...P, alpha: '2.43', b3d: ' -1e1 ' })).toEqual({ ...P, b3d: -10 });
  });
});

describe('fitLine', () => {
  it('recovers a line exactly with R^2 = 1', () => {
    const x = [1, 5, 10, 20, 40];
    expect(fitLine(x, x.map((v) => 2.21 * v + 9.04))).toEqual({ a: expect.closeTo(2.21, 12), b: expect.closeTo(9.04, 12), r2: expect.closeTo(1, 12) });
  });

  it('matches the textbook formulas on noisy data', () => {
    const random = mulberry32(5);
    const x = Array.from({ length: 500 }, () => 50 * random());
    const y = x.map((v) => 0.83 * v + 4.27 + 4 * (random() - 0.5));
    const fit = fitLine(x, y);
    expect(fit.a).toBeCloseTo(0.83, 1);
    expect(fit.b).toBeCloseTo(4.27, 0);
    const n = x.length;
    const sx = x.reduce((s, v) => s + v, 0);
    const sy = y.reduce((s, v) => s + v, 0);
    const sxy = x.reduce((s, v, i) => s + v * y[i]!, 0);
    const sxx = x.reduce((s, v) => s + v * v, 0);
    const syy = y.reduce((s, v) => s + v * v, 0);
    const r = (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    expect(fit.a).toBeCloseTo((n * sxy - sx * sy) / (n * sxx - sx * sx), 10);
    expect(fit.r2).toBeCloseTo(r * r, 10);
  });

  it('rejects mismatched, short, constant-x or non-finite input', () => {
    expect(() => fitLine([1, 2], [1])).toThrow('fitLine needs as many y as x values but received 2 x and 1 y');
    expect(() => fitLine([1], [1])).toThrow('fitLine needs at least 2 points but received 1');
    expect(() => fitLine([3, 3], [1, 2])).toThrow('fitLine needs at least 2 different x values but all are equal');
    expect(() => fitLine([1, Infinity], [1, 2])).toThrow('Expected a finite number for x[1] but received Infinity');
    expect(fitLine([1, 2, 3], [4, 4, 4])).toEqual({ a: 0, b: 4, r2: 1 });
  });
});
