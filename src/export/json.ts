// JSON export, streamed: one document with the stream description and every frame's vectors
// as rows in the CSV's column order. jsonText formats a batch's rows in the codec addon, on a
// worker (what extract writes); jsonFrames is the same text in TypeScript, held to it by the tests.

import type { DecodedBatch, VideoStream } from '../codec/decode.js';
import { AsciiWriter } from './ascii.js';
import { nativeText, type TextBuffers } from './text.js';

const COMMA = 44;
const OPEN = 91;
const CLOSE = 93;

export const JSON_COLUMNS = ['source', 'w', 'h', 'srcX', 'srcY', 'dstX', 'dstY', 'flags', 'motionX', 'motionY', 'motionScale'] as const;

/** HEVC rows end with the reference picture's order count, which libde265 knows. */
export function jsonColumns(stream: VideoStream): readonly string[] {
  return stream.codec === 'hevc' ? [...JSON_COLUMNS, 'refPoc'] : JSON_COLUMNS;
}

export function jsonHead(file: string, stream: VideoStream): string {
  return `{"file":${JSON.stringify(file)},"stream":${JSON.stringify(stream)},"columns":${JSON.stringify(jsonColumns(stream))},"frames":[\n`;
}

export function jsonFrames(batch: DecodedBatch, first: boolean): Buffer {
  const v = batch.vectors!;
  const out = new AsciiWriter(48 * v.source.length + 256 * batch.frames.length);
  batch.frames.forEach((frame, f) => {
    const start = batch.vectorStart[f]!;
    const meta = JSON.stringify(frame).slice(0, -1);
    out.text(first && f === 0 ? '' : ',\n').text(meta).text(',"vectors":[');
    for (let i = start; i < start + batch.vectorCount[f]!; i++) {
      if (i > start) out.char(COMMA);
      out.char(OPEN).int(v.source[i]!).char(COMMA).int(v.w[i]!).char(COMMA).int(v.h[i]!).char(COMMA);
      out.int(v.srcX[i]!).char(COMMA).int(v.srcY[i]!).char(COMMA).int(v.dstX[i]!).char(COMMA).int(v.dstY[i]!).char(COMMA);
      const flags = v.flags[i]!;
      if (flags === 0n) out.char(48);
      else out.text(flags.toString());
      out.char(COMMA).int(v.motionX[i]!).char(COMMA).int(v.motionY[i]!).char(COMMA).int(v.motionScale[i]!);
      if (v.refPoc) out.char(COMMA).int(v.refPoc[i]!);
      out.char(CLOSE);
    }
    out.text(']}');
  });
  return out.bytes();
}

/** jsonFrames's bytes: each frame's metadata here, its rows formatted natively off the main thread
 * (into one of `buffers` when given). */
export async function jsonText(batch: DecodedBatch, first: boolean, buffers?: TextBuffers): Promise<Buffer> {
  const heads = batch.frames.map((frame, f) => `${first && f === 0 ? '' : ',\n'}${JSON.stringify(frame).slice(0, -1)},"vectors":[`);
  return nativeText('json', batch, heads, buffers);
}

export const JSON_TAIL = '\n]}\n';
