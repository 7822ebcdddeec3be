// Each model draws its randomness (initial weights, dropout masks) from its own generator, seeded
// by its session: a seeded model trains the same whatever other models the process builds or
// trains meanwhile, and a checkpoint carries that generator so that a resumed run continues it.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnnModel, type ModelConfig } from '../../src/nn/model.js';
import { tempDir } from '../setup/helpers.js';

const config: ModelConfig = { model: 'mv3d', classes: ['a', 'b', 'c'], frames: 8, size: 8, width: 0.125, fc: 32 };
const other: ModelConfig = { model: 'mv2d', classes: ['a', 'b'], frames: 4, size: 16, width: 0.125, fc: 32 };

/** A deterministic batch for `shape` (sin of a running index), with labels cycling over `classes`. */
function batch(shape: number[], size: number, classes: number, offset: number) {
  const per = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size * per).map((_, i) => Math.sin((i + offset) * 0.37) * 2);
  const labels = new Int32Array(size).map((_, i) => (i + offset) % classes);
  return { data, labels };
}

interface Trace {
  losses: number[];
  scores: number[];
}

/** `steps` SGD steps on fixed batches, calling `between` after each, then predictions on a probe. */
async function train(model: CnnModel, steps: number, between: (step: number) => Promise<void> = async () => {}): Promise<Trace> {
  const classes = model.config.classes.length;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { data, labels } = batch(model.inputShape, 6, classes, s * 11);
    losses.push((await model.trainStep(data, labels, 0.05)).loss);
    await between(s);
  }
  const probe = batch(model.inputShape, 2, classes, 999);
  return { losses, scores: Array.from(await model.predict(probe.data)) };
}

describe('a random generator per model', () => {
  it('two models trained interleaved, with a third built meanwhile, give exactly what each gives alone', { timeout: 120_000 }, async () => {
    const alone = await train(await CnnModel.create(config, { threads: 1, seed: 7 }), 4);
    const otherAlone = await train(await CnnModel.create(other, { threads: 1, seed: 8 }), 4);
    // Dropout is on in training: a step's loss depends on the masks, so equal losses mean equal draws.
    expect(new Set(alone.losses).size).toBe(4);

    const a = await CnnModel.create(config, { threads: 1, seed: 7 });
    const b = await CnnModel.create(other, { threads: 1, seed: 8 });
    const bLosses: number[] = [];
    const classesB = other.classes.length;
    const traceA = await train(a, 4, async (step) => {
      // Between A's steps: a step of B, and on the second one a new model with A's own seed.
      const { data, labels } = batch(b.inputShape, 6, classesB, step * 11);
      bLosses.push((await b.trainStep(data, labels, 0.05)).loss);
      if (step === 1) await CnnModel.create(config, { threads: 1, seed: 7 });
    });
    expect(traceA).toEqual(alone);
    const probe = batch(b.inputShape, 2, classesB, 999);
    expect({ losses: bLosses, scores: Array.from(await b.predict(probe.data)) }).toEqual(otherAlone);
  });

  it('two models trained at the same time, on two threads, each match their run alone', { timeout: 120_000 }, async () => {
    const alone = await train(await CnnModel.create(config, { threads: 1, seed: 3 }), 3);
    const otherAlone = await train(await CnnModel.create(other, { threads: 1, seed: 4 }), 3);
    const [a, b] = await Promise.all([CnnModel.create(config, { threads: 1, seed: 3 }), CnnModel.create(other, { threads: 1, seed: 4 })]);
    const [traceA, traceB] = await Promise.all([train(a, 3), train(b, 3)]);
    expect(traceA).toEqual(alone);
    expect(traceB).toEqual(otherAlone);
  });

  it("a checkpoint holds the model's generator: loaded into a new model, the next steps match the original's", { timeout: 120_000 }, async () => {
    const dir = tempDir('mvclass-generator-');
    const original = await CnnModel.create(config, { threads: 1, seed: 5 });
    await train(original, 2);
    await original.save(path.join(dir, 'model.pt'));
    const continued = await train(original, 2);

    const resumed = await CnnModel.create(config, { threads: 1, seed: 99 });
    await resumed.load(path.join(dir, 'model.pt'));
    // Another model between the load and the steps takes nothing from the resumed one's draws.
    await train(await CnnModel.create(other, { threads: 1, seed: 5 }), 1);
    expect(await train(resumed, 2)).toEqual(continued);
  });
});
