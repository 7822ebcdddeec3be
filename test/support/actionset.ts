// The synthetic set the frame and clip networks learn in test/nn (resnet, cnn-lstm-train, x3d),
// and the resnet18 two of them need, each made once per code version (test/support/shared.ts)
// instead of once per test file: the set was synthesized three times, and the same resnet18
// trained twice (by the ResNets' test and as cnn-lstm's starting point).

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDataset, prepareDataset, synthesizeActionSet } from '../../src/index.js';
import { trainModel } from '../../src/app/train.js';
import { LEARNING_THREADS } from '../setup/helpers.js';
import { sharedFolder } from './shared.js';

const SELF = fileURLToPath(import.meta.url);

/**
 * The synthetic action set's first four classes (walk, run, jump, wave), 40 clips of 1 s each.
 * Its classes differ in motion first; one frame shows a pose, which tells jump and wave from the
 * gaits but hardly walk from run.
 */
export const ACTION_SET = { classes: 4, perClass: 40, seconds: 1, seed: 5 } as const;

/** The set's folder (a folder per class). Read it; never write into it. */
export async function actionSet(): Promise<string> {
  const dir = await sharedFolder({ prefix: 'actionset-', maker: SELF, recipe: ACTION_SET, make: (out) => synthesizeActionSet(path.join(out, 'set'), ACTION_SET).then(() => undefined) });
  return path.join(dir, 'set');
}

/**
 * resnet18 on decoded-frame clips of the set: prepare --rgb 8 --short-side 192 (256x192 frames,
 * the figures 24-40 px tall) with 224x224 key frames, a quarter held out; then 200 Adam steps
 * (lr 1e-3, batch 16) at width 1/8 on random 176x176 crops of a random frame of each clip, seed 1,
 * LEARNING_THREADS threads.
 */
export const RESNET18_ON_CLIPS = {
  split: { testFraction: 0.25 },
  prepare: { qp: 30, keySize: '224x224', rgb: 8, shortSide: 192 },
  train: { model: 'resnet18', iterations: 200, batch: 16, size: 176, width: 0.125, optimizer: 'adam', lr: 0.001, lrStep: 1000, threads: LEARNING_THREADS, seed: 1, valEvery: 0 },
} as const;

export interface ResnetOnClips {
  /** The prepared cache (clips of 8 frames). */
  cache: string;
  /** The run folder (read it; never train into it). */
  run: string;
  /** How long preparing and training took when the fixture was made, and the last loss. */
  prepareSeconds: number;
  trainSeconds: number;
  finalLoss: number;
}

export async function resnet18OnClips(): Promise<ResnetOnClips> {
  const set = await actionSet();
  const dir = await sharedFolder({
    prefix: 'resnet18-clips-',
    maker: SELF,
    recipe: { set: ACTION_SET, ...RESNET18_ON_CLIPS },
    make: async (out) => {
      const t0 = performance.now();
      await prepareDataset(await openDataset(set, RESNET18_ON_CLIPS.split), path.join(out, 'cache'), { ...RESNET18_ON_CLIPS.prepare });
      const prepareSeconds = (performance.now() - t0) / 1000;
      const r = await trainModel({ ...RESNET18_ON_CLIPS.train, data: path.join(out, 'cache'), out: path.join(out, 'run') });
      writeFileSync(path.join(out, 'made.json'), JSON.stringify({ prepareSeconds, trainSeconds: r.seconds, finalLoss: r.finalLoss }));
    },
  });
  const made = JSON.parse(readFileSync(path.join(dir, 'made.json'), 'utf8')) as Pick<ResnetOnClips, 'prepareSeconds' | 'trainSeconds' | 'finalLoss'>;
  return { cache: path.join(dir, 'cache'), run: path.join(dir, 'run'), ...made };
}
