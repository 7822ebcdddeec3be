// evaluateRun: multi-view scores per video (mean of the per-view softmax), and the metrics.

import { promises as fs } from 'node:fs';
import { PreparedCache } from '../cache/read.js';
import { classificationReport, meanScores, type ClassificationReport } from '../metrics/classification.js';
import { writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { testBatch } from './inputs.js';
import { CnnModel, type SessionSettings } from './model.js';

export interface EvaluateOptions extends SessionSettings {
  run: string;
  data: string;
  split?: 'train' | 'test' | 'val';
  /** Temporal views (10 in the paper) and crops per view (10: corners + centre, flipped; or 1). */
  temporal?: number;
  crops?: 1 | 10;
  saveScores?: string;
  /** 'last' (model.pt, the default) or 'best' (best.pt: the checkpoint with the best validation accuracy while training). */
  checkpoint?: 'last' | 'best';
  onProgress?: (done: number, total: number) => void;
}

export interface VideoScores {
  model: string;
  split: string;
  classes: string[];
  videos: Array<{ id: string; path: string; label: number; scores: number[] }>;
}

export interface EvaluateResult extends ClassificationReport {
  model: string;
  split: string;
  views: string;
}

/** Each video's mean softmax over its test views (`temporal` x `crops`; vgg16: crops only). */
export async function scoreVideos(model: CnnModel, cache: PreparedCache, temporal: number, crops: 1 | 10, onProgress?: (done: number, total: number) => void): Promise<VideoScores['videos']> {
  const videos: VideoScores['videos'] = [];
  const k = model.config.classes.length;
  for (let i = 0; i < cache.length; i++) {
    const views = await testBatch(cache, i, model.config, model.config.model === 'vgg16' ? 1 : temporal, crops);
    const probabilities = await model.predict(views);
    const rows = Array.from({ length: probabilities.length / k }, (_, r) => probabilities.subarray(r * k, (r + 1) * k));
    const v = cache.video(i);
    videos.push({ id: v.id, path: v.path, label: v.label, scores: Array.from(meanScores(rows)) });
    onProgress?.(i + 1, cache.length);
  }
  return videos;
}

export async function evaluateRun(options: EvaluateOptions): Promise<EvaluateResult> {
  const split = options.split ?? 'test';
  const temporal = options.temporal ?? 10;
  const crops = options.crops ?? 10;
  const checkpoint = options.checkpoint ?? 'last';
  if (checkpoint !== 'last' && checkpoint !== 'best') throw new MvclassError(`Expected one of "last", "best" for checkpoint but received ${JSON.stringify(checkpoint)}`);
  const model = await CnnModel.open(options.run, options, checkpoint === 'best' ? 'best.pt' : 'model.pt');
  const cache = (await PreparedCache.open(options.data)).subset(split);
  if (JSON.stringify(cache.classes) !== JSON.stringify(model.config.classes)) {
    throw new MvclassError(`${options.data}: its classes differ from the ones ${options.run} was trained on`, options.data);
  }
  if (cache.length === 0) throw new MvclassError(`${options.data}: no ${split} videos`, options.data);
  const scores: VideoScores = { model: model.config.model, split, classes: model.config.classes, videos: [] };
  try {
    scores.videos = await scoreVideos(model, cache, temporal, crops, options.onProgress);
  } finally {
    await cache.close();
  }
  if (options.saveScores) await writeFileAtomically(options.saveScores, JSON.stringify(scores) + '\n');
  const report = classificationReport(scores.videos.map((v) => v.scores), scores.videos.map((v) => v.label), scores.classes);
  return { ...report, model: model.config.model, split, views: model.config.model === 'vgg16' ? `${crops} crops` : `${temporal}x${crops}` };
}

/** The "-F" classifiers: the mean of the streams' per-video softmax scores. */
export async function fuseScores(files: string[]): Promise<ClassificationReport & { streams: string[] }> {
  if (files.length < 2) throw new MvclassError('fuse needs at least two score files');
  const all: VideoScores[] = [];
  for (const file of files) {
    try {
      all.push(JSON.parse(await fs.readFile(file, 'utf8')) as VideoScores);
    } catch (error) {
      throw new MvclassError(`${file}: not a score file from mvclass eval --save-scores (${(error as Error).message})`, file);
    }
  }
  const first = all[0]!;
  for (const [i, s] of all.entries()) {
    if (JSON.stringify(s.classes) !== JSON.stringify(first.classes)) throw new MvclassError(`${files[i]}: other classes than ${files[0]}`, files[i]);
  }
  const byId = all.map((s) => new Map(s.videos.map((v) => [v.id, v])));
  const common = first.videos.filter((v) => byId.every((m) => m.has(v.id)));
  if (common.length === 0) throw new MvclassError(`${files.join(', ')}: no video in common`);
  const fused = common.map((v) => Array.from(meanScores(byId.map((m) => m.get(v.id)!.scores))));
  return { ...classificationReport(fused, common.map((v) => v.label), first.classes), streams: all.map((s) => s.model) };
}
