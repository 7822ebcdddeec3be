// One CNN input volume from a clip's per-frame motion grids: a temporal window (tiled when the
// clip is short), a crop resized to NxN with bilinear interpolation, optional mirror and
// zero-centring. Vectors are displacements in grid units, so they are scaled with the resize.

import { MvclassError, UsageError } from '../util/errors.js';
import { checkBoolean, invalid, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';

/**
 * A clip's motion: `data` is laid out [frames, 2, rows, cols], per frame a dx plane then a dy
 * plane, one value per 8x8 block: float32 pixels, or int16 quarter-pels (divided by 4 here).
 */
export interface MotionClip {
  frames: number;
  rows: number;
  cols: number;
  data: Float32Array | Int16Array;
}

/** '3d': [2, T, N, N] (dx planes then dy planes); '2d': [2T, N, N] (dx, dy of frame 0, then frame 1...). */
export type Layout = '3d' | '2d';
export const LAYOUTS: readonly Layout[] = ['3d', '2d'];

/** A rectangle of the block grid: column x, row y, width w and height h, all in blocks. */
export interface CropRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface SampleOptions {
  /** T, the frames in the volume. */
  frames: number;
  /** The first frame (default 0); frame indices wrap around the clip's length. */
  start?: number;
  /** N, the side of each output plane. */
  size: number;
  layout: Layout;
  /** Default: the whole grid. */
  crop?: CropRect;
  /** Mirror horizontally and negate dx (default false). */
  flip?: boolean;
  /** Subtract the volume's mean dx from every dx and mean dy from every dy (default false). */
  zeroCentre?: boolean;
}

/** The volume's shape (without a batch dimension). */
export function volumeShape(frames: number, size: number, layout: Layout): number[] {
  return layout === '3d' ? [2, frames, size, size] : [2 * frames, size, size];
}

/** Multiplies every value by `k` in place (a network's input normalisation, after sampling); returns `data`. */
export function scaleInPlace(data: Float32Array, k: number): Float32Array {
  if (k !== 1) for (let i = 0; i < data.length; i++) data[i]! *= k;
  return data;
}

export function volumeLength(frames: number, size: number): number {
  return 2 * frames * size * size;
}

/** Checks a clip's dimensions and that its data holds frames x 2 x rows x cols values. */
export function validateClip(clip: MotionClip, name = 'clip'): void {
  if (typeof clip !== 'object' || clip === null) throw invalid('a motion clip', name, clip);
  positiveInteger(clip.frames, `${name}.frames`);
  positiveInteger(clip.rows, `${name}.rows`);
  positiveInteger(clip.cols, `${name}.cols`);
  const data: unknown = clip.data;
  if (!(data instanceof Float32Array) && !(data instanceof Int16Array)) {
    const kind = data === null || typeof data !== 'object' ? typeof data : (data as object).constructor?.name ?? 'object';
    throw new UsageError(`Expected a Float32Array or Int16Array for ${name}.data but received ${kind}`);
  }
  const expected = clip.frames * 2 * clip.rows * clip.cols;
  if (data.length !== expected) {
    throw new MvclassError(
      `Expected ${name}.data to hold ${expected} values (${clip.frames} frames x 2 x ${clip.rows} rows x ${clip.cols} cols) but it holds ${data.length}`,
    );
  }
}

/** Checks a crop against a grid of rows x cols blocks; returns it as a plain rectangle. */
export function validateCrop(crop: CropRect, rows: number, cols: number, name = 'crop'): CropRect {
  if (typeof crop !== 'object' || crop === null) throw invalid('a rectangle {x, y, w, h} in blocks', name, crop);
  const x = nonNegativeInteger(crop.x, `${name}.x`);
  const y = nonNegativeInteger(crop.y, `${name}.y`);
  const w = positiveInteger(crop.w, `${name}.w`);
  const h = positiveInteger(crop.h, `${name}.h`);
  if (x + w > cols || y + h > rows) {
    throw invalid(`a crop inside the grid of ${rows} rows x ${cols} cols`, name, { x, y, w, h });
  }
  return { x, y, w, h };
}

/**
 * Bilinear sample positions along one axis (align corners false): output i reads source
 * (i + 0.5) * len / n - 0.5, clamped to the edge, as lo + (hi - lo) * weight.
 */
export interface AxisWeights {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float64Array;
  /** The source positions read: first .. first + span - 1. */
  first: number;
  span: number;
  /** coverage[k]: the total weight source position first + k receives over the n outputs. */
  coverage: Float64Array;
}

const axisCache = new Map<string, AxisWeights>();

/** Cached and shared: treat the arrays as read-only. */
export function axisWeights(len: number, n: number, mirror = false): AxisWeights {
  const key = `${len},${n},${mirror ? 1 : 0}`;
  const cached = axisCache.get(key);
  if (cached) return cached;
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  const weight = new Float64Array(n);
  const ratio = len / n;
  for (let i = 0; i < n; i++) {
    let src = (i + 0.5) * ratio - 0.5;
    if (src < 0) src = 0;
    let a = Math.floor(src);
    if (a > len - 1) a = len - 1;
    const b = a < len - 1 ? a + 1 : a;
    const at = mirror ? n - 1 - i : i;
    lo[at] = a;
    hi[at] = b;
    weight[at] = b === a ? 0 : src - a;
  }
  let first = len;
  let last = 0;
  for (let i = 0; i < n; i++) {
    first = Math.min(first, lo[i]!);
    last = Math.max(last, hi[i]!);
  }
  const coverage = new Float64Array(last - first + 1);
  for (let i = 0; i < n; i++) {
    const a = lo[i]! - first;
    const b = hi[i]! - first;
    coverage[a] = coverage[a]! + 1 - weight[i]!;
    coverage[b] = coverage[b]! + weight[i]!;
  }
  const axis = { lo, hi, weight, first, span: last - first + 1, coverage };
  if (axisCache.size >= 512) axisCache.clear();
  axisCache.set(key, axis);
  return axis;
}

// The separable resize keeps every plane's horizontally interpolated rows here, in float64,
// until the volume's mean is known; grown as needed and reused.
let scratch = new Float64Array(1 << 16);

/**
 * Horizontal pass: interpolates the `ys.span` crop rows the vertical taps read (from `base`,
 * rows `stride` apart) to n columns each, into tmp at `at`. Returns the sum of the plane the
 * vertical pass will make from them (each row's sum weighted by its vertical coverage).
 */
function horizontal(
  src: Float32Array | Int16Array,
  base: number,
  stride: number,
  xs: AxisWeights,
  ys: AxisWeights,
  tmp: Float64Array,
  at: number,
  n: number,
): number {
  const xlo = xs.lo;
  const xhi = xs.hi;
  const xw = xs.weight;
  const coverage = ys.coverage;
  const span = ys.span;
  let p = at;
  let total = 0;
  for (let r = 0; r < span; r++) {
    const row = base + r * stride;
    let rowSum = 0;
    for (let j = 0; j < n; j++) {
      const a = src[row + xlo[j]!]!;
      const v = a + (src[row + xhi[j]!]! - a) * xw[j]!;
      tmp[p++] = v;
      rowSum += v;
    }
    total += rowSum * coverage[r]!;
  }
  return total;
}

/** Vertical pass: blends the rows at tmp[at] into n x n values (value * scale - shift) at out[o]. */
function vertical(tmp: Float64Array, at: number, ys: AxisWeights, scale: number, shift: number, out: Float32Array, o: number, n: number): void {
  const ylo = ys.lo;
  const yhi = ys.hi;
  const yw = ys.weight;
  const first = ys.first;
  for (let i = 0; i < n; i++) {
    const top = at + (ylo[i]! - first) * n;
    const bottom = at + (yhi[i]! - first) * n;
    const wy = yw[i]!;
    for (let j = 0; j < n; j++) {
      const t = tmp[top + j]!;
      out[o++] = (t + (tmp[bottom + j]! - t) * wy) * scale - shift;
    }
  }
}

/**
 * One volume: [2, T, N, N] for layout '3d', [2T, N, N] for '2d'. Pass `out` (exactly
 * 2*T*N*N long, e.g. a slice of a batch) to write in place; it is returned.
 */
export function sampleVolume(clip: MotionClip, options: SampleOptions, out?: Float32Array): Float32Array {
  validateClip(clip);
  const frames = positiveInteger(options.frames, 'frames');
  const n = positiveInteger(options.size, 'size');
  const layout = oneOf(options.layout, 'layout', LAYOUTS);
  const start = options.start === undefined ? 0 : nonNegativeInteger(options.start, 'start');
  const crop = options.crop === undefined ? { x: 0, y: 0, w: clip.cols, h: clip.rows } : validateCrop(options.crop, clip.rows, clip.cols);
  const flip = checkBoolean(options.flip, 'flip');
  const zeroCentre = checkBoolean(options.zeroCentre, 'zeroCentre');

  const length = volumeLength(frames, n);
  if (out === undefined) out = new Float32Array(length);
  else if (!(out instanceof Float32Array) || out.length !== length) {
    throw new UsageError(`Expected an output Float32Array of ${length} values but received ${out instanceof Float32Array ? out.length : typeof out}`);
  }

  const { rows, cols, data } = clip;
  const unit = data instanceof Int16Array ? 0.25 : 1;
  const scaleX = ((flip ? -n : n) / crop.w) * unit;
  const scaleY = (n / crop.h) * unit;
  const xs = axisWeights(crop.w, n, flip);
  const ys = axisWeights(crop.h, n, false);
  const plane = rows * cols;
  const area = n * n;
  const top = (crop.y + ys.first) * cols + crop.x;

  // Frame t of the window is clip frame (start + t) mod clip.frames: only the first
  // min(T, clip.frames) planes are distinct; later ones repeat them (tiling) and are copied.
  const period = clip.frames;
  const distinct = Math.min(frames, period);
  const perPlane = ys.span * n;
  if (scratch.length < 2 * distinct * perPlane) scratch = new Float64Array(2 * distinct * perPlane);
  const tmp = scratch;

  // Pass 1: horizontal interpolation of every distinct plane, and the volume's sums.
  const repeats = Math.floor(frames / period);
  const extra = frames % period;
  let sumX = 0;
  let sumY = 0;
  for (let s = 0; s < distinct; s++) {
    const base = ((start + s) % period) * 2 * plane + top;
    const times = repeats + (s < extra ? 1 : 0);
    sumX += times * horizontal(data, base, cols, xs, ys, tmp, 2 * s * perPlane, n);
    sumY += times * horizontal(data, base + plane, cols, xs, ys, tmp, (2 * s + 1) * perPlane, n);
  }
  const count = frames * area;
  const shiftX = zeroCentre ? (sumX * scaleX) / count : 0;
  const shiftY = zeroCentre ? (sumY * scaleY) / count : 0;

  // Pass 2: vertical interpolation into the output layout.
  for (let t = 0; t < frames; t++) {
    const atX = layout === '3d' ? t * area : 2 * t * area;
    const atY = layout === '3d' ? (frames + t) * area : (2 * t + 1) * area;
    if (t >= period) {
      const s = t % period;
      const fromX = layout === '3d' ? s * area : 2 * s * area;
      const fromY = layout === '3d' ? (frames + s) * area : (2 * s + 1) * area;
      out.copyWithin(atX, fromX, fromX + area);
      out.copyWithin(atY, fromY, fromY + area);
    } else {
      vertical(tmp, 2 * t * perPlane, ys, scaleX, shiftX, out, atX, n);
      vertical(tmp, (2 * t + 1) * perPlane, ys, scaleY, shiftY, out, atY, n);
    }
  }
  return out;
}
