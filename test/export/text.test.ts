// extract writes CSV and JSON rows formatted by the codec addon (csvText, jsonText); csvRows and
// jsonFrames are the same formats in TypeScript. The two must give the same bytes for every
// value a column can hold, and the addon must reject bad arguments instead of reading past them.

import { describe, expect, it } from 'vitest';
import type { DecodedBatch, FrameMeta, MotionVectors } from '../../src/codec/decode.js';
import { codecAddon } from '../../src/codec/native.js';
import { csvRows, csvText } from '../../src/export/csv.js';
import { jsonFrames, jsonText } from '../../src/export/json.js';
import { TextBuffers } from '../../src/export/text.js';
import { mulberry32 } from '../../src/util/random.js';

const random = mulberry32(11);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
/** Mostly the small values real vectors have, often each type's extremes. */
const intOf = (min: number, max: number) => (random() < 0.2 ? pick([min, max, 0, -1, 1].filter((v) => v >= min)) : Math.round(min + random() * (max - min)));
const FLAGS = [0n, 1n, 0xffn, 0x8000000000000000n, 0xffffffffffffffffn, 0x123456789abcdefn];

function batchOf(counts: number[], refPoc: boolean, firstIndex = 0): DecodedBatch {
  const n = counts.reduce((a, b) => a + b, 0);
  const column = <A extends { [i: number]: number }>(array: A, min: number, max: number) => {
    for (let i = 0; i < n; i++) array[i] = intOf(min, max);
    return array;
  };
  const flags = new BigUint64Array(n);
  for (let i = 0; i < n; i++) flags[i] = random() < 0.7 ? 0n : random() < 0.5 ? pick(FLAGS) : BigInt(intOf(0, 2 ** 31));
  const vectors: MotionVectors = {
    length: n,
    source: column(new Int8Array(n), -128, 127),
    w: column(new Uint8Array(n), 0, 255),
    h: column(new Uint8Array(n), 0, 255),
    srcX: column(new Int16Array(n), -32768, 32767),
    srcY: column(new Int16Array(n), -32768, 32767),
    dstX: column(new Int16Array(n), -32768, 32767),
    dstY: column(new Int16Array(n), -32768, 32767),
    flags,
    motionX: column(new Int32Array(n), -(2 ** 31), 2 ** 31 - 1),
    motionY: column(new Int32Array(n), -(2 ** 31), 2 ** 31 - 1),
    motionScale: column(new Uint16Array(n), 0, 65535),
    ...(refPoc ? { refPoc: column(new Int32Array(n), -(2 ** 31), 2 ** 31 - 1) } : {}),
  };
  const vectorStart = new Uint32Array(counts.length);
  for (let f = 1; f < counts.length; f++) vectorStart[f] = vectorStart[f - 1]! + counts[f - 1]!;
  const frames: FrameMeta[] = counts.map((_, f) => ({ index: firstIndex + f, pts: (firstIndex + f) / 25, type: pick(['I', 'P', 'B'] as const), key: f === 0, bits: intOf(0, 1e6) }));
  return { frames, vectors, vectorStart, vectorCount: Uint32Array.from(counts), magnitude: new Float64Array(counts.length), keyFrames: [] };
}

describe('CSV and JSON rows from the addon equal the TypeScript formatting', () => {
  it('CSV: every column over its whole range, frames without vectors, large frame numbers', async () => {
    for (const [counts, first] of [
      [[0, 3000, 1, 0, 2500], 0],
      [[1], 2 ** 31],
      [[700, 0, 800], 9_007_199_254_740_000],
    ] as Array<[number[], number]>) {
      const batch = batchOf(counts, false, first);
      const expected = csvRows(batch);
      expect(expected.length).toBeGreaterThan(0);
      expect((await csvText(batch)).equals(expected)).toBe(true);
    }
  });

  it('JSON: the first batch and later ones, with and without refPoc (HEVC)', async () => {
    for (const refPoc of [false, true]) {
      const batch = batchOf([0, 2000, 3, 0, 1500], refPoc);
      for (const first of [true, false]) {
        const expected = jsonFrames(batch, first);
        const actual = await jsonText(batch, first);
        expect(actual.toString('latin1')).toBe(expected.toString('latin1'));
      }
    }
  });

  it('an empty batch gives no rows', async () => {
    const batch = batchOf([0, 0], false);
    expect((await csvText(batch)).length).toBe(0);
    expect((await jsonText(batch, false)).toString()).toBe(jsonFrames(batch, false).toString());
  });
});

describe('text formatted into reused buffers (TextBuffers)', () => {
  it('a buffer too small: the text moves to memory of its own mid-batch, and later buffers fit', async () => {
    const batch = batchOf([0, 3000, 1, 0, 2500], true);
    const buffers = new TextBuffers(100); // a few rows fit; the rest spill over
    for (const format of ['csv', 'json'] as const) {
      const expected = format === 'csv' ? csvRows(batch) : jsonFrames(batch, false);
      const spilled = format === 'csv' ? await csvText(batch, buffers) : await jsonText(batch, false, buffers);
      expect(spilled.equals(expected)).toBe(true);
      const fitted = format === 'csv' ? await csvText(batch, buffers) : await jsonText(batch, false, buffers);
      expect(fitted.equals(expected)).toBe(true);
      expect(fitted.buffer.byteLength).toBeGreaterThan(expected.length); // one of the pool's, not a fresh Buffer
      buffers.give(fitted);
    }
  });

  it('a buffer given back is written again, and the new text is whole', async () => {
    const buffers = new TextBuffers(1 << 20);
    const a = batchOf([2000, 2000], false);
    const b = batchOf([500], false, 7);
    const textA = await csvText(a, buffers);
    expect(textA.equals(csvRows(a))).toBe(true);
    const memory = textA.buffer;
    buffers.give(textA);
    const textB = await csvText(b, buffers);
    expect(textB.buffer).toBe(memory);
    expect(textB.equals(csvRows(b))).toBe(true);
    // A buffer that is not the pool's is never taken in.
    buffers.give(textB);
    buffers.give(Buffer.alloc(4 << 20));
    expect((await jsonText(a, true, buffers)).buffer).toBe(memory);
  });
});

describe('formatText rejects bad arguments', () => {
  const batch = batchOf([5, 5], false);
  const v = batch.vectors!;
  const numbers = new Float64Array([1, 2]);
  const addon = codecAddon();
  const call = (...args: unknown[]) => (addon.formatText as (...a: unknown[]) => Promise<Buffer>)(...args);

  it('with a rejected promise naming the problem, never a throw', async () => {
    const cases: Array<[unknown[], RegExp]> = [
      [['xml', v, batch.vectorStart, batch.vectorCount, numbers], /format must be csv or json/],
      [['csv', { ...v, srcX: new Int32Array(10) }, batch.vectorStart, batch.vectorCount, numbers], /column srcX is missing or of the wrong type/],
      [['csv', { ...v, flags: undefined }, batch.vectorStart, batch.vectorCount, numbers], /column flags/],
      [['csv', { ...v, dstY: new Int16Array(9) }, batch.vectorStart, batch.vectorCount, numbers], /column dstY differs in length/],
      [['csv', v, new Uint32Array([0, 6]), batch.vectorCount, numbers], /frame 1's vectors lie past the columns' end/],
      [['csv', v, new Uint32Array([0, 2 ** 32 - 1]), batch.vectorCount, numbers], /frame 1's vectors lie past/],
      [['csv', v, batch.vectorStart, new Uint32Array([5]), numbers], /differ in length/],
      [['csv', v, batch.vectorStart, batch.vectorCount, new Float64Array([1])], /one frame number per frame/],
      [['csv', v, batch.vectorStart, batch.vectorCount, new Float64Array([1, 0.5])], /safe integers/],
      [['csv', v, batch.vectorStart, batch.vectorCount, new Float64Array([1, NaN])], /safe integers/],
      [['json', v, batch.vectorStart, batch.vectorCount, ['a']], /one text per frame/],
      [['json', v, batch.vectorStart, batch.vectorCount, ['a', 2]], /formatText\(/],
      [['csv'], /formatText\(/],
      [['csv', v, batch.vectorStart, batch.vectorCount, numbers, new Uint16Array(64)], /into\?: Uint8Array/],
    ];
    for (const [args, message] of cases) {
      let promise: Promise<Buffer> | undefined;
      expect(() => {
        promise = call(...args);
      }).not.toThrow();
      await expect(promise).rejects.toThrow(message);
    }
  });
});
