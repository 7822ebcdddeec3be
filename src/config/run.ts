// A run folder's settings, as `train --resume` takes them: run.json holds every training setting
// (trainModel writes them), so a resumed run needs only its folder. Settings given again (a flag,
// a config file, a preset) must agree with the run's, except those that do not change what is
// learnt: iterations (to train further), threads, device, precision (the weights stay fp32), val-every.

import path from 'node:path';
import { hasRun, isFrameModel, readRun, runPaths } from '../run/format.js';
import { MvclassError, UsageError } from '../util/errors.js';
import type { Settings } from './merge.js';
import { checkSetting, TRAIN_FIELDS } from './schema.js';

export interface SavedRun {
  /** The last checkpoint's iteration. */
  iteration: number;
  /** The run's settings under the flags' names (model, data, iterations, lr-step, …). */
  settings: Settings;
  /** mv3d/mv2d: the motion scale the run measured (passed back so it is not measured again). */
  motionStd?: number;
}

/** run.json's `training` names -> the flags'. */
const SAVED: Record<string, string> = {
  data: 'data',
  iterations: 'iterations',
  batch: 'batch',
  optimizer: 'optimizer',
  lr: 'lr',
  lrStep: 'lr-step',
  weightDecay: 'weight-decay',
  warmup: 'warmup',
  backboneLr: 'backbone-lr',
  freezeBackbone: 'freeze-backbone',
  clipNorm: 'clip-norm',
  valEvery: 'val-every',
  seed: 'seed',
  threads: 'threads',
  device: 'device',
  precision: 'precision',
};

/** Settings a resumed run may change: they do not alter what the network learns. */
export const RESUME_MAY_CHANGE = ['iterations', 'threads', 'device', 'precision', 'val-every'] as const;

/** The settings of the run in `runDir`, checked; a folder without a checkpoint has nothing to resume. */
export async function readSavedRun(runDir: string): Promise<SavedRun> {
  const file = runPaths(runDir).run;
  if (!(await hasRun(runDir))) throw new MvclassError(`${runDir}: nothing to resume (no run.json)`, runDir);
  const run = await readRun(runDir);
  if (run.iteration === null) throw new MvclassError(`${runDir}: nothing to resume (run.json holds no iteration)`, runDir);
  const { config, training } = run;
  const settings: Settings = { model: config.model, size: config.size, width: config.width, fc: config.fc, ...(isFrameModel(config.model) ? {} : { frames: config.frames }), ...(config.backbone ? { backbone: config.backbone } : {}) };
  for (const [name, key] of Object.entries(SAVED)) {
    if (!Object.hasOwn(training, name)) continue;
    try {
      settings[key] = checkSetting(TRAIN_FIELDS[key]!, training[name], `training.${name}`, file);
    } catch (error) {
      throw new MvclassError((error as Error).message, file);
    }
  }
  return { iteration: run.iteration, settings, ...(config.motionStd !== undefined ? { motionStd: config.motionStd } : {}) };
}

export interface GivenSetting {
  value: unknown;
  /** Where it came from, for messages: "--lr", "config.yaml (train.lr)", "the cpu preset". */
  from: string;
}

function same(key: string, a: unknown, b: unknown): boolean {
  if (key === 'data' || key === 'weights' || key === 'init') return path.resolve(String(a)) === path.resolve(String(b));
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b);
  return String(a) === String(b);
}

/**
 * The settings of a resumed run: the run's own, with the given ones that may change. A given
 * setting that would change what the network learns is refused, saying where it came from.
 */
export function resumedSettings(runDir: string, saved: SavedRun, given: ReadonlyMap<string, GivenSetting>): Settings {
  const settings: Settings = { ...saved.settings };
  const file = runPaths(runDir).run;
  for (const [key, { value, from }] of given) {
    if (key === 'weights') throw new UsageError(`${from}: --weights starts a run from torchvision weights; a resumed run continues from its checkpoint (drop it)`);
    if (key === 'init') throw new UsageError(`${from}: --init starts a run from another run's weights; a resumed run continues from its checkpoint (drop it)`);
    if (key === 'frames' && isFrameModel(String(saved.settings.model))) continue; // a frame network takes one key frame whatever frames says
    if ((RESUME_MAY_CHANGE as readonly string[]).includes(key)) {
      settings[key] = checkSetting(TRAIN_FIELDS[key]!, value, key);
      continue;
    }
    const mine = saved.settings[key];
    if (mine === undefined) {
      settings[key] = checkSetting(TRAIN_FIELDS[key]!, value, key);
      continue;
    }
    const checked = checkSetting(TRAIN_FIELDS[key]!, value, key);
    if (!same(key, checked, mine)) {
      throw new UsageError(
        `${from} gives ${key} ${JSON.stringify(checked)} but the run in ${runDir} was trained with ${JSON.stringify(mine)} (${file}); ` +
          'a resumed run keeps its settings: drop it, or start a new run (another -o, or --force to replace this one)',
      );
    }
  }
  const iterations = Number(settings.iterations);
  if (!(iterations > saved.iteration)) {
    throw new UsageError(
      `${runDir}: the run is at iteration ${saved.iteration}${given.has('iterations') ? `, and ${given.get('iterations')!.from} asks for ${iterations}` : ` of ${iterations}: it is complete`}; give --iterations above ${saved.iteration} to train further`,
    );
  }
  return settings;
}
