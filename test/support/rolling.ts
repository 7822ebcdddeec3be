// The arithmetic every rolling result must satisfy, whatever network made it: each point's
// rolling vector is the mean of its own and the n - 1 raw vectors before it, each top-1
// probability is its vector's largest value, a point's time is its frame index at `fps`, and the
// video's score is the mean of all raw vectors.

import { expect } from 'vitest';
import type { RollingResult } from '../../src/index.js';

export function expectRollingArithmetic(result: RollingResult, n: number, fps: number): void {
  const k = result.classes.length;
  result.points.forEach((p, i) => {
    const window = result.points.slice(Math.max(0, i - n + 1), i + 1);
    for (let c = 0; c < k; c++) expect(p.rollingScores[c]!).toBeCloseTo(window.reduce((s, q) => s + q.scores[c]!, 0) / window.length, 12);
    expect(p.rollingProbability).toBe(Math.max(...p.rollingScores));
    expect(p.probability).toBe(Math.max(...p.scores));
    expect(p.time).toBeCloseTo(p.index / fps, 6);
  });
  for (let c = 0; c < k; c++) expect(result.scores[c]!).toBeCloseTo(result.points.reduce((s, q) => s + q.scores[c]!, 0) / result.points.length, 12);
}
