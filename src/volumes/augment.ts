// Training augmentation: a multi-scale random square crop, a random temporal window and a
// random mirror, then zero-centring. Each is an option; the random draws are always made in
// the same order (scale, x, y, start, flip) so turning one off leaves the others unchanged.

import { checkBoolean, invalid, positiveInteger } from '../util/validate.js';
import { randomInt, toRng } from '../util/random.js';
import type { Rng } from '../util/random.js';
import { sampleVolume, validateClip } from './sample.js';
import type { Layout, MotionClip } from './sample.js';
import type { View } from './views.js';

export const DEFAULT_SCALES: readonly number[] = [1, 0.833, 0.667, 0.5];

export interface AugmentOptions {
  frames: number;
  size: number;
  layout: Layout;
  /** Crop sides as fractions of min(rows, cols) (default [1, 0.833, 0.667, 0.5]). */
  scales?: readonly number[];
  /** Random square crop at a random scale and position (default true); false: the whole grid. */
  crop?: boolean;
  /** Random window start in [0, max(0, frames - T)] (default true); false: start 0. */
  jitter?: boolean;
  /** Mirror with probability 0.5 (default true). */
  flip?: boolean;
  /** Default true. */
  zeroCentre?: boolean;
}

function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  return value === undefined ? fallback : checkBoolean(value, name);
}

export function validateScales(scales: unknown): readonly number[] {
  const ok =
    Array.isArray(scales) && scales.length > 0 && scales.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0 && s <= 1);
  if (!ok) throw invalid('a non-empty list of numbers in (0, 1]', 'scales', scales);
  return scales as readonly number[];
}

/** The view randomView would take: draws scale, x, y, start and flip from rng, in that order. */
export function randomViewSpec(clip: MotionClip, options: AugmentOptions, rng: Rng): View {
  validateClip(clip);
  const frames = positiveInteger(options.frames, 'frames');
  const scales = validateScales(options.scales ?? DEFAULT_SCALES);
  const useCrop = optionalBoolean(options.crop, 'crop', true);
  const jitter = optionalBoolean(options.jitter, 'jitter', true);
  const mayFlip = optionalBoolean(options.flip, 'flip', true);

  const { rows, cols } = clip;
  const scale = scales[randomInt(rng, scales.length)]!;
  const side = Math.min(rows, cols, Math.max(1, Math.round(scale * Math.min(rows, cols))));
  const x = randomInt(rng, cols - side + 1);
  const y = randomInt(rng, rows - side + 1);
  const start = randomInt(rng, Math.max(0, clip.frames - frames) + 1);
  const flip = rng() < 0.5;
  return {
    start: jitter ? start : 0,
    crop: useCrop ? { x, y, w: side, h: side } : { x: 0, y: 0, w: cols, h: rows },
    flip: mayFlip && flip,
  };
}

/** One augmented training volume; `rng` is a PRNG or a seed. Pass `out` to write in place. */
export function randomView(clip: MotionClip, options: AugmentOptions, rng: Rng | number, out?: Float32Array): Float32Array {
  const view = randomViewSpec(clip, options, toRng(rng));
  const zeroCentre = optionalBoolean(options.zeroCentre, 'zeroCentre', true);
  return sampleVolume(clip, { frames: options.frames, size: options.size, layout: options.layout, ...view, zeroCentre }, out);
}
