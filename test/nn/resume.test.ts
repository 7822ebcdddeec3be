// A run folder holds every setting it was trained with: `train --resume -o <run>` needs nothing
// else and ends where an uninterrupted run does; settings given again must agree; a new run into
// an existing one refuses unless --force; a refused --device cuda leaves no folder.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, prepareDataset, synthesizeActionSet } from '../../src/index.js';
import { CnnModel } from '../../src/nn/model.js';
import { trainModel } from '../../src/app/train.js';
import { cli, tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-resume-');
const cache = path.join(dir, 'cache');
const tiny = { model: 'mv3d' as const, data: cache, frames: 8, size: 16, width: 0.125, fc: 16, batch: 4, lr: 0.02, lrStep: 3, threads: 1, seed: 2, valEvery: 0 };
const flags = ['--model', 'mv3d', '--data', cache, '--frames', '8', '--size', '16', '--width', '0.125', '--fc', '16', '--batch', '4', '--lr', '0.02', '--lr-step', '3', '--threads', '1', '--seed', '2', '--val-every', '0'];

beforeAll(async () => {
  const set = path.join(dir, 'set');
  await synthesizeActionSet(set, { classes: 2, perClass: 4, seconds: 1, seed: 3 });
  await prepareDataset(await openDataset(set, { valFraction: 0.25 }), cache, { qp: 30 });
}, 180_000);

const x = new Float32Array(2 * 2 * 8 * 16 * 16).map((_, i) => Math.sin(i));
const predict = async (run: string) => Array.from(await (await CnnModel.open(run, { threads: 1 })).predict(x));
const runJson = (run: string) => JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as { iteration: number; training: Record<string, unknown> };

describe('train --resume and --force', () => {
  it('run.json holds every training setting; --resume -o <run> alone continues to the end, as an uninterrupted run', { timeout: 120_000 }, async () => {
    const whole = path.join(dir, 'whole');
    await trainModel({ ...tiny, out: whole, iterations: 6 });
    expect(runJson(whole).training).toMatchObject({ iterations: 6, batch: 4, lr: 0.02, lrStep: 3, valEvery: 0, seed: 2, threads: 1, device: 'cpu', data: path.resolve(cache) });
    // Interrupted after the checkpoint at iteration 3 of 6.
    const parts = path.join(dir, 'parts');
    const stop = new Error('interrupted');
    await expect(trainModel({ ...tiny, out: parts, iterations: 6, checkpointEvery: 3, onProgress: (s) => { if (s.iteration === 3) throw stop; } })).rejects.toBe(stop);
    expect(runJson(parts).iteration).toBe(3);
    const printed = await cli(['train', '--resume', '-o', parts, '--print-config']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('iterations: 6\n');
    const r = await cli(['train', '--resume', '-o', parts, '--json'], 100_000);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('mvclass:'))).toEqual([]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ iterations: 6, resumedFrom: 3 });
    expect(runJson(parts).iteration).toBe(6);
    expect(await predict(parts)).toEqual(await predict(whole));
    // Complete: nothing to do without more iterations.
    const done = await cli(['train', '--resume', '-o', parts]);
    expect(done.code).toBe(2);
    expect(done.stderr.trim()).toBe(`mvclass: ${parts}: the run is at iteration 6 of 6: it is complete; give --iterations above 6 to train further`);
  });

  it('equal training gives equal checkpoint bytes (SGD and Adam): model.pt and best.pt, the optimiser state in the parameters\' order', { timeout: 120_000 }, async () => {
    // Before: libtorch named each parameter's optimiser state after its TensorImpl's address and
    // wrote them in hash-map order, and named the zip's folder after the temporary file, so two
    // equal runs (even in one process) gave different bytes.
    for (const optimizer of ['sgd', 'adam'] as const) {
      const [a, b] = ['a', 'b'].map((n) => path.join(dir, `bytes-${optimizer}-${n}`));
      const settings = { ...tiny, iterations: 4, optimizer, valEvery: 2, checkpointEvery: 2 };
      const ra = await trainModel({ ...settings, out: a! });
      const rb = await trainModel({ ...settings, out: b! });
      expect(rb.best, optimizer).toEqual(ra.best);
      for (const file of ['model.pt', 'best.pt']) {
        const bytes = readFileSync(path.join(a!, file));
        expect(bytes.length, `${optimizer} ${file}`).toBeGreaterThan(10_000);
        expect(bytes.equals(readFileSync(path.join(b!, file))), `${optimizer} ${file}`).toBe(true);
      }
    }
  });

  it('best.pt holds the best validation\'s state: the bytes a run stopped at that iteration leaves as model.pt (there best.pt is a second name of model.pt)', { timeout: 120_000 }, async () => {
    const settings = { ...tiny, iterations: 8, valEvery: 1, checkpointEvery: 1 };
    const whole = path.join(dir, 'best-whole');
    const r = await trainModel({ ...settings, out: whole });
    expect(r.best).not.toBeNull();
    const at = r.best!.iteration;
    const stopped = path.join(dir, 'best-stopped');
    const stop = new Error('stopped');
    await expect(trainModel({ ...settings, out: stopped, onProgress: (s) => { if (s.iteration === at) throw stop; } })).rejects.toBe(stop);
    expect(runJson(stopped).iteration).toBe(at);
    expect(readFileSync(path.join(whole, 'best.pt')).equals(readFileSync(path.join(stopped, 'model.pt')))).toBe(true);
    expect(readFileSync(path.join(whole, 'best.pt')).equals(readFileSync(path.join(whole, 'model.pt')))).toBe(at === 8);
  });

  it('settings given with --resume must agree with the run; iterations, threads and the device may change', { timeout: 120_000 }, async () => {
    const parts = path.join(dir, 'parts');
    const lr = await cli(['train', '--resume', '-o', parts, '--lr', '0.1', '--iterations', '8']);
    expect(lr.code).toBe(2);
    expect(lr.stderr.trim()).toBe(
      `mvclass: --lr gives lr 0.1 but the run in ${parts} was trained with 0.02 (${parts}/run.json); a resumed run keeps its settings: drop it, or start a new run (another -o, or --force to replace this one)`,
    );
    const preset = await cli(['train', '--resume', '-o', parts, '--preset', 'cpu']);
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/^mvclass: the cpu preset gives (batch|lr-step|frames|size|width|fc) .* but the run in /);
    const file = path.join(dir, 'resume.yaml');
    writeFileSync(file, 'train:\n  mv3d: { fc: 32 }\n');
    const fromFile = await cli(['train', '--resume', '-o', parts, '--config', file]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`mvclass: ${file} (train.mv3d.fc) gives fc 32 but the run in ${parts} was trained with 16`);
    // The same values again are fine, and more iterations train further.
    const more = await cli(['train', '--resume', '-o', parts, ...flags, '--iterations', '7', '--threads', '2', '--json'], 100_000);
    expect(more.code).toBe(0);
    expect(JSON.parse(more.stdout)).toMatchObject({ iterations: 7, resumedFrom: 6 });
    expect(runJson(parts).training).toMatchObject({ iterations: 7, threads: 2 });
    const nothing = await cli(['train', '--resume', '-o', path.join(dir, 'none')]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr.trim()).toBe(`mvclass: ${path.join(dir, 'none')}: nothing to resume (no run.json)`);
  });

  it('train into an existing run refuses without --force, and --force replaces it', { timeout: 120_000 }, async () => {
    const run = path.join(dir, 'replace');
    expect((await cli(['train', ...flags, '-o', run, '--iterations', '4'], 100_000)).code).toBe(0);
    writeFileSync(path.join(run, 'best.pt'), 'a stale best checkpoint');
    const before = readFileSync(path.join(run, 'model.pt'));
    const refused = await cli(['train', ...flags, '-o', run, '--iterations', '2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(`mvclass: ${run}: already holds a training run (at iteration 4); continue it with --resume, or replace it with --force`);
    expect(readFileSync(path.join(run, 'model.pt')).equals(before)).toBe(true);
    expect(runJson(run).iteration).toBe(4);
    // The library refuses too.
    await expect(trainModel({ ...tiny, out: run, iterations: 2 })).rejects.toThrow(`${run}: already holds a training run (at iteration 4)`);
    const forced = await cli(['train', ...flags, '-o', run, '--iterations', '2', '--force', '--json'], 100_000);
    expect(forced.code).toBe(0);
    expect(runJson(run).iteration).toBe(2);
    expect(runJson(run).training.iterations).toBe(2);
    expect(existsSync(path.join(run, 'best.pt'))).toBe(false);
    const metrics = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(metrics.at(-1)!).iteration).toBe(2);
    const both = await cli(['train', ...flags, '-o', run, '--resume', '--force']);
    expect(both.code).toBe(2);
  });

  it('a refused --device cuda leaves no run folder', { timeout: 60_000 }, async () => {
    const run = path.join(dir, 'cuda', 'run');
    const r = await cli(['train', ...flags, '-o', run, '--iterations', '2', '--device', 'cuda']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no usable CUDA device/);
    expect(existsSync(path.join(dir, 'cuda'))).toBe(false);
  });

  it("the paper preset's vgg16 on a cache of small key frames: a clear refusal, no folder", { timeout: 60_000 }, async () => {
    const run = path.join(dir, 'vgg16');
    const r = await cli(['train', '--preset', 'paper', '--model', 'vgg16', '--data', cache, '-o', run, '--threads', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`mvclass: ${cache}: the key frames are 112x112, smaller than the input side 224: give a smaller --size, or prepare with a larger --key-size`);
    expect(existsSync(run)).toBe(false);
  });
});
