import { describe, expect, it } from 'vitest';
import { mixSeed, mulberry32, randomInt, shuffleInPlace, stackBatch } from '../../src/volumes/index.js';

describe('stackBatch', () => {
  it('copies volumes one after another and prefixes the batch dimension', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Float32Array([7, 8, 9, 10, 11, 12]);
    const { data, shape } = stackBatch([a, b], [2, 1, 3]);
    expect(shape).toEqual([2, 2, 1, 3]);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(data.buffer).not.toBe(a.buffer);
    expect(stackBatch([a]).shape).toEqual([1, 6]);
  });

  it('rejects empty lists, unequal volumes and a shape that does not fit', () => {
    expect(() => stackBatch([])).toThrow('Cannot stack an empty list of volumes');
    expect(() => stackBatch([new Float32Array(4), new Float32Array(5)])).toThrow(
      'Cannot stack volumes of different sizes: volume 1 has 5 values, volume 0 has 4',
    );
    expect(() => stackBatch([new Float32Array(4)], [3, 2])).toThrow('Volume shape [3, 2] does not match volumes of 4 values');
  });
});

describe('random', () => {
  it('mulberry32 is reproducible and uniform-looking in [0, 1)', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(mulberry32(2)()).not.toBe(mulberry32(1)());
    // The reference mulberry32 output for seed 1.
    expect(mulberry32(1)()).toBeCloseTo(0.6270739405881613, 12);
  });

  it('randomInt, shuffleInPlace and mixSeed', () => {
    const rng = mulberry32(3);
    const counts = [0, 0, 0];
    for (let k = 0; k < 3000; k++) counts[randomInt(rng, 3)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(900);
    const shuffled = shuffleInPlace(Array.from({ length: 20 }, (_, i) => i), mulberry32(4));
    expect([...shuffled].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(shuffled).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(shuffleInPlace(Array.from({ length: 20 }, (_, i) => i), mulberry32(4))).toEqual(shuffled);
    expect(mixSeed(1, 2, 3)).toBe(mixSeed(1, 2, 3));
    expect(new Set([mixSeed(1, 2, 3), mixSeed(1, 3, 2), mixSeed(2, 2, 3), mixSeed(1, 2, 4)]).size).toBe(4);
  });
});
