// The clip networks' input path (src/nn/clip-loader.ts, src/nn/pixels.ts): T frames by the clip
// rule, one crop and flip for every frame, short-side jitter by bilinear down-scaling, test views;
// batches deterministic from the seed whatever the prefetch.

import { describe, expect, it } from 'vitest';
import { ClipLoader, clipViews, randomClipCrop, type FrameClipSource } from '../../src/nn/clip-loader.js';
import { clipTensor, IMAGENET, imageTensor, type FrameImages } from '../../src/nn/pixels.js';
import { clipIndices } from '../../src/codec/clips.js';
import { mulberry32 } from '../../src/util/random.js';

/** A clip whose pixel (x, y) of frame t holds (x + 2y + 7t) mod 256 in every channel (channel c adds 50c). */
function rampClip(frames: number, width: number, height: number): FrameImages {
  const data = new Uint8Array(frames * width * height * 3);
  for (let t = 0; t < frames; t++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[((t * height + y) * width + x) * 3 + c] = (x + 2 * y + 7 * t + 50 * c) % 256;
  return { frames, width, height, data };
}

/** The raw value (0-255) of a normalised output element of channel c. */
const raw = (v: number, c: number) => (v * IMAGENET.std[c]! + IMAGENET.mean[c]!) * 255;

function source(clips: FrameImages[]): FrameClipSource {
  return { length: clips.length, frames: async (i) => clips[i]!, label: (i) => i % 3 };
}

describe('clipTensor', () => {
  it('at scale 1 is imageTensor frame by frame (same crop, same flip), frames chosen by index', () => {
    const clip = rampClip(4, 20, 12);
    const size = 8;
    const out = new Float32Array(3 * 3 * size * size);
    clipTensor(clip, [3, 0, 3], { scale: 1, x: 5, y: 2, flip: true }, size, out);
    const per = 3 * size * size;
    const frame = (t: number) => clip.data.subarray(t * 20 * 12 * 3, (t + 1) * 20 * 12 * 3);
    [3, 0, 3].forEach((t, k) => {
      const one = new Float32Array(per);
      imageTensor(frame(t), 20, 5, 2, size, true, one);
      expect(Array.from(out.subarray(k * per, (k + 1) * per))).toEqual(Array.from(one));
    });
  });

  it('scaled down: bilinear with pixel centres aligned, exact on a ramp (value = x + 2y away from the wrap)', () => {
    // 40x30 frames scaled by 0.75 to 30x23 (rounded): a scaled pixel (u, v) samples source
    // ((u + 0.5) * 40/30 - 0.5, (v + 0.5) * 30/23 - 0.5); a linear ramp interpolates exactly.
    const clip = rampClip(2, 40, 30);
    const size = 10;
    const out = new Float32Array(2 * 3 * size * size);
    clipTensor(clip, [0, 1], { scale: 0.75, x: 3, y: 4, flip: false }, size, out);
    for (let t = 0; t < 2; t++) {
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const sx = (3 + c + 0.5) * (40 / 30) - 0.5;
          const sy = (4 + r + 0.5) * (30 / 23) - 0.5;
          const expected = sx + 2 * sy + 7 * t;
          expect(Math.abs(raw(out[t * 3 * size * size + r * size + c]!, 0) - expected)).toBeLessThan(1e-3);
        }
      }
    }
  });
});

describe('randomClipCrop (short-side jitter)', () => {
  it('the short side lands anywhere in [S, stored short side], the crop inside the scaled frame; without jitter the stored size', () => {
    const rng = mulberry32(3);
    const sides = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const crop = randomClipCrop(170, 128, 112, true, rng);
      const short = Math.round(128 * crop.scale);
      sides.add(short);
      expect(short).toBeGreaterThanOrEqual(112);
      expect(short).toBeLessThanOrEqual(128);
      expect(crop.x + 112).toBeLessThanOrEqual(Math.round(170 * crop.scale));
      expect(crop.y + 112).toBeLessThanOrEqual(short);
      expect(crop.scale <= 1).toBe(true);
    }
    expect([...sides].sort((a, b) => a - b)).toEqual(Array.from({ length: 17 }, (_, k) => 112 + k));
    for (let i = 0; i < 50; i++) expect(randomClipCrop(170, 128, 112, false, rng).scale).toBe(1);
    expect(() => randomClipCrop(170, 100, 112, true, rng)).toThrow('a 170x100 clip is smaller than the input side 112');
  });
});

describe('ClipLoader', () => {
  const clips = Array.from({ length: 7 }, (_, i) => rampClip(6 + (i % 3), 24 + 2 * i, 18));

  it('every frame of an example has the same crop, flip and scale: frame k is frame 0 shifted by 7 x (its index difference)', async () => {
    const loader = new ClipLoader(source(clips), { batchSize: 7, frames: 4, size: 16, seed: 5 });
    const batch = (await loader.epochs().next()).value!;
    const per = 3 * 16 * 16;
    batch.indices.forEach((index, k) => {
      const indices = clipIndices(clips[index]!.frames, 4);
      for (let t = 1; t < 4; t++) {
        for (let p = 0; p < 16 * 16; p++) {
          const a = raw(batch.data[(k * 4 + t) * per + p]!, 0);
          const b = raw(batch.data[(k * 4) * per + p]!, 0);
          // Away from the ramp's wrap at 256 the difference is exact.
          if (a < 250 && b < 250 && a > 5 && b > 5) expect(Math.abs(a - b - 7 * (indices[t]! - indices[0]!)), `example ${k} frame ${t}`).toBeLessThan(1e-3);
        }
      }
    });
  });

  it('batches depend on the seed only: the same with prefetch 0 or 4, resumed with skip as run through; another seed differs', async () => {
    const take = async (loader: ClipLoader, n: number, skip = 0) => {
      const out: Array<{ data: number[]; labels: number[] }> = [];
      for await (const b of loader.epochs(skip)) {
        out.push({ data: Array.from(b.data), labels: Array.from(b.labels) });
        if (out.length === n) break;
      }
      return out;
    };
    const options = { batchSize: 3, frames: 3, size: 12, seed: 9 };
    const a = await take(new ClipLoader(source(clips), { ...options, prefetch: 0 }), 7);
    const b = await take(new ClipLoader(source(clips), { ...options, prefetch: 4 }), 7);
    expect(b).toEqual(a);
    // 3 batches an epoch (3 + 3 + 1): batch 4 is the second of epoch 1.
    expect(a.map((x) => x.labels.length)).toEqual([3, 3, 1, 3, 3, 1, 3]);
    expect(await take(new ClipLoader(source(clips), options), 3, 4)).toEqual(a.slice(4));
    const c = await take(new ClipLoader(source(clips), { ...options, seed: 10 }), 1);
    expect(c[0]!.data).not.toEqual(a[0]!.data);
  });

  it('test views: the centre crop, or 4 corners + centre each mirrored, of T frames by the clip rule; arguments checked', () => {
    const clip = rampClip(5, 30, 20);
    const one = clipViews(clip, 8, 16, 1);
    const per = 3 * 16 * 16;
    expect(one.length).toBe(8 * per);
    // The centre crop (7, 2); frame k of the view is clip frame clipIndices(5, 8)[k].
    clipIndices(5, 8).forEach((t, k) => expect(raw(one[k * per]!, 0)).toBeCloseTo(7 + 4 + 7 * t, 3));
    const ten = clipViews(clip, 8, 16, 10);
    expect(ten.length).toBe(10 * 8 * per);
    expect(Array.from(ten.subarray(4 * 8 * per, 5 * 8 * per))).toEqual(Array.from(one));
    expect(() => clipViews(clip, 8, 24, 1)).toThrow('a 30x20 clip is smaller than the input side 24');
    expect(() => new ClipLoader(source(clips), { batchSize: 0, frames: 4, size: 8 })).toThrow('Expected a positive integer for batchSize but received 0');
    expect(() => new ClipLoader(source(clips), { batchSize: 2, frames: 4, size: 8, jitter: 'yes' as unknown as boolean })).toThrow(/jitter/);
  });
});
