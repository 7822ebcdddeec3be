// The training-run folder, as src/cache/format.ts is the cache's: what a run folder holds, under
// which names, and the one reader and writer of each file. train writes it, eval/plot/classify/
// mcnn/the sweep read it; none of them opens these files by hand.
//
//   run.json       the network (config), how far it got (iteration), what it was trained on and
//                  how (input: the cache's settings; training: every setting, so --resume needs
//                  nothing else), the best validation (best)
//   model.pt       the last checkpoint; best.pt the best validation's (libtorch archives written by
//                  native/nn/session.cc: weights, optimiser state, generators; equal training
//                  gives equal bytes)
//   metrics.jsonl  one JSON object a line: training windows, validation lines, a divergence
//   scores.json    per-video scores (`mvclass eval --save-scores`), the confusion matrix's input
//   training.svg/png, confusion.svg/png  what `mvclass plot` draws

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CacheSettings } from '../cache/format.js';
import { cacheSettingsOf } from '../cache/validate.js';
import { parseTrainingMetrics, type ParsedTrainingMetrics } from './metrics.js';
import { writeFileAtomically } from '../util/atomic.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { Fields } from '../util/fields.js';

/** The networks on motion volumes (the paper's temporal streams). */
export const MOTION_MODELS = ['mv3d', 'mv2d'] as const;
/**
 * The networks on the cache's RGB key frame (3xSxS, ImageNet normalisation): the paper's spatial
 * stream vgg16 and torchvision's ResNets. One frame, one score; a clip's score from several frames
 * would be the mean of these per-frame scores.
 */
export const FRAME_MODELS = ['vgg16', 'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'] as const;
/**
 * The networks on decoded-frame clips (prepare --rgb): T frames of one video as one input
 * [T, 3, S, S] (ImageNet normalisation), the same crop and flip for every frame. cnn-lstm (seeds
 * 000/001): a ResNet per frame, an LSTM over the frames. x3d-s (seed 003's family): X3D-S, a 3D
 * network in pytorchvideo's layout (native/nn/x3d.cc). Only a cache with clips feeds them.
 */
export const CLIP_MODELS = ['cnn-lstm', 'x3d-s'] as const;
export const MODELS = [...MOTION_MODELS, ...FRAME_MODELS, ...CLIP_MODELS] as const;
export type ModelName = (typeof MODELS)[number];
export type FrameModelName = (typeof FRAME_MODELS)[number];
export type ClipModelName = (typeof CLIP_MODELS)[number];

/** Whether a network takes the key frame (vgg16, the resnets) rather than motion volumes: the one test for it. */
export function isFrameModel(model: string): model is FrameModelName {
  return (FRAME_MODELS as readonly string[]).includes(model);
}

/** Whether a network takes a clip of T decoded frames as one input (cnn-lstm): the one test for it. */
export function isClipModel(model: string): model is ClipModelName {
  return (CLIP_MODELS as readonly string[]).includes(model);
}

/** Whether a network takes motion volumes (mv3d, mv2d). */
export function isMotionModel(model: string): boolean {
  return (MOTION_MODELS as readonly string[]).includes(model);
}

/** Whether a network has a ResNet backbone to choose (cnn-lstm; not x3d-s). */
export function hasBackbone(model: string): boolean {
  return model === 'cnn-lstm';
}

/** The ResNets a clip network may apply to each frame (its backbone). */
export const BACKBONES = ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'] as const;
export type BackboneName = (typeof BACKBONES)[number];

/** What rebuilds a network: its kind, classes and input shape. */
export interface ModelConfig {
  model: ModelName;
  classes: string[];
  /** T: frames per volume (mv3d 160, mv2d 60 in the paper). */
  frames: number;
  /** N: input side (mv3d 24, mv2d 48; a frame network its image side). */
  size: number;
  /** Channel multiplier (1 = the paper's networks). */
  width: number;
  /** Hidden units of the first two fully connected layers (cnn-lstm: of its first; the others in proportion). */
  fc: number;
  /** A clip network's per-frame ResNet (absent: resnet18; only clip networks have one). */
  backbone?: BackboneName;
  /** mv3d/mv2d: motion volumes are divided by this, the training set's RMS (absent in runs made before it: 1). */
  motionStd?: number;
}

/** The files of a run folder. */
export const RUN_FILES = {
  run: 'run.json',
  last: 'model.pt',
  best: 'best.pt',
  metrics: 'metrics.jsonl',
  scores: 'scores.json',
  figures: ['training.svg', 'training.png', 'confusion.svg', 'confusion.png'],
} as const;

/** The paths of a run folder's files. */
export function runPaths(runDir: string) {
  return {
    run: path.join(runDir, RUN_FILES.run),
    last: path.join(runDir, RUN_FILES.last),
    best: path.join(runDir, RUN_FILES.best),
    metrics: path.join(runDir, RUN_FILES.metrics),
    scores: path.join(runDir, RUN_FILES.scores),
  };
}

/** What a run folder's run.json holds: the network, and how far and on what it was trained. */
export interface TrainingRun {
  config: ModelConfig;
  /** The last checkpoint's iteration; null before the first. */
  iteration: number | null;
  /** How the training cache was prepared (classify prepares a new video the same way); null in runs of older versions. */
  input: CacheSettings | null;
  /** Every training setting as train wrote it, unchecked (src/config/run.ts checks what it reads); {} in older runs. */
  training: Record<string, unknown>;
  /** The best validation top-1 so far and its iteration (best.pt); null when none was scored. */
  best: { iteration: number; top1: number } | null;
}

export async function hasRun(runDir: string): Promise<boolean> {
  return fs.access(runPaths(runDir).run).then(
    () => true,
    () => false,
  );
}

/**
 * The one reader of run.json: every field the readers use checked, with messages that name the
 * file. Run folders are trusted to hold what they say (a checkpoint is code-like), but a
 * hand-edited or mismatched run.json must fail here, not deep inside libtorch.
 */
export async function readRun(runDir: string): Promise<TrainingRun> {
  const file = runPaths(runDir).run;
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new MvclassError(`${runDir}: not a training run (no run.json)`, runDir);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MvclassError(`${file}: damaged: ${(error as Error).message}`, file);
  }
  const run = Fields.of(file, file, json, 'run.json');
  const c = run.object('config');
  const config: ModelConfig = {
    model: c.oneOf('model', MODELS),
    classes: c.names('classes', 2),
    frames: c.integer('frames', 1, 100_000),
    size: c.integer('size', 1, 4096),
    width: c.positive('width', 16),
    fc: c.integer('fc', 1, 65_536),
    ...(c.raw('motionStd') === undefined ? {} : { motionStd: c.positive('motionStd', 1e6) }),
    ...(c.raw('backbone') === undefined ? {} : { backbone: c.oneOf('backbone', BACKBONES) }),
  };
  const training = run.raw('training');
  const best = run.raw('best') as { iteration?: unknown; top1?: unknown } | undefined;
  return {
    config,
    iteration: run.raw('iteration') === undefined ? null : run.integer('iteration', 0),
    input: run.raw('input') === undefined ? null : cacheSettingsOf(run.object('input')),
    training: training !== null && typeof training === 'object' && !Array.isArray(training) ? (training as Record<string, unknown>) : {},
    best:
      best !== null && typeof best === 'object' && Number.isSafeInteger(best.iteration) && typeof best.top1 === 'number' && Number.isFinite(best.top1)
        ? { iteration: best.iteration as number, top1: best.top1 }
        : null,
  };
}

/**
 * The backbone's learning-rate factor and freeze (train --backbone-lr, --freeze-backbone) a run's
 * `training` records: its checkpoints hold the optimiser state of those parameter groups. Runs
 * made before these settings: 1 and 0 (one group). `file` names run.json in the messages.
 */
export function backboneSettingsOf(training: Record<string, unknown>, file: string): { backboneLr: number; freezeBackbone: number } {
  const t = Fields.of(file, file, training, 'training', 'training.');
  const backboneLr = t.raw('backboneLr') === undefined ? 1 : t.amount('backboneLr');
  if (backboneLr > 1) t.expected('a fraction from 0 to 1', 'backboneLr');
  return { backboneLr, freezeBackbone: t.raw('freezeBackbone') === undefined ? 0 : t.integer('freezeBackbone', 0) };
}

/** Writes run.json (atomically): the network's config and what else the run records. */
export async function writeRun(runDir: string, config: ModelConfig, extra: { iteration?: number; input?: unknown; training?: unknown; best?: unknown }): Promise<void> {
  await writeFileAtomically(runPaths(runDir).run, JSON.stringify({ config, ...extra }, null, 1) + '\n');
}

/** Refuses a new run into a folder that holds one (its run.json), naming it and how far it got. */
export async function refuseExistingRun(runDir: string): Promise<void> {
  if (!(await hasRun(runDir))) return;
  const run = await readRun(runDir).catch(() => null);
  const at = run?.iteration != null ? ` (at iteration ${run.iteration})` : '';
  throw new UsageError(`${runDir}: already holds a training run${at}; continue it with --resume, or replace it with --force`);
}

/** Removes a run's files (a run replaced with --force); other files in the folder stay. */
export async function removeRun(runDir: string): Promise<void> {
  const names = [RUN_FILES.run, RUN_FILES.last, RUN_FILES.best, RUN_FILES.metrics, RUN_FILES.scores, ...RUN_FILES.figures];
  for (const name of names) await fs.rm(path.join(runDir, name), { force: true });
}

/** The training history of a run folder's metrics.jsonl; errors name the run folder (and the line). */
export async function readTrainingMetrics(run: string): Promise<ParsedTrainingMetrics> {
  const stat = await fs.stat(run).catch(() => null);
  if (!stat) throw new MvclassError(`${run}: no such run folder`, run);
  if (!stat.isDirectory()) throw new MvclassError(`${run}: not a run folder (a file, not a folder)`, run);
  const file = runPaths(run).metrics;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new MvclassError(
      code === 'ENOENT' ? `${run}: no metrics.jsonl in the run folder (not a run from mvclass train, or it has not logged yet)` : `${file}: cannot read: ${(error as Error).message}`,
      run,
    );
  }
  const history = parseTrainingMetrics(text, file);
  if (history.train.length === 0 && history.val.length === 0) throw new MvclassError(`${file}: damaged or empty: no iteration logged`, file);
  return history;
}

/** Per-video scores: what `mvclass eval --save-scores` writes and fusion, plots and the MCNN check read. */
export interface VideoScores {
  model: string;
  split: string;
  classes: string[];
  videos: Array<{ id: string; path: string; label: number; scores: number[] }>;
}

/** A score file as read back, checked (older or hand-made files may lack path and split). */
export interface ScoresFile {
  model: string;
  classes: string[];
  videos: Array<{ id: string; label: number; scores: number[] }>;
}

export async function writeScores(file: string, scores: VideoScores): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(scores) + '\n');
}

export async function readScores(file: string): Promise<ScoresFile> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new MvclassError(`${file}: not a score file from mvclass eval --save-scores (${(error as Error).message})`, file);
  }
  const bad = (what: string) => new MvclassError(`${file}: not a score file from mvclass eval --save-scores: ${what}`, file);
  const o = json as Partial<ScoresFile> | null;
  if (typeof o !== 'object' || o === null) throw bad('not a JSON object');
  if (!Array.isArray(o.classes) || o.classes.length < 1 || !o.classes.every((c) => typeof c === 'string')) throw bad('"classes" is not a list of names');
  if (!Array.isArray(o.videos)) throw bad('"videos" is not a list');
  const k = o.classes.length;
  o.videos.forEach((v, i) => {
    if (typeof v !== 'object' || v === null) throw bad(`video ${i} is not an object`);
    if (!Number.isInteger(v.label) || v.label < 0 || v.label >= k) throw bad(`video ${i} has label ${JSON.stringify(v.label)} outside the ${k} classes`);
    if (!Array.isArray(v.scores) || v.scores.length !== k || !v.scores.every((s) => typeof s === 'number' && Number.isFinite(s))) throw bad(`video ${i} does not have ${k} finite scores`);
  });
  return { model: typeof o.model === 'string' ? o.model : path.basename(file, '.json'), classes: o.classes, videos: o.videos.map((v, i) => ({ id: typeof v.id === 'string' ? v.id : String(i), label: v.label, scores: v.scores })) };
}
