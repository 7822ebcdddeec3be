// cnn-lstm end to end: prepare --rgb, train (library and command line), eval, fuse, classify, exact
// resume, the refusals; learning on the synthetic action set and on real footage (x3d-s too).

import { existsSync, readdirSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, prepareDataset } from '../../src/index.js';
import { CnnModel } from '../../src/nn/model.js';
import type { StateTensor } from '../../src/nn/native.js';
import { evaluateRun } from '../../src/app/evaluate.js';
import { trainModel } from '../../src/app/train.js';
import { fixtures } from '../setup/fixtures.js';
import { cli, LEARNING_THREADS, tempDir } from '../setup/helpers.js';
import { motionSet } from '../support/motionset.js';
import { actionSet, resnet18OnClips, RESNET18_ON_CLIPS } from '../support/actionset.js';

const dir = tempDir('mvclass-cnn-lstm-train-');
let set = '';
const clips = path.join(dir, 'clips');
const plain = path.join(dir, 'plain');
const valuesOf = (state: StateTensor[]) => Object.fromEntries(state.map((t) => [t.name, Array.from(t.values)]));
const losses = (run: string) =>
  readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number }).filter((m) => m.loss !== undefined).map((m) => m.loss!);

beforeAll(async () => {
  // The synthetic action set of test/support/actionset.ts (walk, run, jump, wave; 40 clips of 1 s
  // each), a quarter held out; clips of 8 frames at short side 128 (170x128).
  set = await actionSet();
  await prepareDataset(await openDataset(set, { testFraction: 0.25 }), clips, { qp: 30, rgb: 8, shortSide: 128, jobs: 2 });
  await prepareDataset(await openDataset(set, { testFraction: 0.25 }), plain, { qp: 30, keySize: '112x112', jobs: 2 });
}, 240_000);

// Real footage for the clip networks (test/support/motionset.ts: camera-motion classes cut from
// Debian's videos), 4-frame clips at short side 64 (86x64), prepared once per set for the tests below.
async function realSubset(name: string, classes: readonly string[], perClass: number, split: { testFraction?: number; valFraction?: number }): Promise<{ cache: string; seconds: number }> {
  const { cockatoo, realshort, balle, inertie, vp9 } = fixtures().real;
  const real = await motionSet({ sources: { cockatoo: cockatoo!, realshort: realshort!, balle: balle!, inertie: inertie!, vp9: vp9! }, perClass: 50 });
  const few = path.join(dir, name);
  for (const cls of classes) {
    mkdirSync(path.join(few, cls), { recursive: true });
    for (const file of readdirSync(path.join(real, cls)).sort().slice(0, perClass)) copyFileSync(path.join(real, cls, file), path.join(few, cls, file));
  }
  const cache = `${few}-cache`;
  const t0 = performance.now();
  await prepareDataset(await openDataset(few, split), cache, { qp: 30, size: '160x120', rgb: 4, shortSide: 64, jobs: 2 });
  return { cache, seconds: (performance.now() - t0) / 1000 };
}

// 3 classes x 12 clips (27 train, 9 held out): still, shake, zoom-in.
let realCache: Promise<{ cache: string; seconds: number }> | undefined;
const realFootage = () => (realCache ??= realSubset('real', ['still', 'shake', 'zoom-in'], 12, { testFraction: 0.25 }));

// The classes a per-frame backbone can tell apart (docs/training.md, "Clip networks on held-out
// clips"): still, zoom-in, zoom-out, all 50 clips of each (102 train, 18 val, 30 held out).
let zoomCache: Promise<{ cache: string; seconds: number }> | undefined;
const zoomFootage = () => (zoomCache ??= realSubset('zoom', ['still', 'zoom-in', 'zoom-out'], 50, { valFraction: 0.15 }));

describe('cnn-lstm on the command line', () => {
  it('train (frames default: the cache\'s 8), eval --json, eval --save-scores + fuse, classify: one path for a clip network', { timeout: 120_000 }, async () => {
    const run = path.join(dir, 'cli');
    const t = await cli(['train', '--model', 'cnn-lstm', '--data', clips, '-o', run, '--iterations', '3', '--batch', '4', '--optimizer', 'adam', '--lr', '0.001', '--seed', '3', '--size', '64', '--width', '0.125', '--fc', '32', '--threads', String(LEARNING_THREADS), '--json'], 100_000);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ iterations: 3 });
    const saved = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
    expect(saved.config).toEqual({ model: 'cnn-lstm', classes: ['jump', 'run', 'walk', 'wave'], frames: 8, size: 64, width: 0.125, fc: 32, backbone: 'resnet18' });
    expect(saved.input.normalisation).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    const e = await cli(['eval', '--run', run, '--data', clips, '--split', 'test', '--views', '1x1', '--threads', String(LEARNING_THREADS), '--json'], 100_000);
    expect(e.code, e.stderr).toBe(0);
    const report = JSON.parse(e.stdout);
    expect(report).toMatchObject({ model: 'cnn-lstm', videos: 40, views: '1 crops' });
    expect(report.top1).toBeGreaterThanOrEqual(0);
    expect(report.top1).toBeLessThanOrEqual(1);
    const scores = path.join(dir, 'cnn-lstm-scores.json');
    const s = await cli(['eval', '--run', run, '--data', clips, '--views', '1x10', '--threads', String(LEARNING_THREADS), '--save-scores', scores, '--json'], 100_000);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).views).toBe('10 crops');
    const f = await cli(['fuse', scores, scores, '--json']);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout).top1).toBeCloseTo(JSON.parse(s.stdout).top1, 10);
    // classify decodes the video's 8-frame clip as prepare --rgb 8 --short-side 128 did.
    const video = path.join(set, 'wave', readdirSync(path.join(set, 'wave')).sort()[0]!);
    const c = await cli(['classify', video, '--run', run, '--views', '1x1', '--threads', String(LEARNING_THREADS), '--json'], 100_000);
    expect(c.code, c.stderr).toBe(0);
    const result = JSON.parse(c.stdout);
    expect(result.streams).toHaveLength(1);
    expect(result.streams[0].model).toBe('cnn-lstm');
    expect(result.top5.map((x: { class: string }) => x.class).sort()).toEqual(['jump', 'run', 'walk', 'wave']);
    expect(result.top5.reduce((sum: number, x: { probability: number }) => sum + x.probability, 0)).toBeCloseTo(1, 5);
    const cached = JSON.parse(readFileSync(scores, 'utf8')) as { model: string; videos: Array<{ scores: number[] }> };
    expect([cached.model, cached.videos.length, cached.videos[0]!.scores.length]).toEqual(['cnn-lstm', 40, 4]);
  });

  it('refusals: a cache without clips, --backbone on a frame network, an unknown backbone, more frames than a clip may hold, a size above the clips\'', { timeout: 60_000 }, async () => {
    const run = path.join(dir, 'refused');
    const noClips = await cli(['train', '--model', 'cnn-lstm', '--data', plain, '-o', run, '--iterations', '1', '--threads', '1']);
    expect([noClips.code, noClips.stderr.trim()]).toEqual([1, `mvclass: ${plain}: cnn-lstm takes decoded-frame clips and this cache has none: prepare it with --rgb T (and --short-side S)`]);
    expect(existsSync(run)).toBe(false);
    const frame = await cli(['train', '--model', 'resnet18', '--backbone', 'resnet34', '--data', clips, '-o', run, '--iterations', '1', '--threads', '1']);
    expect([frame.code, frame.stderr.trim()]).toEqual([2, 'mvclass: --backbone is cnn-lstm\'s; resnet18 has none']);
    const unknown = await cli(['train', '--model', 'cnn-lstm', '--backbone', 'vgg16', '--data', clips, '-o', run, '--iterations', '1']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, 'mvclass: Expected one of "resnet18", "resnet34", "resnet50", "resnet101", "resnet152" for backbone but received "vgg16"']);
    const many = await cli(['train', '--model', 'cnn-lstm', '--frames', '2000', '--data', clips, '-o', run, '--iterations', '1']);
    expect([many.code, many.stderr.trim()]).toEqual([2, 'mvclass: Expected an integer from 1 to 1024 for frames but received 2000']);
    const big = await cli(['train', '--model', 'cnn-lstm', '--size', '160', '--data', clips, '-o', run, '--iterations', '1']);
    expect([big.code, big.stderr.trim()]).toEqual([2, `mvclass: ${clips}: the clips' frames are 170x128, smaller than the input side 160: give a smaller --size, or prepare with a larger --short-side`]);
    expect(existsSync(run)).toBe(false);
    // A clip network's run scored on a cache without clips.
    await expect(evaluateRun({ run: path.join(dir, 'cli'), data: plain, temporal: 1, crops: 1, threads: 1 })).rejects.toThrow(`${plain}: cnn-lstm takes decoded-frame clips and this cache has none: prepare it with --rgb T (and --short-side S)`);
  });

  it('train --init <resnet run>: the frame network\'s weights start the backbone (its depth and width), the rest is new; other networks and another depth are refused', { timeout: 120_000 }, async () => {
    const frame = path.join(dir, 'frame-resnet');
    await trainModel({ model: 'resnet18', data: clips, out: frame, size: 64, width: 0.125, iterations: 2, batch: 4, optimizer: 'adam', lr: 0.001, threads: LEARNING_THREADS, seed: 4, valEvery: 0 });
    const run = path.join(dir, 'from-frames');
    // A learning rate so small that one step leaves the parameters where the import put them.
    const t = await cli(['train', '--model', 'cnn-lstm', '--init', frame, '--data', clips, '-o', run, '--iterations', '1', '--batch', '2', '--frames', '2', '--size', '64', '--fc', '32', '--optimizer', 'adam', '--lr', '1e-12', '--threads', String(LEARNING_THREADS), '--json'], 100_000);
    expect(t.code, t.stderr).toBe(0);
    const source = valuesOf(await (await CnnModel.open(frame, { threads: 1 })).state());
    const state = await (await CnnModel.open(run, { threads: 1 })).state();
    const backbone = state.filter((x) => x.name.startsWith('encoder.resnet.'));
    // Every backbone tensor (parameters and batch norm buffers) came from the frame run; the fc layers, LSTM and head did not.
    expect(JSON.parse(t.stdout).init).toEqual({ run: frame, loaded: backbone.length, skipped: state.length - backbone.length });
    const saved = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
    expect(saved.config).toMatchObject({ model: 'cnn-lstm', width: 0.125, backbone: 'resnet18', fc: 32 });
    expect(saved.training.init).toBe(path.resolve(frame));
    for (const name of ['conv1.weight', 'layer2.0.downsample.0.weight', 'layer4.1.bn2.bias']) {
      const mine = Array.from(backbone.find((x) => x.name === `encoder.resnet.${name}`)!.values);
      expect(mine.length).toBe(source[name]!.length);
      mine.forEach((v, i) => expect(Math.abs(v - source[name]![i]!)).toBeLessThan(1e-6));
    }
    const x3d = await cli(['train', '--model', 'x3d-s', '--init', frame, '--data', clips, '-o', path.join(dir, 'x3d-from-frames'), '--iterations', '1']);
    expect([x3d.code, x3d.stderr.trim()]).toEqual([2, `mvclass: ${frame}: a resnet18 run cannot start a x3d-s network (give --model resnet18)`]);
    const deeper = await cli(['train', '--model', 'cnn-lstm', '--backbone', 'resnet34', '--init', frame, '--data', clips, '-o', path.join(dir, 'deeper'), '--iterations', '1']);
    expect([deeper.code, deeper.stderr.trim()]).toEqual([2, `mvclass: ${frame}: a resnet18 run cannot start a resnet34 backbone (drop --backbone, or give --backbone resnet18)`]);
    const lstm = await cli(['train', '--model', 'resnet18', '--init', run, '--data', clips, '-o', path.join(dir, 'back'), '--iterations', '1']);
    expect([lstm.code, lstm.stderr.trim()]).toEqual([2, `mvclass: ${run}: a cnn-lstm run cannot start a resnet18 network (give --model cnn-lstm)`]);
  });

  it('train --resume ends where an uninterrupted run does (weights, running statistics, Adam state), and T above the stored 8 repeats frames', { timeout: 60_000 }, async () => {
    const settings = { model: 'cnn-lstm' as const, data: clips, size: 64, width: 0.125, fc: 32, frames: 12, batch: 4, optimizer: 'adam' as const, lr: 0.001, lrStep: 3, threads: 1, seed: 2, valEvery: 0 };
    const whole = path.join(dir, 'whole');
    await trainModel({ ...settings, out: whole, iterations: 6 });
    const parts = path.join(dir, 'parts');
    await trainModel({ ...settings, out: parts, iterations: 3 });
    expect((await trainModel({ ...settings, out: parts, iterations: 6, resume: true })).resumedFrom).toBe(3);
    const a = await (await CnnModel.open(whole, { threads: 1 })).state();
    const b = await (await CnnModel.open(parts, { threads: 1 })).state();
    expect(a.find((t) => t.name === 'encoder.resnet.bn1.num_batches_tracked')!.values[0]).toBe(6);
    expect(valuesOf(b)).toEqual(valuesOf(a));
    expect(JSON.parse(readFileSync(path.join(whole, 'run.json'), 'utf8')).config.frames).toBe(12);
  });
});

describe('cnn-lstm learns', () => {
  // 2 of the 8 stored frames (the clip rule: frames 2 and 6), 128x128 crops (short-side jitter has
  // no room at S = the stored short side: only the position and the flip vary), width 1/8, fc 128,
  // batch 16, 200 Adam steps at 0.001. Measured with 2 threads (2 cores, shared): 47-56 s; seed 1:
  // 45.0% held out (18 of 40), seed 2: 17.5%; on its own training clips 56.7% and 45.8% (of 120;
  // chance 25%). With one thread (LEARNING_THREADS, the suite beside it): 16.9 s, seed 1 55.0% held
  // out, 65.8% of its training clips.
  // Held-out accuracy after so short a run is inside the noise (one seed above, one below chance),
  // so the bar is on what it reliably does: fit its training clips, at least 1.5x chance (45 of
  // 120; chance alone reaches it with probability below 0.1%). The held-out number is printed.
  it('fits its training clips above chance (at least 1.5x) in 200 Adam steps; the held-out score is reported', { timeout: 240_000 }, async () => {
    const out = path.join(dir, 'learn');
    const r = await trainModel({ model: 'cnn-lstm', data: clips, out, frames: 2, size: 128, width: 0.125, fc: 128, iterations: 200, batch: 16, optimizer: 'adam', lr: 0.001, lrStep: 100_000, threads: LEARNING_THREADS, seed: 1, valEvery: 0 });
    const train = await evaluateRun({ run: out, data: clips, split: 'train', checkpoint: 'last', temporal: 1, crops: 1, threads: LEARNING_THREADS });
    const test = await evaluateRun({ run: out, data: clips, split: 'test', checkpoint: 'last', temporal: 1, crops: 1, threads: LEARNING_THREADS });
    const l = losses(out);
    console.log(`cnn-lstm on synthetic clips: ${r.iterations} iterations in ${r.seconds.toFixed(1)} s, loss ${l[0]!.toFixed(3)} -> ${l.at(-1)!.toFixed(3)}; training clips ${(100 * train.top1).toFixed(1)}% (${train.videos}), held out ${(100 * test.top1).toFixed(1)}% (${test.videos}; chance 25%)`);
    expect(l.every(Number.isFinite)).toBe(true);
    expect(train.videos).toBe(120);
    expect(test.videos).toBe(40);
    expect(train.top1).toBeGreaterThanOrEqual(1.5 * 0.25);
  });

  // Seed 000's recipe: the backbone first learns single frames, then the whole cnn-lstm is
  // fine-tuned from it (train --init). Clips of 8 frames at short side 192 (256x192; the figures
  // 24-40 px tall, where resnet18 learns this set from frames: test/nn/resnet.test.ts), resnet18 at
  // width 1/8 on 176x176 crops for 200 Adam steps of 16 frames, then cnn-lstm on 4 of each clip's
  // frames for 200 steps of 8 clips. Measured with the CLI (a fifth held out, 32 clips, 1 thread):
  // resnet18 40.6% / 46.9% held out (seeds 1 / 2); cnn-lstm from it 59.4% / 62.5% on 8 frames,
  // 50.0% / 56.3% on 4; the same cnn-lstm from scratch 31.3% / 21.9%. Here (a quarter held out,
  // machine shared): with 2 threads 65.0%, from resnet18's 45.0%, in 46 s of cnn-lstm training; with
  // one (LEARNING_THREADS) 57.5% from resnet18's 57.5%, in 31 s. Bar: 1.6x chance held out (16 of
  // 40; chance alone reaches it with probability about 0.03).
  it('from a resnet18 trained on frames (--init), beats chance on held-out clips (at least 1.6x)', { timeout: 300_000 }, async () => {
    // The resnet18 is the shared fixture RESNET18_ON_CLIPS (test/support/actionset.ts: the recipe
    // above, its clips prepared with 224x224 key frames, which clip networks do not read), the run
    // test/nn/resnet.test.ts scores; whichever file comes first trains it.
    const { cache: tall, run: frames } = await resnet18OnClips();
    expect(RESNET18_ON_CLIPS.prepare).toMatchObject({ qp: 30, rgb: 8, shortSide: 192 });
    const recipe = { size: 176, iterations: 200, optimizer: 'adam' as const, lr: 0.001, lrStep: 100_000, threads: LEARNING_THREADS, seed: 1, valEvery: 0 };
    expect(RESNET18_ON_CLIPS.train).toMatchObject({ width: 0.125, batch: 16, ...recipe, lrStep: 1000 }); // both beyond its 200 steps
    const out = path.join(dir, 'learn-init');
    const r = await trainModel({ model: 'cnn-lstm', data: tall, out, init: frames, frames: 4, batch: 8, ...recipe });
    const base = await evaluateRun({ run: frames, data: tall, split: 'test', checkpoint: 'last', temporal: 1, crops: 1, threads: LEARNING_THREADS });
    const test = await evaluateRun({ run: out, data: tall, split: 'test', checkpoint: 'last', temporal: 1, crops: 1, threads: LEARNING_THREADS });
    console.log(`cnn-lstm from resnet18 on synthetic clips: ${r.iterations} iterations in ${r.seconds.toFixed(1)} s; held out ${(100 * test.top1).toFixed(1)}% (${test.videos}; chance 25%), the resnet18 it started from ${(100 * base.top1).toFixed(1)}%`);
    expect(test.videos).toBe(40);
    expect(test.top1).toBeGreaterThanOrEqual(1.6 * 0.25);
  });

  // Real footage (Debian's sample videos cut into camera-motion classes, test/support/motionset.ts):
  // three of its classes, 12 clips each (27 train, 9 held out), 4 frames at short side 64 (86x64),
  /**
   * The real-footage recipe (cnn-lstm, 64 px, width 1/8, fc 64, Adam 0.001, batch 8, seed 1; `recipe`
   * changes any of it), then the last checkpoint scored on both splits.
   */
  async function trainOnRealFootage(cache: string, name: string, iterations: number, recipe: Partial<Parameters<typeof trainModel>[0]> = {}) {
    const out = path.join(dir, name);
    const threads = recipe.threads ?? LEARNING_THREADS;
    const r = await trainModel({ model: 'cnn-lstm', data: cache, out, size: 64, width: 0.125, fc: 64, iterations, batch: 8, optimizer: 'adam', lr: 0.001, lrStep: 100_000, threads, seed: 1, valEvery: 0, ...recipe });
    const train = await evaluateRun({ run: out, data: cache, split: 'train', checkpoint: 'last', temporal: 1, crops: 1, threads });
    const test = await evaluateRun({ run: out, data: cache, split: 'test', checkpoint: 'last', temporal: 1, crops: 1, threads });
    return { r, train, test, l: losses(out) };
  }

  // 80 Adam steps of 8 clips. Measured (2 cores, shared): prepare 2-3 s, training 7-14 s; over
  // seeds 1, 2, 3 the loss went 1.13 -> 0.78, 1.09 -> 0.52, 1.15 -> 0.76, the training clips
  // scored 85.2%, 88.9%, 85.2%, and the 9 held-out clips 33.3%, 11.1%, 22.2% (chance 33.3%): in
  // so short a run it fits the clips it saw and does not generalise. The bar is on that: the
  // training clips at least 2x chance (18 of 27; chance alone: probability below 0.1%).
  it('on real footage with --rgb: trains stably from ln K and fits its training clips (at least 2x chance); the held-out score is reported', { timeout: 240_000 }, async () => {
    const { cache, seconds: prepared } = await realFootage();
    const { r, train, test, l } = await trainOnRealFootage(cache, 'real-run', 80);
    console.log(`cnn-lstm on real footage: prepared in ${prepared.toFixed(1)} s; ${r.iterations} iterations in ${r.seconds.toFixed(1)} s, loss ${l[0]!.toFixed(3)} -> ${l.at(-1)!.toFixed(3)}; training clips ${(100 * train.top1).toFixed(1)}% (${train.videos}), held out ${(100 * test.top1).toFixed(1)}% (${test.videos}; chance 33.3%)`);
    expect(l.every(Number.isFinite)).toBe(true);
    expect(l[0]!).toBeLessThan(Math.log(3) + 0.7);
    expect(test.videos).toBe(9);
    expect(train.videos).toBe(27);
    expect(l.at(-1)!).toBeLessThan(l[0]!);
    expect(train.top1).toBeGreaterThanOrEqual(2 / 3);
  });

  // Held out, on real footage whose classes a per-frame backbone can see (docs/training.md, "Clip
  // networks on held-out clips"): still, zoom-in and zoom-out, 50 clips each, 30 held out. A zoom
  // changes every frame's scale, in an order only the LSTM sees; a shake or a sweep moves the
  // picture by a few pixels, which the backbone's global pooling all but removes. 400 Adam steps of
  // 8 clips from random weights. Measured (2 cores, shared; prepare 15 s, training 25-31 s) over
  // seeds 1-5: 83.3%, 80.0%, 56.7%, 66.7%, 56.7% held out (centre crop; training clips 76-93%);
  // chance is 33.3%. With one thread (LEARNING_THREADS), seed 1: 70.0% held out, 98.0% of the
  // training clips, 10.9 s of training. The bar, 1.5x chance (15 of 30), is 2 clips below the worst
  // seed; chance alone reaches it with probability 4%. Before (27 training clips, 80 steps, the test
  // above): 11-33%.
  it('on real footage it beats chance on held-out clips (still / zoom-in / zoom-out, 30 clips): at least 1.5x chance', { timeout: 240_000 }, async () => {
    const { cache, seconds: prepared } = await zoomFootage();
    const { r, train, test, l } = await trainOnRealFootage(cache, 'zoom-run', 400);
    console.log(`cnn-lstm on still / zoom-in / zoom-out: prepared in ${prepared.toFixed(1)} s; ${r.iterations} iterations in ${r.seconds.toFixed(1)} s, loss ${l[0]!.toFixed(3)} -> ${l.at(-1)!.toFixed(3)}; training clips ${(100 * train.top1).toFixed(1)}% (${train.videos}), held out ${(100 * test.top1).toFixed(1)}% (${test.videos}; chance 33.3%), per class ${JSON.stringify(test.perClass)}`);
    expect(l.every(Number.isFinite)).toBe(true);
    expect([train.videos, test.videos]).toEqual([102, 30]);
    expect(test.top1).toBeGreaterThanOrEqual(1.5 / 3);
  });

  // x3d-s on the same held-out set (docs/training.md, "X3D-S from scratch"): 400 Adam steps of 8
  // clips, fc 128, one thread (bit-reproducible, and on 2 shared cores faster than two). Measured
  // with its depthwise convolutions on native/nn/kernels.cc (training 17.6-18.8 s on the idle
  // machine) over seeds 1-5: 73.3, 73.3, 73.3, 66.7, 63.3% held out, 88.2, 65.7, 90.2, 91.2, 93.1%
  // of the training clips. With libtorch's convolution (another rounding; 36 s): 63.3, 56.7, 76.7,
  // 53.3, 63.3% held out, 78-91% of the training clips; before its residual branches started at
  // zero scale, 36.7-56.7% held out, 30-65% of the training clips. The bar, 1.5x chance (15 of
  // 30), is 4 clips below the worst seed and 7 below seed 1; the training clips at least 2x chance
  // (68 of 102; seed 1 fits 90, seed 2 only 67).
  it('x3d-s on the same held-out clips: trains stably from ln K, fits its training clips (at least 2x chance) and beats chance held out (at least 1.5x)', { timeout: 300_000 }, async () => {
    const { cache } = await zoomFootage();
    const { r, train, test, l } = await trainOnRealFootage(cache, 'zoom-x3d', 400, { model: 'x3d-s', fc: 128, threads: 1 });
    console.log(`x3d-s on still / zoom-in / zoom-out: ${r.iterations} iterations in ${r.seconds.toFixed(1)} s, loss ${l[0]!.toFixed(3)} -> ${l.at(-1)!.toFixed(3)}; training clips ${(100 * train.top1).toFixed(1)}% (${train.videos}), held out ${(100 * test.top1).toFixed(1)}% (${test.videos}; chance 33.3%), per class ${JSON.stringify(test.perClass)}`);
    expect(l.every(Number.isFinite)).toBe(true);
    expect(l[0]!).toBeLessThan(Math.log(3) + 0.7);
    expect([train.videos, test.videos]).toEqual([102, 30]);
    expect(l.at(-1)!).toBeLessThan(l[0]!);
    expect(train.top1).toBeGreaterThanOrEqual(2 / 3);
    expect(test.top1).toBeGreaterThanOrEqual(1.5 / 3);
  });
});
