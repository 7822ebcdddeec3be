// The Gamma distribution of R_motion: CDF against closed forms, numerical integration and
// high-precision reference values; the maximum-likelihood fit on seeded samples; KL divergence.

import { describe, expect, it } from 'vitest';
import { digamma, fitGamma, gammaCdf, gammaPdf, gammaQuantile, klDivergence, logGamma, MAX_SHAPE, regularizedGammaP, trigamma } from '../../../src/rate/mcnn/index.js';
import { gammaSampler, samples } from './sampler.js';

/** erf by its Maclaurin series (fine to ~1e-15 for x <= 2). */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Composite Simpson on [0, s] of g(s) with n (even) intervals. */
function simpson(g: (s: number) => number, end: number, n = 40_000): number {
  const h = end / n;
  let sum = g(0) + g(end);
  for (let i = 1; i < n; i++) sum += (i % 2 ? 4 : 2) * g(i * h);
  return (sum * h) / 3;
}

/** P(a, x) as int_0^x t^(a-1) e^-t dt / int_0^inf (same), both with t = s^2 to smooth t^(a-1) at 0. */
function pByIntegration(a: number, x: number): number {
  const g = (s: number) => 2 * s ** (2 * a - 1) * Math.exp(-s * s);
  return simpson(g, Math.sqrt(x)) / simpson(g, 10);
}

describe('gammaCdf', () => {
  it('P(1, x) = 1 - e^-x and P(3, x) = 1 - e^-x (1 + x + x^2/2) on both sides of x = a + 1', () => {
    for (const x of [1e-6, 0.1, 0.5, 1, 1.9, 2.1, 3, 5, 10, 30]) {
      expect(Math.abs(regularizedGammaP(1, x) - -Math.expm1(-x))).toBeLessThan(1e-14);
      expect(Math.abs(regularizedGammaP(3, x) - (1 - Math.exp(-x) * (1 + x + (x * x) / 2)))).toBeLessThan(1e-14);
    }
  });

  it('P(0.5, x) = erf(sqrt(x)), also against decimal values of erf', () => {
    for (const x of [1e-4, 0.01, 0.25, 1, 1.4, 1.6, 2.5, 4]) expect(Math.abs(regularizedGammaP(0.5, x) - erf(Math.sqrt(x)))).toBeLessThan(1e-13);
    expect(Math.abs(regularizedGammaP(0.5, 1) - 0.8427007929497149)).toBeLessThan(1e-15);
    expect(Math.abs(regularizedGammaP(0.5, 4) - 0.9953222650189527)).toBeLessThan(1e-15);
    expect(Math.abs(regularizedGammaP(0.5, 0.25) - 0.5204998778130465)).toBeLessThan(1e-15);
  });

  it('P(2.43, x) agrees with numerical integration of the density to 1e-10', () => {
    for (const x of [0.5, 1, 2.43, 3.43, 5, 10, 20]) expect(Math.abs(regularizedGammaP(2.43, x) - pByIntegration(2.43, x))).toBeLessThan(1e-10);
  });

  it('matches 20-digit reference values (mpmath gammainc, regularized) to 1e-12', () => {
    const known: Array<[number, number, number]> = [
      [2.43, 0.5, 0.04254605749652238],
      [2.43, 2.43, 0.5853181429534594],
      [2.43, 3.0, 0.709607092774169],
      [2.43, 7.5, 0.9906492106229722],
      [2.43, 20, 0.9999998734115622],
      [0.5, 1e-4, 0.011283415555849617],
      [10, 3, 0.0011024881301154797],
      [10, 15, 0.9301463393005902],
      [100, 90, 0.15822098918643017],
      [100, 120, 0.9721362601094793],
      [1000, 1000, 0.5042052441802155],
    ];
    for (const [a, x, p] of known) expect(Math.abs(regularizedGammaP(a, x) - p)).toBeLessThan(1e-12);
  });

  it('uses beta as a rate: F(x; a, b) = P(a, b x), mean a/b; the pdf integrates to the cdf', () => {
    expect(gammaCdf(18.7, 2.43, 0.13)).toBe(regularizedGammaP(2.43, 0.13 * 18.7));
    expect(gammaCdf(0, 2.43, 0.13)).toBe(0);
    expect(gammaCdf(-1, 2.43, 0.13)).toBe(0);
    expect(gammaCdf(Infinity, 2.43, 0.13)).toBe(1);
    const viaPdf = simpson((x) => gammaPdf(x, 2.43, 0.13), 30, 20_000);
    expect(Math.abs(viaPdf - gammaCdf(30, 2.43, 0.13))).toBeLessThan(1e-10);
    const mean = simpson((x) => x * gammaPdf(x, 2.43, 0.13), 400, 200_000);
    expect(mean).toBeCloseTo(2.43 / 0.13, 8);
    expect(gammaPdf(0, 1, 0.5)).toBe(0.5);
    expect(gammaPdf(0, 0.5, 1)).toBe(Infinity);
    expect(gammaPdf(0, 2, 1)).toBe(0);
  });

  it('quantile inverts the cdf; Q(0) = 0, Q(1) = Infinity', () => {
    for (const [a, b] of [[2.43, 0.13], [0.3, 2], [1e6, 1e6 / 18.7]] as const) {
      for (const p of [1e-9, 0.01, 0.3, 0.5, 0.9, 0.999999]) {
        const x = gammaQuantile(p, a, b);
        expect(Math.abs(gammaCdf(x, a, b) - p)).toBeLessThan(1e-9 * Math.max(1, a > 1000 ? 100 : 1));
      }
    }
    expect(gammaQuantile(0, 2.43, 0.13)).toBe(0);
    expect(gammaQuantile(1, 2.43, 0.13)).toBe(Infinity);
  });
});

describe('logGamma, digamma, trigamma', () => {
  it('match reference values (mpmath)', () => {
    expect(Math.abs(logGamma(2.43) - 0.23667701361878539)).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(0.1) - 2.252712651734206)).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(1e-5) - 11.512919692895826)).toBeLessThan(1e-13);
    expect(Math.abs(logGamma(1000.5) / 5908.674175848677 - 1)).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(5) - Math.log(24))).toBeLessThan(1e-14);
    expect(Math.abs(digamma(1) + 0.5772156649015329)).toBeLessThan(1e-14);
    expect(Math.abs(digamma(2.43) - 0.66823977562925233)).toBeLessThan(1e-14);
    expect(Math.abs(digamma(0.01) + 100.56088545786867)).toBeLessThan(1e-12);
    expect(Math.abs(digamma(50) - 3.901989673427892)).toBeLessThan(1e-14);
    expect(Math.abs(trigamma(1) - Math.PI ** 2 / 6)).toBeLessThan(1e-14);
    expect(Math.abs(trigamma(2.43) - 0.5074591433007793)).toBeLessThan(1e-14);
    expect(Math.abs(trigamma(0.01) / 10001.621213528313 - 1)).toBeLessThan(1e-14);
  });
});

describe('fitGamma', () => {
  for (const [alpha, beta, seed] of [[2.43, 0.13, 1], [0.7, 2, 2], [9, 0.5, 3]] as const) {
    it(`recovers alpha = ${alpha}, beta = ${beta} from 1e5 seeded samples within 2%`, () => {
      const fit = fitGamma(samples(100_000, gammaSampler(alpha, beta, seed)));
      expect(fit.degenerate).toBe(false);
      expect(Math.abs(fit.alpha / alpha - 1)).toBeLessThan(0.02);
      expect(Math.abs(fit.beta / beta - 1)).toBeLessThan(0.02);
    });
  }

  it('solves the likelihood equation log(alpha) - psi(alpha) = log(mean) - mean(log x)', () => {
    const xs = [3, 7, 12, 18, 25, 40];
    const fit = fitGamma(xs);
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const s = Math.log(mean) - xs.reduce((a, b) => a + Math.log(b), 0) / xs.length;
    expect(Math.abs(Math.log(fit.alpha) - digamma(fit.alpha) - s)).toBeLessThan(1e-13);
    expect(fit.beta).toBeCloseTo(fit.alpha / mean, 14);
  });

  it('caps alpha on a degenerate sample (all equal) and says so', () => {
    expect(fitGamma([18.7, 18.7, 18.7])).toEqual({ alpha: MAX_SHAPE, beta: MAX_SHAPE / 18.7, degenerate: true });
    expect(fitGamma([5, 5 * (1 + 1e-12)]).degenerate).toBe(true);
  });

  it('rejects non-positive samples and fewer than 2', () => {
    expect(() => fitGamma([1])).toThrow('fitGamma needs at least 2 samples but received 1');
    expect(() => fitGamma([1, 0, 3])).toThrow('Expected a positive finite number for samples[1] but received 0');
    expect(() => fitGamma([1, -2])).toThrow('Expected a positive finite number for samples[1] but received -2');
    expect(() => fitGamma([1, NaN])).toThrow('Expected a positive finite number for samples[1] but received NaN');
  });
});

describe('klDivergence', () => {
  const xs = samples(20_000, gammaSampler(2.43, 0.13, 7));
  it('is small for the fitted Gamma and grows for a wrong one', () => {
    const fit = fitGamma(xs);
    const good = klDivergence(xs, fit.alpha, fit.beta);
    expect(good).toBeGreaterThan(0);
    expect(good).toBeLessThan(0.02);
    expect(klDivergence(xs, 2.43, 0.2)).toBeGreaterThan(10 * good);
    expect(klDivergence(xs, fit.alpha, fit.beta, 20)).toBeLessThan(0.01);
  });

  it('equals the hand computation on two bins', () => {
    const two = [1, 2, 3, 9];
    // Bins [1, 5) and [5, 9]: p = (3/4, 1/4); q = the Gamma's mass in each, over its mass on [1, 9].
    const F = (x: number) => gammaCdf(x, 2, 0.5);
    const q0 = (F(5) - F(1)) / (F(9) - F(1));
    const expected = 0.75 * Math.log(0.75 / q0) + 0.25 * Math.log(0.25 / (1 - q0));
    expect(klDivergence(two, 2, 0.5, 2)).toBeCloseTo(expected, 14);
  });

  it('is 0 for equal samples and rejects bad input', () => {
    expect(klDivergence([4, 4, 4], 2, 0.5)).toBe(0);
    expect(() => klDivergence([1, 2], 0, 1)).toThrow('Expected a positive number for alpha but received 0');
    expect(() => klDivergence([1, 2], 1, 1, 0)).toThrow('Expected a positive integer for bins but received 0');
  });
});
