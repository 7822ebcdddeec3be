// The loader's sampling workers (src/volumes/workers.ts): on real footage (clips cut from the
// videos Debian ships), batches sampled on worker threads are the very batches of the loader's own
// thread, epoch after epoch and after a resume's skip; the prefetch that runs across epochs
// changes nothing either; a source that cannot be reopened in a worker is refused, and a worker
// that cannot open its source fails the batch with a message instead of hanging.

import { createHash } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, prepareDataset, VolumeLoader, type VolumeBatch } from '../../src/index.js';
import { PreparedCache } from '../../src/cache/read.js';
import { trainingBatches } from '../../src/nn/inputs.js';
import { fixtures } from '../setup/fixtures.js';
import { motionSet } from '../support/motionset.js';
import { tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-workers-');
const cacheDir = path.join(dir, 'cache');

beforeAll(async () => {
  const { cockatoo, realshort, balle, inertie, vp9 } = fixtures().real;
  const set = await motionSet({ sources: { cockatoo: cockatoo!, realshort: realshort!, balle: balle!, inertie: inertie!, vp9: vp9! }, perClass: 4 });
  await prepareDataset(await openDataset(set, { valFraction: 0.2 }), cacheDir, { qp: 30, size: '160x120', jobs: 2 });
}, 600_000);

const options = { batchSize: 5, frames: 32, size: 24, layout: '3d' as const, shuffle: true, seed: 9, augment: true, scale: 0.5 };

async function take(batches: AsyncGenerator<VolumeBatch>, n: number): Promise<VolumeBatch[]> {
  const out: VolumeBatch[] = [];
  for (let i = 0; i < n; i++) {
    const next = await batches.next();
    if (next.done) break;
    // Shared memory is not copied by the structured clone below: a copy of each batch's values.
    out.push({ ...next.value, data: Float32Array.from(next.value.data), labels: Int32Array.from(next.value.labels) });
  }
  await batches.return(undefined);
  return out;
}

/**
 * Batches as compared: the values by a digest of their bytes (as strict as toEqual on the arrays,
 * which tells -0 from 0, and 40 times faster: element by element it took 11 s here), the rest as is.
 */
function comparable(batches: VolumeBatch[]): Array<Omit<VolumeBatch, 'data' | 'labels'> & { data: string; labels: number[] }> {
  const digest = (values: Float32Array | Int32Array) => createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
  return batches.map((b) => ({ ...b, data: `${b.data.length} values, sha256 ${digest(b.data)}`, labels: Array.from(b.labels) }));
}

describe('sampling on worker threads', () => {
  it('gives the same batches as the loader\'s own thread, across epochs and after a skip', { timeout: 120_000 }, async () => {
    const cache = (await PreparedCache.open(cacheDir)).subset('train');
    try {
      const perEpoch = Math.ceil(cache.length / options.batchSize);
      expect(cache.length).toBeGreaterThan(options.batchSize);
      const inThread = new VolumeLoader(cache, options);
      // epoch(0) then epoch(1), one after the other: what the continuous stream must equal.
      const reference = [...(await take(inThread.epoch(0), perEpoch)), ...(await take(inThread.epoch(1), perEpoch))];
      expect(reference).toHaveLength(2 * perEpoch);
      expect(comparable(await take(inThread.epochs(0, 0), 2 * perEpoch))).toEqual(comparable(reference));
      for (const workers of [1, 3]) {
        const pooled = new VolumeLoader(cache, { ...options, workers, prefetch: 4 });
        try {
          const got = await take(pooled.epochs(0, 0), 2 * perEpoch);
          expect(comparable(got), `${workers} workers`).toEqual(comparable(reference));
          // A resumed run skips the batches it has trained on, into the second epoch.
          expect(comparable(await take(pooled.epochs(0, perEpoch + 1), perEpoch - 1)), `${workers} workers, skip`).toEqual(comparable(reference.slice(perEpoch + 1)));
        } finally {
          await pooled.close();
        }
      }
      // Training's batches (the volumes scaled by the network's motion scale) likewise.
      const config = { model: 'mv3d' as const, classes: cache.classes, frames: 32, size: 24, width: 1, fc: 16, motionStd: 4 };
      const a = await take(trainingBatches(cache, config, 6, 3, 2, 0) as AsyncGenerator<VolumeBatch>, 4);
      const b = await take(trainingBatches(cache, config, 6, 3, 2, 2) as AsyncGenerator<VolumeBatch>, 4);
      expect(comparable(b).map((x) => [x.data, x.labels])).toEqual(comparable(a).map((x) => [x.data, x.labels]));
    } finally {
      await cache.close();
    }
  });

  it('refuses a source a worker cannot reopen, and fails, naming why, when a worker cannot open it', { timeout: 60_000 }, async () => {
    const plain = { length: 2, clip: async () => ({ frames: 1, rows: 2, cols: 2, data: new Float32Array(8) }), label: () => 0 };
    expect(() => new VolumeLoader(plain, { ...options, workers: 2 })).toThrow('Expected a source with workerSource() (how a worker thread opens it) for source');
    expect(() => new VolumeLoader(plain, { ...options, workers: -1 })).toThrow('Expected an integer from 0 to 256 for workers but received -1');
    // The cache goes away after it was opened here: the worker cannot open its own copy.
    const gone = path.join(dir, 'gone');
    cpSync(cacheDir, gone, { recursive: true });
    const cache = await PreparedCache.open(gone);
    rmSync(gone, { recursive: true, force: true });
    const loader = new VolumeLoader(cache, { ...options, workers: 1 });
    try {
      await expect(loader.epochs(0, 0).next()).rejects.toThrow(/^a sampling worker stopped: .*gone/);
    } finally {
      await loader.close();
    }
  });
});
