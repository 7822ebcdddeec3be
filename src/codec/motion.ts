// readMotion: every decoded frame, in display order, with its motion vectors as columns.

import { decodeVideo, sliceVectors, type DecodeOptions, type FrameMeta, type MotionVectors } from './decode.js';

export interface MotionFrame extends FrameMeta {
  vectors: MotionVectors;
}

export type ReadMotionOptions = Pick<DecodeOptions, 'batchSize' | 'onWarning' | 'inputOptions'>;

export async function* readMotion(file: string, options: ReadMotionOptions = {}): AsyncGenerator<MotionFrame> {
  for await (const batch of decodeVideo(file, { ...options, vectors: true })) {
    const columns = batch.vectors!;
    for (let i = 0; i < batch.frames.length; i++) {
      yield { ...batch.frames[i]!, vectors: sliceVectors(columns, batch.vectorStart[i]!, batch.vectorCount[i]!) };
    }
  }
}
