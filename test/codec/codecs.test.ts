// Every codec whose FFmpeg decoder exports motion vectors (issue 13): on a clip the ffmpeg tool
// encodes at test time, `mvclass extract` prints FFmpeg's own extract_mvs CSV byte for byte,
// probe says the codec has vectors, the grids built while decoding cover the displayed picture
// and hold exactly the vectors extract_mvs printed, and the npy bundle has the README's shape.
// Codecs Debian's ffmpeg cannot encode are skipped with ffmpeg's own error as the note.
//
// Grid shape: [rows, cols] = ceil(height / 8) x ceil(width / 8) of the picture the decoder
// outputs (after SPS cropping), not of the macroblock-aligned coded size; the clips of the
// second block are chosen so that their last macroblock row is only partly visible.

import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crop, probe, readMotionGrids } from '../../src/index.js';
import { clip as clipFile, makeClip, type ClipSpec } from './clips.helpers.js';
import { cli, firstDifference, fixtures, runTool, tempDir } from '../setup/helpers.js';

const f = fixtures();

interface OracleVector {
  frame: number; // display index, from 0
  source: number;
  w: number;
  h: number;
  dstX: number;
  dstY: number;
  motionX: number;
  motionY: number;
  scale: number;
}

/** extract_mvs's CSV as records; its framenum counts decoded frames from 1. */
function parseOracle(csv: string): OracleVector[] {
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe('framenum,source,blockw,blockh,srcx,srcy,dstx,dsty,flags,motion_x,motion_y,motion_scale');
  return lines.slice(1).map((line) => {
    const c = line.split(',').map((s) => Number.parseInt(s, s.trim().startsWith('0x') ? 16 : 10));
    return { frame: c[0]! - 1, source: c[1]!, w: c[2]!, h: c[3]!, dstX: c[6]!, dstY: c[7]!, motionX: c[9]!, motionY: c[10]!, scale: c[11]! };
  });
}

/**
 * The grid the README describes, computed here from extract_mvs's vectors alone: each list-0
 * partition (dst is its centre) adds its vector to every 8x8 block it overlaps inside the
 * width x height picture, weighted by the overlap; the part of a partition below or right of
 * the picture (the coded padding of a partly visible macroblock row or column) is dropped.
 * Returns per frame the coded blocks' means in pixels, keyed by block index.
 */
function gridsFromOracle(vectors: OracleVector[], width: number, height: number): Map<number, Map<number, [number, number]>> {
  const cols = Math.ceil(width / 8);
  const sums = new Map<number, Map<number, [number, number, number]>>();
  for (const v of vectors) {
    if (v.source !== -1 || v.scale === 0) continue;
    const x0 = v.dstX - v.w / 2, y0 = v.dstY - v.h / 2;
    const x1 = Math.min(x0 + v.w, width), y1 = Math.min(y0 + v.h, height);
    let frame = sums.get(v.frame);
    if (!frame) sums.set(v.frame, (frame = new Map()));
    for (let by = Math.floor(Math.max(y0, 0) / 8); by * 8 < y1; by++) {
      for (let bx = Math.floor(Math.max(x0, 0) / 8); bx * 8 < x1; bx++) {
        const area = (Math.min(x1, bx * 8 + 8) - Math.max(x0, bx * 8)) * (Math.min(y1, by * 8 + 8) - Math.max(y0, by * 8));
        if (area <= 0) continue;
        const cell = by * cols + bx;
        const s = frame.get(cell) ?? [0, 0, 0];
        frame.set(cell, [s[0] + (area * v.motionX) / v.scale, s[1] + (area * v.motionY) / v.scale, s[2] + area]);
      }
    }
  }
  const out = new Map<number, Map<number, [number, number]>>();
  for (const [frame, cells] of sums) out.set(frame, new Map([...cells].map(([c, [x, y, a]]) => [c, [x / a, y / a] as [number, number]])));
  return out;
}

/** ffprobe's width and height of the first video stream: the picture the decoder outputs. */
function displaySize(file: string): { width: number; height: number } {
  const [width, height] = runTool('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file])
    .toString()
    .trim()
    .split(',')
    .map(Number);
  return { width: width!, height: height! };
}

function npyShape(file: string): number[] {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(256);
  readSync(fd, head, 0, 256, 0);
  closeSync(fd);
  const shape = /'shape': \(([^)]*)\)/.exec(head.toString('latin1'))?.[1];
  if (shape === undefined) throw new Error(`${file}: no npy shape in its header`);
  return shape.split(',').filter((s) => s.trim() !== '').map(Number);
}

/**
 * The checks every codec with vectors must pass; returns what the grid check saw so callers can
 * assert more about the picture's edges.
 */
async function checkAgainstExtractMvs(file: string, codec: string, allowedStderr: RegExp[] = []) {
  const expected = runTool(f.oracle, [file]).toString('utf8');
  expect(expected.split('\n').length).toBeGreaterThan(100); // the oracle saw vectors at all

  // 1. The CSV, byte for byte.
  const result = await cli(['extract', file]);
  expect(result.code).toBe(0);
  for (const line of result.stderr.split('\n').filter(Boolean)) expect(allowedStderr.some((r) => r.test(line)), line).toBe(true);
  expect(firstDifference(expected, result.stdout)).toBeNull();

  // 2. probe: the codec, the displayed size, and that it has vectors.
  const size = displaySize(file);
  const info = await probe(file);
  expect({ codec: info.codec, width: info.width, height: info.height, motionVectors: info.motionVectors }).toEqual({ codec, ...size, motionVectors: true });

  // 3. Grids built while decoding: the displayed picture's shape, exactly extract_mvs's vectors.
  const rows = Math.ceil(size.height / 8), cols = Math.ceil(size.width / 8);
  const vectors = parseOracle(expected);
  const oracleGrids = gridsFromOracle(vectors, size.width, size.height);
  let frames = 0, coded = 0, lastRowCoded = 0, lastColCoded = 0;
  const far: string[] = [];
  for await (const { index, grid } of readMotionGrids(file)) {
    frames++;
    expect([grid.rows, grid.cols]).toEqual([rows, cols]);
    const want = oracleGrids.get(index) ?? new Map<number, [number, number]>();
    const got = new Set<number>();
    for (let c = 0; c < rows * cols; c++) if (grid.mask[c] === 1) got.add(c);
    expect([...got].sort((a, b) => a - b), `frame ${index}: coded blocks`).toEqual([...want.keys()].sort((a, b) => a - b));
    for (const [cell, [dx, dy]] of want) {
      // toBeCloseTo(x, 4)'s test, collected: one expect per cell cost more than decoding the clip.
      if (!(Math.abs(grid.dx[cell]! - dx) < 5e-5) || !(Math.abs(grid.dy[cell]! - dy) < 5e-5)) far.push(`frame ${index} cell ${cell}: (${grid.dx[cell]}, ${grid.dy[cell]}), extract_mvs (${dx}, ${dy})`);
      coded++;
      if (Math.floor(cell / cols) === rows - 1) lastRowCoded++;
      if (cell % cols === cols - 1) lastColCoded++;
    }
  }
  expect(far).toEqual([]);
  expect(coded).toBeGreaterThan(0);

  // 4. The npy bundle: [T, 2, H/8, W/8] as the README promises.
  const dir = tempDir();
  try {
    const npy = await cli(['extract', file, '-f', 'npy', '-o', dir]);
    expect(npy.code, npy.stderr).toBe(0);
    expect(npyShape(path.join(dir, 'motion.npy'))).toEqual([frames, 2, rows, cols]);
    expect(npyShape(path.join(dir, 'mask.npy'))).toEqual([frames, rows, cols]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { vectors, rows, cols, size, lastRowCoded, lastColCoded };
}

// The mpegvideo family beyond the H.264/MPEG-1/2/MPEG-4/H.263 clips of oracle.test.ts. Sizes
// are 384x296 (a partly visible last macroblock row) where the encoder takes any size.
const CODECS: Array<{ name: string; clip: string; codec: string; spec: ClipSpec; stderr?: RegExp[] }> = [
  { name: 'MS-MPEG-4 v3 (DivX 3) in AVI', clip: 'msmpeg4v3', codec: 'msmpeg4v3', spec: { encoder: 'msmpeg4', size: '384x296', ext: 'avi' } },
  { name: 'MS-MPEG-4 v2 in AVI', clip: 'msmpeg4v2', codec: 'msmpeg4v2', spec: { encoder: 'msmpeg4v2', size: '384x296', ext: 'avi' } },
  { name: 'MS-MPEG-4 v1', clip: 'msmpeg4v1', codec: 'msmpeg4v1', spec: { encoder: 'msmpeg4v1', size: '320x240', ext: 'avi' } },
  { name: 'WMV1 (Windows Media Video 7) in AVI', clip: 'wmv1', codec: 'wmv1', spec: { encoder: 'wmv1', size: '384x296', ext: 'avi' } },
  { name: 'WMV2 (Windows Media Video 8) in AVI', clip: 'wmv2', codec: 'wmv2', spec: { encoder: 'wmv2', size: '384x296', ext: 'avi' } },
  { name: 'Sorenson H.263 (FLV1) in FLV', clip: 'flv1', codec: 'flv1', spec: { encoder: 'flv', size: '384x296', ext: 'flv' } },
  { name: 'H.263+ (h263p, any size) in AVI', clip: 'h263p', codec: 'h263', spec: { encoder: 'h263p', size: '384x296', ext: 'avi' } },
  { name: 'H.263 (CIF only) in AVI', clip: 'h263', codec: 'h263', spec: { encoder: 'h263', size: '352x288', ext: 'avi' } },
  {
    name: 'H.261 (CIF only) in AVI',
    clip: 'h261',
    codec: 'h261',
    spec: { encoder: 'h261', size: '352x288', ext: 'avi' },
    // H.261 has no picture type: FFmpeg calls every picture P and says so once.
    stderr: [/^mvclass: warning: .*h261\.avi: h261: warning: first frame is no keyframe$/],
  },
  { name: 'Intel H.263 (h263i)', clip: 'h263i', codec: 'h263i', spec: { encoder: 'h263i', size: '352x288', ext: 'avi' } },
  { name: 'RealVideo 1 (rv10, multiples of 16 only) in RM', clip: 'rv10', codec: 'rv10', spec: { encoder: 'rv10', size: '320x240', ext: 'rm' } },
  { name: 'RealVideo 2 (rv20) in RM', clip: 'rv20', codec: 'rv20', spec: { encoder: 'rv20', size: '384x296', ext: 'rm' } },
  { name: 'Snow in AVI', clip: 'snow', codec: 'snow', spec: { encoder: 'snow', size: '384x296', ext: 'avi' } },
  { name: 'MPEG-4 Part 2 by Xvid (libxvid) in AVI', clip: 'xvid', codec: 'mpeg4', spec: { encoder: 'libxvid', size: '384x296', ext: 'avi' } },
];

describe('every codec FFmpeg exports vectors for: extract equals extract_mvs', () => {
  it.for(CODECS)('$name', { timeout: 120_000 }, async ({ clip, codec, spec, stderr }, ctx) => {
    const made = makeClip(clip, spec);
    if ('error' in made) {
      // Only a missing encoder may skip; any other failure to make the clip is a failure.
      expect(made.error).toMatch(new RegExp(`Unknown encoder '${spec.encoder}'`));
      ctx.skip(`Debian's ffmpeg cannot make a ${codec} clip: ${made.error}`);
    }
    await checkAgainstExtractMvs((made as { file: string }).file, codec, stderr);
  });

  it('crop names H.264 as what it needs instead of refusing the vectors (MS-MPEG-4 v3)', async () => {
    const file = clipFile('msmpeg4v3', CODECS[0]!.spec);
    const dir = tempDir();
    try {
      await expect(crop(file, path.join(dir, 'out.264'))).rejects.toThrow(/msmpeg4v3\.avi: crop reads H\.264 only, this is msmpeg4v3; re-encode it first/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Clips whose coded size is larger than their picture: H.264 crops it in the SPS, MPEG-4 and
// MPEG-2 code whole macroblocks past the picture's edge.
const EDGES: Array<{ name: string; clip: string; codec: string; spec: ClipSpec; rows: number; cols: number; codedHeight: number }> = [
  {
    name: 'MPEG-4 Part 2 384x296 (coded 304) with B-frames',
    clip: 'mpeg4-384x296',
    codec: 'mpeg4',
    spec: { encoder: 'mpeg4', size: '384x296', ext: 'avi', args: ['-q:v', '4', '-bf', '2'] },
    rows: 37,
    cols: 48,
    codedHeight: 304,
  },
  {
    name: 'H.264 384x296 (SPS crops 304 to 296) with B-frames',
    clip: 'h264-384x296',
    codec: 'h264',
    spec: { encoder: 'libx264', size: '384x296', ext: 'mp4', args: ['-bf', '2', '-x264-params', 'partitions=all'] },
    rows: 37,
    cols: 48,
    codedHeight: 304,
  },
  {
    name: 'H.264 1920x1080 (SPS crops 1088 to 1080)',
    clip: 'h264-1080p',
    codec: 'h264',
    spec: { encoder: 'libx264', size: '1920x1080', ext: 'mp4', seconds: 0.4, args: ['-preset', 'ultrafast', '-bf', '0'] },
    rows: 135,
    cols: 240,
    codedHeight: 1088,
  },
  {
    name: 'H.264 raw Annex-B 360x202 (SPS crops 368x208 on the right and at the bottom)',
    clip: 'h264-360x202',
    codec: 'h264',
    spec: { encoder: 'libx264', size: '360x202', ext: '264', args: ['-bf', '0'] },
    rows: 26,
    cols: 45,
    codedHeight: 208,
  },
];

describe('grids cover the displayed picture, not the coded size', () => {
  it.for(EDGES)('$name', { timeout: 120_000 }, async ({ clip, codec, spec, rows, cols, codedHeight }) => {
    const seen = await checkAgainstExtractMvs(clipFile(clip, spec), codec);
    expect([seen.rows, seen.cols]).toEqual([rows, cols]);
    // The clip really has a partly visible macroblock row: extract_mvs places partitions down to
    // the coded height, beyond the picture.
    const bottom = Math.max(...seen.vectors.map((v) => v.dstY + v.h / 2));
    expect(bottom).toBe(codedHeight);
    expect(codedHeight).toBeGreaterThan(seen.size.height);
    // ... and its vectors land in the last grid row (checked value by value above).
    expect(seen.lastRowCoded).toBeGreaterThan(0);
    if (seen.size.width % 16 !== 0) expect(seen.lastColCoded).toBeGreaterThan(0);
  });
});
