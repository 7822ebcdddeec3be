// The built-in synthetic action set: a folder per class of short H.264 clips (320x240, 25 fps)
// rendered in-process. Appearance, size, position, facing, tempo, phase, background texture,
// camera pan and jitter and noise are drawn per clip from a seeded PRNG, independently of the
// class, so that only the motion tells the classes apart. Same seed, same bytes.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeFrames } from '../codec/encode.js';
import { writeAtomically } from '../util/atomic.js';
import { forEachLimit } from '../util/pool.js';
import { integerInRange, positiveInteger } from '../util/validate.js';
import { ACTIONS, poseOf, type ActionName } from './actions.js';
import { drawFigure, type Appearance } from './figure.js';
import { makeTexture } from './pattern.js';
import { mulberry32 } from '../util/random.js';

export interface ClipOptions {
  width?: number;
  height?: number;
  frames?: number;
  fps?: number;
  seed: number;
}

/** Yields the YUV 4:2:0 frames of one clip of `action`. */
export function* renderActionClip(action: ActionName, options: ClipOptions): Generator<Uint8Array> {
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const frames = options.frames ?? 100;
  const fps = options.fps ?? 25;
  const random = mulberry32(options.seed);
  const between = (a: number, b: number) => a + (b - a) * random();

  // Camera: a slow pan plus hand-held jitter, on a texture larger than the frame.
  const margin = 48;
  const bg = makeTexture(width + 2 * margin, height + 2 * margin, random);
  const shift = Math.round(between(-40, 40));
  const tint = [Math.round(between(90, 166)), Math.round(between(90, 166))];
  const pan = [between(-0.4, 0.4), between(-0.2, 0.2)];
  const bgMean = 120 + shift;
  const figureHeight = between(70, 115);
  const appearance: Appearance = {
    height: figureHeight,
    thickness: between(2.5, 4.5),
    luma: Math.round(bgMean > 128 ? between(20, 60) : between(195, 235)),
    u: Math.round(between(40, 216)),
    v: Math.round(between(40, 216)),
    facing: random() < 0.5 ? 1 : -1,
  };
  const params = {
    phase: between(0, 2 * Math.PI),
    tempo: between(0.8, 1.2),
    height: figureHeight,
    frameWidth: width,
    x0: between(figureHeight * 0.4, width - figureHeight * 0.4),
    y0: between(height * 0.5, height - figureHeight * 0.5),
  };
  const noise = new Int8Array(width * height + 4099).map(() => Math.round(between(-3, 3)));
  let jx = 0;
  let jy = 0;
  const luma = width * height;
  for (let f = 0; f < frames; f++) {
    jx = Math.max(-2, Math.min(2, jx + Math.round(between(-1, 1))));
    jy = Math.max(-2, Math.min(2, jy + Math.round(between(-1, 1))));
    const ox = Math.max(0, Math.min(2 * margin, Math.round(margin + pan[0]! * f) + jx));
    const oy = Math.max(0, Math.min(2 * margin, Math.round(margin + pan[1]! * f) + jy));
    const frame = new Uint8Array((luma * 3) / 2);
    for (let y = 0; y < height; y++) {
      const row = (y + oy) * bg.width + ox;
      for (let x = 0; x < width; x++) frame[y * width + x] = Math.max(16, Math.min(235, bg.luma[row + x]! + shift));
    }
    frame.fill(tint[0]!, luma, luma + luma / 4);
    frame.fill(tint[1]!, luma + luma / 4);
    const pose = poseOf(action, { ...params, t: f / fps });
    // The figure lives in the scene: the camera's motion moves it as it moves the background.
    pose.x -= ox - margin;
    pose.y -= oy - margin;
    drawFigure(frame, width, height, pose, appearance);
    const offset = Math.floor(random() * 4096);
    for (let i = 0; i < luma; i++) frame[i] = Math.max(0, Math.min(255, frame[i]! + noise[i + offset]!));
    yield frame;
  }
}

export interface SynthOptions {
  classes?: number;
  perClass?: number;
  seconds?: number;
  seed?: number;
  /** Clips encoded at once (default: the number of cores). */
  jobs?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  out: string;
  classes: string[];
  clips: number;
  seconds: number;
}

export const SYNTH_VERSION = 1;

/** The seed of clip i of class c (its index in ACTIONS) in the set of seed `seed`: one PRNG stream per clip, so a clip does not depend on the order clips are made in. */
export function actionClipSeed(seed: number, c: number, i: number): number {
  return (seed * 1_000_003 + c * 10_007 + i * 101 + 17) >>> 0;
}

/** Writes the set to `out` (a folder per class, and synth.json); `out` appears only when complete. */
export async function synthesizeActionSet(out: string, options: SynthOptions = {}): Promise<SynthResult> {
  const classCount = integerInRange(options.classes ?? 8, 'classes', 2, ACTIONS.length);
  const perClass = positiveInteger(options.perClass ?? 40, 'per-class');
  const seconds = positiveInteger(options.seconds ?? 4, 'seconds');
  const seed = positiveInteger(options.seed ?? 1, 'seed');
  const jobs = positiveInteger(options.jobs ?? os.cpus().length, 'jobs');
  const classes = ACTIONS.slice(0, classCount);
  const clips = classes.flatMap((action, c) => Array.from({ length: perClass }, (_, i) => ({ action, c, i })));
  const started = performance.now();
  await writeAtomically(out, async (dir) => {
    await fs.mkdir(dir);
    await Promise.all(classes.map((name) => fs.mkdir(path.join(dir, name))));
    let done = 0;
    await forEachLimit(clips, jobs, async ({ action, c, i }) => {
      await encodeFrames(
        path.join(dir, action, `${action}_${String(i).padStart(3, '0')}.mp4`),
        renderActionClip(action, { frames: seconds * 25, seed: actionClipSeed(seed, c, i) }),
        // A clean camera-like source (prepare re-encodes at the paper's settings). One
        // encoder thread and a fixed QP, so that the bytes do not depend on the machine:
        // with CRF, libx264's float rate control (mb-tree) gave a different tail about one
        // run in ten inside the test runner, for the same frames and options.
        { width: 320, height: 240, fps: 25, qp: 22, preset: 'veryfast', gop: 50, bframes: 0, threads: 1 },
      );
      options.onProgress?.(++done, clips.length);
    });
    const meta = { version: SYNTH_VERSION, seed, classes, perClass, seconds, size: '320x240', fps: 25 };
    await fs.writeFile(path.join(dir, 'synth.json'), JSON.stringify(meta, null, 1) + '\n');
  });
  return { out, classes: [...classes], clips: clips.length, seconds: (performance.now() - started) / 1000 };
}
