// encodeFrames: raw YUV 4:2:0 frames in, a compressed file out (libx264 through libavcodec,
// in-process). The output appears only when complete (temporary file, then rename).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomically } from '../util/atomic.js';
import { MvclassError, withCallerStack } from '../util/errors.js';
import { integerInRange, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';
import { codecAddon, type NativePacket } from './native.js';

export interface EncodeOptions {
  width: number;
  height: number;
  /** Frames per second (default 25, the paper's). */
  fps?: number;
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
  preset?: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow' | 'slower' | 'veryslow';
  /** false: CAVLC entropy coding instead of CABAC. */
  cabac?: boolean;
  /** Encoder threads; 0 lets libx264 choose. Set 1 for bit-identical output everywhere. */
  threads?: number;
}

export interface EncodedPacket extends NativePacket {}

export interface EncodeResult {
  output: string;
  frames: number;
  bytes: number;
  packets: EncodedPacket[];
}

const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;

/** Container by extension: .mp4/.mov/.mkv through libavformat, .264/.h264 raw Annex-B. */
function muxerFor(output: string): string | undefined {
  const ext = path.extname(output).toLowerCase();
  if (ext === '.264' || ext === '.h264') return 'h264';
  if (['.mp4', '.m4v', '.mov', '.mkv'].includes(ext)) return undefined;
  throw new MvclassError(`${output}: unknown output container "${ext}"; use .mp4, .mkv, .mov or .264`, output);
}

export async function encodeFrames(
  output: string,
  frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: EncodeOptions,
): Promise<EncodeResult> {
  const width = positiveInteger(options.width, 'width');
  const height = positiveInteger(options.height, 'height');
  if (width % 2 || height % 2) throw new MvclassError(`Expected an even frame size but received ${width}x${height}`);
  const fps = positiveInteger(options.fps ?? 25, 'fps');
  const format = muxerFor(output);
  const frameBytes = (width * height * 3) / 2;
  const nativeOptions = {
    codec: 'libx264',
    width,
    height,
    fpsNum: fps,
    fpsDen: 1,
    gop: nonNegativeInteger(options.gop ?? 0, 'gop'),
    bframes: integerInRange(options.bframes ?? 0, 'bframes', 0, 16),
    meRange: positiveInteger(options.meRange ?? 16, 'meRange'),
    refs: integerInRange(options.refs ?? 1, 'refs', 1, 16),
    threads: nonNegativeInteger(options.threads ?? 0, 'threads'),
    preset: oneOf(options.preset ?? 'medium', 'preset', PRESETS),
    cabac: options.cabac ?? true,
    ...(format ? { format } : {}),
    ...(options.qp !== undefined
      ? { qp: integerInRange(options.qp, 'qp', 0, 51) }
      : { crf: integerInRange(options.crf ?? 23, 'crf', 0, 51) }),
  };

  return writeAtomically(output, async (temp) => {
    const encoder = await withCallerStack(output, () => codecAddon().openEncoder({ ...nativeOptions, path: temp }));
    const packets: NativePacket[] = [];
    let count = 0;
    try {
      for await (const frame of frames) {
        if (frame.length !== frameBytes) {
          throw new MvclassError(`${output}: frame ${count} has ${frame.length} bytes, a ${width}x${height} YUV 4:2:0 frame has ${frameBytes}`, output);
        }
        packets.push(...(await withCallerStack(output, () => encoder.write(frame, 1))));
        count++;
      }
      packets.push(...(await withCallerStack(output, () => encoder.finish())));
    } catch (error) {
      encoder.abort();
      throw error;
    }
    if (count === 0) throw new MvclassError(`${output}: no frames to encode`, output);
    const { size } = await fs.stat(temp);
    return { output, frames: count, bytes: size, packets };
  });
}
