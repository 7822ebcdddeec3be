// The Multi-CNN workflows: fit the model to a prepared cache and three trained runs (the rate
// terms from the cache, the accuracies from the runs' validation scores), check it on the test
// split from the runs' test scores (saved ones reused: the sweep's eval stage has them), and
// read a model file back (what `mcnn fit` writes, or the parameters alone). The maths is
// src/rate/mcnn; this file only gathers what it needs.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PreparedCache } from '../cache/read.js';
import type { CachedVideo } from '../cache/format.js';
import { readRun, readScores } from '../run/format.js';
import { checkMcnn, fitMcnnToVideos, fitVideosOf, type McnnCheck, type McnnFit, type McnnRuns, type TestScores } from '../rate/mcnn/fit.js';
import { MCNN_PARAM_NAMES, mcnnParams, type McnnParams } from '../rate/mcnn/model.js';
import { writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { checkDevice, type Device } from '../nn/model.js';
import { evaluateRun } from './evaluate.js';

export type { McnnCheck, McnnFit, McnnRuns };

export interface McnnViews {
  temporal?: number;
  crops?: 1 | 10;
  threads?: number;
  /** Where the networks run (default cpu). */
  device?: Device;
}

const STREAMS = ['mv3d', 'mv2d', 'spatial'] as const;

/** The libtorch settings of the evaluations: threads and device when given. */
const sessionOf = (options: McnnViews) => ({ ...(options.threads ? { threads: options.threads } : {}), ...(options.device ? { device: options.device } : {}) });

async function videosOf(data: string): Promise<CachedVideo[]> {
  const cache = await PreparedCache.open(data);
  try {
    return cache.videos;
  } finally {
    await cache.close();
  }
}

/** Fits the MCNN to a cache prepared with a validation split and the three runs trained on it. */
export async function fitMcnn(runs: McnnRuns, data: string, options: McnnViews = {}): Promise<McnnFit> {
  await checkDevice(options.device); // refused before the cache is read
  const videos = await videosOf(data);
  const fitVideos = fitVideosOf(videos);
  const validation = videos.filter((v) => v.split === 'val');
  if (validation.length === 0) {
    throw new MvclassError(`${data}: no validation videos; prepare the dataset with --val-fraction (the MCNN's accuracies must not come from the test split)`, data);
  }
  if (fitVideos.length < 2) throw new MvclassError(`${data}: too few encoded videos with R_motion to fit (prepare without --as-is)`, data);
  const frames3d = (await readRun(runs.mv3d)).config.frames;
  const frames2d = (await readRun(runs.mv2d)).config.frames;
  const accuracy = async (run: string) =>
    (await evaluateRun({ run, data, split: 'val', temporal: options.temporal ?? 10, crops: options.crops ?? 10, ...sessionOf(options) })).top1;
  const accuracies = { acc3d: await accuracy(runs.mv3d), acc2d: await accuracy(runs.mv2d), accsp: await accuracy(runs.spatial) };
  const { fitVideo, ...params } = fitMcnnToVideos(fitVideos, { frames3d, frames2d }, accuracies);
  // The keys in the order mcnn.json has always had them.
  return { ...params, videos: { fit: fitVideos.length, validation: validation.length }, runs, data: path.resolve(data), ...(fitVideo ? { fitVideo } : {}) };
}

export async function writeMcnn(file: string, fit: McnnFit): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(fit, null, 1) + '\n');
}

/**
 * Checks the fit on the test split. `scoreFiles`: each network's saved test scores (eval
 * --save-scores, made with the same views); a network without one is scored here, in memory
 * (nothing is written into the run folders).
 */
export async function validateMcnn(fit: McnnFit, budgets: number[], options: McnnViews & { scoreFiles?: Partial<Record<keyof McnnRuns, string>> } = {}): Promise<McnnCheck[]> {
  const videos = await videosOf(fit.data);
  const test = videos.filter((v) => v.split === 'test' && v.rates.rMotion !== null && v.cropped);
  const scores = {} as Record<keyof McnnRuns, Map<string, { scores: number[] }>>;
  for (const stream of STREAMS) {
    const saved = options.scoreFiles?.[stream];
    if (saved) {
      scores[stream] = new Map((await readScores(saved)).videos.map((v) => [v.id, v]));
      continue;
    }
    const evaluated = await evaluateRun({ run: fit.runs[stream], data: fit.data, split: 'test', temporal: options.temporal ?? 10, crops: options.crops ?? 10, ...sessionOf(options), keepScores: true });
    scores[stream] = new Map(evaluated.scores!.videos.map((v) => [v.id, v]));
  }
  return checkMcnn(fit, budgets, test, scores satisfies TestScores);
}

/** What `mcnn fit` writes beside the parameters (McnnFit): read without a warning. */
const FIT_FIELDS: readonly string[] = ['kl', 'r2_3d', 'r2_2d', 'frames3d', 'frames2d', 'videos', 'runs', 'data', 'fitVideo'];

/**
 * The MCNN parameters of a model file (mcnn.json, or an object with the ten parameters), with
 * `overrides` (numbers or their text) taking precedence; fields it does not know are reported to
 * `onUnknown`. A parameter missing from both is an error naming the flags that would give it.
 */
export async function readMcnnParams(file: string | undefined, overrides: Partial<Record<(typeof MCNN_PARAM_NAMES)[number], unknown>> = {}, onUnknown?: (message: string) => void): Promise<McnnParams> {
  const merged: Record<string, unknown> = file === undefined ? {} : { ...(await readModelFile(file, onUnknown)) };
  for (const name of MCNN_PARAM_NAMES) if (overrides[name] !== undefined) merged[name] = overrides[name];
  const missing = MCNN_PARAM_NAMES.filter((k) => merged[k] === undefined);
  if (missing.length > 0) {
    throw new MvclassError(`Missing MCNN parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: give --model <mcnn.json> or ${missing.map((k) => `--${k}`).join(', ')}`);
  }
  return mcnnParams(merged);
}

async function readModelFile(file: string, onUnknown?: (message: string) => void): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new MvclassError(`${file}: cannot read the model (${(error as NodeJS.ErrnoException).code ?? String(error)})`, file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MvclassError(`${file}: not valid JSON (${(error as Error).message})`, file);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MvclassError(`${file}: expected a JSON object with ${MCNN_PARAM_NAMES.join(', ')}`, file);
  }
  for (const key of Object.keys(value)) {
    if (!(MCNN_PARAM_NAMES as readonly string[]).includes(key) && !FIT_FIELDS.includes(key)) onUnknown?.(`${file}: ignoring unknown field "${key}"`);
  }
  return value as Record<string, unknown>;
}
