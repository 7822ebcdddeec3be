// study transcode --jpeg (seed 003's JPEG study) on real footage cut from Debian-shipped clips:
// encodeJpeg writes real JPEGs (the ffmpeg CLI decodes them, and its own mjpeg encoder given the
// same pictures writes the very same bytes), PSNR agrees with ffmpeg -lavfi psnr, bytes fall as q
// rises; the study's JPEG cells are every video's, kept on a rerun, in transcode.json's `jpeg` and
// the report's JPEG section; with models, the pixel networks are tested on them and the MV networks
// are n/a; --jpeg values are checked with messages that say what FFmpeg would do with them.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { transcodeStudy, type TranscodeStudyResult } from '../../src/app/transcode-study.js';
import { evaluateRun } from '../../src/app/evaluate.js';
import { prepareDataset } from '../../src/app/prepare.js';
import { openDataset } from '../../src/datasets/open.js';
import { encodeJpeg, jpegQuality } from '../../src/codec/encode.js';
import { compareVideos, probe } from '../../src/index.js';
import { NO_MOTION_VECTORS } from '../../src/metrics/transcode.js';
import { infinityFromText } from '../../src/util/json.js';
import { fixtures } from '../setup/fixtures.js';
import { cli, tempDir } from '../setup/helpers.js';
import { cutSixRealClips } from '../support/real-clips.js';

const dir = tempDir('mvclass-transcode-jpeg-');

function ffmpeg(args: string[]): string {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

/** Every file under `root` with its modification time. */
async function mtimes(root: string): Promise<Map<string, number>> {
  const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  return new Map(files.map((e) => [path.join(e.parentPath, e.name), statSync(path.join(e.parentPath, e.name)).mtimeMs]));
}

/** Three 1.5 s clips of two classes from the Debian footage, as the other transcode tests cut them. */
function makeDataset(root: string): void {
  const real = fixtures().real;
  mkdirSync(path.join(root, 'birds'), { recursive: true });
  mkdirSync(path.join(root, 'ball'), { recursive: true });
  for (const [k, start] of [0, 4].entries()) {
    ffmpeg(['-v', 'error', '-i', real['cockatoo']!, '-ss', String(start), '-t', '1.5', '-vf', 'scale=320:180', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', path.join(root, 'birds', `cockatoo-${k}.mp4`)]);
  }
  ffmpeg(['-v', 'error', '-i', real['balle']!, '-t', '1.5', '-vf', 'scale=320:256', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', path.join(root, 'ball', 'balle.mp4')]);
}

describe('encodeJpeg', () => {
  const source = path.join(dir, 'clip.mp4');
  beforeAll(() => {
    ffmpeg(['-v', 'error', '-i', fixtures().real['cockatoo']!, '-t', '1', '-vf', 'scale=320:180', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', source]);
  });

  it("writes real JPEGs: the ffmpeg CLI reads them, and its own mjpeg encoder writes the same bytes from the same pictures", async () => {
    const out = path.join(dir, 'q10.avi');
    const r = await encodeJpeg(source, out, { q: 10 });
    const info = await probe(out);
    expect([info.codec, info.width, info.height, r.frames]).toEqual(['mjpeg', 320, 180, info.frameCount]);
    expect(r.bytes).toBe(statSync(out).size);
    // The pictures, copied out of the AVI, against the CLI's -q:v 10 in the same (limited) range;
    // setsar=1: square pixels said, so the CLI too writes the JFIF header (encodeJpeg always does).
    const ours = path.join(dir, 'ours');
    const theirs = path.join(dir, 'theirs');
    mkdirSync(ours);
    mkdirSync(theirs);
    ffmpeg(['-v', 'error', '-i', out, '-c', 'copy', '-f', 'image2', path.join(ours, '%04d.jpg')]);
    ffmpeg(['-v', 'error', '-i', source, '-vf', 'setsar=1', '-c:v', 'mjpeg', '-q:v', '10', '-pix_fmt', 'yuv420p', '-color_range', 'tv', '-strict', 'unofficial', '-f', 'image2', path.join(theirs, '%04d.jpg')]);
    const names = readdirSync(theirs).sort();
    expect(readdirSync(ours).sort()).toEqual(names);
    expect(names.length).toBe(r.frames);
    for (const name of names) expect(readFileSync(path.join(ours, name)).equals(readFileSync(path.join(theirs, name))), name).toBe(true);
    const first = readFileSync(path.join(ours, names[0]!));
    expect([first[0], first[1], first.subarray(6, 10).toString('latin1')]).toEqual([0xff, 0xd8, 'JFIF']); // SOI, then the JFIF header
    expect(r.pictureBytes).toBe(names.reduce((s, n) => s + statSync(path.join(ours, n)).size, 0));
  });

  it('PSNR against the original agrees with ffmpeg -lavfi psnr to 0.01 dB; bytes fall and quality falls as q rises', async () => {
    const results = [];
    for (const q of [2, 10, 17, 31]) {
      const out = path.join(dir, `q${q}-size.avi`);
      const r = await encodeJpeg(source, out, { q, size: '256x144' });
      const ours = await compareVideos({ reference: source, distorted: out, width: 256, height: 144 });
      results.push({ q, bytes: r.bytes, psnr: ours.psnr.average });
      // The CLI decodes the JPEGs; the original scaled as the study scales it (bicubic, to the JPEGs' size).
      const log = ffmpeg(['-i', out, '-i', source, '-lavfi', '[1:v]scale=256:144:flags=bicubic[ref];[0:v][ref]psnr', '-f', 'null', '-']);
      const average = Number(/PSNR .* average:([0-9.]+)/.exec(log)![1]);
      expect(Math.abs(ours.psnr.average - average), `q ${q}: ${ours.psnr.average} vs ${average}`).toBeLessThan(0.01);
    }
    for (let i = 1; i < results.length; i++) {
      expect(results[i]!.bytes).toBeLessThan(results[i - 1]!.bytes);
      expect(results[i]!.psnr).toBeLessThan(results[i - 1]!.psnr);
    }
  });

  it('refuses a q-scale FFmpeg would not encode at, saying what it would do instead', async () => {
    expect(jpegQuality('17', 'jpeg')).toBe(17);
    expect(() => jpegQuality(40, 'jpeg')).toThrow('Expected an FFmpeg mjpeg q-scale, an integer from 2 (best) to 31 (worst), for jpeg but received 40 (ffmpeg encodes every -q above 31 as 31)');
    expect(() => jpegQuality('-1', 'jpeg')).toThrow('for jpeg but received "-1" (ffmpeg\'s -q -1 sets no fixed quality; for the best quality use 2)');
    expect(() => jpegQuality(1, 'q')).toThrow('for q but received 1 (ffmpeg encodes -q 1 as 2)');
    expect(() => jpegQuality('x', 'jpeg')).toThrow('Expected an FFmpeg mjpeg q-scale, an integer from 2 (best) to 31 (worst), for jpeg but received "x"');
    await expect(encodeJpeg(source, path.join(dir, 'bad.mp4'), { q: 10 })).rejects.toThrow(`${path.join(dir, 'bad.mp4')}: unknown output container ".mp4" for JPEG frames; use .avi or .mkv`);
  });
});

describe('study transcode --jpeg', () => {
  const dataset = path.join(dir, 'dataset');
  const out = path.join(dir, 'out');
  const args = ['study', 'transcode', dataset, '-o', out, '--crf', '40', '--gop', '12', '--jpeg', '2,17,31', '--short-side', '144', '--jobs', '2', '--json'];
  let first: { stdout: string; result: TranscodeStudyResult };

  beforeAll(async () => {
    makeDataset(dataset);
    const r = await cli(args, 120_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    first = { stdout: r.stdout, result: JSON.parse(r.stdout, infinityFromText) as TranscodeStudyResult };
  }, 180_000);

  it("a JPEG cell per q beside the H.264 cells, each over every video, with the files' own numbers", async () => {
    const { result } = first;
    expect(result.cells.map((c) => [c.crf, c.gop, c.videos])).toEqual([[40, 12, 3]]);
    expect(result.jpeg!.map((c) => [c.q, c.videos])).toEqual([
      [2, 3],
      [17, 3],
      [31, 3],
    ]);
    expect(Object.keys(result.jpeg![0]!).sort()).toEqual(['bytes', 'kbps', 'mae', 'psnr', 'q', 'rmse', 'ssim', 'videos']);
    const names = ['birds/cockatoo-0', 'birds/cockatoo-1', 'ball/balle'];
    const c = result.jpeg![1]!;
    const files = names.map((n) => path.join(out, 'transcoded', 'jpeg-q17', `${n}.avi`));
    const infos = await Promise.all(files.map((f) => probe(f)));
    expect(infos.map((i) => [i.codec, i.width, i.height])).toEqual([
      ['mjpeg', 256, 144],
      ['mjpeg', 256, 144],
      ['mjpeg', 180, 144],
    ]);
    const bytes = files.map((f) => statSync(f).size);
    expect(c.bytes).toBe(bytes.reduce((s, b) => s + b, 0));
    expect(c.kbps).toBeCloseTo(bytes.reduce((s, b, i) => s + (b * 8) / infos[i]!.duration / 1000, 0) / 3, 9);
    const q = await Promise.all(files.map((f, i) => compareVideos({ reference: path.join(dataset, `${names[i]}.mp4`), distorted: f, width: infos[i]!.width, height: infos[i]!.height })));
    expect(c.psnr).toBeCloseTo(q.reduce((s, x) => s + x.psnr.average, 0) / 3, 9);
    expect(c.ssim).toBeCloseTo(q.reduce((s, x) => s + x.ssim.all, 0) / 3, 9);
    expect(c.mae).toBeCloseTo(q.reduce((s, x) => s + x.mae, 0) / 3, 9);
    expect(c.rmse).toBeCloseTo(q.reduce((s, x) => s + x.rmse, 0) / 3, 9);
    // Bytes and quality fall as q rises.
    const [q2, q17, q31] = result.jpeg!;
    expect(q2!.bytes).toBeGreaterThan(q17!.bytes);
    expect(q17!.bytes).toBeGreaterThan(q31!.bytes);
    expect(q2!.ssim).toBeGreaterThan(q17!.ssim);
    expect(q17!.ssim).toBeGreaterThan(q31!.ssim);
    expect(q2!.mae).toBeLessThan(q31!.mae);
    expect(readFileSync(path.join(out, 'transcode.json'), 'utf8')).toBe(first.stdout);
  });

  it('a rerun encodes nothing again (no file rewritten but transcode.json and the report) and prints the same JSON', async () => {
    const before = await mtimes(path.join(out, 'transcoded'));
    const quality = await mtimes(path.join(out, 'quality'));
    const r = await cli(args, 120_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(first.stdout);
    expect(await mtimes(path.join(out, 'transcoded'))).toEqual(before);
    expect(await mtimes(path.join(out, 'quality'))).toEqual(quality);
  });

  it('through the API: a removed JPEG file alone is made again, with the same bytes', async () => {
    const gone = path.join(out, 'transcoded', 'jpeg-q31', 'ball', 'balle.avi');
    const old = readFileSync(gone);
    await import('node:fs/promises').then((fs) => fs.rm(gone));
    const reused: boolean[] = [];
    const again = await transcodeStudy(dataset, out, { crf: [40], gop: [12], jpeg: [2, 17, 31], shortSide: 144, jobs: 2, onProgress: (_d, _t, r) => reused.push(r) });
    expect(reused).toHaveLength(12);
    expect(reused.filter((r) => !r)).toHaveLength(1);
    expect(readFileSync(gone).equals(old)).toBe(true);
    expect(JSON.stringify(again.jpeg)).toBe(JSON.stringify(first.result.jpeg));
  });

  it("the report's JPEG section: sizes relative to the original and quality per q, also as CSV", () => {
    const { result } = first;
    const rows = readFileSync(path.join(out, 'transcode-jpeg.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('q,videos,bytes,kbps,size (% of original),PSNR (dB),SSIM,MAE,RMSE');
    expect(rows[1]).toBe(`original,3,${result.original.bytes},${Number(result.original.kbps.toFixed(1))},100,,,,`);
    const c = result.jpeg![2]!;
    expect(rows[4]).toBe(
      [31, 3, c.bytes, Number(c.kbps.toFixed(1)), Number(((100 * c.bytes) / result.original.bytes).toFixed(1)), Number(c.psnr.toFixed(2)), Number(c.ssim.toFixed(4)), Number(c.mae.toFixed(3)), Number(c.rmse.toFixed(3))].join(','),
    );
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>JPEG</h2>');
    expect(html).toContain('Total size and quality per JPEG q-scale');
    expect(html).toContain('JPEG q 2, 17, 31');
  });

  it("FFmpeg 5.1's \"EOI missing, emulating\" about the study's own well-formed JPEGs is not passed on", async () => {
    // This cut of the ball footage at its capped 450x360 and q 31 has frames FFmpeg's decoder says it of.
    const set = path.join(dir, 'eoi-set');
    mkdirSync(path.join(set, 'ball'), { recursive: true });
    ffmpeg(['-v', 'error', '-i', fixtures().real['balle']!, '-ss', '3', '-t', '1.5', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', path.join(set, 'ball', 'balle.mp4')]);
    const warnings: string[] = [];
    const r = await transcodeStudy(set, path.join(dir, 'eoi-out'), { crf: [40], gop: [12], jpeg: [31], jobs: 1, onWarning: (m) => warnings.push(m) });
    const file = path.join(dir, 'eoi-out', 'transcoded', 'jpeg-q31', 'ball', 'balle.avi');
    expect(ffmpeg(['-v', 'warning', '-i', file, '-f', 'null', '-'])).toContain('EOI missing, emulating');
    // Every frame still ends in EOI (FF D9): the JPEGs are whole.
    const frames = path.join(dir, 'eoi-frames');
    mkdirSync(frames);
    ffmpeg(['-v', 'error', '-i', file, '-c', 'copy', '-f', 'image2', path.join(frames, '%03d.jpg')]);
    for (const name of readdirSync(frames)) expect(readFileSync(path.join(frames, name)).subarray(-2).toString('hex'), name).toBe('ffd9');
    expect(warnings).toEqual([]);
    expect(r.jpeg![0]!.videos).toBe(1);
  });

  it('refuses --jpeg values FFmpeg does not encode at, and repeats, naming them', async () => {
    const high = await cli(['study', 'transcode', dataset, '-o', out, '--crf', '40', '--gop', '12', '--jpeg', '10,40']);
    expect(high.code).toBe(2);
    expect(high.stderr).toContain('Expected an FFmpeg mjpeg q-scale, an integer from 2 (best) to 31 (worst), for jpeg but received "40" (ffmpeg encodes every -q above 31 as 31)');
    const best = await cli(['study', 'transcode', dataset, '-o', out, '--crf', '40', '--gop', '12', '--jpeg', '-1,10']);
    expect(best.code).toBe(2);
    expect(best.stderr).toContain('for jpeg but received "-1" (ffmpeg\'s -q -1 sets no fixed quality; for the best quality use 2)');
    await expect(transcodeStudy(dataset, out, { crf: [40], gop: [12], jpeg: [10, 10] })).rejects.toThrow('Expected distinct values for jpeg but received 10,10');
    await expect(transcodeStudy(dataset, out, { crf: [40], gop: [12], jpeg: [] })).rejects.toThrow('Expected a non-empty list of integers for jpeg but received []');
  });
});

// With models: tiny mv3d and resnet18 trained on six clips (two classes, three each), tested on the
// originals, the H.264 cell and the JPEG cells: resnet18 on every one, mv3d on the H.264 cell only.
describe('study transcode --jpeg --models', () => {
  const data = path.join(dir, 'acc-dataset');
  const out = path.join(dir, 'acc-out');
  let result: TranscodeStudyResult;

  beforeAll(async () => {
    await cutSixRealClips(data);
    const r = await cli(
      ['study', 'transcode', data, '-o', out, '--crf', '40', '--gop', '12', '--jpeg', '2,31', '--short-side', '144', '--jobs', '2',
        '--models', 'mv3d,resnet18', '--iterations', '4', '--batch', '2', '--frames', '8', '--size', '16', '--width', '0.125', '--fc', '16', '--views', '2x1', '--threads', '1', '--json'],
      150_000,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    result = JSON.parse(r.stdout, infinityFromText) as TranscodeStudyResult;
  }, 200_000);

  it("the JPEG cells carry resnet18's top-1 alone, the saved scores' own; the MV network has none", () => {
    for (const c of result.jpeg!) {
      expect(Object.keys(c.accuracy!)).toEqual(['resnet18']);
      const saved = JSON.parse(readFileSync(path.join(out, 'accuracy', 'scores', `jpeg-q${c.q}`, 'resnet18.json'), 'utf8')) as { top1: number; videos: number };
      expect(c.accuracy!.resnet18).toBe(saved.top1);
      expect(saved.videos).toBe(2); // one test video per class, as in every cache
    }
    expect(Object.keys(result.cells[0]!.accuracy!).sort()).toEqual(['mv3d', 'resnet18']);
    const manifest = JSON.parse(readFileSync(path.join(out, 'accuracy', 'cells', 'jpeg-q2', 'cache', 'manifest.json'), 'utf8')) as { settings: { asIs: boolean; noMotion?: boolean }; videos: Array<{ frameTypes: string | string[] }> };
    expect(manifest.settings).toMatchObject({ asIs: true, noMotion: true });
    // Every JPEG frame stands alone.
    for (const v of manifest.videos) expect([...(Array.isArray(v.frameTypes) ? v.frameTypes.join('') : v.frameTypes)].every((t) => t === 'I')).toBe(true);
  });

  it('prepare reads MJPEG only when told noMotion (with as-is); without it the stream is refused as before', async () => {
    const folder = await openDataset(path.join(out, 'transcoded', 'jpeg-q31'));
    const refused = await prepareDataset(folder, path.join(dir, 'no-flag-cache'), { asIs: true, jobs: 1 });
    expect(refused.failed).toHaveLength(6);
    expect(refused.failed[0]!.reason).toContain('codec mjpeg has no motion vectors that mvclass can read');
    await expect(prepareDataset(folder, path.join(dir, 'encoded-cache'), { noMotion: true })).rejects.toThrow('noMotion reads the videos as they are: it goes with as-is');
  });

  it('the MV network is refused on a JPEG cell\'s cache, naming it: its grids are all holes', async () => {
    const cache = path.join(out, 'accuracy', 'cells', 'jpeg-q2', 'cache');
    await expect(evaluateRun({ run: path.join(out, 'accuracy', 'runs', 'mv3d'), data: cache, split: 'test', temporal: 1, crops: 1, threads: 1 })).rejects.toThrow(
      `${cache}: mv3d reads motion vectors and this cache was prepared without them (noMotion: its videos carry none, e.g. JPEG frames); test a pixel network on it`,
    );
  });

  it('the tables say n/a for the MV network on the JPEG cells, never a number', () => {
    const acc = readFileSync(path.join(out, 'transcode-jpeg-accuracy.csv'), 'utf8').trim().split('\n');
    expect(acc[0]).toBe('q,kbps,size %,SSIM,mv3d top-1 %,resnet18 top-1 %');
    for (const row of acc.slice(2)) expect(row.split(',')[4]).toBe(NO_MOTION_VECTORS);
    expect(acc.slice(2).map((row) => Number(row.split(',')[5]))).toEqual(result.jpeg!.map((c) => Number((100 * c.accuracy!.resnet18!).toFixed(1))));
    const md = readFileSync(path.join(out, 'accuracy.md'), 'utf8');
    expect(md).toContain(`| jpeg-q31 | – | – | ${result.jpeg![1]!.bytes} |`);
    expect(md.split('\n').filter((l) => l.startsWith('| jpeg-q')).every((l) => l.includes(`| ${NO_MOTION_VECTORS} |`))).toBe(true);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('JPEG frames carry no motion vectors');
  });
});
