// classifyRolling: one network's label over time for a long video (seed 002's fix for the
// flickering of single-frame predictions).
//
// A frame network trained on decoded-frame clips: the video's frames are decoded in one streaming
// pass, every `stride`-th one converted at the size the run's cache stored its clips (prepare
// --rgb: short side S) and scored. Decoded frames are never held beyond the batch being scored.
//
// A motion network (mv3d, mv2d): the one ingest step reads the video's motion grids (at the run's
// grid size) batch by batch; the last T of them (T: the frames of the run's volumes) are kept in a
// ring, and every `stride` frames the window of the last T grids is made into the network's
// test-time volume (the one classify makes of a video of T frames) and scored. A point's time is
// the window's last frame: the causal choice, what a live system knows at that moment.
//
// Either way, each point's probabilities are averaged with those of the points before it,
// `rolling` of them in all; memory is that window of probability vectors (and of grids) and the
// series itself.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodingFor, mismatchWarning, trainedOnClips } from './classify.js';
import type { CacheSettings } from '../cache/format.js';
import { decodeVideo } from '../codec/decode.js';
import { probe } from '../codec/probe.js';
import { ingestVideo } from '../ingest/ingest.js';
import type { EncodingProfile } from '../ingest/profile.js';
import type { PictureRegion } from '../codec/region.js';
import { meanScores } from '../metrics/classification.js';
import { imageViews, volumeViews } from '../nn/inputs.js';
import { CnnModel, type SessionSettings } from '../nn/model.js';
import { isClipModel, isMotionModel, readRun, type ModelConfig } from '../run/format.js';
import { MvclassError } from '../util/errors.js';
import { positiveInteger } from '../util/validate.js';

/** Without --stride, every frame is scored (a motion network: a window ends at every frame) up to this many; a longer video every ceil(frames / this)-th. */
export const ROLLING_DEFAULT_POINTS = 1500;

export interface RollingOptions extends SessionSettings {
  /** n: how many points the rolling mean covers (the current one and the n - 1 before it). */
  rolling: number;
  /** Score every k-th frame (0, k, 2k, ...; a motion network: the windows starting there); default: every frame up to ROLLING_DEFAULT_POINTS frames. */
  stride?: number;
  /** Views per point: the centre crop (1, the default) or the corners and centre, mirrored too (10). */
  crops?: 1 | 10;
  /** Re-encode the video as the run's cache was made (size, fps, QP) before reading it. */
  encode?: boolean;
  /** With `encode`: cut this region of each picture first (as classify's `region`). */
  region?: PictureRegion;
  inputOptions?: Record<string, string>;
  onWarning?: (message: string) => void;
  /** A motion network and a video read as it was: told when the video is encoded otherwise than the run's training videos (as classify tells it). */
  onMismatch?: (message: string) => void;
}

export interface RollingPoint {
  /** Presentation time of the frame (a motion network: of the window's last frame), seconds from the stream's start. */
  time: number;
  /** Display index of the frame (a motion network: of the window's last frame). */
  index: number;
  /** A motion network: display index of the window's first frame. */
  first?: number;
  /** The point's own top-1 and its probability. */
  top1: string;
  probability: number;
  /** The rolling mean's top-1 and its probability. */
  rollingTop1: string;
  rollingProbability: number;
  /** The point's probabilities (the mean over its views), and the rolling mean of the last `rolling` of them. */
  scores: number[];
  rollingScores: number[];
}

/** A stretch of points with one rolling label: from the first one's time to the last one's. */
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
  /** Frames each point scores: 1 for a frame network, the run's T for a motion network (fewer when the video is shorter: one point then). */
  window: number;
  /** Frames the pass decoded, and the stream's frame rate. */
  frames: number;
  fps: number;
  points: RollingPoint[];
  segments: RollingSegment[];
  /** The video's score: the mean of every point's probabilities, and its top-1. */
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

/** The points as they come: each one's own top-1, the rolling mean and the running total for the video's score. */
class Series {
  readonly points: RollingPoint[] = [];
  private readonly window: RollingMean;
  private readonly total: Float64Array;

  constructor(
    readonly classes: string[],
    rolling: number,
  ) {
    this.window = new RollingMean(rolling, classes.length);
    this.total = new Float64Array(classes.length);
  }

  add(at: { time: number; index: number; first?: number }, scores: number[]): void {
    const mean = this.window.push(scores);
    for (let c = 0; c < scores.length; c++) this.total[c]! += scores[c]!;
    const raw = best(scores);
    const smooth = best(mean);
    this.points.push({
      ...at,
      top1: this.classes[raw]!,
      probability: scores[raw]!,
      rollingTop1: this.classes[smooth]!,
      rollingProbability: mean[smooth]!,
      scores,
      rollingScores: mean,
    });
  }

  /** The video's score: the mean over the points. */
  score(): { scores: number[]; top1: string; probability: number } {
    const scores = Array.from(this.total, (s) => s / this.points.length);
    const top = best(scores);
    return { scores, top1: this.classes[top]!, probability: scores[top]! };
  }
}

/** The mean over each consecutive `crops` rows of `probabilities` (k classes a row): one vector per point. */
function pointScores(probabilities: Float32Array, points: number, crops: number, k: number): number[][] {
  return Array.from({ length: points }, (_, i) => Array.from(meanScores(Array.from({ length: crops }, (_, v) => probabilities.subarray((i * crops + v) * k, (i * crops + v + 1) * k)))));
}

export async function classifyRolling(video: string, run: string, options: RollingOptions): Promise<RollingResult> {
  const rolling = positiveInteger(options.rolling, 'rolling');
  const stride = options.stride === undefined ? undefined : positiveInteger(options.stride, 'stride');
  const crops = options.crops ?? 1;
  if (crops !== 1 && crops !== 10) throw new MvclassError(`Expected 1 or 10 for crops but received ${JSON.stringify(crops)}`);
  const { config, input } = await readRun(run);
  if (isMotionModel(config.model)) {
    if (!input) throw new MvclassError(`${run}/run.json: no input settings (trained by an older mvclass?)`, run);
    return rollingMotion(video, run, config, input, { ...options, rolling, stride, crops });
  }
  if (isClipModel(config.model)) {
    throw new MvclassError(`${run}: --rolling follows a frame network frame by frame or a motion network window by window, and ${config.model} is a clip network; give the run of mv3d, mv2d or a frame network (vgg16, resnet18..152) trained on decoded-frame clips`, run);
  }
  if (!trainedOnClips(input)) {
    throw new MvclassError(`${run}: ${config.model} was trained on key frames (its cache was prepared without --rgb); --rolling needs a frame network trained on decoded-frame clips (prepare --rgb T), whose frame size it reads from the run`, run);
  }
  return rollingFrames(video, run, config, input, { ...options, rolling, stride, crops });
}

type Checked = RollingOptions & { rolling: number; stride: number | undefined; crops: 1 | 10 };

/** Re-encodes the video with `profile` (the run's cache's) into `work`; the stream to read. */
async function encodedStream(video: string, profile: EncodingProfile, options: Checked, work: string, seconds: Record<string, number>): Promise<string> {
  const t = performance.now();
  const encoded = await ingestVideo(video, { profile, decode: false, workDir: work, ...(options.onWarning ? { onWarning: options.onWarning } : {}), ...(options.inputOptions ? { inputOptions: options.inputOptions } : {}) });
  seconds.encode = (performance.now() - t) / 1000;
  return encoded.stream;
}

/** What both rolling paths start from: the run's model (its load timed), and the stream to read (re-encoded as the run's cache was, with --encode). */
interface RollingInput {
  model: CnnModel;
  stream: string;
  /** The caller's input options, unless the stream is our own re-encode. */
  inputOptions: Checked['inputOptions'];
  /** Whether the stream was re-encoded (then the encoding matches the cache by construction). */
  encoded: boolean;
  seconds: Record<string, number>;
}

/** Opens the model and the stream, runs `body`, and removes the re-encode's folder whatever happens. */
async function withRollingInput<T>(video: string, run: string, input: CacheSettings, options: Checked, body: (opened: RollingInput) => Promise<T>): Promise<T> {
  // A cache of videos taken as they were (--as-is) has no encoding to repeat: no profile, no folder.
  const profile = encodingFor(video, input, options);
  const seconds: Record<string, number> = {};
  const t0 = performance.now();
  const model = await CnnModel.open(run, options);
  seconds['load model'] = (performance.now() - t0) / 1000;
  const work = profile ? await fs.mkdtemp(path.join(os.tmpdir(), 'mvclass-rolling-')) : null;
  try {
    const stream = work && profile ? await encodedStream(video, profile, options, work, seconds) : video;
    return await body({ model, stream, inputOptions: work ? undefined : options.inputOptions, encoded: work !== null, seconds });
  } finally {
    if (work) await fs.rm(work, { recursive: true, force: true });
  }
}

async function rollingFrames(video: string, run: string, config: ModelConfig, input: CacheSettings & { shortSide: number }, options: Checked): Promise<RollingResult> {
  const { rolling, crops } = options;
  const classes = config.classes;
  const k = classes.length;
  return withRollingInput(video, run, input, options, async ({ model, stream, inputOptions, seconds }) => {
    const stride = options.stride ?? defaultStride(await frameCountOf(stream, inputOptions));
    const series = new Series(classes, rolling);
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
        const scores = pointScores(await model.predict(views), clip.length, crops, k);
        clip.forEach((f, i) => series.add({ time: time.get(f.index) ?? (fps > 0 ? f.index / fps : 0), index: f.index }, scores[i]!));
        inferSeconds += (performance.now() - t1) / 1000;
      }
      t = performance.now();
    }
    seconds.decode = decodeSeconds;
    seconds.infer = inferSeconds;
    if (series.points.length === 0) throw new MvclassError(`${video}: no frames decoded`, video);
    return { video, run, model: config.model, classes, rolling, stride, crops, window: 1, frames, fps, points: series.points, segments: rollingSegments(series.points), ...series.score(), seconds };
  });
}

/** Windows scored in one call of the network (a few MB of volumes, even with 10 crops each). */
const WINDOWS_PER_BATCH = 8;

async function rollingMotion(video: string, run: string, config: ModelConfig, input: CacheSettings, options: Checked): Promise<RollingResult> {
  const { rolling, crops } = options;
  const classes = config.classes;
  const k = classes.length;
  const T = config.frames;
  return withRollingInput(video, run, input, options, async ({ model, stream, inputOptions, encoded, seconds }) => {
    let stride = options.stride ?? 1;
    const series = new Series(classes, rolling);
    // The last T frames' grids, a ring of planes [2, rows, cols] (allocated at the first batch), with their index and time.
    let ring: Int16Array | null = null;
    let plane = 0;
    let rows = 0;
    let cols = 0;
    const ringAt: Array<{ index: number; time: number }> = new Array(T);
    let frames = 0;
    let inferSeconds = 0;
    let windowSeconds = 0;
    // Windows waiting for the network: their volumes, and where each one ends.
    let pending: Float32Array[] = [];
    let pendingAt: Array<{ time: number; index: number; first: number }> = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const t = performance.now();
      const per = pending[0]!.length;
      const views = new Float32Array(pending.length * per);
      pending.forEach((v, i) => views.set(v, i * per));
      const scores = pointScores(await model.predict(views), pending.length, crops, k);
      pendingAt.forEach((at, i) => series.add(at, scores[i]!));
      pending = [];
      pendingAt = [];
      inferSeconds += (performance.now() - t) / 1000;
    };
    /** The window of the last `length` frames (oldest first) as one clip, scored as classify scores a video of those frames. */
    const window = async (length: number) => {
      const data = new Int16Array(length * 2 * plane);
      const firstFrame = frames - length;
      for (let j = 0; j < length; j++) {
        const slot = (firstFrame + j) % T;
        data.set(ring!.subarray(slot * 2 * plane, (slot + 1) * 2 * plane), j * 2 * plane);
      }
      // volumeViews with one temporal position: on a clip of exactly T frames every position is the same window.
      const t = performance.now();
      pending.push(volumeViews({ frames: length, rows, cols, data }, config, 1, crops));
      windowSeconds += (performance.now() - t) / 1000;
      const last = ringAt[(frames - 1) % T]!;
      pendingAt.push({ time: last.time, index: last.index, first: ringAt[firstFrame % T]!.index });
      if (pending.length >= WINDOWS_PER_BATCH) await flush();
    };
    const ingested = await ingestVideo(stream, {
      grid: input.grid,
      onProbe: (info) => {
        // The default stride, from the frame count of a local file (a stream's headers do not count it).
        if (options.stride === undefined) stride = defaultStride(info.counted ? info.frameCount : 0);
      },
      onGrids: async (g) => {
        if (!ring) {
          rows = g.rows;
          cols = g.cols;
          plane = rows * cols;
          ring = new Int16Array(T * 2 * plane);
        }
        if (g.rows !== rows || g.cols !== cols) throw new MvclassError(`${video}: the picture changed size mid-stream (grid ${g.cols}x${g.rows}, was ${cols}x${rows})`, video);
        for (const [i, f] of g.frames.entries()) {
          const slot = frames % T;
          ring.set(g.data.subarray(i * 2 * plane, (i + 1) * 2 * plane), slot * 2 * plane);
          ringAt[slot] = { index: f.index, time: f.pts };
          frames++;
          // Windows start at frames 0, k, 2k, ...: the one ending here when it has T frames.
          if (frames >= T && (frames - T) % stride === 0) await window(T);
        }
      },
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      ...(inputOptions ? { inputOptions } : {}),
    });
    // A video shorter than the network's window: one point, its frames tiled as classify tiles them.
    if (frames > 0 && frames < T) await window(frames);
    await flush();
    const decoded = ingested.decoded!;
    if (!encoded && options.onMismatch) {
      const message = mismatchWarning(video, decoded, input);
      if (message) options.onMismatch(message);
    }
    // The decoding pass's time, less what the windows took in it: making their volumes, and the network.
    seconds.decode = Math.max(0, (ingested.seconds.decode ?? 0) - windowSeconds - inferSeconds);
    seconds.volumes = windowSeconds;
    seconds.infer = inferSeconds;
    if (series.points.length === 0) throw new MvclassError(`${video}: no frames decoded`, video);
    return {
      video, run, model: config.model, classes, rolling, stride, crops, window: Math.min(T, frames), frames, fps: decoded.stream?.fps ?? 0,
      points: series.points, segments: rollingSegments(series.points), ...series.score(), seconds,
    };
  });
}
