// prepare: a dataset into a cache that resumes after a kill with the same bytes, reuses what an
// earlier run prepared (test/cache/incremental.test.ts has the cases), lists what failed without
// stopping, and holds exactly the grids a direct extraction gives.

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreparedCache, readMotionGrids, readKeyFrames, synthesizeActionSet } from '../../src/index.js';
import { cli, ROOT, tempDir } from '../setup/helpers.js';

const dir = tempDir();
const set = path.join(dir, 'set');

beforeAll(async () => {
  await synthesizeActionSet(set, { classes: 3, perClass: 4, seconds: 2, seed: 3 });
  // A damaged video inside one class: listed as failed, the run goes on.
  writeFileSync(path.join(set, 'walk', 'walk_broken.mp4'), readFileSync(path.join(set, 'walk', 'walk_000.mp4')).subarray(0, 3000));
}, 120_000);

function bytesOf(cache: string): Record<string, string> {
  return Object.fromEntries(readdirSync(cache).sort().map((f) => [f, readFileSync(path.join(cache, f)).toString('base64')]));
}

describe('mvclass prepare', () => {
  it('prepares every video, lists the broken one, splits the folder dataset on both sides', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'full');
    const r = await cli(['prepare', set, '-o', out, '--qp', '30', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.videos).toBe(12);
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0].path).toContain('walk_broken.mp4');
    const cache = await PreparedCache.open(out);
    expect(cache.classes).toEqual(['jump', 'run', 'walk']);
    expect(cache.manifest.settings).toMatchObject({ codec: 'h264', qp: 30, size: '320x240', fps: 25, grid: 8 });
    for (const split of ['train', 'test'] as const) {
      expect(new Set(cache.subset(split).videos.map((v) => v.className))).toEqual(new Set(['jump', 'run', 'walk']));
    }
    const v = cache.video(0);
    expect(v.frames).toBe(50);
    expect(v.frameTypes).toBe('I' + 'P'.repeat(49));
    expect([v.rows, v.cols]).toEqual([30, 40]);
    expect(v.rates.rMotion).toBeGreaterThan(0);
    expect(v.rates.rMotion!).toBeLessThan(v.rates.rOrig);
    const clip = await cache.clip(0);
    expect(clip.data.length).toBe(50 * 2 * 30 * 40);
    expect((await cache.keyFrame(0))!.data.length).toBe(112 * 112 * 3);
    await cache.close();
  });

  it('--codec hevc: libx265 at the paper settings, grids from libde265, rates from the encoder', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'hevc');
    const only = path.join(dir, 'hevc-set');
    for (const [cls, file] of [['a', 'jump/jump_000.mp4'], ['b', 'run/run_000.mp4']] as const) {
      mkdirSync(path.join(only, cls), { recursive: true });
      copyFileSync(path.join(set, file), path.join(only, cls, path.basename(file)));
    }
    expect((await cli(['prepare', only, '-o', out, '--codec', 'hevc', '--qp', '30'])).code).toBe(0);
    const cache = await PreparedCache.open(out);
    expect(cache.manifest.settings).toMatchObject({ codec: 'hevc', qp: 30 });
    for (let i = 0; i < cache.length; i++) {
      const v = cache.video(i);
      expect(v.frames).toBe(50);
      expect(v.frameTypes).toBe('I' + 'P'.repeat(49));
      expect([v.rows, v.cols]).toEqual([30, 40]);
      expect(v.rates.rCropped).toBeNull(); // the cropped-stream writer is H.264's
      expect(v.rates.rMotion).toBeGreaterThan(0);
      expect(v.rates.rCroppedEncoder!).toBeLessThan(v.rates.rOrig);
      // For the Multi-CNN: what a cropped stream would carry, by the encoder's count, adding up to
      // R_cropped (encoder).
      expect(v.cropped).toMatchObject({ estimated: true, kinds: 'C' + 'R'.repeat(49) });
      const kept = v.cropped!.parameterSetBits + v.cropped!.frameBits.reduce((a, b) => a + b, 0);
      expect(kept / v.duration / 1000).toBeCloseTo(v.rates.rCroppedEncoder!, 9);
      // The figures move: P-frame grids hold coded, non-zero vectors.
      const clip = await cache.clip(i);
      let moving = 0;
      for (let k = 2 * 30 * 40; k < clip.data.length; k++) if (clip.data[k] !== 0) moving++;
      expect(moving).toBeGreaterThan(100);
    }
    await cache.close();
  });

  it('--as-is: the cached grids equal readMotionGrids of the input, the key frame its first I frame', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'asis');
    const only = path.join(dir, 'only');
    mkdirSync(path.join(only, 'a'), { recursive: true });
    mkdirSync(path.join(only, 'b'), { recursive: true });
    for (const [cls, file] of [['a', 'jump/jump_000.mp4'], ['a', 'jump/jump_001.mp4'], ['b', 'run/run_000.mp4'], ['b', 'run/run_001.mp4']] as const) {
      copyFileSync(path.join(set, file), path.join(only, cls, path.basename(file)));
    }
    expect((await cli(['prepare', only, '-o', out, '--as-is', '--key-size', '320x240'])).code).toBe(0);
    const cache = await PreparedCache.open(out);
    for (let i = 0; i < cache.length; i++) {
      const v = cache.video(i);
      const expected: number[] = [];
      for await (const frame of readMotionGrids(v.path, { units: 'quarter-pel' })) expected.push(...frame.grid.data);
      expect(Array.from((await cache.clip(i)).data)).toEqual(expected);
      const first = (await readKeyFrames(v.path).next()).value!;
      expect(Buffer.from((await cache.keyFrame(i))!.data).equals(Buffer.from(first.data))).toBe(true);
      expect(v.rates.rMotion).toBeNull(); // no encoder statistics for a stream taken as it is
    }
    await cache.close();
  });

  it('resumes after a kill and produces the same bytes', { timeout: 180_000 }, async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    expect((await cli(['prepare', set, '-o', a, '--jobs', '1'])).code).toBe(0);
    // Kill a run once two videos are done, then run it again.
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'prepare', set, '-o', b, '--jobs', '1'], { stdio: 'ignore' });
    const parts = () => readdirSync(dir).filter((n) => n.startsWith('.b.parts-')).flatMap((p) => readdirSync(path.join(dir, p)).filter((f) => f.endsWith('.json')));
    for (let t = 0; t < 600 && parts().length < 2; t++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(parts().length).toBeGreaterThanOrEqual(2);
    expect(existsSync(b)).toBe(false); // nothing half-written where the cache goes
    const resumed = await cli(['prepare', set, '-o', b, '--jobs', '2', '--json']);
    expect(JSON.parse(resumed.stdout).skipped).toBeGreaterThanOrEqual(2);
    expect(bytesOf(b)).toEqual(bytesOf(a));
  });

  it('a rerun into the prepared folder reuses every video (the broken one is tried again) and writes the same bytes', { timeout: 120_000 }, async () => {
    const a = path.join(dir, 'a'); // prepared by the test above
    const before = bytesOf(a);
    const rerun = await cli(['prepare', set, '-o', a, '--jobs', '2', '--json']);
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout);
    expect(summary).toMatchObject({ videos: 12, prepared: 0, skipped: 12, reused: 12 });
    expect(summary.failed.map((f: { path: string }) => path.basename(f.path))).toEqual(['walk_broken.mp4']);
    expect(bytesOf(a)).toEqual(before);
  });

  it('names bad arguments and missing inputs', async () => {
    expect((await cli(['prepare', path.join(dir, 'nope'), '-o', path.join(dir, 'x')])).stderr).toMatch(/nope/);
    expect((await cli(['prepare', set, '-o', path.join(dir, 'x'), '--as-is', '--qp', '30'])).stderr.trim()).toBe(
      'mvclass: --as-is keeps the input as it is: drop --qp and --crf',
    );
    expect((await cli(['prepare', set, '-o', path.join(dir, 'x'), '--codec', 'vp9'])).stderr).toMatch(/for codec but received "vp9"/);
  });
});
