// Encoding in-process (libavcodec with libx264 or libx265; no ffmpeg CLI):
//   encode(input, output)       any video re-encoded at the given size, rate and settings;
//   encodeFrames(output, yuv)   raw YUV 4:2:0 frames (the synthetic clips) encoded.
// Both return the encoder's own per-frame bit split (texture, motion, other), read from its
// pass-1 statistics, and write the output atomically (temporary file, then rename).

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeAtomically } from '../util/atomic.js';
import { MvclassError, UsageError, withCallerStack } from '../util/errors.js';
import { nativeRegion, pictureRegion, type PictureRegion } from './region.js';
import { frameSize, integerInRange, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';
import { checkInputFile } from './input.js';
import { codecAddon, type NativeEncoderOptions, type NativeFrameBits, type NativePacket } from './native.js';

export type VideoCodec = 'h264' | 'hevc';
export const VIDEO_CODECS = ['h264', 'hevc'] as const;
export const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;
export type Preset = (typeof PRESETS)[number];

export interface EncoderSettings {
  codec?: VideoCodec;
  /** Constant QP for every frame, 0..51 (no I/P offset, no adaptive quantisation). */
  qp?: number;
  /** Constant rate factor, used when qp is absent (default 23). */
  crf?: number;
  /** Frames between IDR frames; 0 (default) means one IDR at the start, then only P/B. */
  gop?: number;
  bframes?: number;
  /** Motion search range in pixels (default 16, the paper's). */
  meRange?: number;
  refs?: number;
  preset?: Preset;
  /** false: CAVLC entropy coding instead of CABAC (H.264). */
  cabac?: boolean;
  /** Encoder threads; 0 lets the encoder choose. 1 gives bit-identical output everywhere. */
  threads?: number;
}

export interface EncodeFramesOptions extends EncoderSettings {
  width: number;
  height: number;
  fps?: number;
}

export interface EncodeOptions extends EncoderSettings {
  /** Called with what the decoder reported about a damaged input; default: process.emitWarning. */
  onWarning?: (message: string) => void;
  /** "WxH"; absent keeps the input's size (the paper: 320x240). */
  size?: string;
  /** Output frame rate; absent keeps the input's (the paper: 25). */
  fps?: number;
  /** Keep only this region of each decoded picture (then scaled to `size`, default the region's size). */
  region?: PictureRegion;
}

/** One coded frame: its packet and the encoder's split of its bits. */
export interface FrameStats {
  /** Coding order. */
  index: number;
  /** Display order. */
  display: number;
  type: 'I' | 'P' | 'B' | '?';
  qp: number;
  /** Bits of the frame's packet. */
  bits: number;
  /** Residual coefficients, as the encoder counted them. */
  texture: number;
  /** Motion vectors, reference indices and partition modes, as the encoder counted them. */
  motion: number;
  /** bits - texture - motion: headers, modes, NAL overhead. */
  other: number;
  /** The encoder's own "misc" count (x265 leaves NAL and slice headers out of it). */
  encoderOther: number;
}

export interface EncodeResult {
  output: string;
  codec: VideoCodec;
  width: number;
  height: number;
  fps: number;
  frames: number;
  duration: number;
  /** Size of the output file. */
  bytes: number;
  /** Bits of all video packets plus the out-of-band parameter sets (MP4's avcC/hvcC). */
  streamBits: number;
  parameterSetBits: number;
  frameStats: FrameStats[];
}

export function emitWarning(message: string): void {
  process.emitWarning(message, 'MvclassWarning');
}

const ENCODERS: Record<VideoCodec, string> = { h264: 'libx264', hevc: 'libx265' };

/** Container by extension: .mp4/.mov/.mkv through libavformat; .264/.h264/.265/.hevc raw. */
export function muxerFor(output: string, codec: VideoCodec): string | undefined {
  const ext = path.extname(output).toLowerCase();
  if (ext === '.264' || ext === '.h264') {
    if (codec !== 'h264') throw new MvclassError(`${output}: a ${ext} file holds H.264, not ${codec}; use .hevc or .mp4`, output);
    return 'h264';
  }
  if (ext === '.265' || ext === '.hevc') {
    if (codec !== 'hevc') throw new MvclassError(`${output}: a ${ext} file holds HEVC, not ${codec}; use .264 or .mp4`, output);
    return 'hevc';
  }
  if (['.mp4', '.m4v', '.mov', '.mkv'].includes(ext)) return undefined;
  throw new MvclassError(`${output}: unknown output container "${ext}"; use .mp4, .mkv, .mov, .264 or .hevc`, output);
}

function nativeSettings(options: EncoderSettings): Omit<NativeEncoderOptions, 'path' | 'width' | 'height'> & { codec: string } {
  const codec = oneOf(options.codec ?? 'h264', 'codec', VIDEO_CODECS);
  if (options.qp !== undefined && options.crf !== undefined) throw new MvclassError('Give either qp or crf, not both');
  return {
    codec: ENCODERS[codec],
    gop: nonNegativeInteger(options.gop ?? 0, 'gop'),
    bframes: integerInRange(options.bframes ?? 0, 'bframes', 0, 16),
    meRange: positiveInteger(options.meRange ?? 16, 'merange'),
    refs: integerInRange(options.refs ?? 1, 'refs', 1, 16),
    threads: nonNegativeInteger(options.threads ?? 0, 'threads'),
    preset: oneOf(options.preset ?? 'medium', 'preset', PRESETS),
    cabac: options.cabac ?? true,
    ...(options.qp !== undefined
      ? { qp: integerInRange(options.qp, 'qp', 0, 51) }
      : { crf: integerInRange(options.crf ?? 23, 'crf', 0, 51) }),
  };
}

/** A statistics path without ':' (x264/x265 option strings split on it). */
function statsPathFor(): string {
  return path.join(os.tmpdir(), `mvclass-stats-${process.pid}-${randomBytes(6).toString('hex')}.log`);
}

/** Runs `work` with a fresh statistics path, then removes whatever the encoder wrote there. */
async function withStatsFile<T>(work: (statsPath: string) => Promise<T>): Promise<T> {
  const statsPath = statsPathFor();
  try {
    return await work(statsPath);
  } finally {
    await removeStats(statsPath);
  }
}

async function removeStats(statsPath: string): Promise<void> {
  const dir = path.dirname(statsPath);
  const base = path.basename(statsPath);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(base)).map((n) => fs.rm(path.join(dir, n), { force: true })));
}

function resultOf(
  output: string,
  codec: VideoCodec,
  shape: { width: number; height: number; fps: number; frames: number; bytes: number },
  packets: NativePacket[],
  frameBits: NativeFrameBits[],
  extradataBytes: number,
): EncodeResult {
  const frameStats = frameStatsOf(packets, frameBits);
  const parameterSetBits = extradataBytes * 8;
  return {
    output,
    codec,
    ...shape,
    duration: shape.frames / shape.fps,
    streamBits: frameStats.reduce((s, f) => s + f.bits, 0) + parameterSetBits,
    parameterSetBits,
    frameStats,
  };
}

export function frameStatsOf(packets: NativePacket[], bits: NativeFrameBits[]): FrameStats[] {
  const byCoded = new Map(bits.map((b) => [b.coded, b]));
  return packets.map((p, index) => {
    const b = byCoded.get(index);
    const packetBits = p.bytes * 8;
    const texture = b?.texture ?? 0;
    const motion = b?.motion ?? 0;
    const type = (b?.type ?? p.type).toUpperCase();
    return {
      index,
      display: b?.display ?? index,
      type: type === 'I' || type === 'P' || type === 'B' ? type : '?',
      qp: b?.qp ?? p.qp,
      bits: packetBits,
      texture,
      motion,
      other: packetBits - texture - motion,
      encoderOther: b?.other ?? 0,
    };
  });
}

async function assertNotInput(input: string, output: string): Promise<void> {
  const [a, b] = await Promise.all([fs.realpath(input).catch(() => path.resolve(input)), fs.realpath(output).catch(() => path.resolve(output))]);
  if (a === b) throw new MvclassError(`${output}: writing here would overwrite the input; choose another output path`, output);
}

/** Re-encodes `input` into `output` (the paper's settings: size 320x240, fps 25, qp, gop 0). */
export async function encode(input: string, output: string, options: EncodeOptions = {}): Promise<EncodeResult> {
  await checkInputFile(input);
  const settings = nativeSettings(options);
  const codec = (options.codec ?? 'h264') as VideoCodec;
  const size = options.size === undefined ? { width: 0, height: 0 } : frameSize(options.size, 'size');
  if (size.width % 2 || size.height % 2) throw new UsageError(`Expected an even frame size for size but received "${options.size}"`);
  const fps = options.fps === undefined ? 0 : positiveInteger(options.fps, 'fps');
  const region = options.region === undefined ? undefined : pictureRegion(options.region, 'region');
  const format = muxerFor(output, codec);
  await assertNotInput(input, output);
  return withStatsFile((statsPath) =>
    writeAtomically(output, async (temp) => {
      const r = await withCallerStack(input, () =>
        codecAddon().transcode({
          ...settings,
          input,
          path: temp,
          width: size.width,
          height: size.height,
          fpsNum: fps,
          fpsDen: 1,
          statsPath,
          ...nativeRegion(region),
          ...(format ? { format } : {}),
        }),
      );
      for (const message of r.warnings) (options.onWarning ?? emitWarning)(message);
      const { size: bytes } = await fs.stat(temp);
      const shape = { width: r.width, height: r.height, fps: r.fpsNum / r.fpsDen, frames: r.frames, bytes };
      return resultOf(output, codec, shape, r.packets, r.frameBits, r.extradataBytes);
    }),
  );
}

/** The q-scale range of FFmpeg's mjpeg encoder (its qmin and qmax): 2 is its best quality, 31 its worst. */
export const JPEG_Q_MIN = 2;
export const JPEG_Q_MAX = 31;

/**
 * A JPEG q-scale as the ffmpeg CLI's -q:v takes it for mjpeg, 2 to 31. The ffmpeg CLI takes other
 * values without a word but does not encode at them, so they are refused with what they would mean:
 * -1 sets no fixed quality (the encoder's default bitrate target instead; seed 003 uses it for "the
 * best quality", which is 2 here), 1 is encoded as 2, and anything above 31 as 31.
 */
export function jpegQuality(value: unknown, name: string): number {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= JPEG_Q_MIN && n <= JPEG_Q_MAX) return n;
  const base = `Expected an FFmpeg mjpeg q-scale, an integer from ${JPEG_Q_MIN} (best) to ${JPEG_Q_MAX} (worst), for ${name} but received ${JSON.stringify(value)}`;
  const hint =
    n === -1 ? ` (ffmpeg's -q -1 sets no fixed quality; for the best quality use ${JPEG_Q_MIN})`
    : n === 0 || n === 1 ? ` (ffmpeg encodes -q ${n} as ${JPEG_Q_MIN})`
    : typeof n === 'number' && Number.isSafeInteger(n) && n > JPEG_Q_MAX ? ` (ffmpeg encodes every -q above ${JPEG_Q_MAX} as ${JPEG_Q_MAX})`
    : '';
  throw new UsageError(base + hint);
}

export interface EncodeJpegOptions {
  /** FFmpeg's mjpeg q-scale, 2 (best) to 31 (worst), the ffmpeg CLI's -q:v. */
  q: number;
  /** "WxH"; absent keeps the input's size. */
  size?: string;
  /** Keep only this region of each decoded picture (then scaled to `size`). */
  region?: PictureRegion;
  /** Called with what the decoder reported about a damaged input; default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

export interface EncodeJpegResult {
  output: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  /** Size of the output file. */
  bytes: number;
  /** Bytes of the JPEG pictures alone (the container's headers and index left out). */
  pictureBytes: number;
}

/**
 * Every frame of `input` encoded as a baseline JPEG (libavcodec's mjpeg, fixed q-scale `q`, one
 * thread) into an MJPEG .avi or .mkv, at the input's frame rate (frames duplicated or dropped as
 * encode() does) and the given size; written atomically. Limited-range YUV 4:2:0 as decoded
 * (native/codec/encoder.cc says why), so any FFmpeg-based reader, this project's included, decodes it.
 */
export async function encodeJpeg(input: string, output: string, options: EncodeJpegOptions): Promise<EncodeJpegResult> {
  await checkInputFile(input);
  const q = jpegQuality(options.q, 'q');
  const size = options.size === undefined ? { width: 0, height: 0 } : frameSize(options.size, 'size');
  if (size.width % 2 || size.height % 2) throw new UsageError(`Expected an even frame size for size but received "${options.size}"`);
  const region = options.region === undefined ? undefined : pictureRegion(options.region, 'region');
  const ext = path.extname(output).toLowerCase();
  if (ext !== '.avi' && ext !== '.mkv') throw new MvclassError(`${output}: unknown output container "${ext}" for JPEG frames; use .avi or .mkv`, output);
  await assertNotInput(input, output);
  return writeAtomically(output, async (temp) => {
    const r = await withCallerStack(input, () =>
      codecAddon().transcode({ codec: 'mjpeg', qp: q, threads: 1, input, path: temp, format: ext === '.avi' ? 'avi' : 'matroska', width: size.width, height: size.height, fpsNum: 0, fpsDen: 1, ...nativeRegion(region) }),
    );
    for (const message of r.warnings) (options.onWarning ?? emitWarning)(message);
    const { size: bytes } = await fs.stat(temp);
    return { output, width: r.width, height: r.height, fps: r.fpsNum / r.fpsDen, frames: r.frames, bytes, pictureBytes: r.packets.reduce((s, p) => s + p.bytes, 0) };
  });
}

/** Encodes raw YUV 4:2:0 frames (width * height * 3 / 2 bytes each) into `output`. */
export async function encodeFrames(
  output: string,
  frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: EncodeFramesOptions,
): Promise<EncodeResult> {
  const width = positiveInteger(options.width, 'width');
  const height = positiveInteger(options.height, 'height');
  if (width % 2 || height % 2) throw new UsageError(`Expected an even frame size but received ${width}x${height}`);
  const fps = positiveInteger(options.fps ?? 25, 'fps');
  const settings = nativeSettings(options);
  const codec = (options.codec ?? 'h264') as VideoCodec;
  const format = muxerFor(output, codec);
  const frameBytes = (width * height * 3) / 2;
  return withStatsFile((statsPath) =>
    writeAtomically(output, async (temp) => {
      const encoder = await withCallerStack(output, () =>
        codecAddon().openEncoder({ ...settings, width, height, fpsNum: fps, fpsDen: 1, path: temp, statsPath, ...(format ? { format } : {}) }),
      );
      const packets: NativePacket[] = [];
      let count = 0;
      let finished;
      try {
        for await (const frame of frames) {
          if (frame.length !== frameBytes) {
            throw new MvclassError(`${output}: frame ${count} has ${frame.length} bytes, a ${width}x${height} YUV 4:2:0 frame has ${frameBytes}`, output);
          }
          packets.push(...(await withCallerStack(output, () => encoder.write(frame, 1))));
          count++;
        }
        if (count === 0) throw new MvclassError(`${output}: no frames to encode`, output);
        finished = await withCallerStack(output, () => encoder.finish());
      } catch (error) {
        encoder.abort();
        throw error;
      }
      packets.push(...finished.packets);
      const { size: bytes } = await fs.stat(temp);
      return resultOf(output, codec, { width, height, fps, frames: count, bytes }, packets, finished.frameBits, finished.extradataBytes);
    }),
  );
}
