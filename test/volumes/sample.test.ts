import { describe, expect, it } from 'vitest';
import { MvclassError } from '../../src/util/errors.js';
import { axisWeights, sampleVolume, volumeShape } from '../../src/volumes/index.js';
import type { Layout, MotionClip } from '../../src/volumes/index.js';
import { at, channelMean, clipFrom, planeOf, randomClip } from './helpers.js';

// A 4x4 grid sampled at size 4 is the identity resize, so values can be checked exactly.
const coded = clipFrom(2, 4, 4, (f, c, r, x) => (c === 0 ? 1 : -1) * (f * 100 + r * 10 + x + 1));

describe('sampleVolume: shapes and layouts', () => {
  it('gives [2, T, N, N] for 3d and [2T, N, N] for 2d', () => {
    expect(volumeShape(16, 24, '3d')).toEqual([2, 16, 24, 24]);
    expect(volumeShape(16, 24, '2d')).toEqual([32, 24, 24]);
    expect(sampleVolume(coded, { frames: 3, size: 5, layout: '3d' })).toHaveLength(2 * 3 * 5 * 5);
  });

  it('keeps values exactly on the identity resize, dx planes then dy planes (3d)', () => {
    const v = sampleVolume(coded, { frames: 2, size: 4, layout: '3d' });
    // [c=0,t=0] row 0, then [c=0,t=1] starts at 16, [c=1,t=0] at 32.
    expect(Array.from(v.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(Array.from(v.subarray(4, 8))).toEqual([11, 12, 13, 14]);
    expect(Array.from(v.subarray(16, 20))).toEqual([101, 102, 103, 104]);
    expect(Array.from(v.subarray(32, 36))).toEqual([-1, -2, -3, -4]);
    expect(Array.from(v.subarray(48, 52))).toEqual([-101, -102, -103, -104]);
  });

  it('interleaves dx and dy per frame in 2d', () => {
    const v = sampleVolume(coded, { frames: 2, size: 4, layout: '2d' });
    expect(Array.from(v.subarray(0, 4))).toEqual([1, 2, 3, 4]); // channel 0: dx frame 0
    expect(Array.from(v.subarray(16, 20))).toEqual([-1, -2, -3, -4]); // channel 1: dy frame 0
    expect(Array.from(v.subarray(32, 36))).toEqual([101, 102, 103, 104]); // channel 2: dx frame 1
    expect(Array.from(v.subarray(48, 52))).toEqual([-101, -102, -103, -104]); // channel 3: dy frame 1
  });

  it('puts the same numbers in both layouts (3d [c, t] == 2d [2t + c])', () => {
    const clip = randomClip(9, 30, 40, 7);
    const options = { frames: 12, start: 4, size: 24, crop: { x: 3, y: 2, w: 25, h: 25 }, flip: true, zeroCentre: true };
    const v3 = sampleVolume(clip, { ...options, layout: '3d' });
    const v2 = sampleVolume(clip, { ...options, layout: '2d' });
    const area = 24 * 24;
    for (let t = 0; t < 12; t++) {
      for (let c = 0; c < 2; c++) {
        expect(v2.subarray((2 * t + c) * area, (2 * t + c + 1) * area)).toEqual(v3.subarray((c * 12 + t) * area, (c * 12 + t + 1) * area));
      }
    }
  });

  it('writes into a given output array', () => {
    const out = new Float32Array(2 * 2 * 16).fill(Number.NaN);
    expect(sampleVolume(coded, { frames: 2, size: 4, layout: '3d' }, out)).toBe(out);
    expect(out[5]).toBe(12);
    expect(() => sampleVolume(coded, { frames: 2, size: 4, layout: '3d' }, new Float32Array(10))).toThrow(/output Float32Array of 64 values/);
  });
});

describe('sampleVolume: time', () => {
  const threeFrames = clipFrom(3, 2, 2, (f, c) => (c === 0 ? f + 1 : -10 * (f + 1)));
  const frameOf = (v: Float32Array, layout: Layout, frames: number, t: number): number => at(v, layout, frames, 2, 0, t, 0, 0) - 1;

  it('tiles a 3-frame clip sampled with T=7 as frames 0,1,2,0,1,2,0 in both layouts', () => {
    for (const layout of ['3d', '2d'] as const) {
      const v = sampleVolume(threeFrames, { frames: 7, size: 2, layout });
      expect(Array.from({ length: 7 }, (_, t) => frameOf(v, layout, 7, t))).toEqual([0, 1, 2, 0, 1, 2, 0]);
      expect(Array.from({ length: 7 }, (_, t) => at(v, layout, 7, 2, 1, t, 1, 1))).toEqual([-10, -20, -30, -10, -20, -30, -10]);
      // Every cell of a repeated plane, not only the first one.
      expect(planeOf(v, layout, 7, 2, 1, 6)).toEqual([[-10, -10], [-10, -10]]);
    }
  });

  it('starts at `start` and wraps windows running past the end', () => {
    const v = sampleVolume(threeFrames, { frames: 5, start: 2, size: 2, layout: '3d' });
    expect(Array.from({ length: 5 }, (_, t) => frameOf(v, '3d', 5, t))).toEqual([2, 0, 1, 2, 0]);
    const five = clipFrom(5, 2, 2, (f) => f);
    const w = sampleVolume(five, { frames: 3, start: 4, size: 2, layout: '2d' });
    expect([w[0], w[8], w[16]]).toEqual([4, 0, 1]);
  });

  it('tiles with crop, resize, flip and zero-centring like sampling each frame on its own', () => {
    const clip = randomClip(3, 30, 40, 3);
    const options = { size: 7, layout: '3d' as const, crop: { x: 4, y: 1, w: 20, h: 27 }, flip: true };
    const long = sampleVolume(clip, { ...options, frames: 8, start: 1 });
    for (let t = 0; t < 8; t++) {
      const single = sampleVolume(clip, { ...options, frames: 1, start: (1 + t) % 3 });
      expect(planeOf(long, '3d', 8, 7, 0, t)).toEqual(planeOf(single, '3d', 1, 7, 0, 0));
      expect(planeOf(long, '3d', 8, 7, 1, t)).toEqual(planeOf(single, '3d', 1, 7, 1, 0));
    }
  });
});

describe('sampleVolume: space', () => {
  it('flips by mirroring columns and negating dx only', () => {
    const v = sampleVolume(coded, { frames: 2, size: 4, layout: '3d', flip: true });
    expect(planeOf(v, '3d', 2, 4, 0, 0)).toEqual([
      [-4, -3, -2, -1],
      [-14, -13, -12, -11],
      [-24, -23, -22, -21],
      [-34, -33, -32, -31],
    ]);
    // dy keeps its sign: dy was -(r*10 + x + 1), mirrored.
    expect(planeOf(v, '3d', 2, 4, 1, 0)[2]).toEqual([-24, -23, -22, -21]);
    expect(at(v, '3d', 2, 4, 0, 1, 3, 0)).toBe(-134);
    expect(at(v, '3d', 2, 4, 1, 1, 3, 0)).toBe(-134);
    expect(at(v, '3d', 2, 4, 1, 1, 0, 3)).toBe(-101);
  });

  it('after a resize too, flipped dx[i][j] == -dx[i][N-1-j] and flipped dy[i][j] == dy[i][N-1-j]', () => {
    const clip = randomClip(2, 30, 40, 11);
    const options = { frames: 2, size: 9, layout: '2d' as const, crop: { x: 7, y: 3, w: 22, h: 17 } };
    const plain = sampleVolume(clip, options);
    const flipped = sampleVolume(clip, { ...options, flip: true });
    for (const [i, j] of [[0, 0], [4, 2], [8, 8], [3, 7]] as const) {
      expect(at(flipped, '2d', 2, 9, 0, 1, i, j)).toBeCloseTo(-at(plain, '2d', 2, 9, 0, 1, i, 8 - j), 5);
      expect(at(flipped, '2d', 2, 9, 1, 1, i, j)).toBeCloseTo(at(plain, '2d', 2, 9, 1, 1, i, 8 - j), 5);
    }
  });

  it('crops before resizing: an identity-size crop returns exactly the block values', () => {
    const clip = clipFrom(1, 30, 40, (_f, c, r, x) => (c === 0 ? r * 100 + x : -(r * 100 + x)));
    const v = sampleVolume(clip, { frames: 1, size: 3, layout: '3d', crop: { x: 37, y: 5, w: 3, h: 3 } });
    expect(planeOf(v, '3d', 1, 3, 0, 0)).toEqual([
      [537, 538, 539],
      [637, 638, 639],
      [737, 738, 739],
    ]);
    expect(planeOf(v, '3d', 1, 3, 1, 0)[0]).toEqual([-537, -538, -539]);
  });

  it('keeps a constant field constant and scales dx by N/w and dy by N/h', () => {
    const clip = clipFrom(2, 30, 40, (_f, c) => (c === 0 ? 2 : -3));
    const v = sampleVolume(clip, { frames: 2, size: 8, layout: '3d', crop: { x: 5, y: 3, w: 20, h: 10 } });
    for (let k = 0; k < 2 * 64; k++) expect(v[k]).toBeCloseTo(2 * (8 / 20), 6); // 0.8
    for (let k = 2 * 64; k < 4 * 64; k++) expect(v[k]).toBeCloseTo(-3 * (8 / 10), 6); // -2.4
    const up = sampleVolume(clip, { frames: 1, size: 48, layout: '2d' }); // whole 30x40 grid
    expect(up[0]).toBeCloseTo(2 * (48 / 40), 6);
    expect(up[48 * 48 - 1]).toBeCloseTo(2 * (48 / 40), 6);
    expect(up[48 * 48]).toBeCloseTo(-3 * (48 / 30), 6);
    const flipped = sampleVolume(clip, { frames: 1, size: 8, layout: '2d', crop: { x: 0, y: 0, w: 16, h: 16 }, flip: true });
    expect(flipped[10]).toBeCloseTo(-1, 6);
    expect(flipped[64 + 10]).toBeCloseTo(-1.5, 6);
  });

  it('interpolates bilinearly with align corners false (PyTorch interpolate values)', () => {
    // A horizontal ramp dx = x on a 1 x 4 row, downsampled to 2: samples at 0.5 and 2.5, times 2/4.
    const ramp = clipFrom(1, 2, 4, (_f, c, _r, x) => (c === 0 ? x : 0));
    const down = sampleVolume(ramp, { frames: 1, size: 2, layout: '3d' });
    expect(Array.from(down.subarray(0, 4))).toEqual([0.25, 1.25, 0.25, 1.25]);
    // dx = [0, 1] upsampled to 4: samples at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped); times 4/2.
    const pair = clipFrom(1, 2, 2, (_f, c, r, x) => (c === 0 ? x : r));
    const up = sampleVolume(pair, { frames: 1, size: 4, layout: '3d' });
    expect(Array.from(up.subarray(0, 4))).toEqual([0, 0.5, 1.5, 2]);
    expect(planeOf(up, '3d', 1, 4, 1, 0).map((row) => row[0])).toEqual([0, 0.5, 1.5, 2]);
    expect(Array.from(axisWeights(4, 2).lo)).toEqual([0, 2]);
    expect(Array.from(axisWeights(4, 2).weight)).toEqual([0.5, 0.5]);
    expect(Array.from(axisWeights(2, 4, true).lo)).toEqual([1, 0, 0, 0]);
  });
});

describe('sampleVolume: zero-centring', () => {
  it('gives zero mean dx and zero mean dy over the volume, in both layouts', () => {
    const clip = randomClip(5, 30, 40, 5);
    for (const layout of ['3d', '2d'] as const) {
      for (const flip of [false, true]) {
        const options = { frames: 8, start: 3, size: 13, layout, crop: { x: 2, y: 4, w: 23, h: 19 }, flip };
        const raw = sampleVolume(clip, options);
        const centred = sampleVolume(clip, { ...options, zeroCentre: true });
        expect(Math.abs(channelMean(raw, layout, 8, 13, 0))).toBeGreaterThan(1);
        expect(Math.abs(channelMean(centred, layout, 8, 13, 0))).toBeLessThan(1e-5);
        expect(Math.abs(channelMean(centred, layout, 8, 13, 1))).toBeLessThan(1e-5);
        // The same field, shifted by its mean.
        const meanX = channelMean(raw, layout, 8, 13, 0);
        const meanY = channelMean(raw, layout, 8, 13, 1);
        expect(at(centred, layout, 8, 13, 0, 7, 12, 3)).toBeCloseTo(at(raw, layout, 8, 13, 0, 7, 12, 3) - meanX, 4);
        expect(at(centred, layout, 8, 13, 1, 2, 5, 9)).toBeCloseTo(at(raw, layout, 8, 13, 1, 2, 5, 9) - meanY, 4);
      }
    }
  });
});

describe('sampleVolume: int16 quarter-pels', () => {
  it('equals float pixel input divided by 4', () => {
    const rows = 30;
    const cols = 40;
    const frames = 4;
    const q = new Int16Array(frames * 2 * rows * cols);
    let s = 12345;
    for (let i = 0; i < q.length; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      q[i] = (s % 2001) - 1000 + (i % 2 === 0 ? 300 : -100);
    }
    const quarter: MotionClip = { frames, rows, cols, data: q };
    const pixels: MotionClip = { frames, rows, cols, data: Float32Array.from(q, (v) => v / 4) };
    for (const options of [
      { frames: 4, size: 30, layout: '3d' as const },
      { frames: 6, start: 1, size: 24, layout: '3d' as const, crop: { x: 5, y: 2, w: 25, h: 25 }, flip: true, zeroCentre: true },
      { frames: 3, size: 48, layout: '2d' as const, crop: { x: 0, y: 0, w: 15, h: 15 }, zeroCentre: true },
    ]) {
      const a = sampleVolume(quarter, options);
      const b = sampleVolume(pixels, options);
      expect(a).toEqual(b);
    }
    // A quarter-pel value of 6 on the identity resize is 1.5 pixels.
    const one: MotionClip = { frames: 1, rows: 1, cols: 1, data: new Int16Array([6, -2]) };
    expect(Array.from(sampleVolume(one, { frames: 1, size: 1, layout: '2d' }))).toEqual([1.5, -0.5]);
  });
});

describe('sampleVolume: errors', () => {
  const clip = randomClip(3, 30, 40, 1);

  it('rejects frames and size that are not positive integers, naming them', () => {
    expect(() => sampleVolume(clip, { frames: 0, size: 8, layout: '3d' })).toThrow('Expected a positive integer for frames but received 0');
    expect(() => sampleVolume(clip, { frames: 'x' as unknown as number, size: 8, layout: '3d' })).toThrow(
      'Expected a positive integer for frames but received "x"',
    );
    expect(() => sampleVolume(clip, { frames: 2.5, size: 8, layout: '3d' })).toThrow('Expected a positive integer for frames but received 2.5');
    expect(() => sampleVolume(clip, { frames: 4, size: -1, layout: '2d' })).toThrow('Expected a positive integer for size but received -1');
    expect(() => sampleVolume(clip, { frames: 4, size: 8, layout: '2d', start: -1 })).toThrow(
      'Expected a non-negative integer for start but received -1',
    );
  });

  it('rejects a layout other than 3d or 2d', () => {
    expect(() => sampleVolume(clip, { frames: 4, size: 8, layout: '4d' as Layout })).toThrow(
      'Expected one of "3d", "2d" for layout but received "4d"',
    );
  });

  it('rejects a crop outside the grid', () => {
    expect(() => sampleVolume(clip, { frames: 1, size: 8, layout: '3d', crop: { x: 35, y: 0, w: 10, h: 10 } })).toThrow(
      'Expected a crop inside the grid of 30 rows x 40 cols for crop but received {"x":35,"y":0,"w":10,"h":10}',
    );
    expect(() => sampleVolume(clip, { frames: 1, size: 8, layout: '3d', crop: { x: 0, y: 25, w: 10, h: 6 } })).toThrow(/inside the grid of 30 rows x 40 cols/);
    expect(() => sampleVolume(clip, { frames: 1, size: 8, layout: '3d', crop: { x: -1, y: 0, w: 10, h: 10 } })).toThrow(
      'Expected a non-negative integer for crop.x but received -1',
    );
    expect(() => sampleVolume(clip, { frames: 1, size: 8, layout: '3d', crop: { x: 0, y: 0, w: 0, h: 10 } })).toThrow(
      'Expected a positive integer for crop.w but received 0',
    );
    // The whole grid is inside.
    expect(() => sampleVolume(clip, { frames: 1, size: 8, layout: '3d', crop: { x: 0, y: 0, w: 40, h: 30 } })).not.toThrow();
  });

  it('rejects a clip whose data does not match its dimensions', () => {
    const bad: MotionClip = { frames: 2, rows: 3, cols: 4, data: new Float32Array(47) };
    expect(() => sampleVolume(bad, { frames: 1, size: 4, layout: '3d' })).toThrow(
      'Expected clip.data to hold 48 values (2 frames x 2 x 3 rows x 4 cols) but it holds 47',
    );
    const wrongType = { frames: 1, rows: 1, cols: 1, data: [1, 2] } as unknown as MotionClip;
    expect(() => sampleVolume(wrongType, { frames: 1, size: 4, layout: '3d' })).toThrow('Expected a Float32Array or Int16Array for clip.data but received Array');
    expect(() => sampleVolume({ ...clip, rows: 0 }, { frames: 1, size: 4, layout: '3d' })).toThrow('Expected a positive integer for clip.rows but received 0');
  });

  it('throws MvclassError', () => {
    expect(() => sampleVolume(clip, { frames: 0, size: 8, layout: '3d' })).toThrow(MvclassError);
    expect(() => sampleVolume(clip, { frames: 1, size: 8, layout: '5d' as Layout })).toThrow(MvclassError);
  });
});
