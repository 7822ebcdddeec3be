// crop: the texture-stripped H.264 stream an edge device sends (the paper, section III): IDR
// access units copied bit for bit, every P frame rewritten with the same partitions and motion
// vectors and no residual. Output .264/.h264 (Annex-B) or .mp4.

import path from 'node:path';
import { writeAtomically } from '../util/atomic.js';
import { MvclassError, withCallerStack } from '../util/errors.js';
import { checkInputFile } from './input.js';
import { emitWarning } from './encode.js';
import { codecAddon, type NativeCropResult } from './native.js';
import { promises as fs } from 'node:fs';

export interface CropResult extends NativeCropResult {
  input: string;
  output: string;
  /** Size of the output file. */
  bytes: number;
}

/** A cropped stream's sizes in bits: each access unit (decoding order), its kind, the parameter sets. */
export interface CroppedBits {
  frameBits: number[];
  /** Per access unit: C copied (intra), R rewritten P frame. */
  kinds: string;
  parameterSetBits: number;
  /** True when no cropped stream was written and these are the encoder's counts (HEVC). */
  estimated?: boolean;
}

export function croppedBits(result: NativeCropResult): CroppedBits {
  return { frameBits: Array.from(result.frameBytes, (b) => b * 8), kinds: result.frameKinds, parameterSetBits: result.parameterSetBytes * 8 };
}

export interface CropOptions {
  /** Called with what the decoder reported about a damaged input; default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

export async function crop(input: string, output: string, options: CropOptions = {}): Promise<CropResult> {
  await checkInputFile(input);
  const ext = path.extname(output).toLowerCase();
  if (!['.264', '.h264', '.mp4'].includes(ext)) {
    throw new MvclassError(`${output}: crop writes .264/.h264 (Annex-B) or .mp4, not "${ext}"`, output);
  }
  const [a, b] = await Promise.all([fs.realpath(input), fs.realpath(output).catch(() => path.resolve(output))]);
  if (a === b) throw new MvclassError(`${output}: writing here would overwrite the input; choose another output path`, output);
  return writeAtomically(output, async (temp) => {
    const result = await withCallerStack(input, () => codecAddon().crop({ input, output: temp, annexB: ext !== '.mp4' }));
    for (const message of result.warnings) (options.onWarning ?? emitWarning)(message);
    const { size } = await fs.stat(temp);
    return { ...result, input, output, bytes: size };
  });
}
