// Rates of the paper's Tables I and II, in kbps over a video's duration. What each one counts
// is documented in docs/rates.md; this is the one place they are computed.

import type { CroppedBits, CropResult } from '../codec/crop.js';
import type { EncodeResult, VideoCodec } from '../codec/encode.js';

export interface Rates {
  /** The stream's codec as FFmpeg names it (h264, hevc for an encoding; mpeg4, msmpeg4v3 … for a stream taken as it is). */
  codec: string;
  frames: number;
  /** Seconds. */
  duration: number;
  /** The encoded stream: every video packet plus out-of-band parameter sets. */
  rOrig: number;
  /** The cropped stream written by crop (H.264 only). */
  rCropped: number | null;
  /** The encoder's own count of what cropping keeps: I-frame bits + motion and other bits of P/B frames. */
  rCroppedEncoder: number | null;
  /** Motion bits of the P/B frames, as the encoder counted them. */
  rMotion: number | null;
  /** R_motion as a percentage of R_orig and of R_cropped (the stream if there is one, else the estimate). */
  motionPctOrig: number | null;
  motionPctCropped: number | null;
}

const kbps = (bits: number, seconds: number): number => bits / seconds / 1000;

export function ratesOfEncoding(encoded: EncodeResult, cropped?: CropResult): Rates {
  const d = encoded.duration;
  let keep = encoded.parameterSetBits;
  let motion = 0;
  for (const f of encoded.frameStats) {
    if (f.type === 'I') keep += f.bits;
    else {
      keep += f.motion + f.other;
      motion += f.motion;
    }
  }
  const rOrig = kbps(encoded.streamBits, d);
  const rMotion = kbps(motion, d);
  const rCropped = cropped ? kbps(cropped.outputVideoBytes * 8, d) : null;
  const rCroppedEncoder = kbps(keep, d);
  const denominator = rCropped ?? rCroppedEncoder;
  return {
    codec: encoded.codec,
    frames: encoded.frames,
    duration: d,
    rOrig,
    rCropped,
    rCroppedEncoder,
    rMotion,
    motionPctOrig: (100 * rMotion) / rOrig,
    motionPctCropped: denominator > 0 ? (100 * rMotion) / denominator : null,
  };
}

/**
 * What a cropped stream would carry, by the encoder's count, frame by frame in coding order:
 * I frames whole, P/B frames their motion and other (header and mode) bits. Used where no
 * cropped stream can be written (HEVC: the cropped-stream writer is H.264's), so the Multi-CNN's
 * R_3D and R_2D can still be counted; its total is R_cropped (encoder).
 */
export function estimatedCroppedBits(encoded: EncodeResult): CroppedBits {
  const frames = [...encoded.frameStats].sort((a, b) => a.index - b.index);
  return {
    frameBits: frames.map((f) => (f.type === 'I' ? f.bits : f.motion + f.other)),
    kinds: frames.map((f) => (f.type === 'I' ? 'C' : 'R')).join(''),
    parameterSetBits: encoded.parameterSetBits,
    estimated: true,
  };
}

/** A stream taken as it is: no encoder statistics, so no R_motion. */
export function ratesOfStream(codec: string, frames: number, duration: number, videoBytes: number, cropped?: CropResult): Rates {
  const rCropped = cropped ? kbps(cropped.outputVideoBytes * 8, duration) : null;
  return {
    codec,
    frames,
    duration,
    rOrig: kbps(videoBytes * 8, duration),
    rCropped,
    rCroppedEncoder: null,
    rMotion: null,
    motionPctOrig: null,
    motionPctCropped: null,
  };
}

type Numeric = 'rOrig' | 'rCropped' | 'rCroppedEncoder' | 'rMotion' | 'motionPctOrig' | 'motionPctCropped';
const NUMERIC: Numeric[] = ['rOrig', 'rCropped', 'rCroppedEncoder', 'rMotion', 'motionPctOrig', 'motionPctCropped'];

/** Mean of each rate over videos, as the paper averages over UCF-101 (null where any is null). */
export function meanRates(rows: Rates[]): Record<Numeric, number | null> {
  const out = {} as Record<Numeric, number | null>;
  for (const key of NUMERIC) {
    const values = rows.map((r) => r[key]);
    out[key] = values.length > 0 && values.every((v) => v !== null) ? (values as number[]).reduce((a, b) => a + b, 0) / values.length : null;
  }
  // The percentages of the averages, as the paper's tables give them.
  if (out.rMotion !== null && out.rOrig) out.motionPctOrig = (100 * out.rMotion) / out.rOrig;
  const cropped = out.rCropped ?? out.rCroppedEncoder;
  if (out.rMotion !== null && cropped) out.motionPctCropped = (100 * out.rMotion) / cropped;
  return out;
}

/** The paper's Tables I (AVC/H.264) and II (HEVC), UCF-101 averages in kbps. */
export const PAPER_RATES: Record<VideoCodec, Record<number, { rOrig: number; rCropped: number; rMotion: number }>> = {
  h264: {
    0: { rOrig: 4273.0, rCropped: 321.3, rMotion: 155.4 },
    30: { rOrig: 274.9, rCropped: 112.3, rMotion: 46.9 },
    40: { rOrig: 80.0, rCropped: 49.9, rMotion: 18.5 },
    51: { rOrig: 27.7, rCropped: 20.0, rMotion: 4.6 },
  },
  hevc: {
    0: { rOrig: 3065.2, rCropped: 204.9, rMotion: 39.9 },
    30: { rOrig: 157.7, rCropped: 58.8, rMotion: 12.0 },
    40: { rOrig: 40.2, rCropped: 26.7, rMotion: 4.9 },
    51: { rOrig: 10.9, rCropped: 9.8, rMotion: 0.8 },
  },
};
