// Training that cannot hang or go silently wrong: a batch larger than the training set, a
// diverging run (stops with an error, keeps the last finite checkpoint), checkpoints with
// non-finite weights refused by eval and classify, and validation with the best checkpoint kept.

import { existsSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, prepareDataset, synthesizeActionSet } from '../../src/index.js';
import { PreparedCache } from '../../src/cache/read.js';
import { evaluateRun } from '../../src/app/evaluate.js';
import { trainingBatches } from '../../src/nn/inputs.js';
import { CnnModel, type ModelConfig } from '../../src/nn/model.js';
import { trainModel } from '../../src/app/train.js';
import { cli, tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-safety-');
const cache = path.join(dir, 'cache');
const tiny = { frames: 8, size: 16, width: 0.125, fc: 16, threads: 1 } as const;

beforeAll(async () => {
  const set = path.join(dir, 'set');
  await synthesizeActionSet(set, { classes: 3, perClass: 5, seconds: 1, seed: 2 });
  await prepareDataset(await openDataset(set, { valFraction: 0.25 }), cache, { qp: 30 });
}, 180_000);

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Writes NaN into the first value of the first tensor of a checkpoint (an uncompressed zip), fixing its CRCs. */
function poison(file: string): void {
  const zip = readFileSync(file);
  const local = zip.indexOf(Buffer.from('/data/0'));
  const header = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), local);
  const size = zip.readUInt32LE(header + 18);
  const start = header + 30 + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28);
  zip.writeFloatLE(NaN, start);
  const crc = crc32(zip.subarray(start, start + size));
  zip.writeUInt32LE(crc, header + 14);
  const name = zip.subarray(header + 30, header + 30 + zip.readUInt16LE(header + 26));
  for (let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4)) {
    if (zip.subarray(at + 46, at + 46 + name.length).equals(name)) zip.writeUInt32LE(crc, at + 16);
  }
  writeFileSync(file, zip);
}

describe('training on few videos', () => {
  it('every epoch uses each training video once, the last batch smaller; a batch above the set is the whole set', async () => {
    const train = (await PreparedCache.open(cache)).subset('train');
    const n = train.length;
    expect(n).toBeGreaterThanOrEqual(8);
    const config: ModelConfig = { model: 'mv3d', classes: train.classes, ...tiny };
    const sizes = async (batch: number, count: number, skip = 0) => {
      const out: number[] = [];
      const batches = trainingBatches(train, config, batch, 1, skip);
      for (let i = 0; i < count; i++) out.push((await batches.next()).value!.labels.length);
      await batches.return(undefined);
      return out;
    };
    const last = n % 4 || 4;
    expect(await sizes(4, 2 * Math.ceil(n / 4))).toEqual([...Array(Math.ceil(n / 4) - 1).fill(4), last, ...Array(Math.ceil(n / 4) - 1).fill(4), last]);
    expect(await sizes(64, 3)).toEqual([n, n, n]);
    expect(await sizes(64, 2, 1000)).toEqual([n, n]); // resuming far into the run does not loop forever
    const vgg = trainingBatches(train, { ...config, model: 'vgg16', frames: 1, size: 32 }, 64, 1);
    const first = (await vgg.next()).value!;
    expect(first.labels.length).toBe(n);
    expect(first.data.length).toBe(n * 3 * 32 * 32);
    await vgg.return(undefined);
    // Each epoch holds every video once.
    const labels = Array.from((await (async () => (await trainingBatches(train, config, 64, 5).next()).value!.labels)()));
    expect(labels.sort()).toEqual(Array.from({ length: n }, (_, i) => train.label(i)).sort());
    await train.close();
  });

  it('train --batch 64 on a dozen videos finishes for mv3d, mv2d and vgg16', { timeout: 120_000 }, async () => {
    for (const [model, extra] of [
      ['mv3d', []],
      ['mv2d', []],
      ['vgg16', ['--size', '32']],
    ] as const) {
      const out = path.join(dir, `big-batch-${model}`);
      const r = await cli(['train', '--model', model, '--data', cache, '-o', out, '--iterations', '3', '--batch', '64', '--frames', '8', '--size', '16', '--width', '0.125', '--fc', '16', '--threads', '1', ...extra, '--json'], 100_000);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).iterations).toBe(3);
      expect(lines(path.join(out, 'metrics.jsonl')).filter((m) => m.split === undefined).at(-1)!.iteration).toBe(3);
    }
    expect((await cli(['train', '--model', 'mv3d', '--data', cache, '-o', path.join(dir, 'x'), '--warmup', 'x'])).stderr.trim()).toBe(
      'mvclass: Expected a non-negative integer for warmup but received "x"',
    );
    expect((await cli(['train', '--model', 'mv3d', '--data', cache, '-o', path.join(dir, 'x'), '--clip-norm', '-1'])).stderr.trim()).toBe(
      'mvclass: Expected a non-negative number for clip-norm but received "-1"',
    );
  });
});

describe('input normalisation', () => {
  it('motion volumes are divided by the training RMS saved in run.json; a run made before it resumes without', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'norm');
    await trainModel({ model: 'mv3d', data: cache, out, iterations: 2, batch: 4, valEvery: 0, ...tiny });
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run.config.motionStd).toBeGreaterThan(0);
    expect(run.input.normalisation).toEqual({ std: run.config.motionStd });
    // The batches the network sees have unit RMS over the clips the statistic was measured on.
    const train = (await PreparedCache.open(cache)).subset('train');
    const batch = (await trainingBatches(train, run.config as ModelConfig, 64, 1).next()).value!;
    const rms = Math.sqrt(batch.data.reduce((a: number, v: number) => a + v * v, 0) / batch.data.length);
    expect(rms).toBeGreaterThan(0.5);
    expect(rms).toBeLessThan(2);
    await train.close();
    // An older run (no motionStd) resumes as it was trained: unnormalised.
    delete run.config.motionStd;
    run.input.normalisation = null;
    writeFileSync(path.join(out, 'run.json'), JSON.stringify(run));
    const r = await trainModel({ model: 'mv3d', data: cache, out, iterations: 4, batch: 4, valEvery: 0, resume: true, ...tiny });
    expect(r.resumedFrom).toBe(2);
    const after = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(after.config.motionStd).toBeUndefined();
    expect(after.input.normalisation).toBeNull();
  });
});

describe('divergence and non-finite weights', () => {
  it('a diverging run stops with an error naming the iteration, and keeps only finite checkpoints', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'diverge');
    const error = await trainModel({ model: 'mv3d', data: cache, out, iterations: 20, batch: 4, lr: 1e9, checkpointEvery: 1, valEvery: 0, ...tiny }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/diverge: training diverged at iteration (\d+): the (loss is (NaN|Infinity)|gradients are not finite)/);
    const at = Number(/iteration (\d+)/.exec(error!.message)![1]);
    expect(at).toBeGreaterThan(1);
    expect(at).toBeLessThan(20);
    expect(error!.message).toContain(`model.pt holds the last finite checkpoint (iteration ${at - 1})`);
    const metrics = lines(path.join(out, 'metrics.jsonl'));
    expect(metrics.at(-1)).toMatchObject({ iteration: at, diverged: true });
    expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).iteration).toBe(at - 1);
    // What is on disk has finite weights (loading checks every tensor).
    await expect(CnnModel.open(out, { threads: 1 })).resolves.toBeInstanceOf(CnnModel);

    const r = await cli(['train', '--model', 'mv3d', '--data', cache, '-o', path.join(dir, 'diverge-cli'), '--iterations', '20', '--batch', '4', '--lr', '1e9', '--frames', '8', '--size', '16', '--width', '0.125', '--fc', '16', '--threads', '1']);
    expect(r.code).toBe(1);
    const message = r.stderr.trim().split('\n');
    expect(message).toHaveLength(1);
    expect(message[0]).toMatch(/^mvclass: .*diverge-cli: training diverged at iteration \d+: .* Try a lower --lr/);
  });

  it('eval and classify refuse a checkpoint with non-finite weights', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'finite');
    await trainModel({ model: 'mv3d', data: cache, out, iterations: 2, batch: 4, valEvery: 0, ...tiny });
    const bad = path.join(dir, 'poisoned');
    cpSync(out, bad, { recursive: true });
    poison(path.join(bad, 'model.pt'));
    await expect(CnnModel.open(bad, { threads: 1 })).rejects.toThrow(/model\.pt: cannot load the checkpoint .*weights are not finite \(NaN or infinite values in features\.0\.weight\)/);
    const e = await cli(['eval', '--run', bad, '--data', cache, '--views', '1x1']);
    expect(e.code).toBe(1);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(/weights are not finite/);
    const video = (await PreparedCache.open(cache)).video(0).path;
    const c = await cli(['classify', video, '--run', bad]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/weights are not finite/);
    // The untouched run still evaluates.
    expect((await cli(['eval', '--run', out, '--data', cache, '--views', '1x1', '--json'])).code).toBe(0);
  });
});

describe('validation while training', () => {
  it('scores the val split at each checkpoint, keeps the best as best.pt, and eval --checkpoint best uses it', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'val');
    const seen: number[] = [];
    const r = await trainModel({ model: 'mv3d', data: cache, out, iterations: 12, batch: 4, checkpointEvery: 4, ...tiny, onValidation: (v) => seen.push(v.iteration) });
    expect(seen).toEqual([4, 8, 12]);
    const val = lines(path.join(out, 'metrics.jsonl')).filter((m) => m.split === 'val');
    expect(val.map((m) => m.iteration)).toEqual([4, 8, 12]);
    const top = Math.max(...val.map((m) => m.top1 as number));
    const bestAt = val.find((m) => m.top1 === top)!.iteration;
    expect(r.best).toEqual({ iteration: bestAt, top1: top });
    expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).best).toEqual({ iteration: bestAt, top1: top });
    expect(existsSync(path.join(out, 'best.pt'))).toBe(true);
    // best.pt is the network that scored `top` on the val split with one view per video.
    const again = await evaluateRun({ run: out, data: cache, split: 'val', temporal: 1, crops: 1, checkpoint: 'best', threads: 1 });
    expect(again.top1).toBe(top);
    const c = await cli(['eval', '--run', out, '--data', cache, '--split', 'val', '--views', '1x1', '--checkpoint', 'best', '--json']);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).top1).toBe(top);
    expect((await cli(['eval', '--run', out, '--data', cache, '--checkpoint', 'first'])).stderr.trim()).toBe(
      'mvclass: Expected one of "last", "best" for checkpoint but received "first"',
    );
  });
});
