// MotionStats: a running summary of a decoding pass, for the CLI's and demo's reports.

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
  private histogram = new Map<number, number>();
  private list0 = 0;

  add(batch: DecodedBatch): void {
    for (const frame of batch.frames) {
      this.frames++;
      this.byType[frame.type]++;
      this.bits += frame.bits;
    }
    this.keyFrames += batch.keyFrames.length;
    const v = batch.vectors;
    if (!v) return;
    for (let i = 0; i < v.length; i++) {
      const scale = v.motionScale[i]! || 1;
      const dx = v.motionX[i]! / scale;
      const dy = v.motionY[i]! / scale;
      this.magnitude += Math.hypot(dx, dy);
      if (v.source[i] === -1) {
        // Key on quarter-pels, packed into one number.
        const key = Math.round(dx * 4) * 65536 + Math.round(dy * 4);
        this.histogram.set(key, (this.histogram.get(key) ?? 0) + 1);
        this.list0++;
      }
    }
    this.vectors += v.length;
  }

  summary(): MotionSummary {
    let best: [number, number] | undefined;
    for (const entry of this.histogram) if (!best || entry[1] > best[1]) best = entry;
    let dominant: MotionSummary['dominant'] = null;
    if (best) {
      const qy = ((best[0] % 65536) + 65536 + 32768) % 65536 - 32768;
      const qx = (best[0] - qy) / 65536;
      dominant = { dx: qx / 4, dy: qy / 4, share: best[1] / this.list0 };
    }
    return {
      frames: this.frames,
      framesByType: { ...this.byType },
      vectors: this.vectors,
      vectorsPerFrame: this.frames ? this.vectors / this.frames : 0,
      meanMagnitude: this.vectors ? this.magnitude / this.vectors : 0,
      dominant,
      bits: this.bits,
      keyFrames: this.keyFrames,
    };
  }
}
