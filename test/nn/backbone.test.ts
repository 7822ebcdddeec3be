// The backbone's own learning rate (train --backbone-lr, --freeze-backbone): which tensors are the
// backbone in each network; a frozen backbone unchanged bit for bit (weights, batch-norm
// statistics, optimiser state: the first step after the freeze is a fresh optimiser's); a factor
// scaling the backbone's update exactly; exact resume across the end of a freeze; run.json, and
// the messages.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, prepareDataset, synthesizeActionSet } from '../../src/index.js';
import { CnnModel, type ModelConfig, type OptimizerName } from '../../src/nn/model.js';
import type { StateTensor } from '../../src/nn/native.js';
import { learningRates, trainModel } from '../../src/app/train.js';
import { cli, tempDir } from '../setup/helpers.js';
import { byName, expectExactResume, valuesOf } from '../support/resume.js';

const dir = tempDir('mvclass-backbone-');
const classes = ['a', 'b', 'c'];

/** The backbone as the docs define it, written out here per network (the addon's rule is Network::inBackbone). */
const NETWORKS: { config: ModelConfig; backbone: (name: string) => boolean; head: string }[] = [
  { config: { model: 'resnet18', classes, frames: 1, size: 32, width: 0.125, fc: 1 }, backbone: (n) => !n.startsWith('fc.'), head: 'fc.weight' },
  { config: { model: 'cnn-lstm', classes, frames: 3, size: 32, width: 0.125, fc: 16 }, backbone: (n) => n.startsWith('encoder.resnet.'), head: 'decoder.fc.3.weight' },
  { config: { model: 'x3d-s', classes, frames: 4, size: 32, width: 0.125, fc: 16 }, backbone: (n) => !n.startsWith('blocks.5.proj.'), head: 'blocks.5.proj.weight' },
  { config: { model: 'mv2d', classes, frames: 4, size: 16, width: 0.125, fc: 16 }, backbone: (n) => !n.startsWith('classifier.6.'), head: 'classifier.6.weight' },
];
const resnet = NETWORKS[0]!;

/** Deterministic inputs in [-1, 1) for `batch` examples of the model's input shape. */
function inputs(model: CnnModel, batch: number, seed: number): Float32Array {
  let s = seed;
  const n = batch * model.inputShape.reduce((a, b) => a * b, 1);
  return new Float32Array(n).map(() => 2 * ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 1);
}
const labels = new Int32Array([0, 1, 2, 1]);
const same = (a: StateTensor, b: StateTensor) => a.values.every((v, i) => v === b.values[i]);

describe('the backbone group', () => {
  it.each(NETWORKS)('$config.model: a frozen backbone keeps every tensor (and batch-norm statistics) bit for bit while the head learns; unfrozen, it trains', { timeout: 60_000 }, async ({ config, backbone, head }) => {
    const model = await CnnModel.create(config, { threads: 1, seed: 1, optimizer: 'adam', backboneLr: 0.5, freezeBackbone: 2 });
    const before = await model.state();
    for (let i = 0; i < 2; i++) await model.trainStep(inputs(model, 4, i + 1), labels, 0.01, 0);
    const frozen = byName(await model.state());
    const inBackbone = before.filter((t) => backbone(t.name));
    expect(inBackbone.length).toBeGreaterThan(0);
    for (const t of inBackbone) expect(same(t, frozen.get(t.name)!), t.name).toBe(true);
    expect(same(before.find((t) => t.name === head)!, frozen.get(head)!)).toBe(false);
    // Then at the factor: every backbone weight tensor moves, and batch norm counts its batches again.
    // Two steps: X3D-S's residual branches start with their last batch norm at scale 0, so their
    // first step moves only that scale, and the layers behind it from the second on.
    for (let i = 0; i < 2; i++) await model.trainStep(inputs(model, 4, 3 + i), labels, 0.01, 0.005);
    const after = byName(await model.state());
    for (const t of inBackbone.filter((t) => !t.buffer)) expect(same(t, after.get(t.name)!), t.name).toBe(false);
    const counters = inBackbone.filter((t) => t.name.endsWith('num_batches_tracked'));
    for (const t of counters) expect([t.values[0], frozen.get(t.name)!.values[0], after.get(t.name)!.values[0]], t.name).toEqual([0, 0, 2]);
    expect(counters.length > 0).toBe(config.model !== 'mv2d');
  });

  it.each(['sgd', 'adam', 'adamw'] as OptimizerName[])('%s: nothing drifts while frozen: the first step after the freeze moves the backbone exactly as a fresh optimiser does', { timeout: 60_000 }, async (optimizer) => {
    // SGD with momentum 0.9 and weight decay; Adam with L2 decay; AdamW decoupled: each keeps
    // per-parameter state, which would hold the frozen steps' gradients had they been taken.
    const settings = { threads: 1, optimizer, weightDecay: 0.01 };
    const model = await CnnModel.create(resnet.config, { ...settings, seed: 1, backboneLr: 0.5, freezeBackbone: 3 });
    for (let i = 0; i < 3; i++) await model.trainStep(inputs(model, 4, i + 1), labels, 0.02, 0);
    const weights = path.join(dir, `${optimizer}-frozen.pth`);
    await model.exportWeights(weights);
    const fresh = await CnnModel.create(resnet.config, { ...settings, seed: 5 });
    await fresh.importWeights(weights);
    const x = inputs(model, 4, 4);
    await model.trainStep(x, labels, 0.02, 0.01);
    await fresh.trainStep(x, labels, 0.01);
    const a = byName(await model.state());
    const b = await fresh.state();
    const inBackbone = b.filter((t) => resnet.backbone(t.name));
    for (const t of inBackbone) expect(same(t, a.get(t.name)!), t.name).toBe(true);
    // The heads differ: the grouped model's had three steps of state and twice the rate.
    expect(same(b.find((t) => t.name === 'fc.weight')!, a.get('fc.weight')!)).toBe(false);
  });

  it('factor 0.1: every backbone update is 0.1x the one at factor 1 on the same batch (plain SGD), the head\'s the same', { timeout: 60_000 }, async () => {
    const settings = { threads: 1, seed: 1, optimizer: 'sgd' as const, momentum: 0, weightDecay: 0 };
    const slow = await CnnModel.create(resnet.config, { ...settings, backboneLr: 0.1 });
    const full = await CnnModel.create(resnet.config, settings);
    const start = await full.state();
    expect(valuesOf(await slow.state())).toEqual(valuesOf(start));
    const x = inputs(full, 4, 7);
    await slow.trainStep(x, labels, 0.5, 0.05);
    await full.trainStep(x, labels, 0.5);
    const s = byName(await slow.state());
    const f = byName(await full.state());
    let checked = 0;
    let large = 0;
    let moved = 0;
    for (const t of start.filter((t) => !t.buffer)) {
      const a = s.get(t.name)!.values;
      const b = f.get(t.name)!.values;
      if (!resnet.backbone(t.name)) {
        expect(Array.from(a), t.name).toEqual(Array.from(b));
        continue;
      }
      t.values.forEach((p0, i) => {
        // p1 = fp32(p0 - rate * g): each side rounds once to half a unit in the last place of p0.
        const tolerance = 2 ** -23 * Math.max(Math.abs(p0), Math.abs(b[i]!));
        const full1 = b[i]! - p0;
        expect(Math.abs(a[i]! - p0 - 0.1 * full1), `${t.name}[${i}]`).toBeLessThanOrEqual(tolerance);
        checked++;
        if (full1 !== 0) moved++;
        if (Math.abs(0.1 * full1) > 100 * tolerance) large++;
      });
    }
    // Most updates are far above the rounding: the check measures the factor, not the noise. (Of
    // the rest, most have no gradient at all: at 32 px layer4 sees 1x1 maps, so only the centre
    // tap of its 3x3 kernels is used.)
    expect(checked).toBeGreaterThan(1000);
    console.log(`factor 0.1: ${checked} backbone weights checked, ${moved} moved at factor 1, ${large} by more than 100x the rounding at 0.1`);
    expect(large / moved).toBeGreaterThan(0.9);
  });

  it('a checkpoint holds both groups\' state: 3 steps, save, load, 2 steps = 5 steps, bit for bit, across the end of a freeze (Adam)', { timeout: 60_000 }, async () => {
    const make = (seed: number) => CnnModel.create(resnet.config, { threads: 1, seed, optimizer: 'adam', weightDecay: 0.001, backboneLr: 0.1, freezeBackbone: 4 });
    const model = await make(1);
    // Frozen for steps 0-3 (the save comes after step 2), trained at 0.1x from step 4.
    await expectExactResume(make, inputs(model, 4, 9), labels, 0.01, path.join(dir, 'resume.pt'), { name: 'layer4.1.bn2.num_batches_tracked', count: 1 }, (i) => (i < 4 ? 0 : 0.001));
    // A model of other groups refuses the checkpoint, as one of another optimiser does.
    const other = await CnnModel.create(resnet.config, { threads: 1, optimizer: 'adam', backboneLr: 0.1 });
    await expect(other.load(path.join(dir, 'resume.pt'))).rejects.toThrow(
      'cannot load the checkpoint (damaged, or another network?): it was trained with backbone learning-rate factor 0.1, frozen for the first 4 steps, and this network is set up for backbone learning-rate factor 0.1',
    );
    const one = await CnnModel.create(resnet.config, { threads: 1, optimizer: 'adam' });
    await expect(one.trainStep(inputs(one, 4, 1), labels, 0.01, 0.001)).rejects.toThrow('this session has one learning rate for every layer (no backbone learning-rate factor or freeze was set up)');
  });

  it('the schedule: warm-up and step decay scale both rates; the backbone is 0 while frozen', () => {
    const s = { lr: 0.01, warmup: 3, lrStep: 10, backboneLr: 0.25, freezeBackbone: 5 };
    expect(learningRates(0, s)).toEqual({ lr: 0.01 * 0.25, backbone: 0 });
    expect(learningRates(4, s)).toEqual({ lr: 0.01, backbone: 0 });
    expect(learningRates(5, s)).toEqual({ lr: 0.01, backbone: 0.01 * 0.25 });
    expect(learningRates(12, s)).toEqual({ lr: 0.01 * 0.1, backbone: 0.01 * 0.1 * 0.25 });
    expect(learningRates(12, { ...s, backboneLr: 1, freezeBackbone: 0 })).toEqual({ lr: 0.01 * 0.1, backbone: 0.01 * 0.1 });
  });
});

describe('train --backbone-lr / --freeze-backbone', () => {
  const cache = path.join(dir, 'cache');
  const from = path.join(dir, 'from');
  const shape = ['--size', '64', '--width', '0.125', '--batch', '4', '--threads', '1', '--val-every', '0'];
  beforeAll(async () => {
    const set = path.join(dir, 'set');
    await synthesizeActionSet(set, { classes: 2, perClass: 4, seconds: 1, seed: 3 });
    await prepareDataset(await openDataset(set, { testFraction: 0.25 }), cache, { qp: 30 });
    await trainModel({ model: 'resnet18', data: cache, out: from, size: 64, width: 0.125, batch: 4, iterations: 2, threads: 1, valEvery: 0 });
  }, 180_000);

  it('records the settings; --resume -o <run> alone ends where an uninterrupted run does, across the end of the freeze; other settings are refused', { timeout: 180_000 }, async () => {
    const settings = { model: 'resnet18' as const, data: cache, init: from, size: 64, width: 0.125, batch: 4, lr: 0.02, lrStep: 4, threads: 1, seed: 2, valEvery: 0, backboneLr: 0.1, freezeBackbone: 4 };
    const whole = path.join(dir, 'whole');
    await trainModel({ ...settings, out: whole, iterations: 6 });
    const parts = path.join(dir, 'parts');
    await trainModel({ ...settings, out: parts, iterations: 3 });
    const run = JSON.parse(readFileSync(path.join(parts, 'run.json'), 'utf8')) as { training: Record<string, unknown> };
    expect(run.training).toMatchObject({ backboneLr: 0.1, freezeBackbone: 4, init: path.resolve(from) });
    const r = await cli(['train', '--resume', '-o', parts, '--iterations', '6', '--json'], 100_000);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('mvclass:'))).toEqual([]);
    expect(JSON.parse(r.stdout)).toMatchObject({ iterations: 6, resumedFrom: 3 });
    // CnnModel.open (eval, classify) builds the run's groups from run.json.
    const a = await (await CnnModel.open(whole, { threads: 1 })).state();
    const b = await (await CnnModel.open(parts, { threads: 1 })).state();
    // The frame run's 2 batches, then the 2 steps after the freeze.
    expect(byName(a).get('bn1.num_batches_tracked')!.values[0]).toBe(4);
    expect(valuesOf(b)).toEqual(valuesOf(a));

    const changed = await cli(['train', '--resume', '-o', parts, '--iterations', '8', '--backbone-lr', '0.5']);
    expect(changed.code).toBe(2);
    expect(changed.stderr.trim()).toBe(
      `mvclass: --backbone-lr gives backbone-lr 0.5 but the run in ${parts} was trained with 0.1 (${parts}/run.json); a resumed run keeps its settings: drop it, or start a new run (another -o, or --force to replace this one)`,
    );
    // The library, resumed without them: the checkpoint's groups do not fit.
    await expect(trainModel({ ...settings, backboneLr: undefined, freezeBackbone: undefined, init: undefined, out: parts, iterations: 8, resume: true })).rejects.toThrow(
      'cannot load the checkpoint (damaged, or another network?): it was trained with backbone learning-rate factor 0.1, frozen for the first 4 steps, and this network is set up for one learning rate for every layer',
    );
  });

  it('--weights: the imported weights are the backbone too; the freeze holds them for its iterations', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'from.pth');
    await (await CnnModel.open(from, { threads: 1 })).exportWeights(file);
    const out = path.join(dir, 'weights');
    await trainModel({ model: 'resnet18', data: cache, out, weights: file, size: 64, width: 0.125, batch: 4, iterations: 2, threads: 1, valEvery: 0, freezeBackbone: 2 });
    const start = byName(await (await CnnModel.open(from, { threads: 1 })).state());
    const trained = await (await CnnModel.open(out, { threads: 1 })).state();
    for (const t of trained) expect(same(t, start.get(t.name)!), t.name).toBe(resnet.backbone(t.name));
  });

  it('messages', { timeout: 120_000 }, async () => {
    const base = ['train', '--model', 'resnet18', '--data', cache, ...shape, '--iterations', '1'];
    const expectUsage = async (args: string[], message: string) => {
      const r = await cli([...base, '-o', path.join(dir, 'refused'), ...args]);
      expect(r.stderr.trim()).toBe(`mvclass: ${message}`);
      expect(r.code).toBe(2);
    };
    await expectUsage(['--init', from, '--backbone-lr', '2'], 'Expected a fraction from 0 to 1 for backbone-lr but received "2"');
    await expectUsage(['--init', from, '--backbone-lr', 'slow'], 'Expected a fraction from 0 to 1 for backbone-lr but received "slow"');
    await expectUsage(['--init', from, '--freeze-backbone', '1.5'], 'Expected a non-negative integer for freeze-backbone but received "1.5"');
    await expectUsage(['--backbone-lr', '0.1'], '--backbone-lr 0.1 sets how the weights taken from --init or --weights train: give one of them (a backbone of random weights has nothing to keep)');
    await expectUsage(['--backbone-lr', '0.5', '--freeze-backbone', '10'], '--backbone-lr 0.5 and --freeze-backbone 10 set how the weights taken from --init or --weights train: give one of them (a backbone of random weights has nothing to keep)');
    await expectUsage(['--init', from, '--backbone-lr', '0', '--freeze-backbone', '10'], '--freeze-backbone 10 trains the backbone after iteration 10, but --backbone-lr 0 keeps it frozen for the whole run: give one of them');
    const file = path.join(dir, 'backbone.yaml');
    writeFileSync(file, 'train:\n  backbone-lr: -0.5\n');
    await expectUsage(['--init', from, '--config', file], `${file}: Expected a fraction from 0 to 1 for train.backbone-lr but received -0.5`);
    // A run.json edited by hand: named, before libtorch sees it.
    const run = path.join(dir, 'edited');
    await trainModel({ model: 'resnet18', data: cache, out: run, init: from, size: 64, width: 0.125, batch: 4, iterations: 1, threads: 1, valEvery: 0, backboneLr: 0 });
    const json = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as { training: Record<string, unknown> };
    expect(json.training).toMatchObject({ backboneLr: 0, freezeBackbone: 0 });
    writeFileSync(path.join(run, 'run.json'), JSON.stringify({ ...json, training: { ...json.training, backboneLr: 3 } }));
    await expect(CnnModel.open(run)).rejects.toThrow(`${path.join(run, 'run.json')}: Expected a fraction from 0 to 1 for training.backboneLr but received 3`);
  });
});
