// compareVideos: how far a re-encoded (distorted) video is from its reference, frame i against
// frame i in display order, both scaled to width x height (YUV 4:2:0, bicubic, only when a size
// differs). Luma MAE and RMSE on the 0-255 scale; PSNR as FFmpeg's psnr filter reports it (per
// plane from the mean MSE; "average" from the plane-size-weighted MSE; Infinity where the MSE is
// 0, FFmpeg's "inf"); SSIM as its ssim filter does (8x8 windows on a 4x4 grid; "all" weighted by
// plane size). Decoding and the metrics run on a worker thread (native/codec/quality.cc).

import { withCallerStack } from '../util/errors.js';
import { integerInRange, positiveInteger } from '../util/validate.js';
import { emitWarning } from './encode.js';
import { checkInputFile } from './input.js';
import { codecAddon, type NativeQuality } from './native.js';
import { nativeRegion, pictureRegion, type PictureRegion } from './region.js';

export interface CompareVideosOptions {
  reference: string;
  distorted: string;
  /** The size both are compared at (each at least 16). */
  width: number;
  height: number;
  /** Compare only this region of the reference's pictures (a region-of-interest re-encode's original). */
  referenceRegion?: PictureRegion;
  /** Decoder threads per file (default 1; 0 lets FFmpeg choose). */
  decoderThreads?: number;
  /** Called with what a decoder reported about a damaged input; default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

export interface VideoQuality extends Omit<NativeQuality, 'warnings'> {
  reference: string;
  distorted: string;
}

function atLeast16(value: unknown, name: string): number {
  const n = positiveInteger(value, name);
  return integerInRange(n, name, 16, 16384);
}

export async function compareVideos(options: CompareVideosOptions): Promise<VideoQuality> {
  const width = atLeast16(options.width, 'width');
  const height = atLeast16(options.height, 'height');
  const decoderThreads = integerInRange(options.decoderThreads ?? 1, 'decoderThreads', 0, 64);
  const region = options.referenceRegion === undefined ? undefined : pictureRegion(options.referenceRegion, 'referenceRegion');
  const reference = await checkInputFile(options.reference);
  const distorted = await checkInputFile(options.distorted);
  const r = await withCallerStack(distorted, () => codecAddon().compareVideos({ reference, distorted, width, height, decoderThreads, ...nativeRegion(region) }));
  for (const message of r.warnings) (options.onWarning ?? emitWarning)(message);
  const { warnings: _warnings, ...rest } = r;
  return { ...rest, reference, distorted };
}
