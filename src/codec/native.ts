// Loads native/codec (built by node-gyp, found by node-gyp-build) and types its raw surface.
// Only this file touches the addon object; the rest of src/codec wraps it in a typed API.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../util/package.js';

export interface NativeProbe {
  container: string;
  codec: string;
  pixelFormat: string;
  width: number;
  height: number;
  fps: number;
  frameCount: number;
  duration: number;
  videoBytes: number;
  bitrate: number;
  hasBFrames: boolean;
  motionVectors: boolean;
  /** frameCount and videoBytes were counted from every packet (local files); from the headers
   * for standard input and network streams, which are not read ahead. */
  counted: boolean;
}

export interface NativeReaderOptions {
  path: string;
  inputOptions?: Record<string, string>;
  vectors?: boolean;
  grid?: number;
  gridSource?: number;
  gridUnits?: 'pixels' | 'quarter-pel';
  keyFrames?: boolean;
  firstKeyFrameOnly?: boolean;
  keyWidth?: number;
  keyHeight?: number;
  /** Display indices to convert to RGB (strictly increasing, at most 1024), at clipShortSide. */
  clipIndices?: number[];
  /** Or every clipStride-th display frame (0, k, 2k, ...) to the end, at clipShortSide. */
  clipStride?: number;
  clipShortSide?: number;
  requireVectors?: boolean;
}

export interface NativeVectorColumns {
  source: Int8Array;
  w: Uint8Array;
  h: Uint8Array;
  srcX: Int16Array;
  srcY: Int16Array;
  dstX: Int16Array;
  dstY: Int16Array;
  flags: BigUint64Array;
  motionX: Int32Array;
  motionY: Int32Array;
  motionScale: Uint16Array;
  /** HEVC only: the picture order count of the picture each vector points into. */
  refPoc?: Int32Array;
}

export interface NativeBatch {
  done: boolean;
  frames: {
    index: Float64Array;
    pts: Float64Array;
    bits: Float64Array;
    type: Uint8Array;
    key: Uint8Array;
    vectorStart: Uint32Array;
    vectorCount: Uint32Array;
    keyFrame: Int32Array;
    magnitude: Float64Array;
  };
  /** Only on the last batch: the file's most frequent list-0 vector in quarter-pels. */
  dominant?: { list0: number; qx?: number; qy?: number; count?: number };
  vectors?: NativeVectorColumns;
  grid?: { rows: number; cols: number; data: Float32Array | Int16Array; mask: Uint8Array };
  keyFrames: Array<{ index: number; pts: number; type: string; width: number; height: number; data: Uint8Array }>;
  clipFrames: Array<{ index: number; width: number; height: number; data: Uint8Array }>;
  warnings: string[];
}

export interface NativeReader {
  summary: { codec: string; width: number; height: number; fps: number };
  read(maxFrames: number): Promise<NativeBatch>;
  close(): void;
}

/** A picture region cut after decoding (codec/region.ts); absent: the whole picture. */
export interface NativeRegion {
  cropX?: number;
  cropY?: number;
  cropWidth?: number;
  cropHeight?: number;
}

export interface NativeEncoderOptions {
  path: string;
  format?: string;
  codec?: string;
  width: number;
  height: number;
  fpsNum?: number;
  fpsDen?: number;
  qp?: number;
  crf?: number;
  gop?: number;
  bframes?: number;
  meRange?: number;
  refs?: number;
  threads?: number;
  preset?: string;
  cabac?: boolean;
  partitions?: string;
  statsPath?: string;
}

export interface NativeFrameBits {
  display: number;
  coded: number;
  type: string;
  qp: number;
  texture: number;
  motion: number;
  other: number;
}

export interface NativeTranscodeResult {
  width: number;
  height: number;
  fpsNum: number;
  fpsDen: number;
  inputFrames: number;
  frames: number;
  packets: NativePacket[];
  frameBits: NativeFrameBits[];
  extradataBytes: number;
  warnings: string[];
}

export interface NativeCropResult {
  frames: number;
  copiedFrames: number;
  rewrittenFrames: number;
  skippedMbs: number;
  interMbs: number;
  intraMbs: number;
  inputVideoBytes: number;
  outputVideoBytes: number;
  parameterSetBytes: number;
  duration: number;
  warnings: string[];
  /** Bytes of each output access unit, in decoding order. */
  frameBytes: Float64Array;
  /** Per access unit: C copied (intra), R rewritten P frame. */
  frameKinds: string;
}

export interface NativePacket {
  pts: number;
  dts: number;
  bytes: number;
  key: boolean;
  type: string;
  qp: number;
}

export interface NativePlanes {
  y: number;
  u: number;
  v: number;
}

export interface NativeQuality {
  width: number;
  height: number;
  /** Frames each file has, and how many were compared (the frames both have). */
  referenceFrames: number;
  distortedFrames: number;
  frames: number;
  /** Luma, 0-255 scale: the mean absolute difference, and the root of the mean squared one. */
  mae: number;
  rmse: number;
  mse: NativePlanes & { average: number };
  /** From the mean MSE over frames, as FFmpeg's psnr filter; Infinity where that MSE is 0. */
  psnr: NativePlanes & { average: number };
  ssim: NativePlanes & { all: number };
  perFrame: { mae: Float64Array; rmse: Float64Array; psnr: Float64Array; ssim: Float64Array };
  warnings: string[];
}

export interface NativeEncoder {
  write(frames: Uint8Array, count: number): Promise<NativePacket[]>;
  finish(): Promise<{ packets: NativePacket[]; frameBits: NativeFrameBits[]; extradataBytes: number }>;
  abort(): void;
}

export interface CodecAddon {
  ffmpegVersion: string;
  probe(path: string, options?: { inputOptions?: Record<string, string> }): Promise<NativeProbe>;
  openReader(options: NativeReaderOptions): Promise<NativeReader>;
  buildGrid(
    columns: Record<'source' | 'w' | 'h' | 'dstX' | 'dstY' | 'motionX' | 'motionY' | 'motionScale', Int32Array>,
    spec: { width: number; height: number; block: number; source: number; units: 'pixels' | 'quarter-pel'; rule: 'area' | 'top-left' },
  ): { rows: number; cols: number; data: Float32Array | Int16Array; mask: Uint8Array };
  openEncoder(options: NativeEncoderOptions): Promise<NativeEncoder>;
  transcode(options: Omit<NativeEncoderOptions, 'width' | 'height'> & { input: string; width: number; height: number; decoderThreads?: number } & NativeRegion): Promise<NativeTranscodeResult>;
  crop(options: { input: string; output: string; annexB: boolean }): Promise<NativeCropResult>;
  compareVideos(options: { reference: string; distorted: string; width: number; height: number; decoderThreads?: number } & NativeRegion): Promise<NativeQuality>;
  /** extract's text rows on a worker (text.cc): CSV rows after each frame's number, or JSON rows after each frame's text;
   * with `into`, the number of bytes written there, or a Buffer of their own when they did not fit. */
  formatText(format: 'csv', columns: NativeVectorColumns, vectorStart: Uint32Array, vectorCount: Uint32Array, frameNumbers: Float64Array, into?: Uint8Array): Promise<Buffer | number>;
  formatText(format: 'json', columns: NativeVectorColumns, vectorStart: Uint32Array, vectorCount: Uint32Array, frameHeads: string[], into?: Uint8Array): Promise<Buffer | number>;
}

let addon: CodecAddon | undefined;


export function codecAddon(): CodecAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build') as (dir: string) => unknown;
  try {
    addon = load(packageRoot()) as CodecAddon;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `mvclass: the native codec addon is not built or cannot load (${reason}). ` +
        'Run ./scripts/setup.sh (or npm run build:native) first.',
    );
  }
  return addon;
}

/** The versions whose output a cache or a queued job depends on: mvclass's and FFmpeg's. */
export interface SoftwareVersions {
  mvclass: string;
  ffmpeg: string;
}

let versions: SoftwareVersions | undefined;

export function softwareVersions(): SoftwareVersions {
  if (versions) return versions;
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  versions = { mvclass: pkg.version, ffmpeg: codecAddon().ffmpegVersion };
  return versions;
}
