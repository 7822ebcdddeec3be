// The accuracy part of the transcode study (transcodeStudy with `accuracy`): how well networks
// trained on the original videos classify the same test videos once re-encoded at each cell.
//
// 1. The original videos are prepared into <out>/accuracy/original/cache with prepare's defaults
//    (H.264 at QP 30, 25 fps, key frames 112x112) at one frame size: the study's capped size of
//    the videos (cappedSize), the most common one when they differ (the first in dataset order on a
//    tie), so that motion vectors are in the pixels of the cells' frames.
// 2. Each model is trained on that cache's train split into <out>/accuracy/runs/<model>.
// 3. Each cell's transcoded videos are prepared as they are (asIs: the cell's own motion vectors and
//    key frames) into <out>/accuracy/cells/<cell>/cache, each video with its original's label,
//    class and split, so every cache has the very same test videos.
// 4. Every model is scored on the test split of the original cache and of every cell's cache; the
//    top-1 goes to <out>/accuracy/scores/<original|cell>/<model>.json (the per-video scores beside it).
//
// Resumable: prepare is incremental and writes nothing for an unchanged dataset; a run is tied
// (<model>.train.json) to the original cache's manifest and the schedule, and is trained again only
// when either changed or it stopped short (then resumed); a score record is tied to its cache's
// manifest, the run's files and the views, and is computed again only when one of them changed.
// Every file is written atomically.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PRESETS } from '../config/presets.js';
import { mergeSection } from '../config/merge.js';
import type { DatasetItem, VideoDataset } from '../datasets/types.js';
import { checkDevice, isFrameModel, MODELS, OPTIMIZER_DEFAULTS, OPTIMIZERS, PAPER_INPUT, type Device, type ModelName, type OptimizerName } from '../nn/model.js';
import { hasRun, isClipModel, readRun, runPaths } from '../run/format.js';
import { writeFileAtomically } from '../util/atomic.js';
import { readJsonIfAny } from '../util/json.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { oneOf, positiveInteger, positiveNumber, testViewsOption } from '../util/validate.js';
import { evaluateRun } from './evaluate.js';
import type { UnlistedVideos } from '../config/regions.js';
import { DEFAULT_SHORT_SIDE as CLIP_SHORT_SIDE, prepareDataset } from './prepare.js';
import { trainModel } from './train.js';

/** The CPU preset's schedule (src/config/presets.ts), the default here: minutes on 2 cores per model. */
const CPU_TRAIN = mergeSection([PRESETS.paper, PRESETS.cpu], 'train');
export const DEFAULT_ACCURACY_VIEWS = String(mergeSection([PRESETS.paper, PRESETS.cpu], 'sweep').views);
/** Key frames of both the original and the cells' caches (prepare's default). */
export const ACCURACY_KEY_SIZE = '112x112';

export interface TranscodeAccuracyOptions {
  /** The networks to train on the originals and test on every cell. */
  models: readonly string[];
  /** Training iterations and batch (default the CPU preset's, 300 and 16). */
  iterations?: number;
  batch?: number;
  /** The optimiser (default sgd, the preset's) and its learning rate (default the cpu preset's 0.01 for
   * sgd, the optimiser's own default for adam and adamw, see OPTIMIZER_DEFAULTS). */
  optimizer?: string;
  lr?: number;
  /** Network shape for every model (default each model's CPU-preset shape); frames for the motion and clip networks. */
  frames?: number;
  size?: number;
  width?: number;
  fc?: number;
  /** Test views "<temporal>x<crops>" (default the CPU preset's, 3x10). */
  views?: string;
  seed?: number;
  threads?: number;
  device?: Device;
  onStage?: (stage: string, state: 'done' | 'skipped', seconds: number) => void;
}

/** The checked settings. */
export interface AccuracySettings {
  models: ModelName[];
  iterations: number;
  batch: number;
  optimizer: OptimizerName;
  lr: number;
  lrStep: number;
  shape: { frames?: number; size?: number; width?: number; fc?: number };
  temporal: number;
  crops: 1 | 10;
  seed: number;
  threads: number;
  device?: Device;
  onStage?: TranscodeAccuracyOptions['onStage'];
}

/** Checks the options before anything is encoded; an unknown model is a usage error. */
export function accuracySettings(options: TranscodeAccuracyOptions): AccuracySettings {
  if (!Array.isArray(options.models) || options.models.length === 0) throw new UsageError('Expected at least one model for models');
  const models = options.models.map((m) => {
    if (!(MODELS as readonly string[]).includes(m)) throw new UsageError(`Expected one of ${MODELS.join(', ')} for models but received ${JSON.stringify(m)}`);
    return m as ModelName;
  });
  if (new Set(models).size !== models.length) throw new UsageError(`Expected distinct models but received ${models.join(',')}`);
  const shape: AccuracySettings['shape'] = {};
  if (options.frames !== undefined) shape.frames = positiveInteger(options.frames, 'frames');
  if (options.size !== undefined) shape.size = positiveInteger(options.size, 'size');
  if (options.width !== undefined) {
    if (!(typeof options.width === 'number' && options.width > 0 && Number.isFinite(options.width))) throw new UsageError(`Expected a positive number for width but received ${JSON.stringify(options.width)}`);
    shape.width = options.width;
  }
  if (options.fc !== undefined) shape.fc = positiveInteger(options.fc, 'fc');
  const { temporal, crops } = testViewsOption(options.views ?? DEFAULT_ACCURACY_VIEWS, 'views');
  const iterations = positiveInteger(options.iterations ?? Number(CPU_TRAIN.iterations), 'iterations');
  const optimizer = oneOf(options.optimizer ?? 'sgd', 'optimizer', OPTIMIZERS);
  return {
    models,
    iterations,
    batch: positiveInteger(options.batch ?? Number(CPU_TRAIN.batch), 'batch'),
    optimizer,
    // The preset's rate is SGD's; another optimiser starts from its own default.
    lr: options.lr !== undefined ? positiveNumber(options.lr, 'lr') : (optimizer === 'sgd' ? Number(CPU_TRAIN.lr) : OPTIMIZER_DEFAULTS[optimizer].lr),
    // The preset's step, kept inside a shorter schedule.
    lrStep: Math.min(Number(CPU_TRAIN['lr-step']), iterations),
    shape,
    temporal,
    crops,
    seed: options.seed ?? 1,
    threads: options.threads ?? 0,
    ...(options.device !== undefined ? { device: options.device } : {}),
    ...(options.onStage ? { onStage: options.onStage } : {}),
  };
}

/** Refuses a device libtorch cannot use, before anything is encoded. */
export async function checkAccuracyDevice(s: AccuracySettings): Promise<void> {
  await checkDevice(s.device);
}

/** A model's shape: the CPU preset's, then the options'. */
function shapeOf(model: ModelName, s: AccuracySettings): { frames?: number; size?: number; width?: number; fc?: number } {
  const preset = mergeSection([PRESETS.cpu], 'train', model);
  const num = (v: unknown) => (v === undefined ? undefined : Number(v));
  const merged = { frames: num(preset.frames), size: num(preset.size), width: num(preset.width), fc: num(preset.fc), ...s.shape };
  const out: { frames?: number; size?: number; width?: number; fc?: number } = {};
  if (!isFrameModel(model) && merged.frames !== undefined) out.frames = merged.frames;
  if (merged.size !== undefined) out.size = merged.size;
  if (merged.width !== undefined) out.width = merged.width;
  if (merged.fc !== undefined) out.fc = merged.fc;
  return out;
}

/**
 * The decoded-frame clips every cache of the study stores when a clip network (cnn-lstm, x3d-s) is
 * among the models, as `prepare --rgb T --short-side S`: T the longest of their clips, S prepare's
 * default or, when larger, the largest of their input sides (even); none without a clip network.
 */
export function studyClips(s: AccuracySettings): { rgb: number; shortSide: number } | undefined {
  const shapes = s.models.filter(isClipModel).map((model) => ({ ...PAPER_INPUT[model], ...shapeOf(model, s) }));
  if (shapes.length === 0) return undefined;
  const side = Math.max(CLIP_SHORT_SIDE, ...shapes.map((x) => x.size));
  return { rgb: Math.max(...shapes.map((x) => x.frames)), shortSide: side + (side % 2) };
}

/** One cell for this part: its folder name and each dataset item's transcoded file (in dataset order). */
export interface AccuracyCell {
  folder: string;
  files: string[];
  /** The models tested on it (default all): a JPEG cell has no motion vectors for the MV networks. */
  models?: readonly ModelName[];
  /** Its streams carry no motion vectors (JPEG): prepared for their pictures alone (prepare's noMotion). */
  noMotion?: boolean;
}

export interface AccuracyResult {
  original: Record<string, number>;
  cells: Map<string, Record<string, number>>;
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** The most common of the videos' sizes, "WxH" (the first in dataset order on a tie). */
export function commonSize(sizes: ReadonlyArray<{ width: number; height: number }>): string {
  const counts = new Map<string, number>();
  for (const s of sizes) counts.set(`${s.width}x${s.height}`, (counts.get(`${s.width}x${s.height}`) ?? 0) + 1);
  let best = '';
  let most = 0;
  for (const [size, n] of counts) if (n > most) [best, most] = [size, n];
  return best;
}

async function timed<T>(s: AccuracySettings, stage: string, skip: boolean, work: () => Promise<T>): Promise<T | undefined> {
  if (skip) {
    s.onStage?.(stage, 'skipped', 0);
    return undefined;
  }
  const t0 = performance.now();
  const r = await work();
  s.onStage?.(stage, 'done', (performance.now() - t0) / 1000);
  return r;
}

/**
 * Trains `model` on `cache`'s train split into `run`, tied by `keyFile` to the cache's manifest and
 * the schedule: a run complete under the same key is kept, one stopped short under it resumed,
 * any other trained afresh.
 */
export async function trainOnCache(model: ModelName, cache: string, manifest: string, run: string, keyFile: string, stage: string, s: AccuracySettings): Promise<void> {
  const shape = shapeOf(model, s);
  // SGD, the study's first optimiser, is left out of the key, so runs trained before the choice existed are kept.
  const key = sha1(JSON.stringify({ cache: sha1(manifest), model, iterations: s.iterations, batch: s.batch, lr: s.lr, lrStep: s.lrStep, shape, seed: s.seed, ...(s.optimizer !== 'sgd' ? { optimizer: s.optimizer } : {}) }));
  const kept = await readJsonIfAny<{ key?: string }>(keyFile);
  const progress = kept?.key === key && (await hasRun(run)) ? ((await readRun(run)).iteration ?? 0) : 0;
  await timed(s, stage, progress >= s.iterations, async () => {
    await fs.mkdir(path.dirname(keyFile), { recursive: true });
    // Before training: a run stopped half-way is resumed only under the same key.
    await writeFileAtomically(keyFile, JSON.stringify({ key, cache, model, iterations: s.iterations, batch: s.batch, optimizer: s.optimizer, lr: s.lr, shape, seed: s.seed }, null, 2) + '\n');
    await trainModel({
      model,
      data: cache,
      out: run,
      iterations: s.iterations,
      batch: s.batch,
      optimizer: s.optimizer,
      lr: s.lr,
      lrStep: s.lrStep,
      ...shape,
      seed: s.seed,
      threads: s.threads,
      valEvery: 0,
      ...(s.device !== undefined ? { device: s.device } : {}),
      ...(progress > 0 ? { resume: true } : { force: true }),
    });
  });
}

/**
 * The top-1 of `run` on `cache`'s test split, kept in <dir>/<model>.json (the per-video scores in
 * <model>.scores.json) with a key of the cache's manifest, the run's files and the views: computed
 * again only when one of them changed.
 */
export async function scoreOnCache(run: string, cache: string, manifest: string, dir: string, model: string, stage: string, s: AccuracySettings): Promise<number> {
  const paths = runPaths(run);
  const [runText, weights] = await Promise.all([fs.readFile(paths.run, 'utf8'), fs.stat(paths.last)]);
  const key = sha1(JSON.stringify({ manifest: sha1(manifest), run: sha1(runText), weights: [weights.size, weights.mtimeMs], temporal: s.temporal, crops: s.crops }));
  const file = path.join(dir, `${model}.json`);
  const kept = await readJsonIfAny<{ key?: string; top1?: unknown }>(file);
  if (kept?.key === key && typeof kept.top1 === 'number') {
    s.onStage?.(stage, 'skipped', 0);
    return kept.top1;
  }
  await fs.mkdir(dir, { recursive: true });
  const report = (await timed(s, stage, false, () =>
    evaluateRun({ run, data: cache, split: 'test', temporal: s.temporal, crops: s.crops, saveScores: path.join(dir, `${model}.scores.json`), threads: s.threads, ...(s.device !== undefined ? { device: s.device } : {}) }),
  ))!;
  await writeFileAtomically(file, JSON.stringify({ key, cache, run, top1: report.top1, videos: report.videos, views: report.views, meanClassAccuracy: report.meanClassAccuracy, confusion: report.confusion, classes: report.classes }, null, 2) + '\n');
  return report.top1;
}

export async function transcodeAccuracy(
  data: VideoDataset,
  sizes: ReadonlyArray<{ width: number; height: number }>,
  cells: readonly AccuracyCell[],
  out: string,
  s: AccuracySettings,
  jobs: number,
  warn: (message: string) => void,
  more: {
    /** The job queue the preparations go through (the training and evaluation stay here). */
    queue?: { url: string; attempts?: number | undefined };
    /** The region of the originals the cells were made from: the originals are prepared from it too. */
    roi?: string;
    /** Or the region file each original's region came from (and what it says of the unlisted). */
    roiFile?: string;
    roiUnlisted?: UnlistedVideos;
  } = {},
): Promise<AccuracyResult> {
  const { queue } = more;
  const queued = queue ? { queue: queue.url, ...(queue.attempts !== undefined ? { attempts: queue.attempts } : {}) } : {};
  const root = path.join(out, 'accuracy');
  const failures = (label: string, cache: string, failed: Array<{ path: string; reason: string }>) => {
    if (failed.length) throw new MvclassError(`${cache}: ${label}: ${failed.length} video(s) could not be prepared, so its test split is not the original's: ${failed.map((f) => `${f.path}: ${f.reason}`).join('; ')}`, cache);
  };

  // Every cache holds the clips the clip networks take (cells included: they are tested on them).
  const clips = studyClips(s) ?? {};

  // 1. The originals, at the cells' frame size.
  const originalCache = path.join(root, 'original', 'cache');
  const size = commonSize(sizes);
  await fs.mkdir(path.dirname(originalCache), { recursive: true });
  const prepared = await prepareDataset(data, originalCache, { size, keySize: ACCURACY_KEY_SIZE, ...clips, jobs, onWarning: warn, ...queued, ...(more.roi !== undefined ? { roi: more.roi } : {}), ...(more.roiFile !== undefined ? { roiFile: more.roiFile } : {}), ...(more.roiUnlisted !== undefined ? { roiUnlisted: more.roiUnlisted } : {}) });
  failures('original', originalCache, prepared.failed);
  s.onStage?.('prepare original', prepared.prepared > 0 ? 'done' : 'skipped', 0);
  const originalManifest = await fs.readFile(path.join(originalCache, 'manifest.json'), 'utf8');

  // 2. One run per model on the originals' train split.
  const runs = new Map<ModelName, string>();
  for (const model of s.models) {
    const run = path.join(root, 'runs', model);
    await trainOnCache(model, originalCache, originalManifest, run, path.join(root, 'runs', `${model}.train.json`), `train ${model}`, s);
    runs.set(model, run);
  }

  // 4. Scores on one cache's test split, each kept with what it was computed from.
  const score = async (label: string, cache: string, manifest: string, models: readonly ModelName[] = s.models): Promise<Record<string, number>> => {
    const accuracy: Record<string, number> = {};
    for (const model of models) accuracy[model] = await scoreOnCache(runs.get(model)!, cache, manifest, path.join(root, 'scores', label), model, `eval ${model} ${label}`, s);
    return accuracy;
  };

  const original = await score('original', originalCache, originalManifest);

  // 3. Each cell's own streams, with the originals' labels and split.
  const result = new Map<string, Record<string, number>>();
  for (const cell of cells) {
    const cache = path.join(root, 'cells', cell.folder, 'cache');
    const items: DatasetItem[] = data.items.map((item, i) => ({ ...item, path: path.resolve(cell.files[i]!) }));
    const dataset: VideoDataset = { kind: data.kind, root: path.resolve(out, 'transcoded', cell.folder), classes: data.classes, items, missing: [] };
    await fs.mkdir(path.dirname(cache), { recursive: true });
    const p = await prepareDataset(dataset, cache, { asIs: true, ...(cell.noMotion ? { noMotion: true } : {}), keySize: ACCURACY_KEY_SIZE, ...clips, jobs, onWarning: warn, ...queued });
    failures(cell.folder, cache, p.failed);
    s.onStage?.(`prepare ${cell.folder}`, p.prepared > 0 ? 'done' : 'skipped', 0);
    result.set(cell.folder, await score(cell.folder, cache, await fs.readFile(path.join(cache, 'manifest.json'), 'utf8'), cell.models));
  }
  return { original, cells: result };
}
