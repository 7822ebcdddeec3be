// Rates: the arithmetic on hand-made statistics, and the command end to end.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CropResult, EncodeResult, FrameStats } from '../../src/index.js';
import { meanRates, ratesOfEncoding } from '../../src/index.js';
import { cli, fixtures, tempDir } from '../setup/helpers.js';

function frame(index: number, type: 'I' | 'P', texture: number, motion: number, other: number): FrameStats {
  return { index, display: index, type, qp: 30, bits: texture + motion + other, texture, motion, other, encoderOther: other };
}

describe('ratesOfEncoding', () => {
  const frames = [frame(0, 'I', 8000, 1000, 1000), frame(1, 'P', 3000, 500, 200), frame(2, 'P', 1000, 300, 100)];
  const encoded: EncodeResult = {
    output: 'x.mp4',
    codec: 'h264',
    width: 320,
    height: 240,
    fps: 25,
    frames: 3,
    duration: 2,
    bytes: 0,
    parameterSetBits: 400,
    streamBits: frames.reduce((s, f) => s + f.bits, 0) + 400,
    frameStats: frames,
  };
  it('counts every packet in R_orig, P motion in R_motion, I + P motion/other in the estimate', () => {
    const r = ratesOfEncoding(encoded, { outputVideoBytes: 1500 } as CropResult);
    expect(r.rOrig).toBeCloseTo((15100 + 400) / 2 / 1000, 12);
    expect(r.rMotion).toBeCloseTo(800 / 2 / 1000, 12);
    expect(r.rCroppedEncoder).toBeCloseTo((400 + 10000 + 700 + 400) / 2 / 1000, 12);
    expect(r.rCropped).toBeCloseTo(12000 / 2 / 1000, 12);
    expect(r.motionPctOrig).toBeCloseTo((100 * 800) / 15500, 12);
    expect(r.motionPctCropped).toBeCloseTo((100 * 800) / 12000, 12);
  });
  it('without a cropped stream the percentage uses the estimate; means are of the rates', () => {
    const a = ratesOfEncoding(encoded);
    expect(a.rCropped).toBeNull();
    expect(a.motionPctCropped).toBeCloseTo((100 * 800) / 11500, 12);
    const m = meanRates([a, { ...a, rOrig: a.rOrig * 3, rMotion: a.rMotion! * 3 }]);
    expect(m.rOrig).toBeCloseTo(2 * a.rOrig, 12);
    expect(m.motionPctOrig).toBeCloseTo((100 * 2 * a.rMotion!) / (2 * a.rOrig), 12);
    expect(m.rCropped).toBeNull();
  });
});

describe('mvclass encode, crop and rates', () => {
  const f = fixtures();
  const dir = tempDir();

  it('encode writes the stream and its per-frame statistics', async () => {
    const out = path.join(dir, 'e.mp4');
    const r = await cli(['encode', f.clips['mpeg1']!, '-o', out, '--qp', '30', '--threads', '1', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ codec: 'h264', width: 320, height: 240, fps: 25, frames: 50 });
    const stats = JSON.parse(readFileSync(`${out}.stats.json`, 'utf8'));
    expect(stats.frameStats).toHaveLength(50);
    expect(stats.frameStats[1]).toMatchObject({ type: 'P', qp: 30 });
  });

  it('crop reports what it kept', async () => {
    const out = path.join(dir, 'c.264');
    const r = await cli(['crop', f.clips['crop-cavlc-slices']!, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/75 frames \(3 intra kept, 72 P rewritten\)/);
  });

  it('rates --qp: per-video rows, means beside the paper, CSV/JSON/Markdown files', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'rates');
    const r = await cli(['rates', f.clips['mpeg1']!, f.real['realshort']!, '--qp', '30,40', '-o', out, '--threads', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| paper (UCF-101 mean) | 30 | 274.9 | 112.3 | – | 46.9 |');
    const json = JSON.parse(readFileSync(path.join(out, 'rates.json'), 'utf8'));
    expect(json.videos).toHaveLength(4);
    for (const row of json.videos) {
      expect(row.rMotion).toBeGreaterThan(0);
      expect(row.rMotion).toBeLessThan(row.rOrig);
      expect(row.rCropped).toBeGreaterThan(0);
    }
    const byQp = (qp: number) => json.averages.find((a: { qp: number }) => a.qp === qp);
    expect(byQp(40).rOrig).toBeLessThan(byQp(30).rOrig); // a higher QP costs fewer bits
    expect(readFileSync(path.join(out, 'rates.csv'), 'utf8').split('\n')[0]).toBe(
      'video,QP,R_orig,R_cropped,R_cropped (encoder),R_motion,% of R_orig,% of R_cropped',
    );
  });

  it('rates --codec hevc: the Table II analogue, beside the paper\'s HEVC numbers', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'rates-hevc');
    const r = await cli(['rates', f.real['realshort']!, '--qp', '30,40', '--codec', 'hevc', '-o', out, '--threads', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| paper (UCF-101 mean) | 30 | 157.7 | 58.8 | – | 12 |');
    const json = JSON.parse(readFileSync(path.join(out, 'rates.json'), 'utf8'));
    expect(json.videos).toHaveLength(2);
    for (const row of json.videos) {
      expect(row.codec).toBe('hevc');
      expect(row.rCropped).toBeNull(); // the cropped-stream writer is H.264's
      expect(row.rMotion).toBeGreaterThan(0);
      expect(row.rCroppedEncoder).toBeLessThan(row.rOrig);
    }
    const byQp = (qp: number) => json.averages.find((a: { qp: number }) => a.qp === qp);
    expect(byQp(40).rMotion).toBeLessThan(byQp(30).rMotion);
  });

  it('rates without --qp: each stream as it is, named by its own codec; only H.264 without B-frames is cropped', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'rates-as-is');
    const r = await cli(['rates', f.clips['mpeg4-b']!, f.real['realshort']!, '-o', out, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    const [mpeg4, real] = json.videos;
    // MPEG-4 Part 2 is no longer reported as "h264" (issue 13): its R_orig is its own, nothing is cropped.
    expect(mpeg4).toMatchObject({ codec: 'mpeg4', qp: null, rCropped: null, rMotion: null });
    expect(mpeg4.rOrig).toBeGreaterThan(0);
    expect(real.codec).toBe('h264');
    expect(real.rOrig).toBeGreaterThan(0);
  });

  it('argument errors name the argument', async () => {
    const bad = await cli(['rates', f.clips['mpeg1']!, '--qp', '30,x']);
    expect(bad.stderr.trim()).toBe('mvclass: Expected a comma-separated list of QPs for qp but received "30,x"');
    const range = await cli(['rates', f.clips['mpeg1']!, '--qp', '30,52']);
    expect(range.stderr.trim()).toBe('mvclass: Expected an integer from 0 to 51 for qp but received "52"');
    const both = await cli(['encode', f.clips['mpeg1']!, '-o', path.join(dir, 'x.mp4'), '--qp', '3', '--crf', '3']);
    expect(both.stderr.trim()).toBe('mvclass: Give either --qp or --crf, not both');
  });
});
