// Decoded-frame clips: which frames of a video make its clip, and the bounds on a clip's shape.
// The sampling rule lives here only; the frame size rule (short side S, long side scaled alike
// and rounded to even) lives in the native reader (native/codec/reader.cc, ClipSize).

import { integerInRange, invalid } from '../util/validate.js';

/** Bounds on a clip, checked here and again in the native reader before anything is allocated. */
export const MAX_CLIP_FRAMES = 1024;
export const MAX_CLIP_SHORT_SIDE = 4096;

/** A clip length T: a positive integer up to MAX_CLIP_FRAMES. */
export function clipFrames(value: unknown, name = 'rgb'): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw invalid('a positive integer', name, value);
  return integerInRange(n, name, 1, MAX_CLIP_FRAMES);
}

/** A short side S: even (so both sides are), from 2 to MAX_CLIP_SHORT_SIDE. */
export function clipShortSide(value: unknown, name = 'short-side'): number {
  const side = integerInRange(value, name, 2, MAX_CLIP_SHORT_SIDE);
  if (side % 2 !== 0) throw invalid(`an even integer from 2 to ${MAX_CLIP_SHORT_SIDE}`, name, value);
  return side;
}

/**
 * The display indices of a clip of `t` frames from a video of `n`: frame floor((k + 0.5) * n / t)
 * for k = 0..t-1, the centres of t equal spans over the whole video (a fixed interval n / t).
 * With n < t a span is shorter than a frame, so the rule itself repeats frames: each frame
 * appears floor or ceil(t / n) times, in order (n = 3, t = 8: 0 0 0 1 1 2 2 2).
 */
export function clipIndices(n: number, t: number): number[] {
  if (!Number.isSafeInteger(n) || n < 1) throw invalid('a positive frame count', 'frames', n);
  clipFrames(t, 'rgb');
  return Array.from({ length: t }, (_, k) => Math.floor(((k + 0.5) * n) / t));
}

/** The distinct indices of a clip, increasing: the frames the reader is asked to convert. */
export function distinctIndices(indices: readonly number[]): number[] {
  return [...new Set(indices)].sort((a, b) => a - b);
}
