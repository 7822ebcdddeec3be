// The codec addon's text formatting (native/codec/text.cc) for csv.ts and json.ts, and the memory
// it writes into: a batch's text formatted into fresh memory cost more in page faults than the
// formatting itself, so extract hands it TextBuffers that come back once their bytes are written.

import type { DecodedBatch } from '../codec/decode.js';
import { codecAddon } from '../codec/native.js';

/** Buffers for one batch's text after another; each is given back once its text is written. */
export class TextBuffers {
  private readonly free: Buffer[] = [];
  private readonly mine = new WeakSet<ArrayBufferLike>();

  /** `size`: bytes of each buffer, grown to a quarter over the largest text that did not fit. */
  constructor(private size = 8 << 20) {}

  take(): Buffer {
    const reused = this.free.pop();
    if (reused) return reused;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.mine.add(fresh.buffer);
    return fresh;
  }

  /** Text formatted into one of ours, once written (anything else is left alone). Two are kept. */
  give(text: Buffer): void {
    const memory = text.buffer;
    if (this.mine.has(memory) && memory.byteLength >= this.size && this.free.length < 2) this.free.push(Buffer.from(memory));
  }

  fit(bytes: number): void {
    if (bytes > this.size) this.size = Math.ceil(bytes * 1.25);
  }
}

/** A batch's rows as text, formatted off the main thread; into one of `buffers` when given. */
export async function nativeText(format: 'csv' | 'json', batch: DecodedBatch, frames: Float64Array | string[], buffers?: TextBuffers): Promise<Buffer> {
  const v = batch.vectors!;
  const addon = codecAddon();
  // CSV rows follow each frame's number, JSON rows each frame's text (native.ts types the pairs).
  const formatText = (into?: Uint8Array): Promise<Buffer | number> =>
    format === 'csv'
      ? addon.formatText('csv', v, batch.vectorStart, batch.vectorCount, frames as Float64Array, into)
      : addon.formatText('json', v, batch.vectorStart, batch.vectorCount, frames as string[], into);
  if (!buffers) return (await formatText()) as Buffer;
  const into = buffers.take();
  const result = await formatText(into);
  if (typeof result === 'number') return into.subarray(0, result);
  buffers.fit(result.length);
  buffers.give(into);
  return result;
}
