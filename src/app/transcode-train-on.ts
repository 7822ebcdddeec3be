// The training part of the transcode study (seed 003 tables 6-9; transcodeStudy with `trainOn`):
// each network trained on the train split of the videos transcoded at one setting and tested on
// the test split of the same setting, beside the setting's size.
//
// The settings: each CRF (or QP) of `trainOn` at GOP 12 when the study's grid has GOP 12 (seed
// 003's), else at the grid's largest GOP; each must be a level of the grid, so that its cell's
// videos are already transcoded and prepared (app/transcode-accuracy.ts: the cell's own streams,
// the originals' labels and split). Per setting and model:
//
//   <out>/accuracy/train-on/<cell>/runs/<model>/        the run, tied by <model>.train.json to the
//                                                       cell's cache and the schedule (trainOnCache)
//   <out>/accuracy/train-on/<cell>/scores/<model>.json  its top-1 on the cell's test split (scoreOnCache)
//
// Resumable as the rest of the study: a complete run is not trained again, one stopped short is
// resumed, a score whose inputs did not change is not computed again.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../util/errors.js';
import { integerInRange } from '../util/validate.js';
import { scoreOnCache, trainOnCache, type AccuracySettings } from './transcode-accuracy.js';

/** The GOP the networks are trained at when the grid has it (seed 003's). */
export const TRAIN_ON_GOP = 12;

/** One setting trained and tested on: its level, GOP, size and the top-1 per model. */
export interface TrainOnRow {
  crf?: number;
  qp?: number;
  gop: number;
  bytes: number;
  kbps: number;
  /** Top-1 on the setting's test split of each network trained on the setting's train split. */
  accuracy: Record<string, number>;
}

/**
 * Checks `trainOn` against the grid before anything is encoded: distinct levels of the grid's
 * `rate` (crf or qp). Returns the levels and the GOP they are trained at.
 */
export function trainOnSettings(trainOn: readonly unknown[], rate: 'crf' | 'qp', levels: readonly number[], gops: readonly number[]): { levels: number[]; gop: number } {
  if (!Array.isArray(trainOn) || trainOn.length === 0) throw new UsageError('Expected a non-empty list of levels for trainOn');
  const chosen = trainOn.map((v) => integerInRange(v, 'trainOn', 0, 51));
  if (new Set(chosen).size !== chosen.length) throw new UsageError(`Expected distinct values for trainOn but received ${chosen.join(',')}`);
  const missing = chosen.filter((l) => !levels.includes(l));
  if (missing.length) throw new UsageError(`Expected trainOn levels among the study's ${rate} levels (${levels.join(', ')}) but received ${missing.join(', ')}`);
  return { levels: chosen, gop: gops.includes(TRAIN_ON_GOP) ? TRAIN_ON_GOP : Math.max(...gops) };
}

/** Trains and tests every model on each cell (its folder under <out>/accuracy/cells), in the order given; the top-1 per model per cell. */
export async function transcodeTrainOn(out: string, folders: readonly string[], s: AccuracySettings): Promise<Array<Record<string, number>>> {
  const rows: Array<Record<string, number>> = [];
  for (const folder of folders) {
    const cache = path.join(out, 'accuracy', 'cells', folder, 'cache');
    const manifest = await fs.readFile(path.join(cache, 'manifest.json'), 'utf8');
    const root = path.join(out, 'accuracy', 'train-on', folder);
    const accuracy: Record<string, number> = {};
    for (const model of s.models) {
      const run = path.join(root, 'runs', model);
      await trainOnCache(model, cache, manifest, run, path.join(root, 'runs', `${model}.train.json`), `train ${model} on ${folder}`, s);
      accuracy[model] = await scoreOnCache(run, cache, manifest, path.join(root, 'scores'), model, `eval ${model} trained on ${folder}`, s);
    }
    rows.push(accuracy);
  }
  return rows;
}
