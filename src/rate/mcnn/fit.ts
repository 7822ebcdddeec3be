// The Multi-CNN model fitted to measured videos (maths only: the workflow that reads the cache,
// the runs and their scores is src/app/mcnn.ts).
//   - f_s(R_motion): Gamma fit (and its KL divergence) over the training and validation videos;
//   - R_3D, R_2D: what each temporal classifier is sent per video — the parameter sets and the
//     cropped P frames of the first T frames it reads — over the video's duration, fitted as lines
//     of R_motion (the paper's a2D/a3D of about T2D/T3D follows from this);
//   - I_SP: the IDR frame's bits over the duration (what the spatial classifier is sent);
//   - A_3D, A_2D, A_SP: accuracies on the validation split, never the test split.
// checkMcnn then applies the selection per test video and measures what the model predicts.

import type { CroppedBits } from '../../codec/crop.js';
import { MvclassError } from '../../util/errors.js';
import { fitGamma, klDivergence } from './gamma.js';
import { fitLine } from './linear.js';
import type { McnnParams } from './model.js';
import { solve, type Selection } from './optimise.js';

/** What the fit needs of a measured video (a prepared cache's CachedVideo has it). */
export interface FitVideo {
  path: string;
  split: string;
  label: number;
  id: string;
  frames: number;
  duration: number;
  rates: { rMotion: number | null };
  cropped: CroppedBits | null;
}

export interface McnnRuns {
  mv3d: string;
  mv2d: string;
  spatial: string;
}

export interface McnnFit extends McnnParams {
  kl: number;
  r2_3d: number;
  r2_2d: number;
  frames3d: number;
  frames2d: number;
  videos: { fit: number; validation: number };
  runs: McnnRuns;
  data: string;
  /** The fit videos' mean frame count and duration (s): how long a video R_3D and R_2D were
   * measured on is (see streamMotionRate). Absent in fits made before it. */
  fitVideo?: { frames: number; seconds: number };
}

/** Bits a temporal classifier reading the first `frames` frames is sent: parameter sets and P frames. */
export function temporalBits(cropped: CroppedBits, frames: number): number {
  let bits = cropped.parameterSetBits;
  const n = Math.min(frames, cropped.frameBits.length);
  for (let k = 0; k < n; k++) if (cropped.kinds[k] === 'R') bits += cropped.frameBits[k]!;
  return bits;
}

/** The cached videos the Multi-CNN is fitted to: training and validation videos with R_motion and a cropped stream. */
export function fitVideosOf<V extends FitVideo>(videos: V[]): V[] {
  return videos.filter((v) => (v.split === 'train' || v.split === 'val') && v.rates.rMotion !== null && v.cropped);
}

/** Mean frame count and duration of the fit videos (McnnFit.fitVideo). */
export function meanFitVideo(fitVideos: FitVideo[]): { frames: number; seconds: number } {
  const n = Math.max(1, fitVideos.length);
  return { frames: fitVideos.reduce((s, v) => s + v.frames, 0) / n, seconds: fitVideos.reduce((s, v) => s + v.duration, 0) / n };
}

/**
 * R_motion (kbps) of a stream that is not one of the fit videos (the service's uploads), through
 * the fitted line R_3D = a3D R_motion + b3D. R_3D counts a video's first T3D frames over the
 * whole video's duration, so a stream's own R_3D means what the line means only when the stream
 * is as long as the fit videos were: a 10 s stream against 2 s fit videos read five times low,
 * under b3D, and came back as R_motion 0 although it had vectors. Here the stream's rewritten P
 * frames (their mean size over the whole stream; copied intra frames, wherever they are, not
 * counted) are counted as a fit video of the `typical` length would carry them in its first T3D
 * frames, one IDR then P frames: the result does not depend on the stream's length, its frame
 * rate or how many IDRs it has. 0 when the stream has no P frame (no vectors to measure).
 */
export function streamMotionRate(fit: Pick<McnnFit, 'a3d' | 'b3d' | 'frames3d'>, cropped: CroppedBits, typical: { frames: number; seconds: number }): number {
  let bits = 0;
  let count = 0;
  for (let k = 0; k < cropped.frameBits.length; k++) {
    if (cropped.kinds[k] === 'R') {
      bits += cropped.frameBits[k]!;
      count++;
    }
  }
  if (count === 0 || !(fit.a3d > 0) || !(typical.seconds > 0)) return 0;
  const pFrames = Math.max(0, Math.min(fit.frames3d, Math.round(typical.frames)) - 1);
  const r3d = (cropped.parameterSetBits + (bits / count) * pFrames) / typical.seconds / 1000;
  return Math.max(0, (r3d - fit.b3d) / fit.a3d);
}

/** kbps sent to a temporal classifier reading the first `frames` frames of a cached video. */
export function temporalRate(video: FitVideo, frames: number): number {
  const c = video.cropped;
  if (!c) throw new MvclassError(`${video.path}: the cache holds no cropped stream for it (H.264 without B-frames is needed)`, video.path);
  return temporalBits(c, frames) / video.duration / 1000;
}

/** kbps sent to the spatial classifier: the first intra frame. */
export function spatialRate(video: FitVideo): number {
  const c = video.cropped;
  if (!c) throw new MvclassError(`${video.path}: the cache holds no cropped stream for it`, video.path);
  const first = c.kinds.indexOf('C');
  return (c.parameterSetBits + (first >= 0 ? c.frameBits[first]! : 0)) / video.duration / 1000;
}

/** The network the Multi-CNN sends a video of this R_motion to: 3D below R_L, 2D below R_H, else spatial only. */
export function chooseNetwork(rMotion: number, selection: Pick<Selection, 'rL' | 'rH'>): keyof McnnRuns {
  return rMotion < selection.rL ? 'mv3d' : rMotion < selection.rH ? 'mv2d' : 'spatial';
}

/** R_3D if every video went to the 3D network: the scale the default check budgets are fractions of. */
export function allTo3dRate(fit: Pick<McnnFit, 'a3d' | 'b3d' | 'alpha' | 'beta'>): number {
  return fit.a3d * (fit.alpha / fit.beta) + fit.b3d;
}

/** Budgets at these fractions of allTo3dRate, rounded to `digits` decimals. */
export function budgetsFor(fit: Pick<McnnFit, 'a3d' | 'b3d' | 'alpha' | 'beta'>, fractions: readonly number[], digits = 2): number[] {
  const all3d = allTo3dRate(fit);
  return fractions.map((k) => Number((k * all3d).toFixed(digits)));
}

/**
 * Fits the model's rate terms to measured videos: the Gamma of R_motion, the lines of R_3D and
 * R_2D (networks reading the first frames3d and frames2d frames), I_SP; the accuracies come from
 * the caller (measured on the validation split).
 */
export function fitMcnnToVideos(
  fitVideos: FitVideo[],
  frames: { frames3d: number; frames2d: number },
  accuracies: { acc3d: number; acc2d: number; accsp: number },
): Omit<McnnFit, 'runs' | 'data' | 'videos'> {
  if (fitVideos.length < 2) throw new MvclassError('too few encoded videos with R_motion to fit (prepare without --as-is)');
  const rMotion = fitVideos.map((v) => v.rates.rMotion!);
  const gamma = fitGamma(rMotion);
  const line3d = fitLine(rMotion, fitVideos.map((v) => temporalRate(v, frames.frames3d)));
  const line2d = fitLine(rMotion, fitVideos.map((v) => temporalRate(v, frames.frames2d)));
  const isp = fitVideos.reduce((s, v) => s + spatialRate(v), 0) / fitVideos.length;
  return {
    alpha: gamma.alpha,
    beta: gamma.beta,
    kl: klDivergence(rMotion, gamma.alpha, gamma.beta),
    a3d: line3d.a,
    b3d: line3d.b,
    r2_3d: line3d.r2,
    a2d: line2d.a,
    b2d: line2d.b,
    r2_2d: line2d.r2,
    isp,
    ...accuracies,
    frames3d: frames.frames3d,
    frames2d: frames.frames2d,
    fitVideo: meanFitVideo(fitVideos),
  };
}

export interface McnnCheck {
  budget: number;
  feasible: boolean;
  rL: number | null;
  rH: number | null;
  predicted: { accuracy: number | null; rateSent: number | null };
  measured: { accuracy: number; rateSent: number; chosen: { mv3d: number; mv2d: number; spatial: number } } | null;
}

/** Each network's scores of the test videos, by video id. */
export type TestScores = Record<keyof McnnRuns, ReadonlyMap<string, { scores: readonly number[] }>>;

/**
 * The model against reality: for each budget, the thresholds the optimiser picks are applied per
 * test video (chooseNetwork), and the accuracy and mean rate actually obtained are set beside the
 * prediction. `test`: the test videos with R_motion and a cropped stream; `scores`: each
 * network's saved scores of them.
 */
export function checkMcnn(fit: McnnFit, budgets: number[], test: FitVideo[], scores: TestScores): McnnCheck[] {
  for (const v of test) {
    for (const stream of ['mv3d', 'mv2d', 'spatial'] as const) {
      if (!scores[stream].has(v.id)) throw new MvclassError(`${v.path}: no ${stream} score for this test video (scores of another cache?)`, v.path);
    }
  }
  return budgets.map((budget) => {
    const s = solve(fit, budget);
    if (!s.feasible || s.rL === null || s.rH === null) {
      return { budget, feasible: false, rL: null, rH: null, predicted: { accuracy: null, rateSent: null }, measured: null };
    }
    let correct = 0;
    let rate = 0;
    const chosen = { mv3d: 0, mv2d: 0, spatial: 0 };
    for (const v of test) {
      const stream = chooseNetwork(v.rates.rMotion!, { rL: s.rL, rH: s.rH });
      chosen[stream]++;
      rate += stream === 'mv3d' ? temporalRate(v, fit.frames3d) : stream === 'mv2d' ? temporalRate(v, fit.frames2d) : spatialRate(v);
      const sc = scores[stream].get(v.id)!.scores;
      if (sc.indexOf(Math.max(...sc)) === v.label) correct++;
    }
    return {
      budget,
      feasible: true,
      rL: s.rL,
      rH: s.rH,
      predicted: { accuracy: s.accuracy, rateSent: s.rateSent },
      measured: { accuracy: correct / Math.max(test.length, 1), rateSent: rate / Math.max(test.length, 1), chosen },
    };
  });
}
