// MotionStats: a running summary of a decoding pass, for the CLI's and demo's reports. The
// per-frame numbers come from the native reader, so no per-vector work happens in JavaScript.

import type { DecodedBatch, PictureType } from '../codec/decode.js';

export interface MotionSummary {
  frames: number;
  framesByType: Record<PictureType, number>;
  vectors: number;
  vectorsPerFrame: number;
  /** Mean vector length in pixels over all exported vectors. */
  meanMagnitude: number;
  /** Most frequent list-0 vector in pixels (quarter-pel resolution), or null without vectors. */
  dominant: { dx: number; dy: number; share: number } | null;
  bits: number;
  keyFrames: number;
}

export class MotionStats {
  private frames = 0;
  private byType: Record<PictureType, number> = { I: 0, P: 0, B: 0, '?': 0 };
  private vectors = 0;
  private magnitude = 0;
  private bits = 0;
  private keyFrames = 0;
  private dominant: MotionSummary['dominant'] = null;

  add(batch: DecodedBatch): void {
    batch.frames.forEach((frame, i) => {
      this.frames++;
      this.byType[frame.type]++;
      this.bits += frame.bits;
      this.vectors += batch.vectorCount[i]!;
      this.magnitude += batch.magnitude[i]!;
    });
    this.keyFrames += batch.keyFrames.length;
    if (batch.dominant) {
      const d = batch.dominant;
      this.dominant = { dx: d.dx, dy: d.dy, share: d.count / d.list0 };
    }
  }

  summary(): MotionSummary {
    return {
      frames: this.frames,
      framesByType: { ...this.byType },
      vectors: this.vectors,
      vectorsPerFrame: this.frames ? this.vectors / this.frames : 0,
      meanMagnitude: this.vectors ? this.magnitude / this.vectors : 0,
      dominant: this.dominant,
      bits: this.bits,
      keyFrames: this.keyFrames,
    };
  }
}
