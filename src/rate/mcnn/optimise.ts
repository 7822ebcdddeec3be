// Eq. (1) of the rate-accuracy paper: the thresholds {R_L <= R_H} that maximise the MCNN accuracy (eq. 6) subject
// to R_sent (eq. 7) <= budget. The paper ran a trust-region search; this solver is global.
//
// Why it is global. Write u = F(R_L), v = F(R_H), 0 <= u <= v <= 1, and m(w) = int_0^Q(w) x f(x) dx
// (Q the quantile), the mean R_motion of the lowest w of the videos: m'(w) = Q(w) increases, so m is
// convex. Then
//   A(u, v) = (A3D - A2D) u + (A2D - ASP) v + ASP                              linear
//   R(u, v) = I_SP + [(b3D - b2D) u + (a3D - a2D) m(u)] + [(b2D - I_SP) v + a2D m(v)]   separable
// When a3D >= a2D >= 0 (the 3D CNN needs at least as many bits per unit of R_motion as the 2D one,
// true of the paper's 2.21 and 0.83) both brackets are convex, so the feasible set C = {R <= budget,
// 0 <= u <= v <= 1} is convex, and Phi(v) = max{A(u, v) : (u, v) in C} is concave on the interval of
// v where C is not empty (partial maximisation of a concave function over a convex set). So:
//   1. for a fixed R_H the best R_L is found exactly: along R_L the rate changes at the rate
//      f(R_L) (R_3D(R_L) - R_2D(R_L)), whose sign changes at most once, so [0, R_H] splits into at most
//      two monotone pieces and bisection on the budget in the right piece gives the largest (A3D > A2D)
//      or smallest (A3D < A2D) feasible R_L, or the cheapest one when A3D = A2D;
//   2. the interval of feasible v is found by bisection (the least rate for a given R_H is
//      quasi-convex in R_H, lowest at the cheapest selection, which is known in closed form: see
//      cheapest);
//   3. golden-section search on the concave Phi over that interval, to `tolerance` in v, and the two
//      ends are evaluated exactly.
// No assumption on the accuracies or on b3D, b2D, I_SP is needed. Without the convexity (a3D < a2D or
// a2D < 0, not seen in practice) step 3 becomes a scan of 2049 values of v, each solved exactly as in
// step 1, then golden-section refinement around the best; that case is not proven global.

import { gammaCdf, gammaQuantile } from './gamma.js';
import { accuracyOf, mcnnParams, rateTerms, sentOf, type McnnParams, type RateTerms } from './model.js';
import { nonNegativeNumber, positiveNumber, rejected } from '../../util/validate.js';

export interface Selection {
  rL: number;
  rH: number;
  /** R_sent, kbps. */
  rate: number;
}

export interface McnnSolution {
  budget: number;
  /** False when even the cheapest selection costs more than the budget. */
  feasible: boolean;
  /** Thresholds in kbps of R_motion; Infinity: no video above it. Null when infeasible. */
  rL: number | null;
  rH: number | null;
  /** Eq. (6), a fraction. */
  accuracy: number | null;
  /** Eq. (7), kbps, at most the budget. */
  rateSent: number | null;
  /** The least R_sent of any selection, kbps. */
  cheapestRate: number;
}

export interface SolveOptions {
  /** Width in CDF units (share of videos) to which R_H is located. */
  tolerance?: number;
}

/** Positive root of slope * x + intercept, or null. */
function root(slope: number, intercept: number): number | null {
  const x = slope === 0 ? NaN : -intercept / slope;
  return x > 0 && Number.isFinite(x) ? x : null;
}

/**
 * The least R_sent over all selections, exactly: the minimum of a smooth function on the triangle
 * 0 <= R_L <= R_H <= Infinity lies at a corner, at a stationary point on an edge, or inside. The
 * derivatives are f(R_L) (R_3D - R_2D)(R_L), f(R_H) (R_2D(R_H) - I_SP) and, along R_L = R_H,
 * f (R_3D - I_SP): each an affine function of the threshold times the density, so each has at most
 * one positive root.
 */
function cheapest(p: McnnParams, t: RateTerms): Selection {
  const xg = root(p.a3d - p.a2d, p.b3d - p.b2d);
  const xh = root(p.a2d, p.b2d - p.isp);
  const xk = root(p.a3d, p.b3d - p.isp);
  const I = Infinity;
  const pairs: Array<[number | null, number | null]> = [[0, 0], [0, I], [I, I], [0, xh], [xg, I], [xk, xk], [xg, xh]];
  let best: Selection = { rL: 0, rH: 0, rate: sentOf(t, 0, 0) };
  for (const [rL, rH] of pairs) {
    if (rL === null || rH === null || rL > rH) continue;
    const rate = sentOf(t, rL, rH);
    if (rate < best.rate) best = { rL, rH, rate };
  }
  return best;
}

export function cheapestSelection(params: McnnParams): Selection {
  const p = mcnnParams(params);
  return cheapest(p, rateTerms(p));
}

/**
 * The feasible point nearest `bad` between `good` (ok) and `bad` (not ok), where ok changes once in
 * between; either end may be Infinity, replaced first by a finite point on the same side by doubling.
 */
function boundary(ok: (x: number) => boolean, good: number, bad: number, scale: number): number {
  if (bad === Infinity) {
    for (let x = 2 * Math.max(good, scale); ; x *= 2) {
      if (x === Infinity) return good;
      if (!ok(x)) {
        bad = x;
        break;
      }
      good = x;
    }
  } else if (good === Infinity) {
    for (let x = 2 * Math.max(bad, scale); ; x *= 2) {
      if (x === Infinity) return Infinity;
      if (ok(x)) {
        good = x;
        break;
      }
      bad = x;
    }
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (good + bad);
    if (mid === good || mid === bad || Math.abs(bad - good) <= 1e-13 * mid) break;
    if (ok(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

/** Step 1: the best R_L in [0, R_H] within the budget, or null if none fits. */
function bestLow(p: McnnParams, t: RateTerms, rH: number, budget: number): number | null {
  const ok = (x: number) => sentOf(t, x, rH) <= budget;
  const xg = root(p.a3d - p.a2d, p.b3d - p.b2d);
  const knots = xg !== null && xg < rH ? [0, xg, rH] : [0, rH]; // R_sent is monotone in R_L between knots
  const gain = p.acc3d - p.acc2d;
  if (gain === 0) {
    const cheapestKnot = knots.reduce((a, b) => (sentOf(t, b, rH) < sentOf(t, a, rH) ? b : a));
    return ok(cheapestKnot) ? cheapestKnot : null;
  }
  if (gain > 0) {
    for (let i = knots.length - 1; i > 0; i--) {
      const [from, to] = [knots[i - 1]!, knots[i]!];
      if (ok(to)) return to;
      if (ok(from)) return boundary(ok, from, to, t.mean);
    }
  } else {
    for (let i = 1; i < knots.length; i++) {
      const [from, to] = [knots[i - 1]!, knots[i]!];
      if (ok(from)) return from;
      if (ok(to)) return boundary(ok, to, from, t.mean);
    }
  }
  return null;
}

/** Golden-section search for the maximum of a unimodal fn on [lo, hi]; fn records what it sees. */
function goldenSection(fn: (v: number) => number, lo: number, hi: number, tolerance: number): void {
  const r = (Math.sqrt(5) - 1) / 2;
  let c = hi - r * (hi - lo);
  let d = lo + r * (hi - lo);
  let fc = fn(c);
  let fd = fn(d);
  while (hi - lo > tolerance) {
    if (fc >= fd) {
      [hi, d, fd] = [d, c, fc];
      c = hi - r * (hi - lo);
      fc = fn(c);
    } else {
      [lo, c, fc] = [c, d, fd];
      d = lo + r * (hi - lo);
      fd = fn(d);
    }
  }
}

const SCAN = 2048;

function solveChecked(p: McnnParams, budget: number, tolerance: number): McnnSolution {
  const t = rateTerms(p);
  const cheap = cheapest(p, t);
  if (!(cheap.rate <= budget)) {
    return { budget, feasible: false, rL: null, rH: null, accuracy: null, rateSent: null, cheapestRate: cheap.rate };
  }
  const F = (x: number) => gammaCdf(x, p.alpha, p.beta);
  const seen: Selection[] = [cheap];
  const score = (s: Selection) => accuracyOf(p, s.rL, s.rH);
  const tryHigh = (rH: number): number => {
    const rL = bestLow(p, t, rH, budget);
    if (rL === null) return -Infinity;
    const s = { rL, rH, rate: sentOf(t, rL, rH) };
    seen.push(s);
    return score(s);
  };
  const phi = (v: number) => tryHigh(gammaQuantile(v, p.alpha, p.beta));

  if (p.a3d >= p.a2d && p.a2d >= 0) {
    // Step 2. The R_L that makes R_sent least for any R_H is min(R_H, lowMin): R_sent falls in R_L
    // up to lowMin and rises after it.
    const xg = root(p.a3d - p.a2d, p.b3d - p.b2d);
    const lowMin = p.b3d >= p.b2d ? 0 : (xg ?? Infinity);
    const fits = (rH: number) => sentOf(t, Math.min(rH, lowMin), rH) <= budget;
    if (fits(cheap.rH)) {
      const lo = fits(0) ? 0 : boundary(fits, cheap.rH, 0, t.mean);
      const hi = fits(Infinity) ? Infinity : boundary(fits, cheap.rH, Infinity, t.mean);
      tryHigh(lo);
      tryHigh(hi);
      goldenSection(phi, F(lo), F(hi), tolerance); // step 3
    }
  } else {
    const special = [cheap.rH, root(p.a3d - p.a2d, p.b3d - p.b2d), root(p.a2d, p.b2d - p.isp), root(p.a3d, p.b3d - p.isp)];
    const vs = [...Array.from({ length: SCAN + 1 }, (_, i) => i / SCAN), ...special.flatMap((x) => (x === null ? [] : [F(x)]))].sort((a, b) => a - b);
    const values = vs.map(phi);
    const k = values.indexOf(Math.max(...values));
    goldenSection(phi, vs[Math.max(0, k - 1)]!, vs[Math.min(vs.length - 1, k + 1)]!, tolerance);
  }

  // Highest accuracy; between equals, the lower rate.
  const best = seen.reduce((a, b) => {
    const [sa, sb] = [score(a), score(b)];
    return sb > sa || (sb === sa && b.rate < a.rate) ? b : a;
  });
  return { budget, feasible: true, rL: best.rL, rH: best.rH, accuracy: score(best), rateSent: best.rate, cheapestRate: cheap.rate };
}

function checkTolerance(options: SolveOptions): number {
  const tolerance = options.tolerance === undefined ? 1e-6 : positiveNumber(options.tolerance, 'tolerance');
  if (tolerance >= 1) throw rejected('a tolerance below 1', 'tolerance', options.tolerance);
  return tolerance;
}

/** Eq. (1): the best selection within `budget` kbps. */
export function solve(params: McnnParams, budget: number, options: SolveOptions = {}): McnnSolution {
  const p = mcnnParams(params);
  return solveChecked(p, nonNegativeNumber(budget, 'budget'), checkTolerance(options));
}

/**
 * One solution per budget, in the order given. Accuracy never falls as the budget grows: a selection
 * that fits a smaller budget fits a larger one, so where the search (to its tolerance) lands lower,
 * the smaller budget's selection is kept.
 */
export function frontier(params: McnnParams, budgets: readonly number[], options: SolveOptions = {}): McnnSolution[] {
  const p = mcnnParams(params);
  const tolerance = checkTolerance(options);
  const list = budgets.map((b, i) => nonNegativeNumber(b, `budgets[${i}]`));
  const order = list.map((_, i) => i).sort((i, j) => list[i]! - list[j]!);
  const out = new Array<McnnSolution>(list.length);
  let best: McnnSolution | null = null;
  for (const i of order) {
    let solution = solveChecked(p, list[i]!, tolerance);
    if (best !== null && best.accuracy! > (solution.accuracy ?? -Infinity)) solution = { ...best, budget: list[i]! };
    else if (solution.feasible) best = solution;
    out[i] = solution;
  }
  return out;
}
