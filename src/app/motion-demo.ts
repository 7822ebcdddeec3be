// The demo while the classifier is being built: make a clip with known motion in-process
// (rendered frames -> libx264 at the paper's settings), extract its vectors, grids and key
// frame, and check the vectors against the motion that was rendered.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { encodeFrames, type EncodeResult } from '../codec/encode.js';
import { probe, type VideoInfo } from '../codec/probe.js';
import { extractMotion, type ExtractResult } from '../export/extract.js';
import { renderMovingPattern } from '../synth/pattern.js';
import { encoderSettings, PAPER_PROFILE, withRate } from '../ingest/profile.js';

export interface MotionDemoOptions {
  out: string;
  width?: number;
  height?: number;
  seconds?: number;
  qp?: number;
  seed?: number;
  onWarning?: (message: string) => void;
}

export interface MotionDemoResult {
  clip: string;
  info: VideoInfo;
  encode: Omit<EncodeResult, 'frameStats'>;
  extract: ExtractResult;
  truePan: { dx: number; dy: number };
  panRecovered: boolean;
  seconds: { encode: number; extract: number };
}

export async function runMotionDemo(options: MotionDemoOptions): Promise<MotionDemoResult> {
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const fps = PAPER_PROFILE.fps;
  const frames = Math.round((options.seconds ?? 4) * fps);
  const pan = { x: 2, y: 1 };
  await fs.mkdir(options.out, { recursive: true });
  const clip = path.join(options.out, 'pattern.mp4');

  let t0 = performance.now();
  // The paper's encoding profile (one IDR then P frames, search range 16, a fixed QP) at the clip's size.
  const encoded = await encodeFrames(
    clip,
    renderMovingPattern({ width, height, frames, panX: pan.x, panY: pan.y, seed: options.seed ?? 1 }),
    { ...encoderSettings(withRate(PAPER_PROFILE, { qp: options.qp ?? 30 })), width, height, fps },
  );
  const encodeSeconds = (performance.now() - t0) / 1000;

  t0 = performance.now();
  const extract = await extractMotion(clip, {
    format: 'npy',
    out: path.join(options.out, 'pattern.mv'),
    grid: 8,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  const extractSeconds = (performance.now() - t0) / 1000;
  const { frameStats: _frameStats, ...encode } = encoded;
  const dominant = extract.summary.dominant;
  // motion = src - dst: a background panned by +pan shows as +pan vectors.
  const truePan = { dx: pan.x, dy: pan.y };
  return {
    clip,
    info: await probe(clip),
    encode,
    extract,
    truePan,
    panRecovered: dominant !== null && dominant.dx === truePan.dx && dominant.dy === truePan.dy,
    seconds: { encode: encodeSeconds, extract: extractSeconds },
  };
}
