// The CSV of FFmpeg's doc/examples/extract_mvs.c (FFmpeg 6 layout, with the motion columns):
// same header, same columns, same printf widths, one row per vector, frames numbered from 1.
// csvText formats a batch in the codec addon, on a worker (what extract writes; text.ts); csvRows
// is the same text in TypeScript, on the calling thread, and the tests hold the two to each other.

import type { DecodedBatch } from '../codec/decode.js';
import { AsciiWriter } from './ascii.js';
import { nativeText, type TextBuffers } from './text.js';

export const CSV_HEADER = 'framenum,source,blockw,blockh,srcx,srcy,dstx,dsty,flags,motion_x,motion_y,motion_scale\n';

const COMMA = 44;
const NEWLINE = 10;

/** The rows of one batch, as bytes (about 60 a row). */
export function csvRows(batch: DecodedBatch): Buffer {
  const v = batch.vectors;
  if (!v) return Buffer.alloc(0);
  const out = new AsciiWriter(64 * v.source.length + 64);
  for (let f = 0; f < batch.frames.length; f++) {
    const framenum = batch.frames[f]!.index + 1;
    const start = batch.vectorStart[f]!;
    const end = start + batch.vectorCount[f]!;
    for (let i = start; i < end; i++) {
      out.int(framenum).char(COMMA).int(v.source[i]!, 2).char(COMMA).int(v.w[i]!, 2).char(COMMA).int(v.h[i]!, 2).char(COMMA);
      out.int(v.srcX[i]!, 4).char(COMMA).int(v.srcY[i]!, 4).char(COMMA).int(v.dstX[i]!, 4).char(COMMA).int(v.dstY[i]!, 4).char(COMMA);
      const flags = v.flags[i]!;
      out.text('0x');
      if (flags === 0n) out.char(48);
      else out.hex(flags);
      out.char(COMMA).int(v.motionX[i]!, 4).char(COMMA).int(v.motionY[i]!, 4).char(COMMA);
      out.int(v.motionScale[i]!, 4).char(NEWLINE);
    }
  }
  return out.bytes();
}

/** csvRows's bytes, formatted natively off the main thread (into one of `buffers` when given). */
export async function csvText(batch: DecodedBatch, buffers?: TextBuffers): Promise<Buffer> {
  const v = batch.vectors;
  if (!v || v.length === 0) return Buffer.alloc(0);
  const numbers = new Float64Array(batch.frames.length);
  for (let f = 0; f < numbers.length; f++) numbers[f] = batch.frames[f]!.index + 1;
  return nativeText('csv', batch, numbers, buffers);
}
