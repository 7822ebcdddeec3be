// Clips with known values for the volume tests.

import { mulberry32 } from '../../src/volumes/index.js';
import type { Layout, MotionClip } from '../../src/volumes/index.js';

/** A clip whose values come from fn(frame, channel 0 = dx / 1 = dy, row, col). */
export function clipFrom(frames: number, rows: number, cols: number, fn: (f: number, c: number, r: number, x: number) => number): MotionClip {
  const data = new Float32Array(frames * 2 * rows * cols);
  let i = 0;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < 2; c++) {
      for (let r = 0; r < rows; r++) {
        for (let x = 0; x < cols; x++) data[i++] = fn(f, c, r, x);
      }
    }
  }
  return { frames, rows, cols, data };
}

export function randomClip(frames: number, rows: number, cols: number, seed: number): MotionClip {
  const rng = mulberry32(seed);
  // Biased so that means are far from zero: zero-centring has work to do.
  return clipFrom(frames, rows, cols, (_f, c) => (c === 0 ? 3 : -2) + (rng() - 0.5) * 8);
}

/** Value of channel c (0 dx, 1 dy), frame t, row i, col j of a volume in either layout. */
export function at(volume: Float32Array, layout: Layout, frames: number, size: number, c: number, t: number, i: number, j: number): number {
  const plane = layout === '3d' ? c * frames + t : 2 * t + c;
  const value = volume[(plane * size + i) * size + j];
  if (value === undefined) throw new Error('index out of range');
  return value;
}

/** One N x N plane of a volume as nested arrays. */
export function planeOf(volume: Float32Array, layout: Layout, frames: number, size: number, c: number, t: number): number[][] {
  return Array.from({ length: size }, (_, i) => Array.from({ length: size }, (_, j) => at(volume, layout, frames, size, c, t, i, j)));
}

/** Mean of channel c over the whole volume. */
export function channelMean(volume: Float32Array, layout: Layout, frames: number, size: number, c: number): number {
  let sum = 0;
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) sum += at(volume, layout, frames, size, c, t, i, j);
  }
  return sum / (frames * size * size);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
