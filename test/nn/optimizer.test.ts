// Adam and AdamW beside the paper's SGD (issue 15): each trains, a run resumes exactly with the
// optimiser's own state (Adam's moments and step count), a checkpoint refuses an optimiser other
// than the one that wrote it, and train records the optimiser and its defaults in run.json, which
// eval and --resume then use.

import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CnnModel, OPTIMIZER_DEFAULTS } from '../../src/nn/model.js';
import { cli, tempDir } from '../setup/helpers.js';
import { trained } from '../support/trained.js';

const config = { model: 'mv2d' as const, classes: ['a', 'b', 'c'], frames: 8, size: 16, width: 0.25, fc: 32 };
const dir = tempDir('mvclass-optimizer-');

function batch(model: CnnModel, n: number): { x: Float32Array; y: Int32Array } {
  const per = model.inputShape.reduce((a, b) => a * b, 1);
  let s = 7;
  const x = new Float32Array(n * per).map(() => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
  return { x, y: new Int32Array(n).map((_, i) => i % config.classes.length) };
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('optimizers', () => {
  for (const optimizer of ['adam', 'adamw'] as const) {
    it(`${optimizer}: fits a fixed batch, and a resumed run ends exactly where an uninterrupted one does`, { timeout: 60_000 }, async () => {
      const lr = 0.001; // ten times the default: a few steps on one batch show the optimiser at work
      const whole = await CnnModel.create(config, { optimizer, threads: 1, seed: 3 });
      const { x, y } = batch(whole, 6);
      const losses: number[] = [];
      for (let i = 0; i < 30; i++) losses.push((await whole.trainStep(x, y, lr)).loss);
      // From ln 3 (1.10) to about 0.6 in 30 steps (SGD at its 0.01 stays at 1.10).
      expect(losses[0]!).toBeGreaterThan(1);
      expect(losses.at(-1)!).toBeLessThan(0.75 * losses[0]!);

      const first = await CnnModel.create(config, { optimizer, threads: 1, seed: 3 });
      for (let i = 0; i < 24; i++) await first.trainStep(x, y, lr);
      const file = path.join(dir, `${optimizer}.pt`);
      await first.save(file);
      const resumed = await CnnModel.create(config, { optimizer, threads: 1, seed: 99 });
      await resumed.load(file);
      for (let i = 0; i < 6; i++) await resumed.trainStep(x, y, lr);
      expect(maxAbs(await whole.predict(x), await resumed.predict(x))).toBe(0);

      // The checkpoint holds Adam's state: it does not load into an SGD network.
      const weightsOnly = await CnnModel.create(config, { optimizer: 'sgd', threads: 1, seed: 3 });
      await expect(weightsOnly.load(file)).rejects.toThrow(`it was trained with the ${optimizer} optimizer, and this network is set up for sgd`);
    });
  }

  it('an SGD checkpoint (and one from before optimisers were recorded) refuses to load into an Adam network', async () => {
    const sgd = await CnnModel.create(config, { threads: 1 });
    const file = path.join(dir, 'sgd.pt');
    await sgd.save(file);
    const adam = await CnnModel.create(config, { optimizer: 'adam', threads: 1 });
    await expect(adam.load(file)).rejects.toThrow(/cannot load the checkpoint .*: it was trained with the sgd optimizer, and this network is set up for adam/);
    await expect(CnnModel.create(config, { optimizer: 'rmsprop' as 'adam' })).rejects.toThrow('Expected one of "sgd", "adam", "adamw" for optimizer but received "rmsprop"');
  });
});

describe('sweep with train.optimizer in the config file', () => {
  it("the presets' SGD rate gives way to the optimizer's own, unless the file sets one", { timeout: 60_000 }, async () => {
    const show = async (yaml: string) => {
      const file = path.join(dir, `sweep-${yaml.length}.yaml`);
      writeFileSync(file, yaml);
      const r = await cli(['sweep', path.join(dir, 'no-set'), '-o', path.join(dir, 'no-sweep'), '--preset', 'cpu', '--config', file, '--print-config']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(await show('train:\n  optimizer: adam\n')).toMatch(new RegExp(`optimizer: adam\n  lr: ${OPTIMIZER_DEFAULTS.adam.lr}\n`));
    const own = await show('train:\n  optimizer: adamw\n  lr: 0.0003\n  weight-decay: 0.00005\n');
    expect(own).toMatch(/optimizer: adamw\n  lr: 0\.0003\n/);
    expect(own).toContain('weight-decay: 0.00005');
    expect(await show('train:\n  iterations: 300\n')).not.toContain('optimizer');
  });
});

describe('train --optimizer', () => {
  let cache = '';
  beforeAll(async () => {
    cache = path.join((await trained()).sweep, 'qp30', 'cache');
  }, 600_000);

  it('records the optimizer, its learning rate and weight decay; eval opens the run; --resume keeps them', { timeout: 180_000 }, async () => {
    const run = path.join(dir, 'adam-run');
    const flags = ['--model', 'mv2d', '--data', cache, '--frames', '8', '--size', '16', '--width', '0.25', '--fc', '32', '--batch', '8', '--threads', '1'];
    const r = await cli(['train', ...flags, '-o', run, '--iterations', '6', '--optimizer', 'adam']);
    expect(r.code, r.stderr).toBe(0);
    const training = (JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as { training: Record<string, unknown> }).training;
    expect(training).toMatchObject({ optimizer: 'adam', lr: OPTIMIZER_DEFAULTS.adam.lr, weightDecay: OPTIMIZER_DEFAULTS.adam.weightDecay });

    const evaluated = await cli(['eval', '--run', run, '--data', cache, '--views', '1x1', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);

    const more = await cli(['train', '--resume', '-o', run, '--iterations', '8']);
    expect(more.code, more.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'))).toMatchObject({ iteration: 8, training: { optimizer: 'adam' } });
    const changed = await cli(['train', '--resume', '-o', run, '--iterations', '10', '--optimizer', 'sgd']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/--optimizer/);

    const wrong = await cli(['train', ...flags, '-o', path.join(dir, 'wrong'), '--optimizer', 'rmsprop']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Expected one of "sgd", "adam", "adamw" for optimizer but received "rmsprop"');
    const decay = await cli(['train', ...flags, '-o', path.join(dir, 'decay'), '--weight-decay', '-1']);
    expect(decay.code).toBe(2);
    expect(decay.stderr).toContain('Expected a non-negative number for weight-decay but received "-1"');
  });
});

describe('train --init', () => {
  it("starts from a run's weights and shape; refuses another network, --resume and --weights", { timeout: 180_000 }, async () => {
    const { sweep } = await trained();
    const cache = path.join(sweep, 'qp30', 'cache');
    const from = path.join(sweep, 'qp30', 'runs', 'mv2d');
    const out = path.join(dir, 'init-run');
    const r = await cli(['train', '--model', 'mv2d', '--data', cache, '-o', out, '--init', from, '--iterations', '2', '--batch', '4', '--threads', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    // The same classes: every tensor is taken, none new.
    const result = JSON.parse(r.stdout) as { init: { loaded: number; skipped: number } };
    expect(result.init.skipped).toBe(0);
    expect(result.init.loaded).toBeGreaterThan(0);
    const source = JSON.parse(readFileSync(path.join(from, 'run.json'), 'utf8')) as { config: Record<string, unknown> };
    const made = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { config: Record<string, unknown>; training: { init: string } };
    expect(made.training.init).toBe(path.resolve(from));
    for (const key of ['frames', 'size', 'width', 'fc']) expect(made.config[key], key).toEqual(source.config[key]);

    const other = await cli(['train', '--model', 'mv3d', '--data', cache, '-o', path.join(dir, 'init-other'), '--init', from, '--iterations', '1']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`${from}: a mv2d run cannot start a mv3d network (give --model mv2d)`);
    const resumed = await cli(['train', '--resume', '-o', out, '--init', from, '--iterations', '3']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain("--init starts a run from another run's weights; a resumed run continues from its checkpoint (drop it)");
    const weights = await cli(['train', '--model', 'mv2d', '--data', cache, '-o', path.join(dir, 'init-weights'), '--init', from, '--weights', path.join(dir, 'none.pth'), '--iterations', '1']);
    expect(weights.code).toBe(2);
    expect(weights.stderr).toContain(`--init starts a new run from ${from}'s weights: it cannot go with --weights`);
    // A start run whose weights cannot be read: an error naming it, and no run folder made.
    const broken = path.join(dir, 'init-broken');
    mkdirSync(broken, { recursive: true });
    copyFileSync(path.join(from, 'run.json'), path.join(broken, 'run.json'));
    const failed = await cli(['train', '--model', 'mv2d', '--data', cache, '-o', path.join(dir, 'init-failed'), '--init', broken, '--iterations', '1']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${broken}: cannot start from its weights:`);
    expect(existsSync(path.join(dir, 'init-failed'))).toBe(false);
    // The resumed run keeps the record of where it started.
    const more = await cli(['train', '--resume', '-o', out, '--iterations', '3']);
    expect(more.code, more.stderr).toBe(0);
    expect((JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { training: { init: string } }).training.init).toBe(path.resolve(from));
  });
});
