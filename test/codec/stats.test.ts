// The native per-frame statistics (vector count, magnitude, dominant list-0 vector) equal the
// same numbers computed here from the raw vectors.

import { describe, expect, it } from 'vitest';
import { extractMotion, readMotion } from '../../src/index.js';
import { fixtures, tempDir } from '../setup/helpers.js';

describe('MotionStats', () => {
  it.each([
    ['H.264 with B-frames', fixtures().clips['h264-b-cabac']!],
    ['real MPEG-4 Part 2', fixtures().real['inertie']!],
  ])('%s: summary equals a direct computation', async (_name, file) => {
    let vectors = 0;
    let magnitude = 0;
    const histogram = new Map<string, number>();
    let list0 = 0;
    for await (const frame of readMotion(file)) {
      const v = frame.vectors;
      for (let i = 0; i < v.length; i++) {
        const dx = v.motionX[i]! / v.motionScale[i]!;
        const dy = v.motionY[i]! / v.motionScale[i]!;
        magnitude += Math.hypot(dx, dy);
        if (v.source[i] === -1) {
          const key = `${Math.round(dx * 4) / 4},${Math.round(dy * 4) / 4}`;
          histogram.set(key, (histogram.get(key) ?? 0) + 1);
          list0++;
        }
      }
      vectors += v.length;
    }
    const top = Math.max(...histogram.values());
    const summary = (await extractMotion(file, { format: 'npy', out: `${tempDir()}/b`, keyFrames: false })).summary;
    expect(summary.vectors).toBe(vectors);
    expect(summary.meanMagnitude).toBeCloseTo(magnitude / vectors, 9);
    expect(summary.dominant!.share).toBeCloseTo(top / list0, 12);
    expect(histogram.get(`${summary.dominant!.dx},${summary.dominant!.dy}`)).toBe(top);
  });
});
