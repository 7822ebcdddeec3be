// HEVC motion vectors through libde265: known motion comes out exactly, B-frames give list-1
// vectors, vectors on real footage predict their blocks better than no motion does, frame bits
// add up to the stream, key frames equal FFmpeg's decode, and bad streams give clear errors.

import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeVideo, MotionGrid, probe, readKeyFrames, readMotion, readMotionGrids, type MotionFrame } from '../../src/index.js';
import { cli, fixtures, ROOT, runTool, tempDir } from '../setup/helpers.js';

const f = fixtures();
const dir = tempDir();

async function motionOf(file: string): Promise<{ frames: MotionFrame[]; warnings: string[] }> {
  const frames: MotionFrame[] = [];
  const warnings: string[] = [];
  for await (const frame of readMotion(file, { onWarning: (w) => warnings.push(w) })) frames.push(frame);
  return { frames, warnings };
}

/** The most frequent list-0 vector over the P frames, in quarter-pels. */
function dominantList0(frames: MotionFrame[]): { key: string; share: number } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const frame of frames.filter((x) => x.type === 'P')) {
    const v = frame.vectors;
    for (let i = 0; i < v.length; i++) {
      if (v.source[i] !== -1) continue;
      const key = `${v.motionX[i]},${v.motionY[i]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
    }
  }
  const [key, n] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  return { key, share: n / total };
}

describe('HEVC motion vectors (libde265)', () => {
  it('a texture panned by (4, 2) px per frame: the dominant list-0 vector is exactly (16, 8) quarter-pels', async () => {
    const { frames, warnings } = await motionOf(f.clips['hevc-pan']!);
    expect(warnings).toEqual([]);
    expect(frames).toHaveLength(50);
    expect(frames[0]).toMatchObject({ type: 'I', key: true, index: 0 });
    expect(frames.slice(1).every((x) => x.type === 'P')).toBe(true);
    const dominant = dominantList0(frames);
    expect(dominant.key).toBe('16,8');
    expect(dominant.share).toBeGreaterThan(0.5);
    // Records keep FFmpeg's layout: scale 4, src = dst + motion / scale, blocks 4 to 64 pixels,
    // and the reference picture's order count (one IDR, P frames only: the previous picture's).
    for (const frame of frames.slice(1)) {
      const v = frame.vectors;
      expect(v.refPoc).toBeInstanceOf(Int32Array);
      for (let i = 0; i < v.length; i++) {
        expect(v.motionScale[i]).toBe(4);
        expect(v.srcX[i]).toBe(v.dstX[i]! + Math.trunc(v.motionX[i]! / 4));
        expect(v.srcY[i]).toBe(v.dstY[i]! + Math.trunc(v.motionY[i]! / 4));
        expect([4, 8, 12, 16, 24, 32, 48, 64]).toContain(v.w[i]);
        expect([4, 8, 12, 16, 24, 32, 48, 64]).toContain(v.h[i]);
        expect(v.refPoc![i]).toBeLessThan(frame.index);
      }
    }
    // The grid of a P frame is the pan nearly everywhere.
    let panned = 0;
    let cells = 0;
    for await (const frame of readMotionGrids(f.clips['hevc-pan']!)) {
      if (frame.type !== 'P') continue;
      const n = frame.grid.rows * frame.grid.cols;
      for (let c = 0; c < n; c++) {
        cells++;
        if (frame.grid.data[c] === 4 && frame.grid.data[n + c] === 2) panned++;
      }
    }
    expect(panned / cells).toBeGreaterThan(0.5);
  });

  it('MotionGrid on HEVC: each 8x8 block takes the vector of the prediction block over its top-left pixel', async () => {
    const file = f.clips['hevc-b-amp']!;
    const { frames } = await motionOf(file);
    let checked = 0;
    let i = 0;
    for await (const frame of readMotionGrids(file, { units: 'quarter-pel' })) {
      const v = frames[i++]!.vectors;
      const { rows, cols, data, mask } = frame.grid;
      const expected = new Map<number, [number, number]>();
      for (let k = 0; k < v.length; k++) {
        if (v.source[k] !== -1) continue;
        const x0 = v.dstX[k]! - v.w[k]! / 2, y0 = v.dstY[k]! - v.h[k]! / 2;
        for (let by = Math.ceil(y0 / 8); by * 8 < y0 + v.h[k]! && by < rows; by++) {
          for (let bx = Math.ceil(x0 / 8); bx * 8 < x0 + v.w[k]! && bx < cols; bx++) expected.set(by * cols + bx, [v.motionX[k]!, v.motionY[k]!]);
        }
      }
      // Differences collected, one expect per frame (an expect per cell cost more than the decode).
      const wrong: string[] = [];
      for (const [cell, [qx, qy]] of expected) {
        if (mask[cell] !== 1 || data[cell] !== qx || data[rows * cols + cell] !== qy) wrong.push(`cell ${cell}: mask ${mask[cell]} (${data[cell]}, ${data[rows * cols + cell]}), expected (${qx}, ${qy})`);
        checked++;
      }
      for (let c = 0; c < rows * cols; c++) if (mask[c] === 1 && !expected.has(c)) wrong.push(`cell ${c}: coded, but no prediction block covers it`);
      expect(wrong, `frame ${frame.index}`).toEqual([]);
      // The same grid from the vectors in hand.
      const again = MotionGrid.fromVectors(v, { width: 320, height: 240, units: 'quarter-pel' });
      expect(Array.from(again.data)).toEqual(Array.from(data));
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('B-frames give list-1 vectors that point forward; MP4 and raw Annex-B decode alike', async () => {
    for (const clip of ['hevc-b-amp', 'hevc-annexb']) {
      const { frames, warnings } = await motionOf(f.clips[clip]!);
      expect(warnings).toEqual([]);
      expect(frames).toHaveLength(50);
      const b = frames.filter((x) => x.type === 'B');
      expect(b.length).toBeGreaterThan(10);
      let forward = 0;
      let list1 = 0;
      for (const frame of b) {
        const v = frame.vectors;
        for (let i = 0; i < v.length; i++) {
          if (v.source[i] !== 1) continue;
          list1++;
          if (v.refPoc![i]! > frame.index) forward++;
        }
      }
      expect(list1).toBeGreaterThan(100);
      expect(forward / list1).toBeGreaterThan(0.9);
      // Display order: pts rises by one frame at a time.
      frames.forEach((x, i) => expect(x.pts).toBeCloseTo(i / 25, 6));
    }
    const raw = path.join(dir, 'b.hevc');
    runTool('ffmpeg', ['-v', 'error', '-i', f.clips['hevc-b-amp']!, '-c', 'copy', '-f', 'hevc', raw]);
    const [mp4, annexb] = [await motionOf(f.clips['hevc-b-amp']!), await motionOf(raw)];
    expect(annexb.frames.map((x) => [x.type, Array.from(x.vectors.motionX), Array.from(x.vectors.dstY)])).toEqual(
      mp4.frames.map((x) => [x.type, Array.from(x.vectors.motionX), Array.from(x.vectors.dstY)]),
    );
  });

  it('frame bits add up to the stream; frame types and count agree with ffprobe', async () => {
    const file = f.clips['hevc-b-amp']!;
    const info = await probe(file);
    expect(info.motionVectors).toBe(true);
    const { frames } = await motionOf(file);
    expect(frames.reduce((s, x) => s + x.bits, 0)).toBe(info.videoBytes * 8);
    const types = runTool('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pict_type', '-of', 'default=nw=1:nk=1', file])
      .toString()
      .trim()
      .split('\n');
    expect(frames.map((x) => x.type)).toEqual(types);
  });

  it('key frames read alongside the vectors equal FFmpeg-decoded key frames', async () => {
    const file = f.clips['hevc-b-amp']!;
    const ours = [];
    for await (const batch of decodeVideo(file, { vectors: true, keyFrames: true })) ours.push(...batch.keyFrames);
    const ffmpeg = [];
    for await (const key of readKeyFrames(file)) ffmpeg.push(key); // FFmpeg's HEVC decoder
    expect(ours.length).toBeGreaterThanOrEqual(2);
    expect(ours.map((k) => k.index)).toEqual(ffmpeg.map((k) => k.index));
    for (let i = 0; i < ours.length; i++) expect(Buffer.from(ours[i]!.data).equals(Buffer.from(ffmpeg[i]!.data))).toBe(true);
  });

  it('real footage (cockatoo.mp4 re-encoded with libx265): vectors predict their blocks better than no motion on >= 80% of blocks', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'cockatoo.mp4');
    const [w, h] = [640, 360];
    runTool('ffmpeg', ['-v', 'error', '-i', f.real['cockatoo']!, '-t', '2', '-vf', `scale=${w}:${h}`, '-c:v', 'libx265', '-bf', '0', '-x265-params', 'log-level=none:qp=27', file]);
    const luma = runTool('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
    const picture = (i: number) => luma.subarray(i * w * h, (i + 1) * w * h);
    // HEVC's own 8-tap luma interpolation (H.265 8.5.3.3.3.1), edges repeated, no rounding.
    const TAPS = [[0, 0, 0, 64, 0, 0, 0, 0], [-1, 4, -10, 58, 17, -5, 1, 0], [-1, 4, -11, 40, 40, -11, 4, -1], [0, 1, -5, 17, 58, -10, 4, -1]];
    const pixel = (p: Buffer, x: number, y: number) => p[Math.min(Math.max(y, 0), h - 1) * w + Math.min(Math.max(x, 0), w - 1)]!;
    const sample = (p: Buffer, qx: number, qy: number) => {
      const fx = TAPS[qx & 3]!, fy = TAPS[qy & 3]!;
      let sum = 0;
      for (let j = 0; j < 8; j++) {
        if (fy[j] === 0) continue;
        let row = 0;
        for (let i = 0; i < 8; i++) if (fx[i] !== 0) row += fx[i]! * pixel(p, (qx >> 2) + i - 3, (qy >> 2) + j - 3);
        sum += fy[j]! * row;
      }
      return sum / 4096;
    };
    const { frames } = await motionOf(file);
    expect(frames.map((x) => x.type).join('')).toBe('I' + 'P'.repeat(frames.length - 1));
    let better = 0;
    let blocks = 0;
    for (const frame of frames) {
      if (frame.type !== 'P') continue;
      const current = picture(frame.index);
      const v = frame.vectors;
      for (let i = 0; i < v.length; i++) {
        if (v.motionX[i] === 0 && v.motionY[i] === 0) continue; // the two predictions are the same
        const reference = picture(v.refPoc![i]!); // one IDR, then P: order count = display index
        const x0 = v.dstX[i]! - v.w[i]! / 2, y0 = v.dstY[i]! - v.h[i]! / 2;
        if (x0 + v.w[i]! > w || y0 + v.h[i]! > h) continue; // in the coded padding below the picture
        let withVector = 0;
        let withZero = 0;
        for (let y = y0; y < y0 + v.h[i]!; y++) {
          for (let x = x0; x < x0 + v.w[i]!; x++) {
            const actual = current[y * w + x]!;
            withVector += Math.abs(actual - sample(reference, 4 * x + v.motionX[i]!, 4 * y + v.motionY[i]!));
            withZero += Math.abs(actual - reference[y * w + x]!);
          }
        }
        blocks++;
        if (withVector < withZero) better++;
      }
    }
    expect(blocks).toBeGreaterThan(500);
    expect(better / blocks).toBeGreaterThanOrEqual(0.8);
  });

  it('truncated and corrupted streams: warnings or an error naming the file, never a crash or a hang', { timeout: 60_000 }, async () => {
    const raw = readFileSync(f.clips['hevc-annexb']!);
    const cut = path.join(dir, 'cut.hevc');
    writeFileSync(cut, raw.subarray(0, Math.floor(raw.length / 2)));
    const truncated = await motionOf(cut);
    expect(truncated.frames.length).toBeGreaterThan(5);
    expect(truncated.frames.length).toBeLessThan(50);
    expect(truncated.warnings.length).toBeGreaterThan(0);
    expect(truncated.warnings.every((w) => w.startsWith(cut))).toBe(true);

    // Random bytes written over the middle of the stream, past its parameter sets.
    const damaged = Buffer.from(raw);
    let seed = 7;
    for (let i = Math.floor(raw.length / 3); i < Math.floor(raw.length / 3) + 2000; i += 7) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      damaged[i] = seed >>> 24;
    }
    const corrupt = path.join(dir, 'corrupt.hevc');
    writeFileSync(corrupt, damaged);
    const result = await motionOf(corrupt).catch((e: Error) => e);
    if (result instanceof Error) {
      expect(result.message).toContain('corrupt.hevc');
    } else {
      expect(result.frames.length).toBeGreaterThan(0);
      expect(result.warnings.length).toBeGreaterThan(0);
      expect(result.warnings.every((w) => w.startsWith(corrupt))).toBe(true);
    }

    // Only parameter sets, no pictures; and bytes that are no stream at all.
    const noise = path.join(dir, 'noise.hevc');
    writeFileSync(noise, Buffer.concat([Buffer.from([0, 0, 0, 1, 0x40, 0x01]), Buffer.alloc(3000, 0x5a)]));
    const outcome = await motionOf(noise).catch((e: Error) => e);
    if (outcome instanceof Error) expect(outcome.message).toContain('noise.hevc');
    else expect(outcome.frames).toHaveLength(0);
  });

  it('mvclass extract writes the same 12 CSV columns for HEVC', async () => {
    const out = path.join(dir, 'pan.csv');
    expect((await cli(['extract', f.clips['hevc-pan']!, '--out', out])).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('framenum,source,blockw,blockh,srcx,srcy,dstx,dsty,flags,motion_x,motion_y,motion_scale');
    const { frames } = await motionOf(f.clips['hevc-pan']!);
    expect(lines.length - 1).toBe(frames.reduce((s, x) => s + x.vectors.length, 0));
    expect(lines.slice(1).every((l) => l.split(',').length === 12)).toBe(true);
    // JSON adds the reference picture's order count as a last column.
    const json = path.join(dir, 'pan.json');
    expect((await cli(['extract', f.clips['hevc-pan']!, '--format', 'json', '--out', json])).code).toBe(0);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { columns: string[]; frames: Array<{ index: number; vectors: number[][] }> };
    expect(doc.columns.at(-1)).toBe('refPoc');
    expect(doc.frames[1]!.vectors.every((row) => row.length === 12 && row[11] === 0)).toBe(true);
  });
});

describe('libde265 headers and library', () => {
  it('the layout check of scripts/build-de265.sh fails loudly when the headers do not describe the library', { timeout: 120_000 }, () => {
    const include = path.join(ROOT, 'build-de265', 'include');
    const lib = path.join(ROOT, 'build-de265', 'lib');
    const check = path.join(ROOT, 'native', 'de265', 'check.cc');
    const build = (includeDir: string, out: string) =>
      runTool('g++', ['-std=c++17', '-O0', '-w', `-I${path.join(ROOT, 'native', 'de265')}`, `-I${includeDir}`, check, `-L${lib}`, '-lde265', `-Wl,-rpath,${lib}`, '-o', out]);
    // The headers as built: the check passes.
    const good = path.join(dir, 'layout-good');
    build(include, good);
    expect(spawnSync(good).status).toBe(0);
    // The same headers with one field added before PicOrderCntVal, as a different revision's might.
    const moved = path.join(dir, 'include-moved');
    cpSync(include, moved, { recursive: true });
    const image = path.join(moved, 'libde265', 'image.h');
    const text = readFileSync(image, 'utf8');
    expect(text).toContain('  int  PicOrderCntVal;');
    writeFileSync(image, text.replace('  int  PicOrderCntVal;', '  int  addedField;\n  int  PicOrderCntVal;'));
    const bad = path.join(dir, 'layout-bad');
    build(moved, bad);
    const result = spawnSync(bad, { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/libde265 headers and library disagree/);
  });
});
