// JSON export, streamed: one document with the stream description and every frame's vectors
// as rows in the CSV's column order.

import type { DecodedBatch, VideoStream } from '../codec/decode.js';

export const JSON_COLUMNS = ['source', 'w', 'h', 'srcX', 'srcY', 'dstX', 'dstY', 'flags', 'motionX', 'motionY', 'motionScale'] as const;

/** HEVC rows end with the reference picture's order count, which libde265 knows. */
export function jsonColumns(stream: VideoStream): readonly string[] {
  return stream.codec === 'hevc' ? [...JSON_COLUMNS, 'refPoc'] : JSON_COLUMNS;
}

export function jsonHead(file: string, stream: VideoStream): string {
  return `{"file":${JSON.stringify(file)},"stream":${JSON.stringify(stream)},"columns":${JSON.stringify(jsonColumns(stream))},"frames":[\n`;
}

export function jsonFrames(batch: DecodedBatch, first: boolean): string {
  const v = batch.vectors!;
  const parts: string[] = [];
  batch.frames.forEach((frame, f) => {
    const start = batch.vectorStart[f]!;
    const rows: string[] = [];
    for (let i = start; i < start + batch.vectorCount[f]!; i++) {
      rows.push(
        `[${v.source[i]},${v.w[i]},${v.h[i]},${v.srcX[i]},${v.srcY[i]},${v.dstX[i]},${v.dstY[i]},${v.flags[i]},${v.motionX[i]},${v.motionY[i]},${v.motionScale[i]}${v.refPoc ? `,${v.refPoc[i]}` : ''}]`,
      );
    }
    const meta = JSON.stringify(frame).slice(0, -1);
    parts.push(`${first && f === 0 ? '' : ',\n'}${meta},"vectors":[${rows.join(',')}]}`);
  });
  return parts.join('');
}

export const JSON_TAIL = '\n]}\n';
