import { describe, expect, it } from 'vitest';
import { MvclassError } from '../../src/util/errors.js';
import { centreView, sampleVolume, VolumeLoader } from '../../src/volumes/index.js';
import type { ClipSource, LoaderOptions, MotionClip, VolumeBatch } from '../../src/volumes/index.js';
import { channelMean, randomClip, sleep } from './helpers.js';

const clips = Array.from({ length: 10 }, (_, i) => randomClip(12 + i, 6, 8, 100 + i));

/** An in-memory source that counts clip requests and the clips not yet delivered (in flight). */
function countingSource(count = clips.length, delayMs = 0): ClipSource & { requested: number; pending: number; maxPending: number } {
  const source = {
    length: count,
    requested: 0,
    pending: 0,
    maxPending: 0,
    label: (i: number) => i * 3 + 1,
    async clip(i: number): Promise<MotionClip> {
      source.requested += 1;
      source.pending += 1;
      source.maxPending = Math.max(source.maxPending, source.pending);
      await (delayMs > 0 ? sleep(delayMs) : Promise.resolve());
      source.pending -= 1;
      return clips[i % clips.length]!;
    },
  };
  return source;
}

const base: LoaderOptions = { batchSize: 4, frames: 8, size: 5, layout: '3d' };

async function collect(iterable: AsyncIterable<VolumeBatch>): Promise<VolumeBatch[]> {
  const batches: VolumeBatch[] = [];
  for await (const batch of iterable) batches.push(batch);
  return batches;
}

describe('VolumeLoader: epochs', () => {
  it('yields every index once per epoch, in order without shuffle, with a final partial batch', async () => {
    const loader = new VolumeLoader(countingSource(), base);
    expect(loader.batchesPerEpoch).toBe(3);
    const batches = await collect(loader);
    expect(batches.map((b) => b.indices)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(batches.map((b) => b.shape)).toEqual([
      [4, 2, 8, 5, 5],
      [4, 2, 8, 5, 5],
      [2, 2, 8, 5, 5],
    ]);
    expect(batches[2]!.data).toHaveLength(2 * 2 * 8 * 5 * 5);
    expect(Array.from(batches[2]!.labels)).toEqual([25, 28]);
    expect(batches[0]!.labels).toBeInstanceOf(Int32Array);
  });

  it('drops the final partial batch with dropLast', async () => {
    const loader = new VolumeLoader(countingSource(), { ...base, dropLast: true, shuffle: true, seed: 5 });
    expect(loader.batchesPerEpoch).toBe(2);
    const batches = await collect(loader);
    expect(batches.map((b) => b.indices.length)).toEqual([4, 4]);
    expect(new Set(batches.flatMap((b) => b.indices)).size).toBe(8);
  });

  it('shuffles: every index exactly once per epoch, a different order each epoch', async () => {
    const loader = new VolumeLoader(countingSource(23), { ...base, batchSize: 5, shuffle: true, seed: 9 });
    const orders: number[][] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      const batches = await collect(loader);
      expect(batches.map((b) => b.indices.length)).toEqual([5, 5, 5, 5, 3]);
      const order = batches.flatMap((b) => b.indices);
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
      batches.forEach((b) => expect(Array.from(b.labels)).toEqual(b.indices.map((i) => i * 3 + 1)));
      orders.push(order);
    }
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[1]).not.toEqual(orders[2]);
    expect(orders[0]).toEqual(loader.order(0));
  });

  it('without augmentation, each volume is the zero-centred centre view of the first window', async () => {
    const [batch] = await collect(new VolumeLoader(countingSource(), { ...base, batchSize: 3 }));
    const length = 2 * 8 * 5 * 5;
    for (let k = 0; k < 3; k++) {
      const clip = clips[k]!;
      expect(batch!.data.subarray(k * length, (k + 1) * length)).toEqual(
        sampleVolume(clip, { frames: 8, size: 5, layout: '3d', zeroCentre: true, ...centreView(clip) }),
      );
    }
  });

  it('augments: zero-centred volumes that differ from the centre view, in 2d layout too', async () => {
    const loader = new VolumeLoader(countingSource(), { ...base, layout: '2d', augment: true, seed: 2 });
    const batches = await collect(loader);
    expect(batches[0]!.shape).toEqual([4, 16, 5, 5]);
    const length = 2 * 8 * 5 * 5;
    const first = batches[0]!.data.subarray(0, length);
    expect(Math.abs(channelMean(first, '2d', 8, 5, 0))).toBeLessThan(1e-5);
    expect(Math.abs(channelMean(first, '2d', 8, 5, 1))).toBeLessThan(1e-5);
    const plain = (await collect(new VolumeLoader(countingSource(), { ...base, layout: '2d' })))[0]!.data;
    expect(batches[0]!.data).not.toEqual(plain);
  });
});

describe('VolumeLoader: reproducibility', () => {
  const options: LoaderOptions = { ...base, shuffle: true, augment: true, seed: 1234 };

  it('gives identical batches and orders for the same seed, across epochs and prefetch depths', async () => {
    const a = new VolumeLoader(countingSource(), options);
    const b = new VolumeLoader(countingSource(10, 1), { ...options, prefetch: 0 });
    for (let epoch = 0; epoch < 2; epoch++) {
      const [x, y] = [await collect(a), await collect(b)];
      expect(y.map((batch) => batch.indices)).toEqual(x.map((batch) => batch.indices));
      y.forEach((batch, k) => {
        expect(batch.data).toEqual(x[k]!.data);
        expect(batch.labels).toEqual(x[k]!.labels);
      });
    }
    // epoch(n) replays an epoch on demand.
    const again = await collect(a.epoch(1));
    const fresh = new VolumeLoader(countingSource(), options);
    await collect(fresh);
    const second = await collect(fresh);
    expect(again.map((batch) => batch.indices)).toEqual(second.map((batch) => batch.indices));
    expect(again[0]!.data).toEqual(second[0]!.data);
  });

  it('gives a different order and different volumes for a different seed', async () => {
    const x = await collect(new VolumeLoader(countingSource(), options));
    const y = await collect(new VolumeLoader(countingSource(), { ...options, seed: 1235 }));
    expect(y.map((batch) => batch.indices)).not.toEqual(x.map((batch) => batch.indices));
    // Same clip, different augmentation: find clip 0 in both and compare its volume.
    const volumeOf = (batches: VolumeBatch[], index: number): Float32Array => {
      const batch = batches.find((b) => b.indices.includes(index))!;
      const k = batch.indices.indexOf(index);
      const length = 2 * 8 * 5 * 5;
      return batch.data.subarray(k * length, (k + 1) * length);
    };
    expect(volumeOf(y, 0)).not.toEqual(volumeOf(x, 0));
    // A clip's augmentation depends on (seed, epoch, index), not on the batch it lands in.
    const z = await collect(new VolumeLoader(countingSource(), { ...options, batchSize: 3 }));
    expect(volumeOf(z, 6)).toEqual(volumeOf(x, 6));
  });
});

describe('VolumeLoader: prefetch', () => {
  it('prepares the next `prefetch` batches while the consumer works, and no more', async () => {
    for (const prefetch of [0, 1, 2, 3]) {
      const source = countingSource(22, 1);
      const loader = new VolumeLoader(source, { ...base, prefetch });
      const B = 4;
      let received = 0;
      for await (const batch of loader) {
        received += 1;
        // Held by the consumer: this batch; being prepared: at most `prefetch` more.
        expect(source.requested).toBeLessThanOrEqual(Math.min(22, (received + prefetch) * B));
        expect(source.requested - (received - 1) * B).toBeLessThanOrEqual((prefetch + 1) * B);
        await sleep(15); // the consumer "works"; the loader fills its prefetch queue meanwhile
        expect(source.requested).toBe(Math.min(22, (received + prefetch) * B));
        expect(source.pending).toBe(0); // those clips have arrived and been sampled
        expect(batch.indices.length).toBe(received === 6 ? 2 : 4);
      }
      expect(received).toBe(6);
      expect(source.requested).toBe(22);
      expect(source.maxPending).toBeLessThanOrEqual((prefetch + 1) * B);
    }
  });

  it('stops loading when the consumer stops early', async () => {
    const source = countingSource(40, 1);
    const loader = new VolumeLoader(source, { ...base, prefetch: 2 });
    for await (const batch of loader) {
      expect(batch.indices).toEqual([0, 1, 2, 3]);
      break;
    }
    await sleep(20);
    expect(source.requested).toBe(12); // the batch it took and two prefetched, of 10
  });
});

describe('VolumeLoader: errors', () => {
  it('validates options with the usual messages', () => {
    const source = countingSource();
    expect(() => new VolumeLoader(source, { ...base, batchSize: 0 })).toThrow('Expected a positive integer for batchSize but received 0');
    expect(() => new VolumeLoader(source, { ...base, frames: 'x' as unknown as number })).toThrow(
      'Expected a positive integer for frames but received "x"',
    );
    expect(() => new VolumeLoader(source, { ...base, size: 1.5 })).toThrow('Expected a positive integer for size but received 1.5');
    expect(() => new VolumeLoader(source, { ...base, layout: 'flat' as '2d' })).toThrow(
      'Expected one of "3d", "2d" for layout but received "flat"',
    );
    expect(() => new VolumeLoader(source, { ...base, prefetch: -1 })).toThrow('Expected a non-negative integer for prefetch but received -1');
    expect(() => new VolumeLoader(source, { ...base, seed: 0.5 })).toThrow('Expected an integer for seed but received 0.5');
  });

  it('passes a failing clip on to the consumer, naming the clip for bad data', async () => {
    const failing: ClipSource = {
      length: 8,
      label: () => 0,
      clip: async (i) => {
        if (i === 5) throw new Error('disk on fire');
        return clips[0]!;
      },
    };
    await expect(collect(new VolumeLoader(failing, base))).rejects.toThrow('disk on fire');
    const bad: ClipSource = {
      length: 3,
      label: () => 0,
      clip: async (i) => (i === 2 ? { frames: 2, rows: 2, cols: 2, data: new Float32Array(3) } : clips[0]!),
    };
    const error = await collect(new VolumeLoader(bad, base)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MvclassError);
    expect((error as Error).message).toBe('Clip 2: Expected clip.data to hold 16 values (2 frames x 2 x 2 rows x 2 cols) but it holds 3');
    const badLabel: ClipSource = { length: 2, label: (i) => (i === 1 ? 0.5 : 1), clip: async () => clips[0]! };
    await expect(collect(new VolumeLoader(badLabel, base))).rejects.toThrow('Clip 1: Expected a 32-bit integer for label(1) but received 0.5');
  });
});
