// The CNNs on the built-in action set: they learn (held-out accuracy far above chance), fusion
// keeps the better stream, a resumed run continues exactly, and failures are plain messages.
// The three networks are the suite's trained fixture at QP 30 (test/support/trained.ts: trained
// and evaluated by the sweep as trainModel and evaluateRun with the settings below, once per code
// version); the resumed and broken runs are trained here on its QP 30 cache.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyVideo, CnnModel } from '../../src/index.js';
import { fuseScores } from '../../src/app/evaluate.js';
import { trainModel } from '../../src/app/train.js';
import { fitMcnn, validateMcnn } from '../../src/app/mcnn.js';
import type { ClassificationReport } from '../../src/metrics/classification.js';
import { cli, tempDir } from '../setup/helpers.js';
import { trained, TRAINED_SET, TRAINED_SWEEP } from '../support/trained.js';

const dir = tempDir();
let cache = '';
/** The fixture's QP 30 runs and their test scores (evaluateRun with 3 x 10 views, saveScores). */
let qp30 = '';
const run = (model: string) => path.join(qp30, 'runs', model);
const scoreFile = (model: string) => path.join(qp30, 'scores', `${model}.json`);

beforeAll(async () => {
  qp30 = path.join((await trained()).sweep, 'qp30');
  cache = path.join(qp30, 'cache');
}, 900_000);

describe('CNN training and evaluation', () => {
  it('mv3d and mv2d beat chance by a wide margin; fusing with the spatial stream is not worse', { timeout: 300_000 }, async () => {
    // What the fixture trained: 150 iterations, lr-step 120, batch 16, seed 1, 2 threads, and these shapes.
    expect(TRAINED_SWEEP.schedule).toMatchObject({ iterations: 150, batch: 16, lr: 0.01, lrStep: 120, temporal: 3, crops: 10 });
    expect(TRAINED_SWEEP.schedule).toMatchObject({
      mv3d: { frames: 32, size: 24, width: 0.25, fc: 128 },
      mv2d: { frames: 16, size: 32, width: 0.25, fc: 128 },
      vgg16: { size: 96, width: 0.125, fc: 128 },
    });
    const top1: Record<string, number> = {};
    for (const model of ['mv3d', 'mv2d', 'vgg16']) {
      const out = run(model);
      const r = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { iteration: number };
      expect(r.iteration).toBe(150);
      const report = JSON.parse(readFileSync(path.join(qp30, 'scores', `${model}.report.json`), 'utf8')) as ClassificationReport;
      expect(report.videos).toBeGreaterThanOrEqual(12);
      expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(report.videos);
      top1[model] = report.top1;
    }
    // Four classes: chance is 25%.
    expect(TRAINED_SET.classes).toBe(4);
    expect(top1.mv3d).toBeGreaterThanOrEqual(0.5);
    expect(top1.mv2d).toBeGreaterThanOrEqual(0.5);
    const fused = await fuseScores([scoreFile('mv3d'), scoreFile('vgg16')]);
    expect(fused.top1).toBeGreaterThanOrEqual(Math.max(top1.mv3d!, top1.vgg16!));
    const metrics = readFileSync(path.join(run('mv3d'), 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.split === undefined); // training windows (validation lines have split: 'val')
    expect(metrics.at(-1).iteration).toBe(150);
    expect(metrics.at(-1).lr).toBeCloseTo(0.001, 12); // x0.1 after lr-step 120
    expect(metrics.at(-1).loss).toBeLessThan(metrics[0].loss);
  });

  it('mcnn fit: Gamma, the two rate lines and validation accuracies; the check on the test split', { timeout: 120_000 }, async () => {
    const runs = { mv3d: run('mv3d'), mv2d: run('mv2d'), spatial: run('vgg16') };
    const fit = await fitMcnn(runs, cache, { temporal: 3, threads: 2 });
    expect(fit.videos.validation).toBeGreaterThanOrEqual(8);
    expect(fit.alpha).toBeGreaterThan(0);
    expect(fit.beta).toBeGreaterThan(0);
    // What a classifier is sent grows with the motion bits, and the 2D CNN (16 frames) is sent
    // less than the 3D CNN (32 frames) for the same video.
    expect(fit.r2_3d).toBeGreaterThan(0.8);
    expect(fit.a3d).toBeGreaterThan(fit.a2d);
    expect(fit.a2d / fit.a3d).toBeCloseTo(16 / 32, 0);
    expect(fit.isp).toBeGreaterThan(fit.b3d);
    for (const a of [fit.acc3d, fit.acc2d, fit.accsp]) expect(a).toBeGreaterThanOrEqual(0);
    const [check] = await validateMcnn(fit, [fit.a3d * (fit.alpha / fit.beta) + fit.b3d], { temporal: 3, threads: 2 });
    expect(check!.feasible).toBe(true);
    const c = check!.measured!;
    expect(c.chosen.mv3d + c.chosen.mv2d + c.chosen.spatial).toBeGreaterThanOrEqual(12);
    // The model's rate is an expectation over the Gamma fit; the test videos' mean lands near it.
    expect(Math.abs(c.rateSent - check!.predicted.rateSent!) / check!.predicted.rateSent!).toBeLessThan(0.35);
  });

  it('classify: a video in, the fused top-5 out, as eval scores the same clips', { timeout: 120_000 }, async () => {
    const scores = JSON.parse(readFileSync(scoreFile('mv3d'), 'utf8')) as { classes: string[]; videos: Array<{ path: string; scores: number[] }> };
    let agree = 0;
    for (const v of scores.videos) {
      // --encode re-encodes as prepare did (one encoder thread, QP 30, 320x240, 25 fps).
      const r = await classifyVideo(v.path, [run('mv3d')], { encode: true, temporal: 3, threads: 2 });
      expect(r.top5).toHaveLength(4);
      expect(r.top5.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 5);
      expect(Object.keys(r.seconds)).toEqual(expect.arrayContaining(['load models', 'encode', 'decode', 'infer mv3d']));
      const evalTop = scores.classes[v.scores.indexOf(Math.max(...v.scores))];
      if (r.top5[0]!.class === evalTop) agree++;
    }
    expect(agree).toBe(scores.videos.length);
  });

  it('a resumed run ends exactly where an uninterrupted one does', { timeout: 120_000 }, async () => {
    const shape = { model: 'mv3d' as const, data: cache, frames: 16, width: 0.125, fc: 32, batch: 8, lrStep: 1000, threads: 1, seed: 3, checkpointEvery: 10 };
    const whole = path.join(dir, 'whole');
    const parts = path.join(dir, 'parts');
    await trainModel({ ...shape, out: whole, iterations: 20 });
    await trainModel({ ...shape, out: parts, iterations: 10 });
    const resumed = await trainModel({ ...shape, out: parts, iterations: 20, resume: true });
    expect(resumed.resumedFrom).toBe(10);
    const a = await CnnModel.open(whole, { threads: 1 });
    const b = await CnnModel.open(parts, { threads: 1 });
    const x = new Float32Array(2 * 2 * 16 * 24 * 24).map((_, i) => Math.sin(i));
    expect(Array.from(await b.predict(x))).toEqual(Array.from(await a.predict(x)));
  });

  it('clear errors: bad arguments, missing or damaged checkpoints, CUDA on a CPU build', async () => {
    expect((await cli(['train', '--model', 'resnet', '--data', cache, '-o', path.join(dir, 'x')])).stderr.trim()).toBe(
      'mvclass: Expected one of "mv3d", "mv2d", "vgg16", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "cnn-lstm", "x3d-s" for model but received "resnet"',
    );
    expect((await cli(['train', '--model', 'mv3d', '--data', cache, '-o', path.join(dir, 'x'), '--lr', 'fast'])).stderr.trim()).toBe(
      'mvclass: Expected a positive number for lr but received "fast"',
    );
    await expect(CnnModel.open(path.join(dir, 'nothing'))).rejects.toThrow(/nothing: not a training run \(no run\.json\)/);
    const broken = path.join(dir, 'broken');
    await trainModel({ model: 'mv2d', data: cache, out: broken, iterations: 2, batch: 4, frames: 4, size: 16, width: 0.125, fc: 16 });
    writeFileSync(path.join(broken, 'model.pt'), 'not a checkpoint');
    await expect(CnnModel.open(broken)).rejects.toThrow(/model\.pt: cannot load the checkpoint/);
    await expect(CnnModel.create({ model: 'mv3d', classes: ['a', 'b'], frames: 8, size: 8, width: 0.125, fc: 8 }, { device: 'cuda' })).rejects.toThrow(
      /no usable CUDA device/,
    );
    // Input sides the networks' unpadded poolings reduce to nothing: refused before any network
    // exists, naming the smallest side (libtorch said only "Output size is too small", and for
    // vgg16 not until the first step); the smallest side itself trains.
    for (const [name, least, why] of [['mv2d', 15, 'three 3x3 max-pools of stride 2'], ['vgg16', 32, 'five 2x2 max-pools']] as const) {
      await expect(CnnModel.create({ model: name, classes: ['a', 'b'], frames: 2, size: least - 1, width: 0.125, fc: 8 })).rejects.toThrow(
        `Expected an integer of at least ${least} for size but received ${least - 1}: ${name}'s ${why} leave nothing of a smaller input side`,
      );
      const smallest = await CnnModel.create({ model: name, classes: ['a', 'b'], frames: 2, size: least, width: 0.125, fc: 8 }, { threads: 1 });
      const step = await smallest.trainStep(new Float32Array((name === 'mv2d' ? 4 : 3) * least * least), new Int32Array([1]), 0.01);
      expect(Number.isFinite(step.loss)).toBe(true);
    }
    const small = await cli(['train', '--model', 'vgg16', '--size', '31', '--data', cache, '-o', path.join(dir, 'small')]);
    expect([small.code, small.stderr.trim()]).toEqual([2, "mvclass: Expected an integer of at least 32 for size but received 31: vgg16's five 2x2 max-pools leave nothing of a smaller input side"]);
    expect(existsSync(path.join(dir, 'small'))).toBe(false);
    // A step libtorch refuses names the run and the step; batch norm's refusal of a batch whose
    // channels hold one value each (one key frame, resnet18's last feature map 1x1) says what to change.
    const single = path.join(dir, 'single');
    await expect(trainModel({ model: 'resnet18', data: cache, out: single, iterations: 2, batch: 1, size: 32, width: 0.125, threads: 1, valEvery: 0 })).rejects.toThrow(
      `${single}: training step 1 failed: Expected more than 1 value per channel when training, got input size [1, 64, 1, 1]: batch norm needs more than one value per channel, and this batch of 1 leaves one (the network's last feature map is 1x1): give a larger --size, or a --batch that leaves no batch of one (an epoch's last batch holds the videos left over)`,
    );
    const model = await CnnModel.create({ model: 'mv3d', classes: ['a', 'b'], frames: 8, size: 8, width: 0.125, fc: 8 });
    await expect(model.predict(new Float32Array(5))).rejects.toThrow('input of 5 values is not a whole batch of [2, 8, 8, 8]');
    await expect(model.trainStep(new Float32Array(2 * 8 * 8 * 8), new Int32Array([2]), 0.1)).rejects.toThrow('label 2 is outside 0..1');
  });
});
