// The Multi-CNN selection of the rate-accuracy paper (Section IV-C/D): a video goes to the 3D CNN when its
// R_motion < R_L, to the 2D CNN when R_L <= R_motion < R_H, and to the spatial CNN alone when
// R_motion >= R_H. With R_motion ~ Gamma(alpha, beta) over videos this gives the accuracy (eq. 6)
// and the mean rate sent (eq. 7) as functions of the two thresholds. Rates in kbps.

import { MvclassError } from '../../util/errors.js';
import { gammaCdf } from './gamma.js';
import { finiteNumber, fraction, nonNegativeNumber, positiveNumber } from '../../util/validate.js';

export interface McnnParams {
  /** Gamma shape and RATE of R_motion over videos. */
  alpha: number;
  beta: number;
  /** R_3D = a3d * R_motion + b3d: what the 3D CNN needs sent. */
  a3d: number;
  b3d: number;
  /** R_2D = a2d * R_motion + b2d. */
  a2d: number;
  b2d: number;
  /** I_SP: what the spatial CNN alone needs sent (the IDR frame), kbps. */
  isp: number;
  /** Accuracies (fractions) of the 3D, 2D and spatial-only classifiers. */
  acc3d: number;
  acc2d: number;
  accsp: number;
}

export const MCNN_PARAM_NAMES = ['alpha', 'beta', 'a3d', 'b3d', 'a2d', 'b2d', 'isp', 'acc3d', 'acc2d', 'accsp'] as const;

/** The paper's fits for AVC/H.264 QP 40 on UCF-101 (Figs. 7, 9, 10); it states no I_SP or accuracies. */
export const PAPER_MCNN_FIT = { alpha: 2.43, beta: 0.13, a3d: 2.21, b3d: 9.04, a2d: 0.83, b2d: 4.27 } as const;

/** Checks every field (numbers or decimal strings) and returns plain numbers. */
export function mcnnParams(value: unknown): McnnParams {
  if (typeof value !== 'object' || value === null) throw new MvclassError('Expected an object with the MCNN parameters ' + MCNN_PARAM_NAMES.join(', '));
  const v = value as Record<string, unknown>;
  const missing = MCNN_PARAM_NAMES.filter((k) => v[k] === undefined);
  if (missing.length > 0) throw new MvclassError(`Missing MCNN parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return {
    alpha: positiveNumber(v.alpha, 'alpha'),
    beta: positiveNumber(v.beta, 'beta'),
    a3d: finiteNumber(v.a3d, 'a3d'),
    b3d: finiteNumber(v.b3d, 'b3d'),
    a2d: finiteNumber(v.a2d, 'a2d'),
    b2d: finiteNumber(v.b2d, 'b2d'),
    isp: nonNegativeNumber(v.isp, 'isp'),
    acc3d: fraction(v.acc3d, 'acc3d'),
    acc2d: fraction(v.acc2d, 'acc2d'),
    accsp: fraction(v.accsp, 'accsp'),
  };
}

/** 0 <= rL <= rH; rH = Infinity: no video is spatial-only; rL = rH = Infinity: all go to the 3D CNN. */
export function checkThresholds(rL: number, rH: number): void {
  if (!(rL >= 0 && rH >= rL)) throw new MvclassError(`Expected thresholds with 0 <= rL <= rH but received rL = ${rL}, rH = ${rH}`);
}

/**
 * Eq. (7) split into its R_L and R_H halves, R_sent = isp + low(R_L) + high(R_H), using
 * x f(x; a, b) = (a/b) f(x; a+1, b), i.e. int_0^r x f dx = (a/b) F(r; a+1, b):
 *   low(r)  = (b3D - b2D) F(r) + (a/b)(a3D - a2D) F(r; a+1)
 *   high(r) = (b2D - I_SP) F(r) + (a/b) a2D F(r; a+1)
 * The optimiser varies one threshold at a time, so each half is computed once per step.
 */
export interface RateTerms {
  isp: number;
  /** Mean R_motion, alpha / beta. */
  mean: number;
  low(rL: number): number;
  high(rH: number): number;
}

export function rateTerms(p: McnnParams): RateTerms {
  const mean = p.alpha / p.beta;
  const F = (x: number) => gammaCdf(x, p.alpha, p.beta);
  const F1 = (x: number) => gammaCdf(x, p.alpha + 1, p.beta);
  return {
    isp: p.isp,
    mean,
    low: (r) => (p.b3d - p.b2d) * F(r) + mean * (p.a3d - p.a2d) * F1(r),
    high: (r) => (p.b2d - p.isp) * F(r) + mean * p.a2d * F1(r),
  };
}

/** The one formula for R_sent that the optimiser and rateSent share, so that they agree to the bit. */
export const sentOf = (t: RateTerms, rL: number, rH: number): number => t.isp + t.low(rL) + t.high(rH);

/** Eq. (6): A3D F(R_L) + A2D (F(R_H) - F(R_L)) + ASP (1 - F(R_H)). */
export function accuracyOf(p: McnnParams, rL: number, rH: number): number {
  const u = gammaCdf(rL, p.alpha, p.beta);
  const v = gammaCdf(rH, p.alpha, p.beta);
  return p.acc3d * u + p.acc2d * (v - u) + p.accsp * (1 - v);
}

/** Eq. (6) for thresholds R_L <= R_H (kbps of R_motion). */
export function mcnnAccuracy(params: McnnParams, rL: number, rH: number): number {
  const p = mcnnParams(params);
  checkThresholds(rL, rH);
  return accuracyOf(p, rL, rH);
}

/** Eq. (7): mean kbps sent, int_0^RL R_3D f + int_RL^RH R_2D f + I_SP (1 - F(R_H)). */
export function rateSent(params: McnnParams, rL: number, rH: number): number {
  const p = mcnnParams(params);
  checkThresholds(rL, rH);
  return sentOf(rateTerms(p), rL, rH);
}
