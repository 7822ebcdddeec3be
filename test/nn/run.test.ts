// run.json has one reader (readRun) that checks its fields, and a run whose run.json disagrees
// with the weights in model.pt is refused with the layer, both shapes and the run folder named.

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CnnModel, readRun, type ModelConfig } from '../../src/nn/model.js';
import { loadClassifier } from '../../src/app/classify.js';
import { MvclassError } from '../../src/util/errors.js';
import { tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-run-');
const run = path.join(dir, 'run');
const config: ModelConfig = { model: 'mv3d', classes: ['a', 'b'], frames: 8, size: 8, width: 0.125, fc: 8 };
const input = { codec: 'h264', qp: 30, crf: null, asIs: false, size: '320x240', fps: 25, grid: 8, keySize: '112x112' };
const x = new Float32Array(2 * 8 * 8 * 8).map((_, i) => Math.sin(i));
let expected: number[];

beforeAll(async () => {
  mkdirSync(run);
  const model = await CnnModel.create(config, { threads: 1 });
  await model.save(path.join(run, 'model.pt'));
  await model.writeRun(run, { iteration: 3, input: { ...input, normalisation: null } });
  expected = Array.from(await model.predict(x));
});

let copies = 0;
/** A copy of the run whose run.json is changed by `edit`. */
function variant(edit: (json: Record<string, any>) => void): string {
  const out = path.join(dir, `variant-${copies++}`);
  cpSync(run, out, { recursive: true });
  const json = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
  edit(json);
  writeFileSync(path.join(out, 'run.json'), JSON.stringify(json));
  return out;
}

async function rejection(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MvclassError);
  return (error as MvclassError).message;
}

describe('run.json', () => {
  it('reads back what writeRun wrote, and the run predicts as the model did', async () => {
    expect(await readRun(run)).toEqual({ config, iteration: 3, input, training: {}, best: null });
    const model = await CnnModel.open(run, { threads: 1 });
    expect(Array.from(await model.predict(x))).toEqual(expected);
  });

  it('a run.json whose layer sizes differ from model.pt is refused, naming the layer and both shapes', async () => {
    const wider = variant((j) => (j.config.fc = 16));
    expect(await rejection(CnnModel.open(wider))).toBe(
      `${wider}/model.pt: cannot load the checkpoint into the network run.json describes (mv3d, 2 classes, frames 8, size 8, width 0.125, fc 16): ` +
        'classifier.0.weight is [8, 32] in the checkpoint but [16, 32] in a network of these settings',
    );
    const classes = variant((j) => (j.config.classes = ['a', 'b', 'c']));
    expect(await rejection(CnnModel.open(classes))).toBe(
      `${classes}/model.pt: cannot load the checkpoint into the network run.json describes (mv3d, 3 classes, frames 8, size 8, width 0.125, fc 8): ` +
        'classifier.6.weight is [2, 8] in the checkpoint but [3, 8] in a network of these settings',
    );
    const channels = variant((j) => (j.config.width = 0.25));
    expect(await rejection(CnnModel.open(channels))).toMatch(/width 0\.25, fc 8\): features\.0\.weight is \[8, 2, 3, 3, 3\] in the checkpoint but \[16, 2, 3, 3, 3\] in a network/);
    // The same checkpoint still loads into a network of its own settings afterwards.
    expect(Array.from(await (await CnnModel.open(run, { threads: 1 })).predict(x))).toEqual(expected);
  });

  it('checks its fields: types, known model names, class lists, the input settings', async () => {
    const file = (r: string) => path.join(r, 'run.json');
    const resnet = variant((j) => (j.config.model = 'resnet'));
    expect(await rejection(readRun(resnet))).toBe(`${file(resnet)}: Expected one of "mv3d", "mv2d", "vgg16", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "cnn-lstm", "x3d-s" for config.model but received "resnet"`);
    const fc = variant((j) => (j.config.fc = 'x'));
    expect(await rejection(CnnModel.open(fc))).toBe(`${file(fc)}: Expected an integer from 1 to 65536 for config.fc but received "x"`);
    const one = variant((j) => (j.config.classes = ['a']));
    expect(await rejection(readRun(one))).toBe(`${file(one)}: Expected at least 2 names for config.classes but received an array of 1`);
    const twice = variant((j) => (j.config.classes = ['a', 'a']));
    expect(await rejection(readRun(twice))).toBe(`${file(twice)}: config.classes names one twice`);
    const none = variant((j) => delete j.config);
    expect(await rejection(readRun(none))).toBe(`${file(none)}: Expected an object for config but received undefined`);
    const iteration = variant((j) => (j.iteration = -1));
    expect(await rejection(readRun(iteration))).toBe(`${file(iteration)}: Expected a non-negative integer for iteration but received -1`);
    const grid = variant((j) => (j.input.grid = 'x'));
    expect(await rejection(loadClassifier([grid], { threads: 1 }))).toBe(`${file(grid)}: Expected an integer from 1 to 256 for input.grid but received "x"`);
    const old = variant((j) => delete j.input);
    expect(await rejection(loadClassifier([old], { threads: 1 }))).toBe(`${old}/run.json: no input settings (trained by an older mvclass?)`);
    const damaged = variant(() => {});
    writeFileSync(file(damaged), '{"config": ');
    expect(await rejection(readRun(damaged))).toMatch(new RegExp(`^${file(damaged)}: damaged: `));
  });
});
