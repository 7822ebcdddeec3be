// evaluateRun: a run's multi-view scores per video on a cache split (nn/score), saved in the run
// folder's score format, and the metrics; fuseScores: the "-F" classifiers from saved scores.

import { PreparedCache } from '../cache/read.js';
import { classificationReport, meanScores, type ClassificationReport } from '../metrics/classification.js';
import { MvclassError } from '../util/errors.js';
import { CnnModel, type SessionSettings } from '../nn/model.js';
import { scoreVideos } from '../nn/score.js';
import { isMotionModel, readScores, RUN_FILES, writeScores, type ScoresFile, type VideoScores } from '../run/format.js';

export type { VideoScores };

export interface EvaluateOptions extends SessionSettings {
  run: string;
  data: string;
  split?: 'train' | 'test' | 'val';
  /** Temporal views (10 in the paper) and crops per view (10: corners + centre, flipped; or 1). */
  temporal?: number;
  crops?: 1 | 10;
  saveScores?: string;
  /** Return the per-video scores with the metrics (EvaluateResult.scores). */
  keepScores?: boolean;
  /** 'last' (model.pt, the default) or 'best' (best.pt: the checkpoint with the best validation accuracy while training). */
  checkpoint?: 'last' | 'best';
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluateResult extends ClassificationReport {
  model: string;
  split: string;
  views: string;
  /** The per-video scores, with keepScores. */
  scores?: VideoScores;
}

export async function evaluateRun(options: EvaluateOptions): Promise<EvaluateResult> {
  const split = options.split ?? 'test';
  const temporal = options.temporal ?? 10;
  const crops = options.crops ?? 10;
  const checkpoint = options.checkpoint ?? 'last';
  if (checkpoint !== 'last' && checkpoint !== 'best') throw new MvclassError(`Expected one of "last", "best" for checkpoint but received ${JSON.stringify(checkpoint)}`);
  const model = await CnnModel.open(options.run, options, checkpoint === 'best' ? RUN_FILES.best : RUN_FILES.last);
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
  if (options.saveScores) await writeScores(options.saveScores, scores);
  const report = classificationReport(scores.videos.map((v) => v.scores), scores.videos.map((v) => v.label), scores.classes);
  return { ...report, model: model.config.model, split, views: isMotionModel(model.config.model) ? `${temporal}x${crops}` : `${crops} crops`, ...(options.keepScores ? { scores } : {}) };
}

/** The "-F" classifiers: the mean of the streams' per-video softmax scores. */
export async function fuseScores(files: string[]): Promise<ClassificationReport & { streams: string[] }> {
  if (files.length < 2) throw new MvclassError('fuse needs at least two score files');
  const all: ScoresFile[] = [];
  for (const file of files) all.push(await readScores(file));
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
