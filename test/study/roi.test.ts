// A region of interest re-encoded (seed 000's ROI condition), on real footage (Debian-shipped
// clips): the region is cut from the decoded picture exactly where FFmpeg's crop filter cuts it,
// the stream has the region's size and fewer bytes, prepare --roi's grids have the region's
// shape, study transcode --roi measures against the same region of the original, and a region
// that does not fit a video is refused naming the video.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { transcodeStudy } from '../../src/app/transcode-study.js';
import { compareVideos, encode, probe } from '../../src/index.js';
import { checkRepeatsSpec } from '../../src/config/study.js';
import { fixtures } from '../setup/fixtures.js';
import { cli, tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-roi-');
const data = path.join(dir, 'dataset');
const clip = path.join(data, 'birds', 'cockatoo.mp4');
const region = { x: 112, y: 40, width: 96, height: 64 };

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-v', 'error', ...args], { encoding: 'utf8' });
  if (r.status !== 0 || r.stderr.trim()) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

beforeAll(() => {
  const real = fixtures().real;
  mkdirSync(path.join(data, 'birds'), { recursive: true });
  mkdirSync(path.join(data, 'ball'), { recursive: true });
  ffmpeg(['-i', real['cockatoo']!, '-t', '1', '-vf', 'scale=320:180', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', clip]);
  ffmpeg(['-i', real['balle']!, '-t', '1', '-vf', 'scale=320:256', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', path.join(data, 'ball', 'balle.mp4')]);
}, 60_000);

describe('a region of interest re-encoded', () => {
  it("encode with a region: the region's size, fewer bytes, and losslessly the pixels FFmpeg's crop filter keeps", async () => {
    const whole = await encode(clip, path.join(dir, 'whole.mp4'), { crf: 20, gop: 12, threads: 1 });
    const roi = await encode(clip, path.join(dir, 'roi.mp4'), { crf: 20, gop: 12, threads: 1, region });
    expect([roi.width, roi.height]).toEqual([96, 64]);
    expect((await probe(roi.output)).width).toBe(96);
    expect(roi.frames).toBe(whole.frames);
    expect(roi.bytes).toBeLessThan(whole.bytes / 3);
    // Lossless (CRF 0) against FFmpeg's crop of the same decoded pictures, also lossless: identical.
    const ours = await encode(clip, path.join(dir, 'roi-lossless.mp4'), { crf: 0, gop: 12, threads: 1, region });
    const theirs = path.join(dir, 'ffmpeg-crop.mp4');
    ffmpeg(['-i', clip, '-vf', `crop=${region.width}:${region.height}:${region.x}:${region.y}`, '-c:v', 'libx264', '-qp', '0', '-an', theirs]);
    const q = await compareVideos({ reference: theirs, distorted: ours.output, width: 96, height: 64 });
    expect(q.frames).toBe(ours.frames);
    expect(q.referenceFrames).toBe(q.distortedFrames);
    expect(q.mae).toBe(0);
    // compareVideos' reference region: the original's region against the lossless stream, identical too.
    const r = await compareVideos({ reference: clip, distorted: ours.output, width: 96, height: 64, referenceRegion: region });
    expect(r.mae).toBe(0);
    // Shifted by two pixels, it is not.
    const shifted = await compareVideos({ reference: clip, distorted: ours.output, width: 96, height: 64, referenceRegion: { ...region, x: region.x + 2 } });
    expect(shifted.mae).toBeGreaterThan(1);
  });

  it('prepare --roi: the size defaults to the region, grids of its shape, the region in the manifest; one that does not fit is listed naming the video', { timeout: 60_000 }, async () => {
    const cache = path.join(dir, 'cache');
    const r = await cli(['prepare', data, '-o', cache, '--roi', '112,40,96,64', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(path.join(cache, 'manifest.json'), 'utf8')) as { settings: Record<string, unknown>; videos: Array<{ rows: number; cols: number; frames: number }> };
    expect(m.settings).toMatchObject({ roi: '112,40,96,64', size: '96x64' });
    // Grid cells of 8x8 pixels over a 96x64 picture: 8 rows, 12 columns.
    expect(m.videos.map((v) => [v.rows, v.cols])).toEqual([
      [8, 12],
      [8, 12],
    ]);
    const full = path.join(dir, 'cache-full');
    const f = await cli(['prepare', data, '-o', full, '--json']);
    expect(f.code, f.stderr).toBe(0);
    const shard = (c: string) => statSync(path.join(c, 'motion-000.bin')).size;
    expect(shard(cache)).toBeLessThan(shard(full));
    // A region past the ball clip's 320x256 and the cockatoo's 320x180: both listed, each naming its video.
    const wide = await cli(['prepare', data, '-o', path.join(dir, 'cache-wide'), '--roi', '0,160,64,64', '--json']);
    const summary = JSON.parse(wide.stdout) as { videos: number; failed: Array<{ path: string; reason: string }> };
    expect(summary.videos).toBe(1);
    expect(summary.failed).toEqual([{ path: clip, reason: `${clip}: the region 0,160,64,64 (x,y,w,h) does not fit its 320x180 picture` }]);
    const bad = await cli(['prepare', data, '-o', path.join(dir, 'x'), '--roi', '1,2,96']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected a region x,y,w,h of even whole numbers, w and h at least 16 for roi but received "1,2,96"');
    const asIs = await cli(['prepare', data, '-o', path.join(dir, 'x'), '--roi', '0,0,64,64', '--as-is']);
    expect(asIs.code).not.toBe(0);
    expect(asIs.stderr).toContain('roi re-encodes a region of each picture: it cannot go with as-is');
  });

  it('study transcode --roi: cells of the region (short side capped), smaller than the whole picture, quality against the same region', { timeout: 90_000 }, async () => {
    const grid = { crf: [20], gop: [12], shortSide: 144, jobs: 2 };
    const roi = await transcodeStudy(data, path.join(dir, 'study-roi'), { ...grid, roi: '112,40,96,64' });
    const whole = await transcodeStudy(data, path.join(dir, 'study-whole'), grid);
    expect(roi.roi).toBe('112,40,96,64');
    expect(roi.failed).toEqual([]);
    const file = path.join(dir, 'study-roi', 'transcoded', 'crf20-gop12', 'birds', 'cockatoo.mp4');
    expect([(await probe(file)).width, (await probe(file)).height]).toEqual([96, 64]);
    expect(roi.cells[0]!.bytes).toBeLessThan(whole.cells[0]!.bytes / 2);
    const q = await compareVideos({ reference: clip, distorted: file, width: 96, height: 64, referenceRegion: region });
    const record = JSON.parse(readFileSync(path.join(dir, 'study-roi', 'quality', 'crf20-gop12', 'birds', 'cockatoo.json'), 'utf8')) as { ssim: number; mae: number };
    expect(record.ssim).toBe(q.ssim.all);
    expect(record.mae).toBe(q.mae);
    expect(record.ssim).toBeGreaterThan(0.9);
    // Another region in the same folder is refused; one past a video names it.
    await expect(transcodeStudy(data, path.join(dir, 'study-roi'), { ...grid, roi: '0,0,64,64' })).rejects.toThrow('holds videos transcoded at short side 144, preset medium, region 112,40,96,64; this study asks for short side 144, preset medium, region 0,0,64,64');
    await expect(transcodeStudy(data, path.join(dir, 'study-wide'), { ...grid, roi: '0,160,64,64' })).rejects.toThrow(`${clip}: the region 0,160,64,64 (x,y,w,h) does not fit its 320x180 picture`);
  });

  it('a study repeats condition may set prepare.roi, checked like the flag', () => {
    const spec = checkRepeatsSpec(
      { model: 'mv3d', conditions: [{ name: 'full', dataset: data }, { name: 'roi', dataset: data, prepare: { roi: '112,40,96,64' } }] },
      'spec.json',
      dir,
    );
    expect(spec.conditions[1]).toMatchObject({ prepare: { roi: '112,40,96,64' } });
    expect(() => checkRepeatsSpec({ model: 'mv3d', conditions: [{ name: 'a', dataset: data }, { name: 'b', dataset: data, prepare: { roi: '0,0,15,16' } }] }, 'spec.json', dir)).toThrow(
      'Expected a region x,y,w,h of even whole numbers, w and h at least 16 for conditions[1].prepare.roi but received "0,0,15,16"',
    );
  });
});
