// scoreVideos: each video's mean softmax over its test views, the unit that evaluation, the
// MCNN check and training's validation all score with.

import type { PreparedCache } from '../cache/read.js';
import { meanScores } from '../metrics/classification.js';
import { isMotionModel, type VideoScores } from '../run/format.js';
import { testBatch } from './inputs.js';
import type { CnnModel } from './model.js';

/** Each video's mean softmax over its test views (`temporal` x `crops`; a frame or clip network: crops only). */
export async function scoreVideos(model: CnnModel, cache: PreparedCache, temporal: number, crops: 1 | 10, onProgress?: (done: number, total: number) => void): Promise<VideoScores['videos']> {
  const videos: VideoScores['videos'] = [];
  const k = model.config.classes.length;
  for (let i = 0; i < cache.length; i++) {
    const views = await testBatch(cache, i, model.config, isMotionModel(model.config.model) ? temporal : 1, crops);
    const probabilities = await model.predict(views);
    const rows = Array.from({ length: probabilities.length / k }, (_, r) => probabilities.subarray(r * k, (r + 1) * k));
    const v = cache.video(i);
    videos.push({ id: v.id, path: v.path, label: v.label, scores: Array.from(meanScores(rows)) });
    onProgress?.(i + 1, cache.length);
  }
  return videos;
}

