// The Gamma distribution of R_motion over videos (the paper, Appendix A): shape alpha, RATE beta,
//   f(x; a, b) = b^a x^(a-1) e^(-bx) / Gamma(a),   mean a/b.
// The paper's beta is a rate although its Fig. 7 caption says "scale": with alpha = 2.43 and
// beta = 0.13 the mean is 18.7 kbps, Table I's QP 40 R_motion (18.5).

import { MvclassError } from '../../util/errors.js';
import { positiveInteger } from '../../util/validate.js';
import { positiveNumber, rejected } from '../../util/validate.js';

// Lanczos approximation, g = 7, n = 9: log Gamma to about 1e-15 relative.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x); // reflection
  const z = x - 1;
  const sum = LANCZOS.reduce((s, c, i) => (i === 0 ? c : s + c / (z + i)), 0);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const EPS = 1e-16;
const TINY = 1e-300;
// The series and the continued fraction need O(sqrt(a)) terms; the cap leaves room for the
// degenerate fits (a up to 1e6) of fitGamma.
const MAX_TERMS = 100_000;

/** Regularised lower incomplete gamma P(a, x) = gamma(a, x) / Gamma(a). */
export function regularizedGammaP(a: number, x: number): number {
  if (!(x > 0)) return 0;
  if (x === Infinity) return 1;
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // Series: P = x^a e^-x / Gamma(a) * sum_n x^n / (a (a+1) ... (a+n)).
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_TERMS && term > sum * EPS; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.min(1, sum * Math.exp(logPrefix));
  }
  // Continued fraction for Q = 1 - P (modified Lentz), which converges fast for x >= a + 1.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.max(0, 1 - Math.exp(logPrefix) * h);
}

export function gammaPdf(x: number, a: number, b: number): number {
  if (x < 0 || x === Infinity) return 0;
  if (x === 0) return a < 1 ? Infinity : a === 1 ? b : 0;
  return Math.exp(a * Math.log(b) + (a - 1) * Math.log(x) - b * x - logGamma(a));
}

/** F(x; a, b) = P(a, b x); F(Infinity) = 1. */
export function gammaCdf(x: number, a: number, b: number): number {
  return regularizedGammaP(a, b * x);
}

/** The x with F(x; a, b) = p: Newton steps kept inside a shrinking bracket. Q(1) = Infinity. */
export function gammaQuantile(p: number, a: number, b: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return Infinity;
  let lo = 0;
  let hi = Math.max(1, a);
  while (regularizedGammaP(a, hi) < p) {
    lo = hi;
    hi *= 2;
    if (hi === Infinity) return Infinity;
  }
  let t = a > lo && a < hi ? a : (lo + hi) / 2;
  const logNorm = logGamma(a);
  for (let i = 0; i < 300; i++) {
    const err = regularizedGammaP(a, t) - p;
    if (err === 0) break;
    if (err < 0) lo = t;
    else hi = t;
    const density = Math.exp((a - 1) * Math.log(t) - t - logNorm);
    let next = t - err / density;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-15 * t || hi - lo <= 1e-15 * hi) {
      t = next;
      break;
    }
    t = next;
  }
  return t / b;
}

/** psi(x) = d/dx log Gamma(x), x > 0: recurrence up to x >= 10, then the asymptotic series. */
export function digamma(x: number): number {
  let shift = 0;
  for (; x < 10; x++) shift -= 1 / x;
  const f = 1 / (x * x);
  const series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - (f * 691) / 32760)))));
  return shift + Math.log(x) - 0.5 / x - series;
}

/** psi'(x), x > 0, the same way. */
export function trigamma(x: number): number {
  let shift = 0;
  for (; x < 10; x++) shift += 1 / (x * x);
  const f = 1 / (x * x);
  const series = (1 / x) * (1 + 1 / (2 * x) + f * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f * (1 / 30 - f * (5 / 66 - (f * 691) / 2730))))));
  return shift + series;
}

export interface GammaFit {
  alpha: number;
  beta: number;
  /** All samples (nearly) equal: alpha is capped at MAX_SHAPE instead of growing without bound. */
  degenerate: boolean;
}

/** Largest shape fitGamma returns; a Gamma with this shape is a spike at its mean (sd 0.1%). */
export const MAX_SHAPE = 1e6;

function checkSamples(samples: ArrayLike<number>, what: string): void {
  if (samples.length < 2) throw new MvclassError(`${what} needs at least 2 samples but received ${samples.length}`);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw rejected('a positive finite number', `samples[${i}]`, v);
  }
}

/**
 * Maximum-likelihood alpha, beta: Newton's method on log(alpha) - psi(alpha) = s with
 * s = log(mean) - mean(log x) >= 0, started from Minka's closed-form approximation; beta = alpha / mean.
 */
export function fitGamma(samples: ArrayLike<number>): GammaFit {
  checkSamples(samples, 'fitGamma');
  const n = samples.length;
  let sum = 0;
  let sumLog = 0;
  for (let i = 0; i < n; i++) {
    sum += samples[i]!;
    sumLog += Math.log(samples[i]!);
  }
  const mean = sum / n;
  const s = Math.log(mean) - sumLog / n;
  const capped = (): GammaFit => ({ alpha: MAX_SHAPE, beta: MAX_SHAPE / mean, degenerate: true });
  if (!(s > 0)) return capped(); // all equal (up to rounding)
  let alpha = (3 - s + Math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s);
  for (let i = 0; i < 100 && alpha <= MAX_SHAPE; i++) {
    const step = (Math.log(alpha) - digamma(alpha) - s) / (1 / alpha - trigamma(alpha));
    const next = alpha - step > 0 ? alpha - step : alpha / 2;
    const done = Math.abs(next - alpha) <= 1e-14 * alpha;
    alpha = next;
    if (done) break;
  }
  return alpha > MAX_SHAPE ? capped() : { alpha, beta: alpha / mean, degenerate: false };
}

function quantileOfSorted(sorted: number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const lo = sorted[i]!;
  return lo + (pos - i) * ((sorted[Math.min(i + 1, sorted.length - 1)] ?? lo) - lo);
}

/** Where the fitted density puts no mass in a bin the samples occupy. */
export const KL_EPSILON = 1e-12;

/**
 * KL(empirical || fitted) = sum_i p_i log(p_i / q_i) over equal-width bins on [min, max] of the
 * samples: p_i the share of samples in bin i (the last bin includes max), q_i the fitted Gamma's
 * mass in bin i divided by its mass on [min, max], so both sum to 1 over the same bins; q_i is
 * KL_EPSILON where that mass is 0. Bins: `bins` if given, else Freedman-Diaconis
 * (width 2 IQR n^(-1/3)), else (IQR 0) ceil(sqrt(n)); never more than n. All samples equal: one
 * bin holding everything on both sides, so 0.
 */
export function klDivergence(samples: ArrayLike<number>, a: number, b: number, bins?: number): number {
  checkSamples(samples, 'klDivergence');
  positiveNumber(a, 'alpha');
  positiveNumber(b, 'beta');
  const sorted = Array.from(samples).sort((x, y) => x - y);
  const n = sorted.length;
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  if (max === min) return 0;
  let k: number;
  if (bins !== undefined) k = positiveInteger(bins, 'bins');
  else {
    const width = (2 * (quantileOfSorted(sorted, 0.75) - quantileOfSorted(sorted, 0.25))) / Math.cbrt(n);
    k = width > 0 ? Math.ceil((max - min) / width) : Math.ceil(Math.sqrt(n));
  }
  k = Math.min(k, n);
  const counts = new Array<number>(k).fill(0);
  for (const x of sorted) {
    const i = Math.min(k - 1, Math.floor(((x - min) / (max - min)) * k));
    counts[i]! += 1;
  }
  const cdf = (i: number) => gammaCdf(min + ((max - min) * i) / k, a, b);
  const total = cdf(k) - cdf(0);
  let kl = 0;
  for (let i = 0; i < k; i++) {
    const p = counts[i]! / n;
    if (p === 0) continue;
    const mass = total > 0 ? (cdf(i + 1) - cdf(i)) / total : 0;
    kl += p * Math.log(p / (mass > 0 ? mass : KL_EPSILON));
  }
  return kl;
}
