// A region per video (prepare --roi-file, study transcode --roi-file, a repeats condition's
// prepare.roi-file). On the synthetic set and on real footage (Debian-shipped clips): each
// video's grids, frame bits, key frame and rates are byte for byte those of --roi with that
// video's region; the regions key the cache (a changed file prepares again, the same file
// reuses); the refusals name the file, the videos and the sizes; study transcode encodes and
// measures each video at its own region; a repeats study runs a condition with a region file
// and refuses a kept cache made with other regions; on the job queue, a worker prepares each
// video from its region, the local run's cache byte for byte.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataset, type PrepareOptions } from '../../src/app/prepare.js';
import { runRepeats } from '../../src/app/repeats.js';
import { transcodeStudy } from '../../src/app/transcode-study.js';
import { PreparedCache } from '../../src/cache/read.js';
import { openDataset } from '../../src/datasets/open.js';
import { compareVideos, probe } from '../../src/index.js';
import { readNetworkInputs } from '../../src/app/classify.js';
import { pictureRegion } from '../../src/codec/region.js';
import { synthesizeActionSet } from '../../src/synth/actionset.js';
import { fixtures } from '../setup/fixtures.js';
import { cli, tempDir } from '../setup/helpers.js';
import { bytesOf, startQueueWorker, stopQueueWorkers } from '../support/queue.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const dir = tempDir('mvclass-roi-file-');
const synth = path.join(dir, 'synth');
const real = path.join(dir, 'real');
const cockatoo = path.join(real, 'birds', 'cockatoo.mp4');
const balle = path.join(real, 'ball', 'balle.mp4');

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-v', 'error', ...args], { encoding: 'utf8' });
  if (r.status !== 0 || r.stderr.trim()) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Everything of a cache's video that the ingest made: the manifest entry's measured fields and its bytes. */
async function videosOf(cacheDir: string): Promise<Map<string, { entry: Record<string, unknown>; motion: Buffer; key: Buffer | null }>> {
  const cache = await PreparedCache.open(cacheDir);
  try {
    const out = new Map<string, { entry: Record<string, unknown>; motion: Buffer; key: Buffer | null }>();
    for (const [i, v] of cache.videos.entries()) {
      const clip = await cache.clip(i);
      const key = await cache.keyFrame(i);
      const { frames, rows, cols, fps, duration, frameTypes, frameBits, rates, cropped, keyFrame } = v;
      out.set(v.path, {
        entry: { frames, rows, cols, fps, duration, frameTypes, frameBits, rates, cropped, keyFrame: keyFrame && { width: keyFrame.width, height: keyFrame.height, index: keyFrame.index } },
        motion: Buffer.from(clip.data.buffer, clip.data.byteOffset, clip.data.byteLength),
        key: key ? Buffer.from(key.data) : null,
      });
    }
    return out;
  } finally {
    await cache.close();
  }
}

async function prepare(set: string, out: string, options: PrepareOptions) {
  return prepareDataset(await openDataset(set), out, { jobs: 2, onWarning: () => {}, ...options });
}

beforeAll(async () => {
  await synthesizeActionSet(synth, { classes: 2, perClass: 1, seconds: 1, seed: 5, jobs: 2 });
  const r = fixtures().real;
  mkdirSync(path.dirname(cockatoo), { recursive: true });
  mkdirSync(path.dirname(balle), { recursive: true });
  ffmpeg(['-i', r['cockatoo']!, '-t', '1', '-vf', 'scale=320:180', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', cockatoo]);
  ffmpeg(['-i', r['balle']!, '-t', '1', '-vf', 'scale=320:256', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', balle]);
}, 120_000);

describe('prepare --roi-file on the synthetic set', () => {
  let videos: string[] = [];
  const A = '0,0,160,120';
  const B = '96,64,192,144';
  beforeAll(async () => {
    videos = (await openDataset(synth)).items.map((i) => path.relative(synth, i.path));
    expect(videos).toHaveLength(2);
  });

  it("each video's bytes are those of --roi with its region; the regions key the cache", { timeout: 120_000 }, async () => {
    const crops = write('synth.csv', `path,x,y,w,h\n${videos[0]},${A}\n${videos[1]},${B}\n`);
    const byFile = path.join(dir, 'synth-file');
    const r = await cli(['prepare', synth, '-o', byFile, '--roi-file', crops, '--size', '128x96', '--jobs', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ videos: 2, failed: [], prepared: 2 });
    await prepare(synth, path.join(dir, 'synth-a'), { roi: A, size: '128x96' });
    await prepare(synth, path.join(dir, 'synth-b'), { roi: B, size: '128x96' });
    const [file, a, b] = await Promise.all([videosOf(byFile), videosOf(path.join(dir, 'synth-a')), videosOf(path.join(dir, 'synth-b'))]);
    const [first, second] = videos.map((v) => path.join(synth, v));
    expect(file.get(first!)).toEqual(a.get(first!));
    expect(file.get(second!)).toEqual(b.get(second!));
    // The two regions give two different videos (so the comparison above tells them apart).
    expect(file.get(second!)!.motion.equals(a.get(second!)!.motion)).toBe(false);
    // 128x96 pictures: 12 rows, 16 columns of 8x8 blocks.
    expect(file.get(first!)!.entry).toMatchObject({ rows: 12, cols: 16 });
    const manifest = JSON.parse(readFileSync(path.join(byFile, 'manifest.json'), 'utf8')) as { settings: Record<string, unknown>; videos: Array<{ path: string; roi?: string }> };
    expect(manifest.settings).toMatchObject({ size: '128x96', roiFile: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(manifest.settings.roi).toBeUndefined();
    expect(manifest.videos.map((v) => [path.relative(synth, v.path), v.roi])).toEqual([
      [videos[0], A],
      [videos[1], B],
    ]);

    // The same file again (written otherwise): everything reused. Another region for one video:
    // prepared again, that video now as --roi with its new region.
    const same = write('synth-same.csv', `${videos[1]}, 96,64,192,144\r\n./${videos[0]},${A}\r\n`);
    const again = await prepare(synth, byFile, { roiFile: same, size: '128x96' });
    expect(again).toMatchObject({ videos: 2, prepared: 0, reused: 2 });
    const moved = write('synth-moved.csv', `${videos[0]},${A}\n${videos[1]},${A}\n`);
    const redone = await prepare(synth, byFile, { roiFile: moved, size: '128x96' });
    expect(redone).toMatchObject({ videos: 2, prepared: 2, reused: 0 });
    expect((await videosOf(byFile)).get(second!)).toEqual(a.get(second!));
    const after = JSON.parse(readFileSync(path.join(byFile, 'manifest.json'), 'utf8')) as { settings: { roiFile: string } };
    expect(after.settings.roiFile).not.toBe(manifest.settings.roiFile);
    // One region for both: the size defaults to it, as with --roi.
    const shared = await prepare(synth, path.join(dir, 'synth-shared'), { roiFile: moved });
    expect(shared.videos).toBe(2);
    expect((await videosOf(path.join(dir, 'synth-shared'))).get(first!)!.entry).toMatchObject({ rows: 15, cols: 20 });
  });

  it('refusals: with --roi, --as-is, regions of several sizes without --size, unlisted videos, paths naming nothing; a region past a picture names the video and its size', { timeout: 120_000 }, async () => {
    const both = write('both.csv', `${videos[0]},${A}\n${videos[1]},${B}\n`);
    const out = path.join(dir, 'refused');
    const run = (...args: string[]) => cli(['prepare', synth, '-o', out, ...args]);
    let r = await run('--roi-file', both, '--roi', A);
    expect([r.code, r.stderr.trim()]).toEqual([2, 'mvclass: Give either roi (one region for every video) or roi-file (a region per video), not both']);
    r = await run('--roi-file', both, '--as-is');
    expect([r.code, r.stderr.trim()]).toEqual([2, 'mvclass: roi-file re-encodes a region of each picture: it cannot go with as-is']);
    r = await run('--roi-unlisted', 'full');
    expect([r.code, r.stderr.trim()]).toEqual([2, 'mvclass: roi-unlisted goes with roi-file (the videos that file does not list)']);
    r = await run('--roi-file', both, '--roi-unlisted', 'keep');
    expect([r.code, r.stderr.trim()]).toEqual([2, 'mvclass: Expected one of "refuse", "full" for roi-unlisted but received "keep"']);
    r = await run('--roi-file', both);
    expect([r.code, r.stderr.trim()]).toEqual([2, `mvclass: ${both}: the regions are not all of one size: give size (the size every video is encoded at)`]);
    const one = write('one.csv', `${videos[0]},${A}\n`);
    r = await run('--roi-file', one);
    expect([r.code, r.stderr.trim()]).toEqual([2, `mvclass: ${one}: 1 video(s) of the dataset ${synth} have no region: ${videos[1]} (list them, or keep their whole picture with roi-unlisted full)`]);
    const bad = write('bad.csv', `path,x,y,w,h\n${videos[0]},${A}\n${videos[1]},0,0,x,16\n`);
    r = await run('--roi-file', bad);
    expect([r.code, r.stderr.trim()]).toEqual([2, `mvclass: ${bad}:3: Expected a positive integer for w but received "x"`]);
    r = await run('--roi-file', path.join(dir, 'none.csv'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`mvclass: ${path.join(dir, 'none.csv')}: cannot read the region file (ENOENT)`);
    expect(await prepare(synth, path.join(dir, 'x'), { roiFile: write('extra.csv', `${videos[0]},${A}\n${videos[1]},${A}\nnot/there.mp4,${A}\n`) }).catch((e: Error) => e.message)).toBe(
      `${path.join(dir, 'extra.csv')}: 1 listed path(s) name no video of the dataset ${synth}: not/there.mp4 (paths are relative to ${synth})`,
    );
    // The unlisted keep their whole picture when asked: the second video as a plain prepare at that size.
    r = await run('--roi-file', one, '--roi-unlisted', 'full', '--json');
    expect(r.code, r.stderr).toBe(0);
    await prepare(synth, path.join(dir, 'whole'), { size: '160x120' });
    const [kept, whole] = await Promise.all([videosOf(out), videosOf(path.join(dir, 'whole'))]);
    expect(kept.get(path.join(synth, videos[1]!))).toEqual(whole.get(path.join(synth, videos[1]!)));
    // Past the second video's 320x240 picture: that video fails, named with its size; the other is prepared.
    const past = write('past.csv', `${videos[0]},${A}\n${videos[1]},200,160,160,120\n`);
    r = await cli(['prepare', synth, '-o', path.join(dir, 'past'), '--roi-file', past, '--json']);
    const summary = JSON.parse(r.stdout) as { videos: number; failed: Array<{ path: string; reason: string }> };
    const second = path.join(synth, videos[1]!);
    expect(summary.videos).toBe(1);
    expect(summary.failed).toEqual([{ path: second, reason: `${second}: the region 200,160,160,120 (x,y,w,h) does not fit its 320x240 picture` }]);
  });
});

describe('prepare --roi-file on the job queue', () => {
  let redis: TestRedis | undefined;
  const workers: ChildProcess[] = [];
  afterAll(async () => {
    await stopQueueWorkers(workers);
    await redis?.stop();
  });

  it("a worker prepares each video from its region: the local run's cache byte for byte", { timeout: 120_000 }, async () => {
    redis = await startRedis();
    workers.push(await startQueueWorker(redis.url));
    const videos = (await openDataset(synth)).items.map((i) => path.relative(synth, i.path));
    const crops = write('queued.csv', `${videos[0]},0,0,160,120\n${videos[1]},96,64,192,144\n`);
    const local = await cli(['prepare', synth, '-o', path.join(dir, 'queue-local'), '--roi-file', crops, '--size', '128x96', '--json']);
    expect(local.code, local.stderr).toBe(0);
    const queued = await cli(['prepare', synth, '-o', path.join(dir, 'queue-queued'), '--roi-file', crops, '--size', '128x96', '--queue', redis.url, '--json']);
    expect(queued.code, queued.stderr).toBe(0);
    expect(JSON.parse(queued.stdout)).toMatchObject({ videos: 2, prepared: 2, failed: [] });
    expect(bytesOf(path.join(dir, 'queue-queued'))).toEqual(bytesOf(path.join(dir, 'queue-local')));
  });
});

describe('a region per video on real footage', () => {
  const C = '112,40,96,64';
  const D = '160,128,96,64';

  it("prepare --roi-file: each clip as --roi with its own region; the size defaults to the regions' shared one", { timeout: 120_000 }, async () => {
    const crops = write('real.csv', `birds/cockatoo.mp4,${C}\nball/balle.mp4,${D}\n`);
    await prepare(real, path.join(dir, 'real-file'), { roiFile: crops });
    await prepare(real, path.join(dir, 'real-c'), { roi: C });
    await prepare(real, path.join(dir, 'real-d'), { roi: D });
    const [file, c, d] = await Promise.all([videosOf(path.join(dir, 'real-file')), videosOf(path.join(dir, 'real-c')), videosOf(path.join(dir, 'real-d'))]);
    expect(file.get(cockatoo)).toEqual(c.get(cockatoo));
    expect(file.get(balle)).toEqual(d.get(balle));
    expect(file.get(balle)!.motion.equals(c.get(balle)!.motion)).toBe(false);
    // 96x64: 8 rows, 12 columns.
    expect([...file.values()].map((v) => [v.entry.rows, v.entry.cols])).toEqual([
      [8, 12],
      [8, 12],
    ]);
  });

  it("classify --encode --roi: a new video is read as its region's training video was; without --roi the whole picture is encoded, and that is told", { timeout: 120_000 }, async () => {
    // The cache of the test above: each clip cut to its own region (prepare --roi-file).
    const cache = await PreparedCache.open(path.join(dir, 'real-file'));
    const settings = cache.manifest.settings;
    await cache.close();
    const cached = (await videosOf(path.join(dir, 'real-file'))).get(balle)!;
    const told: string[] = [];
    const cut = await readNetworkInputs(balle, settings, { encode: true, region: pictureRegion(D), onMismatch: (m) => told.push(m) });
    expect(told).toEqual([]);
    expect(Buffer.from(cut.clip.data.buffer, cut.clip.data.byteOffset, cut.clip.data.byteLength).equals(cached.motion)).toBe(true);
    expect(Buffer.from(cut.keyFrame!.data).equals(cached.key!)).toBe(true);
    const whole = await readNetworkInputs(balle, settings, { encode: true, onMismatch: (m) => told.push(m) });
    expect([whole.clip.rows, whole.clip.cols]).toEqual([8, 12]);
    expect(Buffer.from(whole.clip.data.buffer, whole.clip.data.byteOffset, whole.clip.data.byteLength).equals(cached.motion)).toBe(false);
    expect(told).toEqual([`${balle}: the networks were trained on a region of each video (prepare --roi-file), and this video is encoded whole; --roi x,y,w,h cuts its region as its training videos were cut`]);
    await expect(readNetworkInputs(balle, settings, { region: pictureRegion(D) })).rejects.toThrow(`${balle}: a region (${D}) is cut while re-encoding: it goes with encode`);
    await expect(readNetworkInputs(balle, settings, { encode: true, region: pictureRegion('256,128,96,64') })).rejects.toThrow(`${balle}: the region 256,128,96,64 (x,y,w,h) does not fit its 320x256 picture`);
    // The command line refuses --roi without --encode, and a malformed region, before any network is loaded.
    const loose = await cli(['classify', balle, '--run', path.join(dir, 'no-run'), '--roi', D]);
    expect([loose.code, loose.stderr.trim()]).toEqual([2, 'mvclass: --roi goes with --encode (the region is cut before the video is re-encoded)']);
    const bad = await cli(['classify', balle, '--run', path.join(dir, 'no-run'), '--encode', '--roi', '1,2,x,4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('roi');
  });

  it('study transcode --roi-file: each clip encoded and measured at its own region; another file in the same folder is refused', { timeout: 120_000 }, async () => {
    const crops = write('real-study.csv', `birds/cockatoo.mp4,${C}\nball/balle.mp4,64,64,64,64\n`);
    const out = path.join(dir, 'study');
    const grid = { crf: [20], gop: [12], shortSide: 144, jobs: 2 };
    const result = await transcodeStudy(real, out, { ...grid, roiFile: crops });
    expect(result.failed).toEqual([]);
    expect(result.roiFile).toBe(crops);
    const file = (v: string) => path.join(out, 'transcoded', 'crf20-gop12', v);
    expect([(await probe(file('birds/cockatoo.mp4'))).width, (await probe(file('birds/cockatoo.mp4'))).height]).toEqual([96, 64]);
    expect([(await probe(file('ball/balle.mp4'))).width, (await probe(file('ball/balle.mp4'))).height]).toEqual([64, 64]);
    const q = await compareVideos({ reference: balle, distorted: file('ball/balle.mp4'), width: 64, height: 64, referenceRegion: { x: 64, y: 64, width: 64, height: 64 } });
    const record = JSON.parse(readFileSync(path.join(out, 'quality', 'crf20-gop12', 'ball', 'balle.json'), 'utf8')) as { ssim: number; mae: number };
    expect([record.ssim, record.mae]).toEqual([q.ssim.all, q.mae]);
    expect(record.ssim).toBeGreaterThan(0.9);
    // The CLI on the complete folder: everything reused, the same cells, the file named.
    const again = await cli(['study', 'transcode', real, '-o', out, '--roi-file', crops, '--crf', '20', '--gop', '12', '--short-side', '144', '--jobs', '2', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const printed = JSON.parse(again.stdout) as typeof result;
    expect([printed.roiFile, printed.cells]).toEqual([crops, result.cells]);
    const unlisted = await cli(['study', 'transcode', real, '-o', path.join(dir, 'study-unlisted'), '--roi-unlisted', 'full']);
    expect([unlisted.code, unlisted.stderr.trim()]).toEqual([2, 'mvclass: roi-unlisted goes with roi-file (the videos that file does not list)']);
    const other = write('real-other.csv', `birds/cockatoo.mp4,${C}\nball/balle.mp4,${D}\n`);
    await expect(transcodeStudy(real, out, { ...grid, roiFile: other })).rejects.toThrow(/holds videos transcoded at short side 144, preset medium, the regions of digest [0-9a-f]{16}; this study asks for short side 144, preset medium, the regions of digest [0-9a-f]{16}: use another output folder/);
    await expect(transcodeStudy(real, path.join(dir, 'study-both'), { ...grid, roiFile: other, roi: C })).rejects.toThrow('Give either roi (one region for every video) or roi-file (a region per video), not both');
  });
});

describe('a repeats condition with a region file', () => {
  // Three clips a class: a train and a test split.
  const set = path.join(dir, 'synth-repeats');
  beforeAll(() => synthesizeActionSet(set, { classes: 2, perClass: 3, seconds: 1, seed: 6, jobs: 2 }), 120_000);

  it('trains on the whole pictures and on the regions, tests each on both; a kept cache of other regions is refused', { timeout: 180_000 }, async () => {
    const videos = (await openDataset(set)).items.map((i) => path.relative(set, i.path));
    const specDir = path.join(dir, 'spec');
    mkdirSync(specDir, { recursive: true });
    writeFileSync(path.join(specDir, 'crops.csv'), videos.map((v, i) => `${v},${(i % 2) * 32},${(i % 2) * 16},160,128`).join('\n'));
    const spec = (crops: string) => ({
      model: 'mv3d',
      frames: 8,
      size: 16,
      width: 0.125,
      fc: 16,
      iterations: 2,
      batch: 2,
      views: '1x1',
      repeats: 1,
      conditions: [
        { name: 'full', dataset: set, prepare: { size: '160x128', jobs: 2 } },
        { name: 'roi', dataset: set, prepare: { 'roi-file': path.join(specDir, crops), jobs: 2 } },
      ],
    });
    const out = path.join(dir, 'repeats');
    const result = await runRepeats(spec('crops.csv') as never, out, { threads: 1 });
    expect(result.conditions.map((c) => [c.name, c.runs.length])).toEqual([
      ['full', 1],
      ['roi', 1],
    ]);
    // The regions' cache: each video its region, 160x128 (the regions' size), smaller than the whole pictures at that size.
    const manifest = JSON.parse(readFileSync(path.join(out, 'caches', 'roi', 'manifest.json'), 'utf8')) as { settings: { size: string }; videos: Array<{ roi: string }> };
    expect(manifest.settings.size).toBe('160x128');
    expect(manifest.videos.map((v) => v.roi)).toEqual(videos.map((_, i) => (i % 2 ? '32,16,160,128' : '0,0,160,128')));
    expect(result.matrix.map((row) => row.length)).toEqual([2, 2]);
    // Another region file for the same folder: the kept cache is not passed off as its.
    writeFileSync(path.join(specDir, 'other.csv'), videos.map((v) => `${v},0,0,160,128`).join('\n'));
    await expect(runRepeats(spec('other.csv') as never, out, { threads: 1 })).rejects.toThrow(
      new RegExp(`^${path.join(out, 'caches', 'roi').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the cache there was prepared with roiFile "[0-9a-f]{16}" \\(now "[0-9a-f]{16}"\\), not as spec says`),
    );
  });
});
