// ingestVideo: the one front of the data path. A video goes in; out comes what every consumer
// needs of it: the stream (re-encoded with an encoding profile, or as it was), its rates, the
// cropped stream's bits (what an edge device sends), and, read in one decoding pass, its motion
// grids, first key frame and frame records. prepare, classify, rates, the edge client and the
// service all call it, so the same video gives the same vectors and bits whichever asks.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crop, croppedBits, type CroppedBits, type CropResult } from '../codec/crop.js';
import { clipFrames, clipIndices, clipShortSide, distinctIndices } from '../codec/clips.js';
import { decodeVideo, type FrameMeta, type VideoStream } from '../codec/decode.js';
import { encode, type EncodeResult } from '../codec/encode.js';
import { probe, type VideoInfo } from '../codec/probe.js';
import { estimatedCroppedBits, ratesOfEncoding, ratesOfStream, type Rates } from '../rate/rates.js';
import { MvclassError } from '../util/errors.js';
import { timed } from '../util/timing.js';
import { encodeOptions, type EncodingProfile } from './profile.js';

export interface MotionGrids {
  frames: number;
  rows: number;
  cols: number;
  /** [frames, 2, rows, cols], dx then dy, quarter-pel. */
  data: Int16Array;
}

export interface IngestOptions {
  /** Re-encode with this profile first; absent: the video as it is. */
  profile?: EncodingProfile;
  /** false: a stream without motion vectors (MJPEG) is read too, its grids all holes (decode's requireVectors). */
  requireVectors?: boolean;
  /**
   * Write the H.264 cropped stream and count its bits: true (required: an error when the stream
   * cannot be cropped), 'auto' (when it is H.264 without B-frames), false (default).
   */
  crop?: boolean | 'auto';
  /** Called with what crop reports about a damaged stream (default: onWarning). */
  onCropWarning?: (message: string) => void;
  /** Motion grids of this block size (pixels); absent: none. */
  grid?: number;
  /** Grids are handed here batch by batch (prepare writes them to disk; classify --rolling keeps the
   * last window's) instead of collected, with the batch's frame records (display order). */
  onGrids?: (grids: { rows: number; cols: number; data: Int16Array; frames: FrameMeta[] }) => Promise<void> | void;
  /** The first key frame as RGB at this size; absent: none. */
  keyFrame?: { width: number; height: number };
  /** A decoded-frame clip: `frames` frames sampled over the whole video (codec/clips.ts), RGB with
   * the short side `shortSide`; absent: none. */
  clip?: { frames: number; shortSide: number };
  /** false: no decoding pass (rates and the cropped stream only). Default true. */
  decode?: boolean;
  /** Where the encoded and cropped streams go, kept; absent: a temporary folder, removed. */
  workDir?: string;
  /** File names in workDir (default stream.mp4 and cropped.264). */
  names?: { stream?: string; cropped?: string };
  /** The input's probe, when the caller already made it (probing a local file reads all its packets). */
  probed?: VideoInfo;
  /** Told the input's probe when the input is taken as it is, before anything else is done with it (a size check may throw here). */
  onProbe?: (info: VideoInfo) => void;
  inputOptions?: Record<string, string>;
  onWarning?: (message: string) => void;
}

export interface DecodedClip {
  frames: number;
  height: number;
  width: number;
  indices: number[];
  data: Uint8Array;
}

export interface IngestResult {
  video: string;
  /** The stream that was read: the encoded one, or the input. */
  stream: string;
  /** The input's probe when it was taken as it is. */
  info: VideoInfo | null;
  /** The encoder's result when it was re-encoded. */
  encoded: Omit<EncodeResult, 'frameStats'> | null;
  rates: Rates;
  /** The cropped stream's sizes (written by crop; an HEVC encoding's are the encoder's estimate), null when not asked or not possible. */
  cropped: CroppedBits | null;
  croppedFile: string | null;
  croppedDuration: number | null;
  /** What the decoding pass read (absent with decode: false). */
  decoded: {
    stream: VideoStream | null;
    /** Collected grids (absent when onGrids took them, or none were asked for). */
    grids: MotionGrids | null;
    rows: number;
    cols: number;
    keyFrame: { width: number; height: number; index: number; data: Uint8Array } | null;
    /** The clip asked for: [frames, height, width, 3] uint8 RGB, frame k being display index indices[k]. */
    clip: DecodedClip | null;
    /** Per frame, decoding order: picture type (I/P/B/?) and packet bits. */
    frameTypes: string;
    frameBits: number[];
  } | null;
  /** Seconds per stage: probe (a video taken as it is), encode, crop, decode. */
  seconds: Record<string, number>;
}

export async function ingestVideo(video: string, options: IngestOptions = {}): Promise<IngestResult> {
  const seconds: Record<string, number> = {};
  const warn = options.onWarning;
  const warning = warn ? { onWarning: warn } : {};
  const cropWarning = options.onCropWarning ?? warn;
  const temporary = options.workDir === undefined && (options.profile !== undefined || (options.crop ?? false) !== false);
  const work = options.workDir ?? (temporary ? await fs.mkdtemp(path.join(os.tmpdir(), 'mvclass-ingest-')) : '');
  try {
    let stream = video;
    let info: VideoInfo | null = null;
    let encoded: IngestResult['encoded'] = null;
    let cropResult: CropResult | undefined;
    let cropped: CroppedBits | null = null;
    let rates: Rates;
    const croppedFile = path.join(work, options.names?.cropped ?? 'cropped.264');
    const wantCrop = options.crop ?? false;
    const doCrop = async (input: string) => {
      cropResult = await timed(seconds, 'crop', () => crop(input, croppedFile, cropWarning ? { onWarning: cropWarning } : {}));
      cropped = croppedBits(cropResult);
    };
    if (options.profile) {
      const result = await timed(seconds, 'encode', () => encode(video, path.join(work, options.names?.stream ?? 'stream.mp4'), { ...encodeOptions(options.profile!), ...warning }));
      const { frameStats: _stats, ...rest } = result;
      encoded = rest;
      stream = result.output;
      // The cropped-stream writer is H.264's; an HEVC encoding's cropped size is the encoder's count.
      if (wantCrop !== false && options.profile.codec === 'h264') await doCrop(stream);
      else if (wantCrop === true) throw new MvclassError(`${video}: a cropped stream is written for H.264 only, not ${options.profile.codec}`, video);
      rates = ratesOfEncoding(result, cropResult);
      if (wantCrop !== false && !cropResult) cropped = estimatedCroppedBits(result);
    } else {
      info = options.probed ?? (await timed(seconds, 'probe', () => probe(video, options.inputOptions ? { inputOptions: options.inputOptions } : {})));
      options.onProbe?.(info);
      const croppable = info.codec === 'h264' && !info.hasBFrames;
      if (wantCrop === true || (wantCrop === 'auto' && croppable)) await doCrop(video);
      rates = ratesOfStream(info.codec, info.frameCount, info.duration, info.videoBytes, cropResult);
    }
    // The clip's frames are chosen from the frame count before decoding (the encoder's count, or
    // the probe's packet count), so that the one pass converts only those; readStream checks it.
    const expectedFrames = encoded?.frames ?? info?.frameCount ?? 0;
    const decoded = options.decode === false ? null : await timed(seconds, 'decode', () => readStream(stream, options, expectedFrames));
    return {
      video,
      stream,
      info,
      encoded,
      rates,
      cropped,
      croppedFile: cropResult ? croppedFile : null,
      croppedDuration: cropResult ? (cropResult as CropResult).duration : null,
      decoded,
      seconds,
    };
  } finally {
    if (temporary) await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * One decoding pass: grids (collected or handed on), the first key frame, the clip's frames, frame
 * types and bits. The clip is sampled assuming `expectedFrames`; when the pass decodes another
 * count (a damaged stream, a probe that could not count) the clip alone is decoded again from
 * the true count, so the sampling rule always holds.
 */
async function readStream(stream: string, options: IngestOptions, expectedFrames: number): Promise<NonNullable<IngestResult['decoded']>> {
  const chunks: Int16Array[] = [];
  let rows = 0;
  let cols = 0;
  let keyFrame: NonNullable<IngestResult['decoded']>['keyFrame'] = null;
  let videoStream: VideoStream | null = null;
  let frameTypes = '';
  const frameBits: number[] = [];
  const clipAsked = options.clip ? { frames: clipFrames(options.clip.frames), shortSide: clipShortSide(options.clip.shortSide) } : null;
  let clipIndicesNow = clipAsked && expectedFrames > 0 ? clipIndices(expectedFrames, clipAsked.frames) : null;
  const clipDecoded = new Map<number, { width: number; height: number; data: Uint8Array }>();
  const decode = decodeVideo(
    stream,
    {
      vectors: false,
      ...(options.grid !== undefined ? { grid: options.grid, units: 'quarter-pel' as const } : {}),
      ...(options.keyFrame ? { keyFrames: true, firstKeyFrameOnly: true, keyFrameWidth: options.keyFrame.width, keyFrameHeight: options.keyFrame.height } : {}),
      ...(clipAsked && clipIndicesNow ? { clipIndices: distinctIndices(clipIndicesNow), clipShortSide: clipAsked.shortSide } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      ...(options.inputOptions && !options.profile ? { inputOptions: options.inputOptions } : {}),
      ...(options.requireVectors === false ? { requireVectors: false } : {}),
    },
    (s) => {
      videoStream = s;
    },
  );
  for await (const batch of decode) {
    for (const f of batch.frames) {
      frameTypes += f.type;
      frameBits.push(f.bits);
    }
    if (batch.grid) {
      rows = batch.grid.rows;
      cols = batch.grid.cols;
      const data = batch.grid.data as Int16Array;
      if (options.onGrids) await options.onGrids({ rows, cols, data, frames: batch.frames });
      else chunks.push(data);
    }
    const k = batch.keyFrames[0];
    if (k && !keyFrame) keyFrame = { width: k.width, height: k.height, index: k.index, data: k.data };
    for (const c of batch.clipFrames ?? []) clipDecoded.set(c.index, c);
  }
  let clip: DecodedClip | null = null;
  if (clipAsked && frameTypes.length > 0) {
    if (frameTypes.length !== expectedFrames) {
      // Sampled from a count that was wrong: decode the clip's frames again, from the true count.
      clipIndicesNow = clipIndices(frameTypes.length, clipAsked.frames);
      clipDecoded.clear();
      const again = decodeVideo(stream, {
        vectors: false,
        clipIndices: distinctIndices(clipIndicesNow),
        clipShortSide: clipAsked.shortSide,
        onWarning: () => undefined, // the first pass has told them
        ...(options.inputOptions && !options.profile ? { inputOptions: options.inputOptions } : {}),
      });
      for await (const batch of again) for (const c of batch.clipFrames ?? []) clipDecoded.set(c.index, c);
    }
    clip = assembleClip(stream, clipIndicesNow!, clipDecoded);
  }
  let grids: MotionGrids | null = null;
  if (options.grid !== undefined && !options.onGrids && rows > 0 && cols > 0) {
    const length = chunks.reduce((n, c) => n + c.length, 0);
    const data = new Int16Array(length);
    let offset = 0;
    for (const c of chunks) {
      data.set(c, offset);
      offset += c.length;
    }
    grids = { frames: length / (2 * rows * cols), rows, cols, data };
  }
  return { stream: videoStream, grids, rows, cols, keyFrame, clip, frameTypes, frameBits };
}

/** The clip laid out frame by frame in the order of `indices` (a repeated index is copied again). */
function assembleClip(stream: string, indices: number[], decoded: ReadonlyMap<number, { width: number; height: number; data: Uint8Array }>): DecodedClip {
  const first = decoded.get(indices[0]!);
  if (!first) throw new MvclassError(`${stream}: frame ${indices[0]} of the clip was not decoded`, stream);
  const { width, height } = first;
  const frameBytes = width * height * 3;
  const data = new Uint8Array(indices.length * frameBytes);
  indices.forEach((index, k) => {
    const f = decoded.get(index);
    if (!f) throw new MvclassError(`${stream}: frame ${index} of the clip was not decoded`, stream);
    if (f.data.length !== frameBytes) throw new MvclassError(`${stream}: clip frame ${index} is ${f.width}x${f.height}, not ${width}x${height}`, stream);
    data.set(f.data, k * frameBytes);
  });
  return { frames: indices.length, height, width, indices, data };
}

/** What the networks take from one video: its motion grids as one clip, and its first key frame. */
export interface NetworkInputs {
  clip: { frames: number; rows: number; cols: number; data: Int16Array };
  /** Packed RGB24 at the cache's key-frame size; absent when the video has no I frame. */
  keyFrame?: { width: number; height: number; data: Uint8Array };
  /** The decoded-frame clip, when it was asked for (a cache prepared with --rgb). */
  frames?: DecodedClip;
  /** Time per stage: encode (when asked), decode. */
  seconds: Record<string, number>;
}

/** The networks' inputs from an ingested video (its grids as one clip, its first key frame). */
export function networkInputsOf(video: string, ingested: IngestResult, motion = true): NetworkInputs {
  const decoded = ingested.decoded;
  if (!decoded) throw new MvclassError(`${video}: not decoded`, video);
  const seconds = { ...(ingested.seconds.encode !== undefined ? { encode: ingested.seconds.encode } : {}), decode: ingested.seconds.decode ?? 0 };
  const keyFrame = decoded.keyFrame ? { width: decoded.keyFrame.width, height: decoded.keyFrame.height, data: decoded.keyFrame.data } : undefined;
  const frames = decoded.clip ? { frames: decoded.clip } : {};
  if (!motion) {
    if (!keyFrame && !decoded.clip) throw new MvclassError(`${video}: no I frame for the spatial network`, video);
    return { clip: { frames: 0, rows: 0, cols: 0, data: new Int16Array(0) }, ...(keyFrame ? { keyFrame } : {}), ...frames, seconds };
  }
  const clip = decoded.grids;
  if (!clip || !(clip.frames > 0)) throw new MvclassError(`${video}: no frames decoded`, video);
  return { clip, ...(keyFrame ? { keyFrame } : {}), ...frames, seconds };
}
