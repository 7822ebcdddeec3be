// The CSV of FFmpeg's doc/examples/extract_mvs.c (FFmpeg 6 layout, with the motion columns):
// same header, same columns, same printf widths, one row per vector, frames numbered from 1.

import type { DecodedBatch } from '../codec/decode.js';

export const CSV_HEADER = 'framenum,source,blockw,blockh,srcx,srcy,dstx,dsty,flags,motion_x,motion_y,motion_scale\n';

const pad = (value: number, width: number): string => String(value).padStart(width, ' ');

export function csvRows(batch: DecodedBatch): string {
  const v = batch.vectors;
  if (!v) return '';
  const parts: string[] = [];
  for (let f = 0; f < batch.frames.length; f++) {
    const framenum = batch.frames[f]!.index + 1;
    const start = batch.vectorStart[f]!;
    const end = start + batch.vectorCount[f]!;
    for (let i = start; i < end; i++) {
      parts.push(
        `${framenum},${pad(v.source[i]!, 2)},${pad(v.w[i]!, 2)},${pad(v.h[i]!, 2)},${pad(v.srcX[i]!, 4)},${pad(v.srcY[i]!, 4)},` +
          `${pad(v.dstX[i]!, 4)},${pad(v.dstY[i]!, 4)},0x${v.flags[i]!.toString(16)},${pad(v.motionX[i]!, 4)},` +
          `${pad(v.motionY[i]!, 4)},${pad(v.motionScale[i]!, 4)}\n`,
      );
    }
  }
  return parts.join('');
}
