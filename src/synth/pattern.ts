// A moving-pattern clip with known motion: a textured background panned by a whole number of
// pixels per frame, and textured squares crossing it at their own speeds. The codec layer's
// vectors can be checked against the truth (motion = src - dst = +pan for the background).

import { mulberry32 } from '../util/random.js';

export interface PatternOptions {
  width: number;
  height: number;
  frames: number;
  /** Background pan in whole pixels per frame (content moves by -pan on screen). */
  panX?: number;
  panY?: number;
  /** Moving squares drawn over the background. */
  objects?: number;
  seed?: number;
}

export interface Texture {
  width: number;
  height: number;
  luma: Uint8Array;
}

export function makeTexture(width: number, height: number, random: () => number): Texture {
  // Smooth lattice noise plus fixed fine grain: enough detail everywhere for block matching.
  const cell = 8;
  const lw = Math.ceil(width / cell) + 2;
  const lh = Math.ceil(height / cell) + 2;
  const lattice = new Float32Array(lw * lh).map(() => random());
  const luma = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = y / cell;
    const y0 = Math.floor(fy);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = x / cell;
      const x0 = Math.floor(fx);
      const tx = fx - x0;
      const a = lattice[y0 * lw + x0]!;
      const b = lattice[y0 * lw + x0 + 1]!;
      const c = lattice[(y0 + 1) * lw + x0]!;
      const d = lattice[(y0 + 1) * lw + x0 + 1]!;
      const smooth = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
      luma[y * width + x] = Math.max(16, Math.min(235, Math.round(40 + 160 * smooth + 40 * (random() - 0.5))));
    }
  }
  return { width, height, luma };
}

/** Yields YUV 4:2:0 frames (width * height * 3 / 2 bytes each). */
export function* renderMovingPattern(options: PatternOptions): Generator<Uint8Array> {
  const { width, height, frames } = options;
  const panX = options.panX ?? 2;
  const panY = options.panY ?? 1;
  const random = mulberry32(options.seed ?? 1);
  const margin = 16;
  const bg = makeTexture(
    width + Math.abs(panX) * frames + 2 * margin,
    height + Math.abs(panY) * frames + 2 * margin,
    random,
  );
  const objects = Array.from({ length: options.objects ?? 3 }, () => {
    const size = 32 + Math.floor(random() * 32);
    return {
      size,
      x: random() * (width - size),
      y: random() * (height - size),
      vx: Math.round((random() - 0.5) * 8),
      vy: Math.round((random() - 0.5) * 6),
      texture: makeTexture(size, size, random),
      u: 64 + Math.floor(random() * 128),
      v: 64 + Math.floor(random() * 128),
    };
  });
  const lumaBytes = width * height;
  const cw = width / 2;
  const ch = height / 2;
  for (let t = 0; t < frames; t++) {
    const frame = new Uint8Array((lumaBytes * 3) / 2);
    const ox = margin + (panX >= 0 ? panX * t : Math.abs(panX) * (frames - t));
    const oy = margin + (panY >= 0 ? panY * t : Math.abs(panY) * (frames - t));
    for (let y = 0; y < height; y++) {
      const row = (y + oy) * bg.width + ox;
      frame.set(bg.luma.subarray(row, row + width), y * width);
    }
    frame.fill(128, lumaBytes);
    for (const o of objects) {
      const px = Math.round(o.x);
      const py = Math.round(o.y);
      for (let y = 0; y < o.size; y++) {
        const fy = py + y;
        if (fy < 0 || fy >= height) continue;
        for (let x = 0; x < o.size; x++) {
          const fx = px + x;
          if (fx < 0 || fx >= width) continue;
          frame[fy * width + fx] = o.texture.luma[y * o.size + x]!;
          if ((fx & 1) === 0 && (fy & 1) === 0) {
            frame[lumaBytes + (fy >> 1) * cw + (fx >> 1)] = o.u;
            frame[lumaBytes + cw * ch + (fy >> 1) * cw + (fx >> 1)] = o.v;
          }
        }
      }
      // Bounce off the edges so objects stay in view.
      o.x += o.vx;
      o.y += o.vy;
      if (o.x < 0 || o.x > width - o.size) o.vx = -o.vx;
      if (o.y < 0 || o.y > height - o.size) o.vy = -o.vy;
    }
    yield frame;
  }
}
