// Least squares for the rate of what a classifier needs, R = a * R_motion + b (the paper, eq. 3 and
// Appendix B: a3D = 2.21, b3D = 9.04 with R^2 93%; a2D = 0.83, b2D = 4.27 with R^2 88%).

import { MvclassError } from '../../util/errors.js';
import { rejected } from '../../util/validate.js';

export interface LineFit {
  a: number;
  b: number;
  /** 1 - residual / total sum of squares; 1 when y is constant (the line fits it exactly). */
  r2: number;
}

export function fitLine(x: ArrayLike<number>, y: ArrayLike<number>): LineFit {
  if (x.length !== y.length) throw new MvclassError(`fitLine needs as many y as x values but received ${x.length} x and ${y.length} y`);
  if (x.length < 2) throw new MvclassError(`fitLine needs at least 2 points but received ${x.length}`);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    if (typeof xi !== 'number' || !Number.isFinite(xi)) throw rejected('a finite number', `x[${i}]`, xi);
    if (typeof yi !== 'number' || !Number.isFinite(yi)) throw rejected('a finite number', `y[${i}]`, yi);
    mx += xi / n;
    my += yi / n;
  }
  // Centred sums, which keep their precision when the values are large against their spread.
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) throw new MvclassError('fitLine needs at least 2 different x values but all are equal');
  const a = sxy / sxx;
  const b = my - a * mx;
  let residual = 0;
  for (let i = 0; i < n; i++) residual += (y[i]! - a * x[i]! - b) ** 2;
  return { a, b, r2: syy > 0 ? 1 - residual / syy : 1 };
}
