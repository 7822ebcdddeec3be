// The motion networks learn on real footage with their default settings (only iterations, batch
// and frames cut down for a CPU): a labelled set cut from the clips Debian ships, classes that
// differ by camera motion (test/support/motionset.ts), held-out clips scored with the best
// checkpoint that training's own validation kept (mv3d) or the last one (mv2d, see below). Before
// the fixes here, mv3d sat at ln 7 and mv2d went to NaN on such a set (docs/training.md has the curves).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, prepareDataset } from '../../src/index.js';
import { evaluateRun } from '../../src/app/evaluate.js';
import { trainModel } from '../../src/app/train.js';
import { fixtures } from '../setup/fixtures.js';
import { MOTION_CLASSES, motionSet } from '../support/motionset.js';
import { LEARNING_THREADS, tempDir } from '../setup/helpers.js';
import { trained } from '../support/trained.js';

const dir = tempDir('mvclass-real-');
let cache = '';

beforeAll(async () => {
  const { cockatoo, realshort, balle, inertie, vp9 } = fixtures().real;
  const set = await motionSet({ sources: { cockatoo: cockatoo!, realshort: realshort!, balle: balle!, inertie: inertie!, vp9: vp9! }, perClass: 50 });
  cache = `${set}-cache`;
  // The clips are 160x120: prepared at their own size (the paper's QP 30, 25 fps, one IDR then P).
  if (!existsSync(path.join(cache, 'manifest.json'))) {
    await prepareDataset(await openDataset(set, { valFraction: 0.15 }), cache, { qp: 30, size: '160x120', jobs: 2 });
  }
}, 600_000);

const chance = 1 / MOTION_CLASSES.length;

describe('real footage, default training settings', () => {
  // mv3d reaches 58% here in 150 iterations. mv2d (2.5-5 times mv3d's cost per step) learns it in
  // 80 iterations now that its head has no dropout: over six seeds 33-43% with the last checkpoint,
  // 30-57% with the best.pt that 36 val clips pick (a noisier choice, hence the last one here);
  // with the paper's dropout 0.5 it stayed at 22-30% over three seeds (docs/training.md, "Why mv2d
  // learnt slowly"). Its bar, 1.75x chance (18 of 60 clips), is 2 clips below the worst seed (20)
  // and above every run with the old dropout (13-17 clips, last checkpoint).
  // Adam at its defaults (OPTIMIZER_DEFAULTS: 1e-4, no decay) on mv3d: 75.0% held out in 150
  // iterations (SGD: 58.3%); mv2d reached 51.7% with it in 80 (measured with the CLI, docs/training.md).
  // Threads: mv2d and mv3d with SGD keep the two their bars were measured with (with one, mv2d scored
  // exactly its bar, 18 of 60, and mv3d 45.0%, 2 clips above its 25). mv3d with Adam and the fine-tune
  // below train with one (LEARNING_THREADS): 66.7% and 33.3% held out, as with two (68.3%, 33.3%).
  for (const [model, cut, views, checkpoint, bar, threads] of [
    ['mv3d', { iterations: 150, batch: 16, frames: 16 }, { temporal: 2, crops: 10 }, 'best', 2.5, 2],
    ['mv2d', { iterations: 80, batch: 16, frames: 16 }, { temporal: 2, crops: 1 }, 'last', 1.75, 2],
    ['mv3d', { iterations: 150, batch: 16, frames: 16, optimizer: 'adam' }, { temporal: 2, crops: 10 }, 'best', 2.5, LEARNING_THREADS],
  ] as const) {
    const optimizer = 'optimizer' in cut ? cut.optimizer : 'sgd';
    it(`${model} (${optimizer}) learns camera motion above chance on held-out clips (at least ${bar}x)`, { timeout: 900_000 }, async () => {
      const out = path.join(dir, `${model}-${optimizer}`);
      const t0 = performance.now();
      const r = await trainModel({ model, data: cache, out, ...cut, threads });
      const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { iteration: number; loss?: number; split?: string; top1?: number });
      const losses = metrics.filter((m) => m.loss !== undefined).map((m) => m.loss!);
      // Stable from the start: the first window's loss is near ln K (uniform scores), every loss finite.
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[0]!).toBeLessThan(Math.log(MOTION_CLASSES.length) + 0.7);
      expect(r.best).not.toBeNull();
      const report = await evaluateRun({ run: out, data: cache, checkpoint, ...views, threads });
      console.log(
        `${model} (${optimizer}): ${r.iterations} iterations in ${r.seconds.toFixed(0)} s, losses ${losses.map((l) => l.toFixed(2)).join(' ')}; ` +
          `val best ${(100 * r.best!.top1).toFixed(1)}% at ${r.best!.iteration}; held-out top-1 (${checkpoint} checkpoint) ${(100 * report.top1).toFixed(1)}% ` +
          `(${report.videos} clips, chance ${(100 * chance).toFixed(1)}%), ${((performance.now() - t0) / 1000).toFixed(0)} s in all`,
      );
      expect(report.videos).toBeGreaterThanOrEqual(50);
      expect(report.top1).toBeGreaterThanOrEqual(bar * chance);
    });
  }

  // Fine-tuning (train --init): the suite's synthetic mv3d (4 rendered actions) as the start, a new
  // 6-class head, Adam's defaults for 150 iterations. Held out (last checkpoint, 2x10 views): 30.0%
  // and 36.7% for seeds 1 and 2; from scratch with the same shape, 36.7% and 50.0%: rendered actions
  // give camera-motion classes no head start past the first iterations (after 60, 28.3% against
  // 20.0%). What this shows is the mechanism on real footage: every tensor but the head taken,
  // the run's own motion scale measured, recorded in run.json, and it learns above chance.
  it('mv3d fine-tuned from a synthetic run (--init): every tensor but the head taken, above chance (at least 1.5x)', { timeout: 900_000 }, async () => {
    const from = path.join((await trained()).sweep, 'qp30', 'runs', 'mv3d');
    const out = path.join(dir, 'mv3d-init');
    const r = await trainModel({ model: 'mv3d', data: cache, out, iterations: 150, batch: 16, optimizer: 'adam', init: from, threads: LEARNING_THREADS });
    const source = JSON.parse(readFileSync(path.join(from, 'run.json'), 'utf8')) as { config: { frames: number; width: number; fc: number; motionStd: number } };
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { config: { frames: number; width: number; fc: number; motionStd: number; classes: string[] }; training: { init: string } };
    // mv3d's 23 parameter tensors: all taken but the last linear layer's weight and bias (6 classes, not 4).
    expect(r.init).toEqual({ run: from, loaded: 21, skipped: 2 });
    expect(run.training.init).toBe(path.resolve(from));
    expect({ frames: run.config.frames, width: run.config.width, fc: run.config.fc }).toEqual({ frames: source.config.frames, width: source.config.width, fc: source.config.fc });
    expect([...run.config.classes].sort()).toEqual([...MOTION_CLASSES].sort());
    expect(run.config.motionStd).not.toBe(source.config.motionStd);
    const report = await evaluateRun({ run: out, data: cache, checkpoint: 'last', temporal: 2, crops: 10, threads: LEARNING_THREADS });
    console.log(`mv3d fine-tuned from ${from}: held-out top-1 ${(100 * report.top1).toFixed(1)}% (${report.videos} clips)`);
    expect(report.top1).toBeGreaterThanOrEqual(1.5 * chance);
  });
});
