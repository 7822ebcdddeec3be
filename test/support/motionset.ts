// A labelled set made from real footage (the clips Debian ships, see test/setup/fixtures.ts):
// a window cut out of each source video moves over it (held still, shaken, swept back and forth,
// zoomed in or out), so that the classes differ by camera motion while the content is real video.
// Deterministic from its settings; generated at test time and cached under .cache/test/motionset-
// <hash of the settings>. The ffmpeg tool only decodes the sources (a tool of the tests); the
// clips are sampled here and encoded with mvclass's own encodeFrames.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeFrames } from '../../src/codec/encode.js';
import { mixSeed, mulberry32 } from '../../src/util/random.js';
import { CACHE } from '../setup/fixtures.js';

// Classes that survive the paper's input pipeline: a volume's mean vector is subtracted (so a
// steady pan is erased: only its change shows) and training mirrors clips at random (negating dx,
// so pan-left and pan-right would be the same class). A window swept back and forth, a shaking
// one and zooms keep their pattern through both.
export const MOTION_CLASSES = ['still', 'shake', 'sweep-horizontal', 'sweep-vertical', 'zoom-in', 'zoom-out'] as const;
export type MotionClass = (typeof MOTION_CLASSES)[number];

export interface MotionSetOptions {
  /** Source videos (real footage) by name. */
  sources: Record<string, string>;
  perClass?: number;
  /** Output frame size (default 160x120) and frames per clip (default 40: 1.6 s at 25 fps). */
  width?: number;
  height?: number;
  frames?: number;
  seed?: number;
}

interface Source {
  name: string;
  width: number;
  height: number;
  frames: number;
  y: Uint8Array[];
  u: Uint8Array[];
  v: Uint8Array[];
}

// Sources are decoded once at about this many pixels (keeping their aspect ratio), at most MAX_FRAMES.
const WORK_AREA = 400 * 300;
const MAX_FRAMES = 150;

function decodeSource(name: string, file: string, dir: string): Source {
  const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
  });
  const [w0, h0] = probe.trim().split(',').map(Number) as [number, number];
  const k = Math.min(1, Math.sqrt(WORK_AREA / (w0 * h0)));
  const width = 2 * Math.round((w0 * k) / 2);
  const height = 2 * Math.round((h0 * k) / 2);
  const raw = path.join(dir, `${name}-${width}x${height}.yuv`);
  if (!existsSync(raw)) {
    const args = ['-v', 'error', '-y', '-i', file, '-frames:v', String(MAX_FRAMES), '-vf', `scale=${width}:${height}:flags=area,format=yuv420p`, '-f', 'rawvideo'];
    execFileSync('ffmpeg', [...args, `${raw}.tmp`], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(`${raw}.tmp`, raw);
  }
  const bytes = readFileSync(raw);
  const luma = width * height;
  const frameBytes = luma * 1.5;
  const frames = Math.floor(bytes.length / frameBytes);
  const src: Source = { name, width, height, frames, y: [], u: [], v: [] };
  for (let f = 0; f < frames; f++) {
    const at = f * frameBytes;
    src.y.push(bytes.subarray(at, at + luma));
    src.u.push(bytes.subarray(at + luma, at + luma + luma / 4));
    src.v.push(bytes.subarray(at + luma + luma / 4, at + frameBytes));
  }
  return src;
}

/** Bilinear sample of a plane (w x h) into out (ow x oh): output (i, j) reads x0 + (j + 0.5) * step - 0.5. */
function resample(plane: Uint8Array, w: number, h: number, x0: number, y0: number, step: number, out: Uint8Array, at: number, ow: number, oh: number): void {
  for (let i = 0; i < oh; i++) {
    const sy = Math.min(h - 1, Math.max(0, y0 + (i + 0.5) * step - 0.5));
    const ya = Math.floor(sy);
    const yb = Math.min(h - 1, ya + 1);
    const fy = sy - ya;
    for (let j = 0; j < ow; j++) {
      const sx = Math.min(w - 1, Math.max(0, x0 + (j + 0.5) * step - 0.5));
      const xa = Math.floor(sx);
      const xb = Math.min(w - 1, xa + 1);
      const fx = sx - xa;
      const top = plane[ya * w + xa]! + (plane[ya * w + xb]! - plane[ya * w + xa]!) * fx;
      const bottom = plane[yb * w + xa]! + (plane[yb * w + xb]! - plane[yb * w + xa]!) * fx;
      out[at + i * ow + j] = Math.round(top + (bottom - top) * fy);
    }
  }
}

/** Where the window is in each frame: its top-left corner and its width, in source pixels. */
export interface WindowPath {
  x: number[];
  y: number[];
  w: number[];
}

/**
 * A window path of `frames` positions for one class, drawn from rng, inside a source of width x
 * height. Output pixels are `w / outputWidth` source pixels; speeds below are in output pixels.
 */
export function windowPath(kind: MotionClass, width: number, height: number, outputWidth: number, aspect: number, frames: number, rng: () => number): WindowPath {
  const fit = Math.min(width, height * aspect);
  const between = (a: number, b: number) => a + (b - a) * rng();
  const x: number[] = [];
  const y: number[] = [];
  const w: number[] = [];
  if (kind === 'zoom-in' || kind === 'zoom-out') {
    // The window shrinks (zoom in) or grows (zoom out) by a factor of 1.6-2.2 over the clip, about a fixed centre.
    const big = fit * between(0.85, 0.98);
    const small = big / between(1.6, 2.2);
    const cx = between(big / 2, width - big / 2);
    const cy = between(big / aspect / 2, height - big / aspect / 2);
    for (let t = 0; t < frames; t++) {
      const s = t / (frames - 1);
      const ww = kind === 'zoom-in' ? big * (small / big) ** s : small * (big / small) ** s;
      w.push(ww);
      x.push(cx - ww / 2);
      y.push(cy - ww / aspect / 2);
    }
    return { x, y, w };
  }
  const ww = fit * between(0.5, 0.65);
  const hh = ww / aspect;
  const unit = ww / outputWidth; // source pixels per output pixel
  const roomX = width - ww;
  const roomY = height - hh;
  let offsets: Array<[number, number]>;
  if (kind === 'sweep-horizontal' || kind === 'sweep-vertical') {
    // Back and forth along one axis: a sine of period 0.8-1.6 s (at 25 fps), amplitude 12-24 output pixels.
    const period = between(20, 40);
    const phase = between(0, 2 * Math.PI);
    const amplitude = Math.min(between(12, 24) * unit, (kind === 'sweep-horizontal' ? roomX : roomY) / 2);
    offsets = Array.from({ length: frames }, (_, t) => {
      const d = amplitude * Math.sin((2 * Math.PI * t) / period + phase);
      return kind === 'sweep-horizontal' ? [d, 0] : [0, d];
    });
  } else if (kind === 'shake') {
    // A hand-held camera: each frame jumps 1.5-4 output pixels in a random direction, pulled back towards the start.
    const step = between(1.5, 4) * unit;
    let ox = 0;
    let oy = 0;
    offsets = Array.from({ length: frames }, () => {
      const angle = between(0, 2 * Math.PI);
      ox = 0.8 * ox + step * Math.cos(angle);
      oy = 0.8 * oy + step * Math.sin(angle);
      return [ox, oy];
    });
  } else {
    offsets = Array.from({ length: frames }, () => [0, 0]);
  }
  const [minX, maxX] = [Math.min(...offsets.map((o) => o[0])), Math.max(...offsets.map((o) => o[0]))];
  const [minY, maxY] = [Math.min(...offsets.map((o) => o[1])), Math.max(...offsets.map((o) => o[1]))];
  // Scale the path down if the source is too small for it, then place it inside.
  const fitScale = Math.min(1, roomX / Math.max(1e-9, maxX - minX), roomY / Math.max(1e-9, maxY - minY));
  const x0 = between(-minX * fitScale, roomX - maxX * fitScale);
  const y0 = between(-minY * fitScale, roomY - maxY * fitScale);
  for (const [ox, oy] of offsets) {
    x.push(x0 + ox * fitScale);
    y.push(y0 + oy * fitScale);
    w.push(ww);
  }
  return { x, y, w };
}

export function motionSetKey(options: MotionSetOptions): string {
  const settings = { v: 2, perClass: options.perClass ?? 40, width: options.width ?? 160, height: options.height ?? 120, frames: options.frames ?? 40, seed: options.seed ?? 1, sources: Object.keys(options.sources).sort() };
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 12);
}

/**
 * The folder-per-class set (one folder per MOTION_CLASSES entry, perClass H.264 clips each);
 * returns its path. Clip k of a class uses source k mod sources (so every class sees every source),
 * a random stretch of it (played back and forth where the source is short) and a random window path.
 */
export async function motionSet(options: MotionSetOptions): Promise<string> {
  const perClass = options.perClass ?? 40;
  const ow = options.width ?? 160;
  const oh = options.height ?? 120;
  const frames = options.frames ?? 40;
  const seed = options.seed ?? 1;
  const out = path.join(CACHE, `motionset-${motionSetKey(options)}`);
  if (existsSync(path.join(out, 'done'))) return out;
  const work = path.join(CACHE, 'motionset-sources');
  mkdirSync(work, { recursive: true });
  const sources = Object.entries(options.sources)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, file]) => decodeSource(name, file, work));
  rmSync(out, { recursive: true, force: true });
  const luma = ow * oh;
  for (const [c, kind] of MOTION_CLASSES.entries()) {
    mkdirSync(path.join(out, kind), { recursive: true });
    for (let k = 0; k < perClass; k++) {
      const rng = mulberry32(mixSeed(seed, c, k));
      const src = sources[k % sources.length]!;
      const route = windowPath(kind, src.width, src.height, ow, ow / oh, frames, rng);
      const first = Math.floor(rng() * src.frames);
      const backwards = rng() < 0.5;
      const yuv: Uint8Array[] = [];
      for (let t = 0; t < frames; t++) {
        // Back and forth through the source: 0, 1, ..., n-1, n-2, ..., 1, 0, 1, ...
        const period = Math.max(1, 2 * src.frames - 2);
        const p = (((first + (backwards ? -t : t)) % period) + period) % period;
        const f = p < src.frames ? p : period - p;
        const frame = new Uint8Array(luma * 1.5);
        const step = route.w[t]! / ow;
        resample(src.y[f]!, src.width, src.height, route.x[t]!, route.y[t]!, step, frame, 0, ow, oh);
        resample(src.u[f]!, src.width / 2, src.height / 2, route.x[t]! / 2, route.y[t]! / 2, step, frame, luma, ow / 2, oh / 2);
        resample(src.v[f]!, src.width / 2, src.height / 2, route.x[t]! / 2, route.y[t]! / 2, step, frame, luma * 1.25, ow / 2, oh / 2);
        yuv.push(frame);
      }
      const name = `${kind}-${String(k).padStart(3, '0')}-${src.name}.mp4`;
      await encodeFrames(path.join(out, kind, name), yuv, { width: ow, height: oh, fps: 25, qp: 18, preset: 'veryfast', gop: 0, bframes: 0, threads: 1 });
    }
  }
  writeFileSync(path.join(out, 'done'), `${new Date().toISOString()}\n`);
  return out;
}
