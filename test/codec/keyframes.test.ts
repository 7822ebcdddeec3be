// Key frames: RGB of every I frame equals FFmpeg's own decode and conversion of that frame.

import { describe, expect, it } from 'vitest';
import { readKeyFrames } from '../../src/index.js';
import { fixtures, runTool } from '../setup/helpers.js';
import { clip } from './clips.helpers.js';

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length));
}

function ffmpegIFrames(file: string, size?: string): Buffer {
  const scale = size ? [`-s`, size] : [];
  return runTool('ffmpeg', ['-v', 'error', '-i', file, '-vf', "select='eq(pict_type,I)'", '-vsync', '0', ...scale, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
}

const f = fixtures();

describe('readKeyFrames', () => {
  it.each([
    ['H.264 with B-frames, 320x240', f.clips['h264-b-cabac']!],
    ['real 720p H.264 (cockatoo.mp4)', f.real['cockatoo']!],
    ['real MPEG-4 Part 2 (Principe_inertie.avi)', f.real['inertie']!],
    // Widths 8 more than a multiple of 16: swscale wrote past the last packed row and the
    // process aborted (malloc(): corrupted top size).
    ['MPEG-4 Part 2, 360x202', clip('mpeg4-360x202', { encoder: 'mpeg4', size: '360x202', ext: 'avi', seconds: 1 })],
    ['H.264 raw Annex-B, 344x200', clip('h264-344x200', { encoder: 'libx264', size: '344x200', ext: '264', seconds: 1, args: ['-g', '10'] })],
  ])('%s: every I frame matches FFmpeg (PSNR > 50 dB)', async (_name, file) => {
    const keys = [];
    for await (const key of readKeyFrames(file)) keys.push(key);
    const reference = ffmpegIFrames(file);
    expect(keys.length).toBeGreaterThan(0);
    const frameBytes = keys[0]!.width * keys[0]!.height * 3;
    expect(reference.length).toBe(keys.length * frameBytes);
    keys.forEach((key, k) => {
      expect(key.type).toBe('I');
      expect(key.data.length).toBe(frameBytes);
      expect(psnr(reference.subarray(k * frameBytes, (k + 1) * frameBytes), key.data)).toBeGreaterThan(50);
    });
    // Indices are display-order positions of I frames, in increasing order.
    expect(keys.map((k) => k.index)).toEqual([...keys.map((k) => k.index)].sort((a, b) => a - b));
  });

  it('resizes on request and keeps the aspect ratio when one side is 0', async () => {
    const file = f.real['cockatoo']!;
    const sized = [];
    for await (const key of readKeyFrames(file, { width: 224 })) sized.push(key);
    expect(sized[0]!.width).toBe(224);
    expect(sized[0]!.height).toBe(126);
    const reference = ffmpegIFrames(file, '224x126');
    expect(psnr(reference.subarray(0, 224 * 126 * 3), sized[0]!.data)).toBeGreaterThan(40);
  });

  it('reads key frames of HEVC too (no vectors needed for pixels)', async () => {
    const keys = [];
    for await (const key of readKeyFrames(f.clips['hevc']!)) keys.push(key);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]!.index).toBe(0);
  });
});
