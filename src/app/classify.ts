// classifyVideo: one video in, the fused top-5 out. Motion grids and the key frame are read in
// one decoding pass; each run's network scores its test views; the streams' softmax scores are
// averaged ("-F"). Every stage is timed.

import type { VideoStream } from '../codec/decode.js';
import { ingestVideo, networkInputsOf, type IngestResult, type NetworkInputs } from '../ingest/ingest.js';

export { networkInputsOf, type NetworkInputs };
import { PAPER_PROFILE, profileForVideo, type EncodingProfile } from '../ingest/profile.js';
import { regionText, type PictureRegion } from '../codec/region.js';
import type { CacheSettings } from '../cache/format.js';
import { meanScores } from '../metrics/classification.js';
import { MvclassError } from '../util/errors.js';
import { timed } from '../util/timing.js';
import { frameSize } from '../util/validate.js';
import { framesViews, imageViews, volumeViews } from '../nn/inputs.js';
import { clipViews } from '../nn/clip-loader.js';
import { CnnModel, type SessionSettings } from '../nn/model.js';
import { isClipModel, isMotionModel, readRun } from '../run/format.js';

export interface ClassifyOptions extends SessionSettings {
  /** Re-encode the video as the training cache was made (size, fps, QP) before reading it. */
  encode?: boolean;
  /** With `encode`: cut this region of each picture first, in place of the cache's own (the
   * video's region, when the networks were trained on a region per video: prepare --roi-file). */
  region?: PictureRegion;
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
  /** The first run's input settings: the grid, key-frame size and encoding a video is read with. */
  settings: CacheSettings;
  /** Each run's own input settings (a frame network trained on clips has rgb and shortSide). */
  inputs: CacheSettings[];
  /** The decoded-frame clip the networks trained on clips take (prepare --rgb T --short-side S: frame networks and clip networks); null when none does. */
  clip: ClipSettings | null;
  loadSeconds: number;
}

export interface ClipSettings {
  frames: number;
  shortSide: number;
}

/** Whether a run with these input settings learnt from decoded-frame clips (its cache was prepared with --rgb). */
export function trainedOnClips(input: CacheSettings | null | undefined): input is CacheSettings & { rgb: number; shortSide: number } {
  return input?.rgb !== undefined && input?.shortSide !== undefined;
}

/** The one clip every network trained on clips takes; runs trained on other clips cannot share a video's reading. */
function clipOf(runs: string[], models: CnnModel[], inputs: CacheSettings[]): ClipSettings | null {
  let clip: ClipSettings | null = null;
  let from = '';
  for (const [i, input] of inputs.entries()) {
    if (isMotionModel(models[i]!.config.model) || !trainedOnClips(input)) continue;
    const own = { frames: input.rgb, shortSide: input.shortSide };
    if (clip && (clip.frames !== own.frames || clip.shortSide !== own.shortSide)) {
      throw new MvclassError(`${runs[i]}: trained on clips of ${own.frames} frames at short side ${own.shortSide}, ${from} on ${clip.frames} at ${clip.shortSide}: one video is read one way for all the runs`, runs[i]);
    }
    clip = own;
    from = runs[i]!;
  }
  return clip;
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
  return { runs, models, classes, settings: inputs[0]!, inputs, clip: clipOf(runs, models, inputs), loadSeconds: (performance.now() - t0) / 1000 };
}

export async function classifyVideo(video: string, runs: string[], options: ClassifyOptions = {}): Promise<ClassifyResult> {
  const classifier = await loadClassifier(runs, options);
  const result = await classifyLoaded(video, classifier, options);
  return { ...result, seconds: { 'load models': classifier.loadSeconds, ...result.seconds } };
}

export async function classifyLoaded(video: string, classifier: LoadedClassifier, options: ClassifyOptions = {}): Promise<ClassifyResult> {
  const motion = classifier.models.some((m) => isMotionModel(m.config.model));
  const inputs = await readNetworkInputs(video, classifier.settings, { ...options, motion, clip: classifier.clip });
  const result = await scoreNetworkInputs(video, inputs, classifier, options);
  return { ...result, seconds: { ...inputs.seconds, ...result.seconds } };
}

export interface ReadInputsOptions extends Pick<ClassifyOptions, 'encode' | 'region' | 'onWarning' | 'inputOptions' | 'onMismatch'> {
  /** Read the motion grids (default true); false when only the spatial network runs, so that a
   * codec without vectors (VP9, AV1, Motion JPEG) can still be classified from its key frame. */
  motion?: boolean;
  /** The decoded-frame clip to read (LoadedClassifier.clip); absent: the one `settings` describe, if any. */
  clip?: ClipSettings | null;
}

/** How the video differs from the training cache's encoding, one phrase per difference. */
function mismatches(stream: VideoStream, types: { I: number; B: number }, settings: CacheSettings): string[] {
  if (settings.asIs) return []; // trained on videos as they were: nothing to compare with
  const out: string[] = [];
  const size = settings.size ?? PAPER_PROFILE.size;
  if (`${stream.width}x${stream.height}` !== size) out.push(`its size is ${stream.width}x${stream.height}, not ${size}`);
  const fps = settings.fps ?? PAPER_PROFILE.fps;
  if (stream.fps > 0 && Math.abs(stream.fps - fps) > 0.01 * fps) out.push(`it runs at ${stream.fps.toFixed(2)} fps, not ${fps}`);
  if (stream.codec !== settings.codec) out.push(`it is ${stream.codec}, not ${settings.codec}`);
  if (types.B > 0) out.push(`it has ${types.B} B-frames`);
  if (types.I > 1) out.push(`it has ${types.I} I frames, not one IDR then P frames`);
  return out;
}

/**
 * Reads a video into the networks' inputs, as the training cache `settings` describe them (grid
 * size, key-frame size, and with `encode` the cache's encoding profile). Every native step on the
 * video's bytes is here and none in scoreNetworkInputs, so the service can run this part in a
 * worker process and score in its own.
 */
export async function readNetworkInputs(video: string, settings: CacheSettings, options: ReadInputsOptions = {}): Promise<NetworkInputs> {
  const profile = encodingFor(video, settings, options);
  const motion = options.motion ?? true;
  const clip = options.clip !== undefined ? options.clip : trainedOnClips(settings) ? { frames: settings.rgb, shortSide: settings.shortSide } : null;
  const ingested = await ingestVideo(video, {
    ...(profile ? { profile } : {}),
    ...(motion ? { grid: settings.grid } : {}),
    keyFrame: frameSize(settings.keySize, 'key-size'),
    // Frame networks trained on clips: the video's clip is read as prepare --rgb reads a cache's (same sampling rule, same size).
    ...(clip ? { clip } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    ...(options.inputOptions ? { inputOptions: options.inputOptions } : {}),
  });
  if (!profile && options.onMismatch) {
    const message = mismatchWarning(video, ingested.decoded!, settings);
    if (message) options.onMismatch(message);
  }
  return networkInputsOf(video, ingested, motion);
}

/**
 * How `video` is re-encoded before it is read (null: read as it is): with `encode`, the cache's
 * profile, with `region` cut first when one is given. A cache whose videos were each cut to a
 * region of their own (prepare --roi-file) has no region that fits a new video; without `region`
 * the whole picture is encoded, and onMismatch is told so.
 */
export function encodingFor(video: string, settings: CacheSettings, options: Pick<ClassifyOptions, 'encode' | 'region' | 'onMismatch'>): EncodingProfile | null {
  if (options.region !== undefined && !options.encode) {
    throw new MvclassError(`${video}: a region (${regionText(options.region)}) is cut while re-encoding: it goes with encode`, video);
  }
  if (!options.encode) return null;
  if (settings.roiFile !== undefined && options.region === undefined && options.onMismatch) {
    options.onMismatch(`${video}: the networks were trained on a region of each video (prepare --roi-file), and this video is encoded whole; --roi x,y,w,h cuts its region as its training videos were cut`);
  }
  return profileForVideo(settings, options.region);
}

/**
 * What to tell about a video read as it was (not re-encoded) whose stream differs from the
 * training cache's encoding (size, frame rate, codec, B-frames, I frames): its vectors are then
 * not the ones the networks learnt from. null when it matches, or the cache took videos as they were.
 */
export function mismatchWarning(video: string, decoded: Pick<NonNullable<IngestResult['decoded']>, 'stream' | 'frameTypes'>, settings: CacheSettings): string | null {
  if (!decoded.stream) return null;
  const types = { I: 0, B: 0 };
  for (const t of decoded.frameTypes) {
    if (t === 'I') types.I++;
    else if (t === 'B') types.B++;
  }
  const differences = mismatches(decoded.stream, types, settings);
  if (differences.length === 0) return null;
  return `${video}: ${differences.join(', ')}: the networks were trained on videos encoded otherwise, so its motion vectors differ from theirs; --encode re-encodes it as the training cache was made`;
}


export type ScoreOptions = Pick<ClassifyOptions, 'temporal' | 'crops'>;

/** Scores inputs readNetworkInputs made with each loaded network and fuses the streams; `video` names them in errors and the result. */
export async function scoreNetworkInputs(video: string, inputs: NetworkInputs, classifier: LoadedClassifier, options: ScoreOptions = {}): Promise<ClassifyResult> {
  const seconds: Record<string, number> = {};
  const { models, classes, runs } = classifier;
  const { clip, keyFrame, frames } = inputs;
  const streamScores: Float64Array[] = [];
  const streams: ClassifyResult['streams'] = [];
  for (const [i, model] of models.entries()) {
    const c = model.config;
    const views = await timed(seconds, `views ${c.model}`, async () => {
      if (isMotionModel(c.model)) return volumeViews(clip, c, options.temporal ?? 10, options.crops ?? 10);
      // A clip network: its T frames from the video's clip, read as prepare --rgb reads it.
      if (isClipModel(c.model)) {
        if (!frames) throw new MvclassError(`${video}: ${c.model} takes decoded-frame clips (prepare --rgb), and these inputs hold none`, video);
        return clipViews(frames, c.frames, c.size, options.crops ?? 10);
      }
      // A frame network that learnt clips scores every frame of the video's clip (the score: the
      // mean of the frames' scores), as eval does; one that learnt key frames, the key frame.
      if (trainedOnClips(classifier.inputs[i])) {
        if (!frames) throw new MvclassError(`${video}: ${c.model} was trained on decoded-frame clips (prepare --rgb), and these inputs hold none`, video);
        return framesViews(frames, c, options.crops ?? 10);
      }
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
