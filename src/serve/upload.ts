// Everything the service does with an upload's bytes that runs native code: probe, the picture
// size check, crop (to measure the stream's motion rate) and reading the networks' inputs (the
// decoded-frame clip too when a frame network learnt clips: T frames, as prepare --rgb samples them). The
// server runs it in a worker process (worker.ts), so a stream that crashes the native code
// costs one request, not the service.

import type { CroppedBits } from '../codec/crop.js';
import type { VideoInfo } from '../codec/probe.js';
import type { CacheSettings } from '../cache/format.js';
import type { ClipSettings } from '../app/classify.js';
import { ingestVideo, networkInputsOf, type NetworkInputs } from '../ingest/ingest.js';
import { frameSize } from '../util/validate.js';

/** A refusal the client caused: an HTTP status and a reason it can read. */
export class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface UploadJob {
  /** The upload, written by the server to its own temporary folder for this job. */
  input: string;
  /** The job's temporary folder (crop's output goes here). */
  folder: string;
  /** The training cache's input settings: grid and key-frame size. */
  settings: CacheSettings;
  /** The decoded-frame clip the frame network learnt from (LoadedClassifier.clip): read too; absent or null: none. */
  clip?: ClipSettings | null;
  /** The largest picture accepted, checked right after probing. */
  maxWidth: number;
  maxHeight: number;
}

export interface UploadRead {
  info: VideoInfo;
  /** The stream's sizes as crop writes it: what R_motion is measured from. */
  cropped: CroppedBits;
  croppedDuration: number;
  inputs: NetworkInputs;
  /** Seconds of probe + crop. */
  measureSeconds: number;
  /** What the decoder reported while reading the inputs (crop's reports are refusals). */
  warnings: string[];
}

export async function readUpload(job: UploadJob): Promise<UploadRead> {
  const { input } = job;
  const warnings: string[] = [];
  const ingested = await ingestVideo(input, {
    onProbe: (info) => {
      if (info.codec !== 'h264') throw new ClientError(415, `codec ${info.codec}: the service classifies H.264 streams`);
      if (info.width > job.maxWidth || info.height > job.maxHeight) {
        throw new ClientError(422, `picture ${info.width}x${info.height} is larger than the service accepts (${job.maxWidth}x${job.maxHeight}): send the small streams an edge device crops`);
      }
    },
    // R_motion of the stream: its P frames as crop writes them (modes and vectors only); a
    // damaged stream is refused before it is decoded.
    crop: true,
    onCropWarning: (w) => {
      throw new ClientError(422, `damaged or truncated stream: ${w}`);
    },
    grid: job.settings.grid,
    keyFrame: frameSize(job.settings.keySize, 'key-size'),
    // Bounded: T frames (at most MAX_CLIP_FRAMES) at the run's short side, of a picture no larger than maxWidth x maxHeight.
    ...(job.clip ? { clip: job.clip } : {}),
    workDir: job.folder,
    onWarning: (w) => warnings.push(w),
  });
  const measureSeconds = (ingested.seconds.probe ?? 0) + (ingested.seconds.crop ?? 0);
  return { info: ingested.info!, cropped: ingested.cropped!, croppedDuration: ingested.croppedDuration!, inputs: networkInputsOf(input, ingested), measureSeconds, warnings };
}

/**
 * The server's check of what a worker sent back, before the networks see it: a worker's heap may
 * have been damaged by the stream without crashing it, so the shapes are not taken on trust.
 */
export function checkUploadRead(read: UploadRead, settings: CacheSettings, expectedClip: ClipSettings | null = null): void {
  const bad = (what: string) => new ClientError(422, `the decoder returned inconsistent data for the stream (${what}); it was not classified`);
  const { clip, keyFrame, frames } = read.inputs;
  const whole = (x: unknown) => Number.isSafeInteger(x) && (x as number) > 0;
  if (!(clip?.data instanceof Int16Array) || !whole(clip.frames) || !whole(clip.rows) || !whole(clip.cols)) throw bad('no motion clip');
  if (clip.data.length !== clip.frames * 2 * clip.rows * clip.cols) throw bad(`a motion clip of ${clip.data.length} values for ${clip.frames} frames of ${clip.rows}x${clip.cols}`);
  if (keyFrame) {
    const key = frameSize(settings.keySize, 'key-size');
    if (!(keyFrame.data instanceof Uint8Array) || keyFrame.width !== key.width || keyFrame.height !== key.height || keyFrame.data.length !== key.width * key.height * 3) {
      throw bad(`a key frame of ${keyFrame.width}x${keyFrame.height} where ${settings.keySize} was asked for`);
    }
  }
  if (expectedClip) {
    // T frames of one shape whose short side is the run's, and the bytes for exactly that.
    const f = frames;
    if (!f || !(f.data instanceof Uint8Array) || f.frames !== expectedClip.frames || !whole(f.width) || !whole(f.height)) throw bad(`a decoded-frame clip of ${f?.frames} frames where ${expectedClip.frames} were asked for`);
    if (Math.min(f.width, f.height) !== expectedClip.shortSide || !Array.isArray(f.indices) || f.indices.length !== f.frames || f.data.length !== f.frames * f.width * f.height * 3) {
      throw bad(`a clip of ${f.width}x${f.height} frames in ${f.data.length} bytes at short side ${expectedClip.shortSide}`);
    }
  } else if (frames) throw bad('a decoded-frame clip that was not asked for');
  const { frameBits, kinds } = read.cropped ?? {};
  if (!Array.isArray(frameBits) || typeof kinds !== 'string' || frameBits.length !== kinds.length || !frameBits.every((b) => Number.isFinite(b) && b >= 0)) throw bad('frame sizes that do not match their kinds');
}
