import { describe, expect, it } from 'vitest';
import {
  centreView,
  mulberry32,
  randomView,
  randomViewSpec,
  sampleVolume,
  temporalStarts,
  tenCrops,
  testViews,
} from '../../src/volumes/index.js';
import { channelMean, planeOf, randomClip } from './helpers.js';

describe('tenCrops', () => {
  it('gives the corners and centre of a 30x40 grid with side 30, then the same flipped', () => {
    expect(tenCrops(30, 40, 30)).toEqual([
      { x: 0, y: 0, w: 30, h: 30, flip: false }, // top-left
      { x: 10, y: 0, w: 30, h: 30, flip: false }, // top-right
      { x: 0, y: 0, w: 30, h: 30, flip: false }, // bottom-left (no vertical margin)
      { x: 10, y: 0, w: 30, h: 30, flip: false }, // bottom-right
      { x: 5, y: 0, w: 30, h: 30, flip: false }, // centre
      { x: 0, y: 0, w: 30, h: 30, flip: true },
      { x: 10, y: 0, w: 30, h: 30, flip: true },
      { x: 0, y: 0, w: 30, h: 30, flip: true },
      { x: 10, y: 0, w: 30, h: 30, flip: true },
      { x: 5, y: 0, w: 30, h: 30, flip: true },
    ]);
  });

  it('uses both margins when the side is smaller than both dimensions', () => {
    const crops = tenCrops(30, 40, 20);
    expect(crops.slice(0, 5).map(({ x, y }) => [x, y])).toEqual([
      [0, 0],
      [20, 0],
      [0, 10],
      [20, 10],
      [10, 5],
    ]);
    expect(crops.slice(5).map(({ x, y }) => [x, y])).toEqual(crops.slice(0, 5).map(({ x, y }) => [x, y]));
    expect(crops.map((c) => c.flip)).toEqual([false, false, false, false, false, true, true, true, true, true]);
    // Odd margins: the centre rounds down.
    expect(tenCrops(31, 40, 30)[4]).toEqual({ x: 5, y: 0, w: 30, h: 30, flip: false });
    expect(tenCrops(30, 41, 30)[3]).toEqual({ x: 11, y: 0, w: 30, h: 30, flip: false });
  });

  it('rejects a side larger than the grid', () => {
    expect(() => tenCrops(30, 40, 31)).toThrow('Expected a crop side of at most 30 blocks (grid 30 rows x 40 cols) for side but received 31');
    expect(() => tenCrops(30, 40, 0)).toThrow('Expected a positive integer for side but received 0');
  });

  it('centreView is the fifth crop, unflipped', () => {
    expect(centreView({ rows: 30, cols: 40 })).toEqual({ start: 0, crop: { x: 5, y: 0, w: 30, h: 30 }, flip: false });
  });
});

describe('temporalStarts', () => {
  it('spaces starts evenly over [0, frames - T], first and last included', () => {
    expect(temporalStarts(100, 16)).toEqual([0, 9, 19, 28, 37, 47, 56, 65, 75, 84]);
    expect(temporalStarts(25, 16, 4)).toEqual([0, 3, 6, 9]);
    expect(temporalStarts(100, 100)).toEqual(Array(10).fill(0));
    expect(temporalStarts(5, 16)).toEqual(Array(10).fill(0)); // shorter clips are tiled from 0
    expect(temporalStarts(100, 16, 1)).toEqual([42]);
  });
});

describe('testViews', () => {
  const clip = randomClip(100, 6, 8, 21);
  const options = { frames: 16, size: 4, layout: '3d' as const };

  it('returns 10 starts x 10 crops = 100 volumes, start-major', () => {
    const views = testViews(clip, options);
    expect(views).toHaveLength(100);
    const starts = [0, 9, 19, 28, 37, 47, 56, 65, 75, 84];
    expect(views.map((v) => v.start)).toEqual(starts.flatMap((s) => Array(10).fill(s)));
    const crops = tenCrops(6, 8, 6);
    views.forEach((view, k) => {
      const { flip, ...crop } = crops[k % 10]!;
      expect(view.crop).toEqual(crop);
      expect(view.flip).toBe(flip);
      expect(view.volume).toHaveLength(2 * 16 * 4 * 4);
    });
  });

  it('samples each view as sampleVolume would, zero-centred by default', () => {
    const views = testViews(clip, options);
    for (const k of [0, 13, 47, 99]) {
      const view = views[k]!;
      expect(view.volume).toEqual(sampleVolume(clip, { ...options, start: view.start, crop: view.crop, flip: view.flip, zeroCentre: true }));
      expect(Math.abs(channelMean(view.volume, '3d', 16, 4, 0))).toBeLessThan(1e-5);
    }
    // View 16: start 9, top-right crop (x = 2), flipped; its window starts at frame 9 and its
    // last plane is frame 24.
    const v16 = views[16]!;
    expect(v16).toMatchObject({ start: 9, crop: { x: 2, y: 0, w: 6, h: 6 }, flip: true });
    const raw = testViews(clip, { ...options, zeroCentre: false })[16]!.volume;
    for (const [t, frame] of [[0, 9], [15, 24]] as const) {
      const single = sampleVolume(clip, { frames: 1, start: frame, size: 4, layout: '3d', crop: { x: 2, y: 0, w: 6, h: 6 }, flip: true });
      expect(planeOf(raw, '3d', 16, 4, 0, t)).toEqual(planeOf(single, '3d', 1, 4, 0, 0));
      expect(planeOf(raw, '3d', 16, 4, 1, t)).toEqual(planeOf(single, '3d', 1, 4, 1, 0));
    }
  });

  it('uses `temporal` starts and evenly spaces them', () => {
    const views = testViews(clip, { ...options, temporal: 3 });
    expect(views).toHaveLength(30);
    expect([...new Set(views.map((v) => v.start))]).toEqual([0, 42, 84]);
  });
});

describe('randomView', () => {
  const clip = randomClip(100, 30, 40, 8);
  const options = { frames: 16, size: 8, layout: '3d' as const };

  it('is reproducible from a seed, and a numeric seed equals mulberry32(seed)', () => {
    const a = randomView(clip, options, 99);
    expect(randomView(clip, options, 99)).toEqual(a);
    expect(randomView(clip, options, mulberry32(99))).toEqual(a);
    expect(randomView(clip, options, 100)).not.toEqual(a);
  });

  it('draws scales, positions, starts and flips within their ranges', () => {
    const rng = mulberry32(5);
    const sides = new Set<number>();
    const flips = new Set<boolean>();
    let maxStart = 0;
    for (let k = 0; k < 400; k++) {
      const { start, crop, flip } = randomViewSpec(clip, options, rng);
      sides.add(crop.w);
      flips.add(flip);
      expect(crop.w).toBe(crop.h);
      expect(crop.x).toBeGreaterThanOrEqual(0);
      expect(crop.x + crop.w).toBeLessThanOrEqual(40);
      expect(crop.y + crop.h).toBeLessThanOrEqual(30);
      expect(start).toBeGreaterThanOrEqual(0);
      expect(start).toBeLessThanOrEqual(84);
      maxStart = Math.max(maxStart, start);
    }
    // round(s * 30) for s in [1, 0.833, 0.667, 0.5]
    expect([...sides].sort((a, b) => a - b)).toEqual([15, 20, 25, 30]);
    expect([...flips].sort()).toEqual([false, true]);
    expect(maxStart).toBeGreaterThan(70);
    // A clip shorter than T always starts at 0.
    const short = randomClip(5, 30, 40, 1);
    for (let k = 0; k < 20; k++) expect(randomViewSpec(short, options, rng).start).toBe(0);
  });

  it('is sampleVolume of its view, zero-centred', () => {
    const view = randomViewSpec(clip, options, mulberry32(3));
    const volume = randomView(clip, options, 3);
    expect(volume).toEqual(sampleVolume(clip, { ...options, ...view, zeroCentre: true }));
    expect(Math.abs(channelMean(volume, '3d', 16, 8, 1))).toBeLessThan(1e-5);
  });

  it('turns each augmentation off on its own, leaving the other draws unchanged', () => {
    const all = randomViewSpec(clip, options, mulberry32(77));
    expect(randomViewSpec(clip, { ...options, flip: false }, mulberry32(77))).toEqual({ ...all, flip: false });
    expect(randomViewSpec(clip, { ...options, jitter: false }, mulberry32(77))).toEqual({ ...all, start: 0 });
    expect(randomViewSpec(clip, { ...options, crop: false }, mulberry32(77))).toEqual({ ...all, crop: { x: 0, y: 0, w: 40, h: 30 } });
    expect(randomViewSpec(clip, { ...options, scales: [0.5] }, mulberry32(77)).crop.w).toBe(15);
    const noFlips = new Set(Array.from({ length: 50 }, (_, k) => randomViewSpec(clip, { ...options, flip: false }, mulberry32(k)).flip));
    expect([...noFlips]).toEqual([false]);
    const raw = randomView(clip, { ...options, zeroCentre: false }, 4);
    expect(Math.abs(channelMean(raw, '3d', 16, 8, 0))).toBeGreaterThan(0.5);
  });

  it('rejects bad scales and options', () => {
    expect(() => randomView(clip, { ...options, scales: [] }, 1)).toThrow('Expected a non-empty list of numbers in (0, 1] for scales but received []');
    expect(() => randomView(clip, { ...options, scales: [1.5] }, 1)).toThrow(/for scales but received \[1.5\]/);
    expect(() => randomView(clip, { ...options, frames: 0 }, 1)).toThrow('Expected a positive integer for frames but received 0');
    expect(() => randomView(clip, { ...options, size: 'big' as unknown as number }, 1)).toThrow('Expected a positive integer for size but received "big"');
  });
});
