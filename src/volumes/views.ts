// Test-time views: temporal starts evenly spaced over the clip x ten crops (four corners and
// the centre of a square crop, each also mirrored), the usual multi-view evaluation.

import { checkBoolean, invalid, nonNegativeInteger, positiveInteger } from '../util/validate.js';
import { validateClip, sampleVolume } from './sample.js';
import type { CropRect, Layout, MotionClip } from './sample.js';

export interface ViewCrop extends CropRect {
  flip: boolean;
}

export interface View {
  start: number;
  crop: CropRect;
  flip: boolean;
}

export interface TestView extends View {
  volume: Float32Array;
}

export interface TestViewOptions {
  frames: number;
  size: number;
  layout: Layout;
  /** Temporal starts per clip (default 10). */
  temporal?: number;
  /** Default true. */
  zeroCentre?: boolean;
}

/**
 * Ten square crops of `side` blocks on a rows x cols grid: top-left, top-right, bottom-left,
 * bottom-right, centre (flip false), then the same five with flip true. The centre is at
 * floor((cols - side) / 2), floor((rows - side) / 2).
 */
export function tenCrops(rows: number, cols: number, side: number): ViewCrop[] {
  positiveInteger(rows, 'rows');
  positiveInteger(cols, 'cols');
  positiveInteger(side, 'side');
  if (side > rows || side > cols) throw invalid(`a crop side of at most ${Math.min(rows, cols)} blocks (grid ${rows} rows x ${cols} cols)`, 'side', side);
  const right = cols - side;
  const bottom = rows - side;
  const five: CropRect[] = [
    { x: 0, y: 0, w: side, h: side },
    { x: right, y: 0, w: side, h: side },
    { x: 0, y: bottom, w: side, h: side },
    { x: right, y: bottom, w: side, h: side },
    { x: Math.floor(right / 2), y: Math.floor(bottom / 2), w: side, h: side },
  ];
  return [...five.map((c) => ({ ...c, flip: false })), ...five.map((c) => ({ ...c, flip: true }))];
}

/**
 * `count` window starts evenly spaced over [0, max(0, clipFrames - frames)], rounded to the
 * nearest frame; the first is 0 and the last the final window. One start is the middle window.
 */
export function temporalStarts(clipFrames: number, frames: number, count = 10): number[] {
  positiveInteger(clipFrames, 'clip frames');
  positiveInteger(frames, 'frames');
  positiveInteger(count, 'temporal');
  const last = Math.max(0, clipFrames - frames);
  if (count === 1) return [Math.floor(last / 2)];
  return Array.from({ length: count }, (_, k) => Math.round((k * last) / (count - 1)));
}

/** The views testViews samples, in its order: start-major, then the ten crops. */
export function testViewSpecs(clip: MotionClip, frames: number, temporal = 10): View[] {
  validateClip(clip);
  const starts = temporalStarts(clip.frames, frames, temporal);
  const crops = tenCrops(clip.rows, clip.cols, Math.min(clip.rows, clip.cols));
  const views: View[] = [];
  for (const start of starts) {
    for (const { flip, ...crop } of crops) views.push({ start, crop, flip });
  }
  return views;
}

/** temporal x 10 volumes (100 by default), each with the view it shows. */
export function testViews(clip: MotionClip, options: TestViewOptions): TestView[] {
  const frames = positiveInteger(options.frames, 'frames');
  const temporal = options.temporal === undefined ? 10 : positiveInteger(options.temporal, 'temporal');
  const zeroCentre = options.zeroCentre === undefined ? true : checkBoolean(options.zeroCentre, 'zeroCentre');
  return testViewSpecs(clip, frames, temporal).map((view) => ({
    ...view,
    volume: sampleVolume(clip, { frames, size: options.size, layout: options.layout, start: view.start, crop: view.crop, flip: view.flip, zeroCentre }),
  }));
}

/**
 * The deterministic single view used without augmentation: the centre square crop (side
 * min(rows, cols)) of the first window (start 0 unless given), not mirrored.
 */
export function centreView(clip: { rows: number; cols: number }, start = 0): View {
  nonNegativeInteger(start, 'start');
  const side = Math.min(clip.rows, clip.cols);
  const { flip, ...crop } = tenCrops(clip.rows, clip.cols, side)[4]!;
  return { start, crop, flip };
}
