// classifyRolling: a frame network's label over time for a long video (seed 002's fix for the
// flickering of single-frame predictions). The video's frames are decoded in one streaming pass,
// every `stride`-th one converted at the size the run's cache stored its clips (prepare --rgb:
// short side S) and scored; each scored frame's probabilities are averaged with those of the
// frames before it, `rolling` of them in all. Decoded frames are never held beyond the batch being
// scored: memory is the window of probability vectors and the series itself.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainedOnClips } from './classify.js';
import { decodeVideo } from '../codec/decode.js';
import { probe } from '../codec/probe.js';
import { ingestVideo } from '../ingest/ingest.js';
import { profileOfCache } from '../ingest/profile.js';
import { meanScores } from '../metrics/classification.js';
import { imageViews } from '../nn/inputs.js';
import { CnnModel, type SessionSettings } from '../nn/model.js';
import { isFrameModel, readRun } from '../run/format.js';
import { MvclassError } from '../util/errors.js';
import { positiveInteger } from '../util/validate.js';

/** Without --stride, every frame is scored up to this many; a longer video is scored every ceil(frames / this)-th frame. */
export const ROLLING_DEFAULT_POINTS = 1500;

export interface RollingOptions extends SessionSettings {
  /** n: how many scored frames the rolling mean covers (the current one and the n - 1 before it). */
  rolling: number;
  /** Score every k-th frame (0, k, 2k, ...); default: every frame up to ROLLING_DEFAULT_POINTS frames. */
  stride?: number;
  /** Views per frame: the centre crop (1, the default) or the corners and centre, mirrored too (10). */
  crops?: 1 | 10;
  /** Re-encode the video as the run's cache was made (size, fps, QP) before reading it. */
  encode?: boolean;
  inputOptions?: Record<string, string>;
  onWarning?: (message: string) => void;
}

export interface RollingPoint {
  /** Presentation time of the frame, seconds from the stream's start. */
  time: number;
  /** Display index of the frame. */
  index: number;
  /** The frame's own top-1 and its probability. */
  top1: string;
  probability: number;
  /** The rolling mean's top-1 and its probability. */
  rollingTop1: string;
  rollingProbability: number;
  /** The frame's probabilities (the mean over its views), and the rolling mean of the last `rolling` of them. */
  scores: number[];
  rollingScores: number[];
}

/** A stretch of scored frames with one rolling label: from the first one's time to the last one's. */
export interface RollingSegment {
  from: number;
  to: number;
  class: string;
  points: number;
}

export interface RollingResult {
  video: string;
  run: string;
  model: string;
  classes: string[];
  rolling: number;
  stride: number;
  crops: 1 | 10;
  /** Frames the pass decoded, and the stream's frame rate. */
  frames: number;
  fps: number;
  points: RollingPoint[];
  segments: RollingSegment[];
  /** The video's score: the mean of every scored frame's probabilities, and its top-1. */
  scores: number[];
  top1: string;
  probability: number;
  seconds: Record<string, number>;
}

/** The mean of the last `size` vectors pushed (fewer at the start), kept as a running sum. */
export class RollingMean {
  private readonly window: Float64Array[] = [];
  private readonly sum: Float64Array;
  private next = 0;

  constructor(
    readonly size: number,
    readonly length: number,
  ) {
    this.sum = new Float64Array(length);
  }

  push(vector: ArrayLike<number>): number[] {
    const copy = Float64Array.from(vector);
    if (this.window.length < this.size) this.window.push(copy);
    else {
      const old = this.window[this.next]!;
      for (let c = 0; c < this.length; c++) this.sum[c]! -= old[c]!;
      this.window[this.next] = copy;
      this.next = (this.next + 1) % this.size;
    }
    for (let c = 0; c < this.length; c++) this.sum[c]! += copy[c]!;
    const n = this.window.length;
    return Array.from(this.sum, (s) => s / n);
  }
}

function best(scores: ArrayLike<number>): number {
  let b = 0;
  for (let c = 1; c < scores.length; c++) if (scores[c]! > scores[b]!) b = c;
  return b;
}

/** Consecutive points with the same rolling label as one segment each. */
export function rollingSegments(points: readonly RollingPoint[]): RollingSegment[] {
  const out: RollingSegment[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && last.class === p.rollingTop1) {
      last.to = p.time;
      last.points++;
    } else out.push({ from: p.time, to: p.time, class: p.rollingTop1, points: 1 });
  }
  return out;
}

/** A local file's frame count (0 when the input is not a regular file or the count is unknown): for the default stride. */
async function frameCountOf(video: string, inputOptions?: Record<string, string>): Promise<number> {
  const stat = await fs.stat(video).catch(() => null);
  if (!stat?.isFile()) return 0;
  const info = await probe(video, inputOptions ? { inputOptions } : {});
  return info.frameCount > 0 ? info.frameCount : 0;
}

/** The default stride: 1, or what keeps a long video to ROLLING_DEFAULT_POINTS scored frames. */
export function defaultStride(frames: number): number {
  return frames > ROLLING_DEFAULT_POINTS ? Math.ceil(frames / ROLLING_DEFAULT_POINTS) : 1;
}

export async function classifyRolling(video: string, run: string, options: RollingOptions): Promise<RollingResult> {
  const rolling = positiveInteger(options.rolling, 'rolling');
  const given = options.stride === undefined ? undefined : positiveInteger(options.stride, 'stride');
  const crops = options.crops ?? 1;
  if (crops !== 1 && crops !== 10) throw new MvclassError(`Expected 1 or 10 for crops but received ${JSON.stringify(crops)}`);
  const seconds: Record<string, number> = {};
  const { config, input } = await readRun(run);
  if (!isFrameModel(config.model)) {
    throw new MvclassError(`${run}: --rolling scores a video frame by frame, and ${config.model} is a motion network; give the run of a frame network (vgg16, resnet18..152) trained on decoded-frame clips`, run);
  }
  if (!trainedOnClips(input)) {
    throw new MvclassError(`${run}: ${config.model} was trained on key frames (its cache was prepared without --rgb); --rolling needs a frame network trained on decoded-frame clips (prepare --rgb T), whose frame size it reads from the run`, run);
  }
  const t0 = performance.now();
  const model = await CnnModel.open(run, options);
  seconds['load model'] = (performance.now() - t0) / 1000;
  const classes = config.classes;
  const k = classes.length;
  // A cache of videos taken as they were (--as-is) has no encoding to repeat.
  const profile = options.encode ? profileOfCache(input) : null;
  const work = profile ? await fs.mkdtemp(path.join(os.tmpdir(), 'mvclass-rolling-')) : null;
  try {
    let stream = video;
    if (work && profile) {
      const t = performance.now();
      const encoded = await ingestVideo(video, { profile, decode: false, workDir: work, ...(options.onWarning ? { onWarning: options.onWarning } : {}), ...(options.inputOptions ? { inputOptions: options.inputOptions } : {}) });
      stream = encoded.stream;
      seconds.encode = (performance.now() - t) / 1000;
    }
    const inputOptions = work ? undefined : options.inputOptions;
    const stride = given ?? defaultStride(await frameCountOf(stream, inputOptions));
    const window = new RollingMean(rolling, k);
    const total = new Float64Array(k);
    const points: RollingPoint[] = [];
    let frames = 0;
    let fps = 0;
    let decodeSeconds = 0;
    let inferSeconds = 0;
    const per = 3 * config.size * config.size;
    // Small batches: each holds up to 16 converted frames (a few MB at the usual short sides), and
    // the reader decodes the next while these are scored.
    const decoded = decodeVideo(
      stream,
      {
        vectors: false,
        clipStride: stride,
        clipShortSide: input.shortSide,
        batchSize: 16,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
        ...(inputOptions ? { inputOptions } : {}),
      },
      (s) => {
        fps = s.fps;
      },
    );
    let t = performance.now();
    for await (const batch of decoded) {
      decodeSeconds += (performance.now() - t) / 1000;
      frames += batch.frames.length;
      const clip = batch.clipFrames ?? [];
      if (clip.length > 0) {
        const t1 = performance.now();
        const time = new Map(batch.frames.map((f) => [f.index, f.pts]));
        const views = new Float32Array(clip.length * crops * per);
        clip.forEach((f, i) => {
          if (f.width < config.size || f.height < config.size) throw new MvclassError(`${video}: frame ${f.index} is ${f.width}x${f.height}, smaller than the network's ${config.size}x${config.size} input`, video);
          views.set(imageViews(f, config, crops), i * crops * per);
        });
        const probabilities = await model.predict(views);
        clip.forEach((f, i) => {
          const frameViews = Array.from({ length: crops }, (_, v) => probabilities.subarray((i * crops + v) * k, (i * crops + v + 1) * k));
          const scores = Array.from(meanScores(frameViews));
          const mean = window.push(scores);
          for (let c = 0; c < k; c++) total[c]! += scores[c]!;
          const raw = best(scores);
          const smooth = best(mean);
          points.push({
            time: time.get(f.index) ?? (fps > 0 ? f.index / fps : 0),
            index: f.index,
            top1: classes[raw]!,
            probability: scores[raw]!,
            rollingTop1: classes[smooth]!,
            rollingProbability: mean[smooth]!,
            scores,
            rollingScores: mean,
          });
        });
        inferSeconds += (performance.now() - t1) / 1000;
      }
      t = performance.now();
    }
    seconds.decode = decodeSeconds;
    seconds.infer = inferSeconds;
    if (points.length === 0) throw new MvclassError(`${video}: no frames decoded`, video);
    const scores = Array.from(total, (s) => s / points.length);
    const top = best(scores);
    return { video, run, model: config.model, classes, rolling, stride, crops, frames, fps, points, segments: rollingSegments(points), scores, top1: classes[top]!, probability: scores[top]!, seconds };
  } finally {
    if (work) await fs.rm(work, { recursive: true, force: true });
  }
}
