// Eq. (1) of seed 004: the optimiser against exhaustive grid searches, the frontier, edge cases.

import { describe, expect, it } from 'vitest';
import {
  cheapestSelection,
  fitGamma,
  frontier,
  gammaQuantile,
  mcnnAccuracy,
  PAPER_MCNN_FIT,
  rateSent,
  solve,
  type McnnParams,
} from '../../../src/rate/mcnn/index.js';

// The paper's fits (alpha = 2.43, beta = 0.13, a3D = 2.21, b3D = 9.04, a2D = 0.83, b2D = 4.27) plus
// accuracies and I_SP it does not state: acc3d = 0.881 (its 3D-CNN-F at QP 40), acc2d = 0.85,
// accsp = 0.80, isp = 40 kbps. These four are our choice.
const P: McnnParams = { ...PAPER_MCNN_FIT, isp: 40, acc3d: 0.881, acc2d: 0.85, accsp: 0.8 };
const BUDGETS = Array.from({ length: 31 }, (_, i) => 5 + 2.5 * i); // 5 to 80 kbps

interface Point {
  rL: number;
  rH: number;
  accuracy: number;
  rate: number;
}

/** Every pair R_L <= R_H among the Gamma quantiles at levels i/levels (level 1: Infinity). */
function grid(p: McnnParams, levels: number): Point[] {
  const xs = Array.from({ length: levels + 1 }, (_, i) => gammaQuantile(i / levels, p.alpha, p.beta));
  const points: Point[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i; j < xs.length; j++) {
      const [rL, rH] = [xs[i]!, xs[j]!];
      points.push({ rL, rH, accuracy: mcnnAccuracy(p, rL, rH), rate: rateSent(p, rL, rH) });
    }
  }
  return points;
}

function bestOnGrid(points: Point[], budget: number): Point | null {
  let best: Point | null = null;
  for (const q of points) if (q.rate <= budget && (best === null || q.accuracy > best.accuracy)) best = q;
  return best;
}

/** The optimiser is feasible and never worse than the grid, for each budget. */
function expectAtLeastGrid(p: McnnParams, budgets: number[], levels = 200): void {
  const points = grid(p, levels);
  for (const budget of budgets) {
    const s = solve(p, budget);
    const g = bestOnGrid(points, budget);
    if (g === null) {
      expect(s.feasible).toBe(false);
      continue;
    }
    expect(s.feasible).toBe(true);
    expect(s.rateSent!).toBeLessThanOrEqual(budget);
    expect(s.rateSent).toBe(rateSent(p, s.rL!, s.rH!));
    expect(s.accuracy).toBe(mcnnAccuracy(p, s.rL!, s.rH!));
    expect(s.accuracy!).toBeGreaterThanOrEqual(g.accuracy - 1e-12);
  }
}

describe('solve with the paper\'s parameters', () => {
  it('is at least as good as an exhaustive 201 x 201 grid over (R_L, R_H) for 31 budgets from 5 to 80 kbps', () => {
    expectAtLeastGrid(P, BUDGETS);
  });

  it('gives a monotonic frontier, in the order of the budgets given', () => {
    const shuffled = [...BUDGETS].reverse();
    const solutions = frontier(P, shuffled);
    expect(solutions.map((s) => s.budget)).toEqual(shuffled);
    const ascending = [...solutions].reverse();
    for (let i = 1; i < ascending.length; i++) {
      expect(ascending[i]!.accuracy ?? -1).toBeGreaterThanOrEqual(ascending[i - 1]!.accuracy ?? -1);
    }
    // From 50.35 kbps on, everything goes to the 3D CNN.
    expect(ascending.at(-1)).toMatchObject({ rL: Infinity, rH: Infinity, accuracy: 0.881, rateSent: expect.closeTo(50.35, 12) });
  });

  it('reproduces reference operating points (checked with an independent 4001 x 4001 grid in scipy)', () => {
    const s25 = solve(P, 25);
    expect(s25.accuracy).toBeCloseTo(0.860602, 6);
    expect(s25.rL).toBeCloseTo(12.14, 1);
    expect(s25.rH).toBeCloseTo(84.9, 0);
    const s50 = solve(P, 50);
    expect(s50).toMatchObject({ rH: Infinity, accuracy: expect.closeTo(0.8809015, 6), rL: expect.closeTo(67.53, 1) });
    expect(solve(P, 50.35).rL).toBe(Infinity);
  });

  it('finds the cheapest selection exactly: 2D below R_H = (I_SP - b2D)/a2D, spatial above', () => {
    const c = cheapestSelection(P);
    expect(c.rL).toBe(0);
    expect(c.rH).toBeCloseTo((40 - 4.27) / 0.83, 12);
    expect(c.rate).toBeCloseTo(19.441368, 5);
    const g = grid(P, 400);
    expect(c.rate).toBeLessThanOrEqual(Math.min(...g.map((q) => q.rate)));
  });

  it('reports a budget below the cheapest selection as infeasible, with that selection\'s rate', () => {
    expect(solve(P, 10)).toEqual({ budget: 10, feasible: false, rL: null, rH: null, accuracy: null, rateSent: null, cheapestRate: cheapestSelection(P).rate });
    const atCheapest = solve(P, cheapestSelection(P).rate);
    expect(atCheapest.feasible).toBe(true);
    expect(atCheapest.rateSent!).toBeLessThanOrEqual(cheapestSelection(P).rate);
  });
});

describe('solve in other regimes', () => {
  it('A3D < A2D: the 3D CNN is never worth its bits, so R_L = 0', () => {
    const p = { ...P, acc3d: 0.82 };
    expectAtLeastGrid(p, BUDGETS.filter((_, i) => i % 3 === 0));
    for (const b of [25, 40, 80]) expect(solve(p, b).rL).toBe(0);
    expect(solve(p, 80)).toMatchObject({ rH: Infinity, accuracy: expect.closeTo(0.85, 15) });
  });

  it('a cheap spatial stream: spatial only (R_L = R_H = 0) at I_SP, all in one band', () => {
    const p = { ...P, isp: 3 };
    expect(cheapestSelection(p)).toEqual({ rL: 0, rH: 0, rate: 3 });
    expect(solve(p, 3)).toMatchObject({ feasible: true, rL: 0, rH: 0, accuracy: 0.8, rateSent: 3 });
    expectAtLeastGrid(p, [2.9, 3, 5, 10, 20, 30, 45]);
  });

  it('a degenerate fit (all videos at 18.7 kbps) reduces to the linear programme over shares', () => {
    const fit = fitGamma([18.7, 18.7, 18.7, 18.7]);
    expect(fit.degenerate).toBe(true);
    const p = { ...P, alpha: fit.alpha, beta: fit.beta };
    // All go to the 2D CNN (19.791 kbps), and a share u of them to the 3D one (50.367 kbps):
    const [r3, r2] = [2.21 * 18.7 + 9.04, 0.83 * 18.7 + 4.27];
    const u = (30 - r2) / (r3 - r2);
    const s = solve(p, 30);
    expect(s.accuracy).toBeCloseTo(0.85 + 0.031 * u, 4);
    expect(s.rH).toBe(Infinity);
    expect(solve(p, 19)).toMatchObject({ feasible: false });
  });

  it('without convexity (a3D < a2D) the scan still matches the grid', () => {
    const p = { ...P, a3d: 0.5, b3d: 15, a2d: 1.5, b2d: 4 };
    expectAtLeastGrid(p, [10, 15, 20, 25, 30, 35, 40, 50]);
  });

  it('rejects a bad budget or tolerance', () => {
    expect(() => solve(P, -1)).toThrow('Expected a non-negative number for budget but received -1');
    expect(() => solve(P, 10, { tolerance: 0 })).toThrow('Expected a positive number for tolerance but received 0');
    expect(() => frontier(P, [10, NaN])).toThrow('Expected a non-negative number for budgets[1] but received NaN');
  });
});
