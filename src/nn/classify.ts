// classifyVideo: one video in, the fused top-5 out. Motion grids and the key frame are read in
// one decoding pass; each run's network scores its test views; the streams' softmax scores are
// averaged ("-F"). Every stage is timed.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeVideo, type VideoStream } from '../codec/decode.js';
import { encode } from '../codec/encode.js';
import type { CacheSettings } from '../cache/format.js';
import { meanScores } from '../metrics/classification.js';
import { MvclassError } from '../util/errors.js';
import { frameSize } from '../util/validate.js';
import { imageViews, volumeViews } from './inputs.js';
import { CnnModel, readRun, type SessionSettings } from './model.js';

export interface ClassifyOptions extends SessionSettings {
  /** Re-encode the video as the training cache was made (size, fps, QP) before reading it. */
  encode?: boolean;
  temporal?: number;
  crops?: 1 | 10;
  onWarning?: (message: string) => void;
  /** Demuxer and protocol options for reading the video (a URL, standard input), as decodeVideo takes them. */
  inputOptions?: Record<string, string>;
  /** Told when the video differs from what the networks were trained on (size, frame rate, codec,
   * GOP structure) and was not re-encoded (`encode`): its vectors are then not the ones the
   * networks learnt from. Kept apart from onWarning, which reports damage. */
  onMismatch?: (message: string) => void;
}

export interface ClassifyResult {
  video: string;
  classes: string[];
  top5: Array<{ class: string; probability: number }>;
  streams: Array<{ run: string; model: string; top1: string; probability: number; scores: number[] }>;
  seconds: Record<string, number>;
}

async function runInput(run: string): Promise<CacheSettings> {
  const { input } = await readRun(run);
  if (!input) throw new MvclassError(`${run}/run.json: no input settings (trained by an older mvclass?)`, run);
  return input;
}

/** Networks loaded once, for many videos (the service). */
export interface LoadedClassifier {
  runs: string[];
  models: CnnModel[];
  classes: string[];
  settings: CacheSettings;
  loadSeconds: number;
}

export async function loadClassifier(runs: string[], settings: SessionSettings = {}): Promise<LoadedClassifier> {
  if (runs.length === 0) throw new MvclassError('classify needs at least one --run');
  const t0 = performance.now();
  const models = await Promise.all(runs.map((r) => CnnModel.open(r, settings)));
  const inputs = await Promise.all(runs.map(runInput));
  const classes = models[0]!.config.classes;
  for (const [i, m] of models.entries()) {
    if (JSON.stringify(m.config.classes) !== JSON.stringify(classes)) throw new MvclassError(`${runs[i]}: other classes than ${runs[0]}`, runs[i]);
  }
  return { runs, models, classes, settings: inputs[0]!, loadSeconds: (performance.now() - t0) / 1000 };
}

export async function classifyVideo(video: string, runs: string[], options: ClassifyOptions = {}): Promise<ClassifyResult> {
  const classifier = await loadClassifier(runs, options);
  const result = await classifyLoaded(video, classifier, options);
  return { ...result, seconds: { 'load models': classifier.loadSeconds, ...result.seconds } };
}

export async function classifyLoaded(video: string, classifier: LoadedClassifier, options: ClassifyOptions = {}): Promise<ClassifyResult> {
  const motion = classifier.models.some((m) => m.config.model !== 'vgg16');
  const inputs = await readNetworkInputs(video, classifier.settings, { ...options, motion });
  const result = await scoreNetworkInputs(video, inputs, classifier, options);
  return { ...result, seconds: { ...inputs.seconds, ...result.seconds } };
}

/** What the networks take from one video: its motion grids as one clip, and its first key frame. */
export interface NetworkInputs {
  clip: { frames: number; rows: number; cols: number; data: Int16Array };
  /** Packed RGB24 at the cache's key-frame size; absent when the video has no I frame. */
  keyFrame?: { width: number; height: number; data: Uint8Array };
  /** Time per stage: encode (when asked), decode. */
  seconds: Record<string, number>;
}

export interface ReadInputsOptions extends Pick<ClassifyOptions, 'encode' | 'onWarning' | 'inputOptions' | 'onMismatch'> {
  /** Read the motion grids (default true); false when only the spatial network runs, so that a
   * codec without vectors (VP9, AV1, Motion JPEG) can still be classified from its key frame. */
  motion?: boolean;
}

/** How the video differs from the training cache's encoding, one phrase per difference. */
function mismatches(stream: VideoStream, types: { I: number; B: number }, settings: CacheSettings): string[] {
  if (settings.asIs) return []; // trained on videos as they were: nothing to compare with
  const out: string[] = [];
  const size = settings.size ?? '320x240';
  if (`${stream.width}x${stream.height}` !== size) out.push(`its size is ${stream.width}x${stream.height}, not ${size}`);
  const fps = settings.fps ?? 25;
  if (stream.fps > 0 && Math.abs(stream.fps - fps) > 0.01 * fps) out.push(`it runs at ${stream.fps.toFixed(2)} fps, not ${fps}`);
  if (stream.codec !== settings.codec) out.push(`it is ${stream.codec}, not ${settings.codec}`);
  if (types.B > 0) out.push(`it has ${types.B} B-frames`);
  if (types.I > 1) out.push(`it has ${types.I} I frames, not one IDR then P frames`);
  return out;
}

async function timed<T>(seconds: Record<string, number>, stage: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    seconds[stage] = (seconds[stage] ?? 0) + (performance.now() - t0) / 1000;
  }
}

/**
 * Reads a video into the networks' inputs, as the training cache `settings` describe them (grid
 * size, key-frame size, and the re-encoding with `encode`). Every native step on the video's
 * bytes is here and none in scoreNetworkInputs, so the service can run this part in a worker
 * process and score in its own.
 */
export async function readNetworkInputs(video: string, settings: CacheSettings, options: ReadInputsOptions = {}): Promise<NetworkInputs> {
  const seconds: Record<string, number> = {};
  let source = video;
  let temp: string | undefined;
  try {
    if (options.encode && !settings.asIs) {
      temp = await fs.mkdtemp(path.join(os.tmpdir(), 'mvclass-classify-'));
      const encoded = await timed(seconds, 'encode', () =>
        encode(video, path.join(temp!, 'stream.mp4'), {
          ...(settings.qp !== null ? { qp: settings.qp } : { crf: settings.crf ?? 23 }),
          gop: 0,
          bframes: 0,
          size: settings.size ?? '320x240',
          fps: settings.fps ?? 25,
          threads: 1, // as prepare encodes: the same vectors on every machine
          ...(options.onWarning ? { onWarning: options.onWarning } : {}),
        }),
      );
      source = encoded.output;
    }
    const key = frameSize(settings.keySize, 'key-size');
    const motion = options.motion ?? true;
    const chunks: Int16Array[] = [];
    let rows = 0;
    let cols = 0;
    let keyFrame: NetworkInputs['keyFrame'];
    let stream: VideoStream | undefined;
    const types = { I: 0, B: 0 };
    await timed(seconds, 'decode', async () => {
      const decode = decodeVideo(
        source,
        {
          vectors: false,
          ...(motion ? { grid: settings.grid, units: 'quarter-pel' as const } : {}),
          keyFrames: true,
          firstKeyFrameOnly: true,
          keyFrameWidth: key.width,
          keyFrameHeight: key.height,
          ...(options.onWarning ? { onWarning: options.onWarning } : {}),
          ...(options.inputOptions ? { inputOptions: options.inputOptions } : {}),
        },
        (s) => {
          stream = s;
        },
      );
      for await (const batch of decode) {
        for (const f of batch.frames) {
          if (f.type === 'I') types.I++;
          else if (f.type === 'B') types.B++;
        }
        if (batch.grid) {
          rows = batch.grid.rows;
          cols = batch.grid.cols;
          chunks.push(batch.grid.data as Int16Array);
        }
        const k = batch.keyFrames[0];
        if (k && !keyFrame) keyFrame = { width: k.width, height: k.height, data: k.data };
      }
    });
    if (!temp && stream && options.onMismatch) {
      const differences = mismatches(stream, types, settings);
      if (differences.length > 0) {
        options.onMismatch(`${video}: ${differences.join(', ')}: the networks were trained on videos encoded otherwise, so its motion vectors differ from theirs; --encode re-encodes it as the training cache was made`);
      }
    }
    if (!motion) {
      if (!keyFrame) throw new MvclassError(`${video}: no I frame for the spatial network`, video);
      return { clip: { frames: 0, rows: 0, cols: 0, data: new Int16Array(0) }, keyFrame, seconds };
    }
    const frames = chunks.reduce((n, c) => n + c.length, 0) / (2 * rows * cols);
    if (!(frames > 0)) throw new MvclassError(`${video}: no frames decoded`, video);
    const data = new Int16Array(frames * 2 * rows * cols);
    let offset = 0;
    for (const c of chunks) {
      data.set(c, offset);
      offset += c.length;
    }
    return { clip: { frames, rows, cols, data }, ...(keyFrame ? { keyFrame } : {}), seconds };
  } finally {
    if (temp) await fs.rm(temp, { recursive: true, force: true });
  }
}

export type ScoreOptions = Pick<ClassifyOptions, 'temporal' | 'crops'>;

/** Scores inputs readNetworkInputs made with each loaded network and fuses the streams; `video` names them in errors and the result. */
export async function scoreNetworkInputs(video: string, inputs: NetworkInputs, classifier: LoadedClassifier, options: ScoreOptions = {}): Promise<ClassifyResult> {
  const seconds: Record<string, number> = {};
  const { models, classes, runs } = classifier;
  const { clip, keyFrame } = inputs;
  const streamScores: Float64Array[] = [];
  const streams: ClassifyResult['streams'] = [];
  for (const [i, model] of models.entries()) {
    const c = model.config;
    const views = await timed(seconds, `views ${c.model}`, async () => {
      if (c.model !== 'vgg16') return volumeViews(clip, c, options.temporal ?? 10, options.crops ?? 10);
      if (!keyFrame) throw new MvclassError(`${video}: no I frame for the spatial network`, video);
      return imageViews(keyFrame, c, options.crops ?? 10);
    });
    const probabilities = await timed(seconds, `infer ${c.model}`, () => model.predict(views));
    const k = classes.length;
    const scores = meanScores(Array.from({ length: probabilities.length / k }, (_, r) => probabilities.subarray(r * k, (r + 1) * k)));
    streamScores.push(scores);
    const best = scores.indexOf(Math.max(...scores));
    streams.push({ run: runs[i]!, model: c.model, top1: classes[best]!, probability: scores[best]!, scores: Array.from(scores) });
  }
  const fused = meanScores(streamScores);
  const order = Array.from(fused.keys()).sort((a, b) => fused[b]! - fused[a]!);
  return { video, classes, top5: order.slice(0, 5).map((c) => ({ class: classes[c]!, probability: fused[c]! })), streams, seconds };
}
