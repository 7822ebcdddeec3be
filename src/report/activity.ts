// Motion-vector activity maps (the paper, Fig. 2): one colour block per grid cell, the vector's
// direction as hue and its magnitude as brightness, written as a PNG.
//
// Hue: 0° (red) for +dx, 90° (yellow-green) for -dy, 180° (cyan) for -dx, 270° (violet) for +dy,
// i.e. the angle of (dx, -dy), so "up" in the picture (dy < 0) is a quarter turn from "right".
// Value: |v| / maxMagnitude, saturating at 1. A zero vector is black (ZERO_COLOUR), and small
// vectors fade continuously into it. The vectors are drawn as given: for FFmpeg's convention
// (motion = src - dst) the content moves the opposite way. activityKey draws the colour key
// (a gradient bar per direction, 0 to maxMagnitude in the grid's unit) as a figure.

import { PNG } from 'pngjs';
import { MvclassError } from '../util/errors.js';
import { formatNumber, renderVegaLite, type Figure } from './figures.js';

/** A motion field on a block grid, row-major; MotionGrid (src/codec/grid.ts) fits as is. */
export interface MotionField {
  rows: number;
  cols: number;
  dx: ArrayLike<number>;
  dy: ArrayLike<number>;
}

export interface ActivityOptions {
  /** Side of each block in the picture, pixels (default 8, the paper's 8x8 blocks). */
  blockPixels?: number;
  /** Magnitude at which brightness saturates (default: the 99th percentile of non-zero ones). */
  maxMagnitude?: number;
}

export const ZERO_COLOUR: readonly [number, number, number] = [0, 0, 0];

/** RGB (0-255) for hue in degrees, saturation and value in [0, 1]. */
export function hsvToRgb(hue: number, saturation: number, value: number): [number, number, number] {
  const h = (((hue % 360) + 360) % 360) / 60;
  const c = value * saturation;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = value - c;
  const [r, g, b] =
    h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return [Math.round(255 * (r + m)), Math.round(255 * (g + m)), Math.round(255 * (b + m))];
}

/** The colour of one vector, brightness saturating at `maxMagnitude`. */
export function activityColour(dx: number, dy: number, maxMagnitude: number): [number, number, number] {
  const magnitude = Math.hypot(dx, dy);
  if (magnitude === 0) return [...ZERO_COLOUR];
  const hue = (Math.atan2(-dy, dx) * 180) / Math.PI;
  return hsvToRgb(hue, 1, Math.min(1, magnitude / maxMagnitude));
}

/** Nearest-rank 99th percentile of the non-zero magnitudes (1 when all are zero). */
function defaultMaxMagnitude(magnitudes: Float64Array): number {
  const nonZero = Array.from(magnitudes.filter((m) => m > 0)).sort((a, b) => a - b);
  if (nonZero.length === 0) return 1;
  return nonZero[Math.max(0, Math.ceil(0.99 * nonZero.length) - 1)]!;
}

/** The activity map of one motion field as a PNG of cols*blockPixels x rows*blockPixels. */
export function activityMap(grid: MotionField, options: ActivityOptions = {}): Uint8Array {
  const { rows, cols, dx, dy } = grid;
  const block = options.blockPixels ?? 8;
  for (const [name, value] of [['rows', rows], ['cols', cols], ['blockPixels', block]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new MvclassError(`activityMap: ${name} must be a positive integer, got ${value}`);
  }
  const cells = rows * cols;
  if (dx.length !== cells || dy.length !== cells) {
    throw new MvclassError(`activityMap: dx of ${dx.length} and dy of ${dy.length} values do not fit a ${rows}x${cols} grid`);
  }
  const magnitudes = new Float64Array(cells);
  for (let i = 0; i < cells; i++) {
    const x = dx[i]!;
    const y = dy[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new MvclassError(`activityMap: vector ${i} is not finite (${x}, ${y})`);
    magnitudes[i] = Math.hypot(x, y);
  }
  const max = options.maxMagnitude ?? defaultMaxMagnitude(magnitudes);
  if (!Number.isFinite(max) || max <= 0) throw new MvclassError(`activityMap: maxMagnitude must be positive, got ${max}`);

  const width = cols * block;
  const height = rows * block;
  const png = new PNG({ width, height, colorType: 2, inputHasAlpha: true });
  const data = png.data;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const [red, green, blue] = activityColour(dx[i]!, dy[i]!, max);
      for (let py = r * block; py < (r + 1) * block; py++) {
        let o = (py * width + c * block) * 4;
        for (let px = 0; px < block; px++, o += 4) {
          data[o] = red;
          data[o + 1] = green;
          data[o + 2] = blue;
          data[o + 3] = 255;
        }
      }
    }
  }
  const encoded = PNG.sync.write(png, { colorType: 2, inputHasAlpha: true });
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

export interface ActivityKeyOptions {
  /** The magnitude at which brightness saturates: the maps' maxMagnitude. */
  maxMagnitude: number;
  /** Unit of the magnitudes (default 'px', pixels per frame as the grids hold them). */
  unit?: string;
  title?: string;
  /** Steps of the gradient bars (default 48). */
  steps?: number;
}

/** The eight directions of the key: label, dx and dy of a unit vector (image axes: y grows downwards). */
const KEY_DIRECTIONS: Array<[string, number, number]> = [
  ['→ right (+dx)', 1, 0],
  ['↗', Math.SQRT1_2, -Math.SQRT1_2],
  ['↑ up (−dy)', 0, -1],
  ['↖', -Math.SQRT1_2, -Math.SQRT1_2],
  ['← left (−dx)', -1, 0],
  ['↙', -Math.SQRT1_2, Math.SQRT1_2],
  ['↓ down (+dy)', 0, 1],
  ['↘', Math.SQRT1_2, Math.SQRT1_2],
];

/**
 * The colour key of activity maps drawn with `maxMagnitude`: one gradient bar per direction
 * (hue), from 0 (black) to maxMagnitude (full brightness; longer vectors saturate), on an axis
 * in `unit`. Rendered like the other figures (SVG and a 2x PNG).
 */
export async function activityKey(options: ActivityKeyOptions): Promise<Figure> {
  const max = options.maxMagnitude;
  if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) throw new MvclassError(`activityKey: maxMagnitude must be a positive number, got ${String(max)}`);
  const steps = options.steps ?? 48;
  if (!Number.isInteger(steps) || steps < 2 || steps > 1000) throw new MvclassError(`activityKey: steps must be an integer from 2 to 1000, got ${steps}`);
  const unit = options.unit ?? 'px';
  const hex = (rgb: [number, number, number]) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
  const values = KEY_DIRECTIONS.flatMap(([direction, ux, uy]) =>
    Array.from({ length: steps }, (_, i) => {
      // The first step black, the last at full brightness, as the map draws 0 and maxMagnitude.
      const m = (i * max) / (steps - 1);
      return { direction, m0: (i * max) / steps, m1: ((i + 1) * max) / steps, rgb: hex(activityColour(ux * m, uy * m, max)) };
    }),
  );
  const directions = KEY_DIRECTIONS.map(([d]) => d);
  const y = { field: 'direction', type: 'ordinal' as const, title: 'Vector direction (hue)', sort: directions, scale: { domain: directions, paddingInner: 0.15 }, axis: { ticks: false, domain: false } };
  return renderVegaLite({
    title: {
      text: options.title ?? 'Colour key: hue = direction, brightness = magnitude',
      subtitle: [`0 ${unit}: black; ${formatNumber(max)} ${unit} and longer: full brightness`, 'vectors are src − dst: the content moves the opposite way'],
    },
    width: 320,
    height: 8 * 16,
    data: { values },
    mark: { type: 'rect', strokeWidth: 0.6, aria: false },
    encoding: {
      x: { field: 'm0', type: 'quantitative', title: `Magnitude (${unit}), saturating at ${formatNumber(max)}`, scale: { domain: [0, max], nice: false } },
      x2: { field: 'm1' },
      y,
      color: { field: 'rgb', type: 'nominal', scale: null, legend: null },
      // The same colour as the outline: no seams between the steps.
      stroke: { field: 'rgb', type: 'nominal', scale: null, legend: null },
    },
  });
}
