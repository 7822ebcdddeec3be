// Seeded random numbers for the MCNN tests: mulberry32 uniforms, Box-Muller normals and
// Marsaglia-Tsang Gamma(shape, RATE) samples.

import { mulberry32 } from '../../../src/util/random.js';

export function gammaSampler(shape: number, rate: number, seed: number): () => number {
  const uniform = mulberry32(seed);
  const open = () => {
    let u = 0;
    while (u === 0) u = uniform();
    return u;
  };
  const normal = () => Math.sqrt(-2 * Math.log(open())) * Math.cos(2 * Math.PI * uniform());
  // Marsaglia and Tsang (2000) for shape >= 1; shape < 1 through Gamma(shape + 1) * U^(1/shape).
  const boost = shape < 1;
  const d = (boost ? shape + 1 : shape) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  return () => {
    for (;;) {
      const z = normal();
      const v = (1 + c * z) ** 3;
      if (v <= 0) continue;
      const u = open();
      if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) {
        const g = d * v;
        return (boost ? g * open() ** (1 / shape) : g) / rate;
      }
    }
  };
}

export function samples(n: number, next: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = next();
  return out;
}
