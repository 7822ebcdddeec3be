// mvclass study transcode: a tiny real-footage dataset (three 1.5 s clips cut from Debian-shipped
// footage, two classes) re-encoded at CRF 20, 40 x GOP 1, 12 with the short side capped at 144;
// size and quality move the way they must, each cell's numbers are the files' own, and a rerun
// redoes nothing and prints the same JSON.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cappedSize, transcodeStudy, type TranscodeCell, type TranscodeStudyResult } from '../../src/app/transcode-study.js';
import { trainOnSettings } from '../../src/app/transcode-train-on.js';
import { compareVideos, probe } from '../../src/index.js';
import { infinityFromText } from '../../src/util/json.js';
import { fixtures } from '../setup/fixtures.js';
import { cli, tempDir } from '../setup/helpers.js';
import { cutSixRealClips } from '../support/real-clips.js';

const dir = tempDir('mvclass-transcode-');
const dataset = path.join(dir, 'dataset');
const out = path.join(dir, 'out');
const grid = ['--crf', '20,40', '--gop', '1,12', '--short-side', '144', '--jobs', '2'];

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-v', 'error', ...args], { encoding: 'utf8' });
  if (r.status !== 0 || r.stderr.trim()) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** Every file under `root` with its modification time. */
async function mtimes(root: string): Promise<Map<string, number>> {
  const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  return new Map(files.map((e) => [path.join(e.parentPath, e.name), statSync(path.join(e.parentPath, e.name)).mtimeMs]));
}

function cell(result: TranscodeStudyResult, crf: number, gop: number): TranscodeCell {
  const c = result.cells.find((x) => x.crf === crf && x.gop === gop);
  if (!c) throw new Error(`no cell crf ${crf} gop ${gop}`);
  return c;
}

let first: { stdout: string; result: TranscodeStudyResult };

beforeAll(async () => {
  const real = fixtures().real;
  mkdirSync(path.join(dataset, 'birds'), { recursive: true });
  mkdirSync(path.join(dataset, 'ball'), { recursive: true });
  // Cut after decoding from the start (-ss after -i): the cockatoo clip's GOPs are open, and
  // seeking into them makes the decoder complain about missing references.
  ffmpeg(['-i', real['cockatoo']!, '-t', '1.5', '-vf', 'scale=320:180', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', path.join(dataset, 'birds', 'cockatoo.mp4')]);
  ffmpeg(['-i', real['cockatoo']!, '-ss', '6', '-t', '1.5', '-vf', 'scale=320:180', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', path.join(dataset, 'birds', 'cockatoo-late.mp4')]);
  // MPEG-4 Part 2 in AVI: its outputs are .mp4 whatever the original's container.
  ffmpeg(['-i', real['balle']!, '-t', '1.5', '-vf', 'scale=320:256', '-c:v', 'mpeg4', '-q:v', '3', '-an', path.join(dataset, 'ball', 'balle.avi')]);
  const r = await cli(['study', 'transcode', dataset, '-o', out, ...grid, '--json'], 120_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  first = { stdout: r.stdout, result: JSON.parse(r.stdout, infinityFromText) as TranscodeStudyResult };
}, 180_000);

describe('study transcode', () => {
  it('every cell of the grid, each over every video; transcode.json is what was printed', () => {
    const { result } = first;
    expect(result.cells.map((c) => [c.crf, c.gop, c.videos])).toEqual([
      [20, 1, 3],
      [20, 12, 3],
      [40, 1, 3],
      [40, 12, 3],
    ]);
    for (const c of result.cells) {
      for (const key of ['bytes', 'kbps', 'psnr', 'ssim', 'mae', 'rmse'] as const) expect(Number.isFinite(c[key]), key).toBe(true);
      expect(c.qp).toBeUndefined();
    }
    expect(readFileSync(path.join(out, 'transcode.json'), 'utf8')).toBe(first.stdout);
    expect(result.original.videos).toBe(3);
    const originals = ['birds/cockatoo.mp4', 'birds/cockatoo-late.mp4', 'ball/balle.avi'].map((f) => statSync(path.join(dataset, f)).size);
    expect(result.original.bytes).toBe(originals.reduce((s, b) => s + b, 0));
  });

  it('bytes fall from CRF 20 to 40 and from GOP 1 to 12; quality falls from CRF 20 to 40', () => {
    const { result } = first;
    for (const gop of [1, 12]) {
      const [hi, lo] = [cell(result, 20, gop), cell(result, 40, gop)];
      expect(hi.bytes).toBeGreaterThan(lo.bytes);
      expect(hi.kbps).toBeGreaterThan(lo.kbps);
      expect(hi.ssim).toBeGreaterThan(lo.ssim);
      expect(hi.psnr).toBeGreaterThan(lo.psnr);
      expect(hi.mae).toBeLessThan(lo.mae);
      expect(hi.rmse).toBeLessThan(lo.rmse);
    }
    for (const crf of [20, 40]) expect(cell(result, crf, 1).bytes).toBeGreaterThan(cell(result, crf, 12).bytes);
  });

  it("a cell's numbers are its files' own: sizes capped at short side 144, bytes, kbps, quality against the original", async () => {
    const c = cell(first.result, 40, 12);
    const files = ['birds/cockatoo.mp4', 'birds/cockatoo-late.mp4', 'ball/balle.mp4'].map((f) => path.join(out, 'transcoded', 'crf40-gop12', f));
    const originals = ['birds/cockatoo.mp4', 'birds/cockatoo-late.mp4', 'ball/balle.avi'].map((f) => path.join(dataset, f));
    const infos = await Promise.all(files.map((f) => probe(f)));
    expect(infos.map((i) => [i.codec, i.width, i.height])).toEqual([
      ['h264', 256, 144],
      ['h264', 256, 144],
      ['h264', 180, 144],
    ]);
    expect(cappedSize(320, 256, 144)).toEqual({ width: 180, height: 144 });
    expect(cappedSize(100, 60, 144)).toEqual({ width: 100, height: 60 }); // never scaled up
    const bytes = files.map((f) => statSync(f).size);
    expect(c.bytes).toBe(bytes.reduce((s, b) => s + b, 0));
    const kbps = bytes.map((b, i) => (b * 8) / infos[i]!.duration / 1000);
    expect(c.kbps).toBeCloseTo(kbps.reduce((s, k) => s + k, 0) / 3, 9);
    const q = await Promise.all(files.map((f, i) => compareVideos({ reference: originals[i]!, distorted: f, width: infos[i]!.width, height: infos[i]!.height })));
    expect(c.psnr).toBeCloseTo(q.reduce((s, x) => s + x.psnr.average, 0) / 3, 9);
    expect(c.ssim).toBeCloseTo(q.reduce((s, x) => s + x.ssim.all, 0) / 3, 9);
    expect(c.mae).toBeCloseTo(q.reduce((s, x) => s + x.mae, 0) / 3, 9);
    expect(c.rmse).toBeCloseTo(q.reduce((s, x) => s + x.rmse, 0) / 3, 9);
  });

  it('a rerun redoes nothing (no file rewritten but transcode.json) and prints the same JSON', async () => {
    const before = await mtimes(out);
    const r = await cli(['study', 'transcode', dataset, '-o', out, ...grid, '--json'], 120_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(first.stdout);
    const after = await mtimes(out);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after].filter(([f, t]) => before.get(f) !== t).map(([f]) => path.relative(out, f));
    const report = ['transcode-sizes', 'transcode-quality'].flatMap((t) => ['csv', 'json', 'md'].map((e) => `${t}.${e}`));
    expect(changed.sort()).toEqual(['report.html', 'transcode.json', ...report].sort());
  });

  it('report.html: the size and quality tables from transcode.json, no accuracy without models', () => {
    const { result } = first;
    const sizes = readFileSync(path.join(out, 'transcode-sizes.csv'), 'utf8').trim().split('\n');
    expect(sizes[1]).toBe(`original,,3,${result.original.bytes},${Number(result.original.kbps.toFixed(1))},100`);
    const c = cell(result, 40, 12);
    expect(sizes).toContain(`12,40,3,${c.bytes},${Number(c.kbps.toFixed(1))},${Number(((100 * c.bytes) / result.original.bytes).toFixed(1))}`);
    const quality = readFileSync(path.join(out, 'transcode-quality.csv'), 'utf8');
    expect(quality).toContain(`12,40,${Number(c.psnr.toFixed(2))},${Number(c.ssim.toFixed(4))},${Number(c.mae.toFixed(3))},${Number(c.rmse.toFixed(3))}`);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('Total size per (GOP, CRF)');
    expect(html).not.toContain('Motion vectors vs pixels');
    expect(result.comparison).toBeUndefined();
  });

  it('through the API: a missing transcoded file is made again, the others are reused', async () => {
    const gone = path.join(out, 'transcoded', 'crf20-gop1', 'ball', 'balle.mp4');
    rmSync(gone);
    const progress: boolean[] = [];
    const again = await transcodeStudy(dataset, out, { crf: [20, 40], gop: [1, 12], shortSide: 144, jobs: 2, onProgress: (_d, _t, reused) => progress.push(reused) });
    expect(progress.filter((x) => !x)).toHaveLength(1);
    expect(progress).toHaveLength(12);
    expect(statSync(gone).size).toBeGreaterThan(0);
    // x264 with one thread is deterministic: the same bytes and the same quality.
    expect(JSON.stringify(again.cells)).toBe(JSON.stringify(first.result.cells));

    // A changed original (here: its time) is transcoded and measured again in every cell.
    const original = path.join(dataset, 'birds', 'cockatoo-late.mp4');
    const when = new Date(Date.now() + 60_000);
    utimesSync(original, when, when);
    const redone: boolean[] = [];
    const third = await transcodeStudy(dataset, out, { crf: [20, 40], gop: [1, 12], shortSide: 144, jobs: 2, onProgress: (_d, _t, reused) => redone.push(reused) });
    expect(redone.filter((x) => !x)).toHaveLength(4);
    expect(JSON.stringify(third.cells)).toBe(JSON.stringify(first.result.cells));
  });

  it('CRF 0 is lossless: the original decoded and scaled as the encoder was fed, so MAE 0, SSIM 1, PSNR "Infinity" in the JSON', async () => {
    const losslessOut = path.join(dir, 'lossless');
    const r = await transcodeStudy(dataset, losslessOut, { crf: [0], gop: [12], shortSide: 144, jobs: 2 });
    expect(r.cells).toHaveLength(1);
    expect(r.cells[0]).toMatchObject({ crf: 0, gop: 12, mae: 0, rmse: 0, ssim: 1, psnr: Infinity });
    expect(r.cells[0]!.bytes).toBeGreaterThan(cell(first.result, 20, 12).bytes);
    const saved = JSON.parse(readFileSync(path.join(losslessOut, 'transcode.json'), 'utf8')) as { cells: Array<{ psnr: unknown }> };
    expect(saved.cells[0]!.psnr).toBe('Infinity');
  });

  it('QP instead of CRF: cells named and recorded by QP', async () => {
    const qpOut = path.join(dir, 'qp');
    const r = await transcodeStudy(dataset, qpOut, { qp: [30], gop: [12], shortSide: 144, jobs: 2 });
    expect(r.cells.map((c) => [c.qp, c.crf, c.gop, c.videos])).toEqual([[30, undefined, 12, 3]]);
    expect(statSync(path.join(qpOut, 'transcoded', 'qp30-gop12', 'ball', 'balle.mp4')).size).toBeGreaterThan(0);
    expect(r.original).toEqual(first.result.original);
  });

  it('refuses a different short side in the same folder, and bad options, naming what is wrong', async () => {
    const other = await cli(['study', 'transcode', dataset, '-o', out, '--crf', '20', '--gop', '1', '--short-side', '96']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`${path.join(out, 'transcoded', 'settings.json')}: ${out} holds videos transcoded at short side 144`);
    const both = await cli(['study', 'transcode', dataset, '-o', out, '--crf', '20', '--qp', '30']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Give either --qp or --crf, not both');
    const crf = await cli(['study', 'transcode', dataset, '-o', out, '--crf', '20,x']);
    expect(crf.code).toBe(2);
    expect(crf.stderr).toContain('Expected an integer from 0 to 51 for crf but received "x"');
    await expect(transcodeStudy(dataset, out, { gop: [1, 1] })).rejects.toThrow('Expected distinct values for gop but received 1,1');
    await expect(transcodeStudy(dataset, out, { shortSide: 145 })).rejects.toThrow('Expected an even integer of at least 16 for shortSide but received 145');
    const tiny = path.join(dir, 'tiny', 'birds', 'strip.mp4');
    mkdirSync(path.dirname(tiny), { recursive: true });
    ffmpeg(['-i', path.join(dataset, 'birds', 'cockatoo.mp4'), '-vf', 'scale=40:12', '-c:v', 'libx264', '-an', tiny]);
    await expect(transcodeStudy(path.join(dir, 'tiny'), path.join(dir, 'tiny-out'), { crf: [20], gop: [1] })).rejects.toThrow(
      `${tiny}: 40x12 is too small to compare (SSIM needs at least 16x16)`,
    );
    // A damaged settings file: an error naming it and the problem, not a bare SyntaxError.
    const damaged = path.join(dir, 'damaged');
    mkdirSync(path.join(damaged, 'transcoded'), { recursive: true });
    writeFileSync(path.join(damaged, 'transcoded', 'settings.json'), '{"shortSide": 144, "pre');
    const d = await cli(['study', 'transcode', dataset, '-o', damaged, '--crf', '20', '--gop', '1']);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(`${path.join(damaged, 'transcoded', 'settings.json')}: damaged, not JSON (`);
    expect(d.stderr).not.toContain('SyntaxError');
    writeFileSync(path.join(damaged, 'transcoded', 'settings.json'), '[144]');
    await expect(transcodeStudy(dataset, damaged, { crf: [20], gop: [1] })).rejects.toThrow(
      `${path.join(damaged, 'transcoded', 'settings.json')}: damaged, not the settings of a transcode study (a shortSide number and a preset name expected)`,
    );
    const missing = path.join(dir, 'nowhere');
    await expect(transcodeStudy(missing, path.join(dir, 'out2'), { crf: [20], gop: [1] })).rejects.toThrow(`${missing}: no such file or folder`);
  });
});

// With --models: a tiny mv3d trained on six clips (two classes, three each: one test video per
// class) at their capped size, tested on the originals and on each cell's own streams.
describe('study transcode --models', () => {
  const accDir = tempDir('mvclass-transcode-acc-');
  const data = path.join(accDir, 'dataset');
  const accOut = path.join(accDir, 'out');
  const args = ['study', 'transcode', data, '-o', accOut, '--crf', '20,40', '--gop', '12', '--short-side', '144', '--jobs', '2'];
  const training = ['--models', 'mv3d', '--iterations', '4', '--batch', '2', '--frames', '8', '--size', '16', '--width', '0.125', '--fc', '16', '--views', '2x1', '--threads', '1', '--json'];
  let printed: { stdout: string; result: TranscodeStudyResult };

  interface Manifest {
    settings: { asIs: boolean; size: string | null };
    dataset: { root: string };
    videos: Array<{ path: string; label: number; split: string; frameTypes: string | string[] }>;
  }
  const types = (v: Manifest['videos'][number]) => (Array.isArray(v.frameTypes) ? v.frameTypes.join('') : v.frameTypes);
  const manifest = (cache: string) => JSON.parse(readFileSync(path.join(cache, 'manifest.json'), 'utf8')) as Manifest;
  /** A cache's test videos: each one's path below its dataset's root, without extension, with its label. */
  const testVideos = (m: Manifest) =>
    m.videos
      .filter((v) => v.split === 'test')
      .map((v) => `${path.relative(m.dataset.root, v.path).replace(/\.[^./]+$/, '')}:${v.label}`)
      .sort();

  beforeAll(async () => {
    await cutSixRealClips(data);
    const r = await cli([...args, ...training], 150_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    printed = { stdout: r.stdout, result: JSON.parse(r.stdout, infinityFromText) as TranscodeStudyResult };
  }, 200_000);

  it('every cell and the originals carry the top-1 of mv3d, which is the saved scores\' own', () => {
    const { result } = printed;
    expect(result.cells.map((c) => [c.crf, c.gop, c.videos])).toEqual([
      [20, 12, 6],
      [40, 12, 6],
    ]);
    expect(readFileSync(path.join(accOut, 'transcode.json'), 'utf8')).toBe(printed.stdout);
    const top1 = (label: string) => {
      const s = JSON.parse(readFileSync(path.join(accOut, 'accuracy', 'scores', label, 'mv3d.scores.json'), 'utf8')) as { videos: Array<{ label: number; scores: number[] }> };
      expect(s.videos).toHaveLength(2);
      return s.videos.filter((v) => v.scores.indexOf(Math.max(...v.scores)) === v.label).length / s.videos.length;
    };
    expect(Object.keys(result.original.accuracy ?? {})).toEqual(['mv3d']);
    expect(result.original.accuracy!.mv3d).toBe(top1('original'));
    for (const c of result.cells) {
      expect(Object.keys(c.accuracy ?? {})).toEqual(['mv3d']);
      expect(c.accuracy!.mv3d).toBeGreaterThanOrEqual(0);
      expect(c.accuracy!.mv3d).toBeLessThanOrEqual(1);
      expect(c.accuracy!.mv3d).toBe(top1(`crf${c.crf}-gop${c.gop}`));
    }
  });

  it('the MV-vs-pixel comparison in the JSON and the report: mv3d is the MV family, its change per cell from the originals', () => {
    const { result } = printed;
    const c = result.comparison!;
    expect(c.rate).toBe('crf');
    expect(c.points).toBe(1);
    expect(c.models.map((m) => [m.model, m.family, m.original])).toEqual([['mv3d', 'mv', result.original.accuracy!.mv3d]]);
    expect(c.models[0]!.cells.map((x) => [x.level, x.gop, x.top1])).toEqual(result.cells.map((x) => [x.crf, x.gop, x.accuracy!.mv3d]));
    for (const [i, x] of c.models[0]!.cells.entries()) expect(x.change).toBeCloseTo(100 * (result.cells[i]!.accuracy!.mv3d! - result.original.accuracy!.mv3d!), 9);
    expect(c.families).toHaveLength(1);
    const f = c.families[0]!;
    expect([f.family, f.models, f.gop]).toEqual(['mv', ['mv3d'], 12]);
    const lost = result.cells.find((x) => 100 * (result.original.accuracy!.mv3d! - x.accuracy!.mv3d!) > 1 + 1e-9);
    expect(f.level).toBe(lost?.crf ?? null);
    expect(f.bytes).toBe(lost?.bytes ?? null);
    const families = readFileSync(path.join(accOut, 'transcode-families.csv'), 'utf8').trim().split('\n');
    expect(families[1]!.startsWith(`MV,mv3d,12,${f.level ?? 'none'},`)).toBe(true);
    const html = readFileSync(path.join(accOut, 'report.html'), 'utf8');
    expect(html).toContain('Motion vectors vs pixels under re-encoding');
    expect(html).toContain('Per-class accuracy relative to the originals');
  });

  it("the same test videos in every cache: the originals at the capped size, each cell's own streams as they are", () => {
    const original = manifest(path.join(accOut, 'accuracy', 'original', 'cache'));
    expect(original.settings.asIs).toBe(false);
    // Three 180x144 and three 256x144 videos: the first in dataset order (ball) wins the tie.
    expect(original.settings.size).toBe('180x144');
    for (const v of original.videos) expect(types(v).slice(0, 25), v.path).toBe(`I${'P'.repeat(24)}`);
    const expected = testVideos(original);
    expect(expected).toHaveLength(2);
    expect(new Set(expected.map((v) => v.split(':')[1]))).toEqual(new Set(['0', '1']));
    for (const folder of ['crf20-gop12', 'crf40-gop12']) {
      const m = manifest(path.join(accOut, 'accuracy', 'cells', folder, 'cache'));
      expect(m.settings.asIs).toBe(true);
      expect(m.dataset.root).toBe(path.join(accOut, 'transcoded', folder));
      for (const v of m.videos) expect(statSync(v.path).isFile()).toBe(true);
      // The cell's own stream: an IDR every 12 frames, where prepare's encoding of the originals has one.
      for (const v of m.videos) expect(types(v).slice(0, 25), v.path).toBe(`I${'P'.repeat(11)}I${'P'.repeat(11)}I`);
      expect(testVideos(m)).toEqual(expected);
      expect(m.videos.map((v) => `${path.relative(m.dataset.root, v.path).replace(/\.mp4$/, '')}:${v.split}`)).toEqual(
        original.videos.map((v) => `${path.relative(original.dataset.root, v.path).replace(/\.mp4$/, '')}:${v.split}`),
      );
    }
  });

  it('accuracy.md and accuracy.csv: a row for the originals and one per cell; the figure beside them', () => {
    const { result } = printed;
    const csv = readFileSync(path.join(accOut, 'accuracy.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('cell,CRF,GOP,bytes,kbps,SSIM,mv3d top-1 (%)');
    expect(csv).toHaveLength(4);
    expect(csv[1]!.split(',')).toEqual(['original', '', '', String(result.original.bytes), String(result.original.kbps), '', String(100 * result.original.accuracy!.mv3d!)]);
    const c40 = result.cells[1]!;
    expect(csv[3]!.split(',')).toEqual(['crf40-gop12', '40', '12', String(c40.bytes), String(c40.kbps), String(c40.ssim), String(100 * c40.accuracy!.mv3d!)]);
    const md = readFileSync(path.join(accOut, 'accuracy.md'), 'utf8');
    expect(md).toContain('| cell | CRF | GOP | bytes | kbps | SSIM | mv3d top-1 (%) |');
    expect(md).toContain(`| crf40-gop12 | 40 | 12 | ${c40.bytes} | ${c40.kbps.toFixed(1)} | ${c40.ssim.toFixed(4)} |`);
    expect(readFileSync(path.join(accOut, 'accuracy.svg'), 'utf8')).toContain('mv3d GOP 12');
    expect(statSync(path.join(accOut, 'accuracy.png')).size).toBeGreaterThan(0);
  });

  it('a rerun trains, prepares and scores nothing again and prints the same JSON', async () => {
    const before = await mtimes(accOut);
    const r = await cli([...args, ...training], 120_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(printed.stdout);
    const after = await mtimes(accOut);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after].filter(([f, t]) => before.get(f) !== t).map(([f]) => path.relative(accOut, f)).sort();
    // Besides the tables and transcode.json: the report and the files it links to, made again from the saved numbers.
    const html = readFileSync(path.join(accOut, 'report.html'), 'utf8');
    const linked = new Set([...html.matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]!));
    expect(changed.filter((f) => !linked.has(f))).toEqual(['accuracy.csv', 'accuracy.md', 'accuracy.png', 'accuracy.svg', 'report.html', 'transcode.json']);
    expect(changed.filter((f) => linked.has(f)).sort()).toEqual([...linked].sort());
  });

  it('through the API: another schedule trains again and scores every cache again; the caches are kept', async () => {
    const before = await mtimes(accOut);
    const stages: string[] = [];
    const r = await transcodeStudy(data, accOut, {
      crf: [20, 40],
      gop: [12],
      shortSide: 144,
      jobs: 2,
      accuracy: { models: ['mv3d'], iterations: 5, batch: 2, frames: 8, size: 16, width: 0.125, fc: 16, views: '2x1', threads: 1, onStage: (stage, state) => stages.push(`${stage}: ${state}`) },
    });
    expect(stages).toEqual([
      'prepare original: skipped',
      'train mv3d: done',
      'eval mv3d original: done',
      'prepare crf20-gop12: skipped',
      'eval mv3d crf20-gop12: done',
      'prepare crf40-gop12: skipped',
      'eval mv3d crf40-gop12: done',
    ]);
    const run = JSON.parse(readFileSync(path.join(accOut, 'accuracy', 'runs', 'mv3d', 'run.json'), 'utf8')) as { iteration: number };
    expect(run.iteration).toBe(5);
    const after = await mtimes(accOut);
    const changed = [...after].filter(([f, t]) => before.get(f) !== t).map(([f]) => path.relative(accOut, f));
    expect(changed.filter((f) => f.includes(`${path.sep}cache${path.sep}`))).toEqual([]);
    for (const label of ['original', 'crf20-gop12', 'crf40-gop12']) expect(changed).toContain(path.join('accuracy', 'scores', label, 'mv3d.json'));
    for (const c of r.cells) expect(c.accuracy!.mv3d).toBeGreaterThanOrEqual(0);
  });

  it('--train-on: mv3d trained and tested on the CRF 40 cell at GOP 12, its size beside; a rerun reuses the run and the score', async () => {
    // The schedule of the test above (5 iterations): the runs on the originals are reused.
    const accuracy = { models: ['mv3d'], iterations: 5, batch: 2, frames: 8, size: 16, width: 0.125, fc: 16, views: '2x1', threads: 1 };
    const stages: string[] = [];
    const options = { crf: [20, 40], gop: [12], shortSide: 144, jobs: 2, trainOn: [40], accuracy: { ...accuracy, onStage: (stage: string, state: string) => stages.push(`${stage}: ${state}`) } };
    const r = await transcodeStudy(data, accOut, options);
    expect(stages.filter((x) => x.includes('crf40-gop12') && !x.startsWith('prepare') && !x.startsWith('eval mv3d crf40'))).toEqual(['train mv3d on crf40-gop12: done', 'eval mv3d trained on crf40-gop12: done']);
    const cell40 = r.cells.find((c) => c.crf === 40)!;
    expect(r.trainOn).toHaveLength(1);
    const t = r.trainOn![0]!;
    expect([t.crf, t.qp, t.gop, t.bytes, t.kbps]).toEqual([40, undefined, 12, cell40.bytes, cell40.kbps]);
    const root = path.join(accOut, 'accuracy', 'train-on', 'crf40-gop12');
    // Trained on the cell's own cache, for the iterations asked, and scored on its test split.
    const key = JSON.parse(readFileSync(path.join(root, 'runs', 'mv3d.train.json'), 'utf8')) as { cache: string; iterations: number };
    expect(key.cache).toBe(path.join(accOut, 'accuracy', 'cells', 'crf40-gop12', 'cache'));
    expect((JSON.parse(readFileSync(path.join(root, 'runs', 'mv3d', 'run.json'), 'utf8')) as { iteration: number }).iteration).toBe(5);
    const saved = JSON.parse(readFileSync(path.join(root, 'scores', 'mv3d.json'), 'utf8')) as { top1: number; videos: number; cache: string };
    expect(t.accuracy).toEqual({ mv3d: saved.top1 });
    expect(saved.videos).toBe(2);
    expect(saved.cache).toBe(key.cache);
    expect(JSON.parse(readFileSync(path.join(accOut, 'transcode.json'), 'utf8')).trainOn).toEqual(r.trainOn);
    const table = readFileSync(path.join(accOut, 'transcode-train-on.csv'), 'utf8').trim().split('\n');
    expect(table[0]).toBe('GOP,CRF,bytes,kbps,size %,mv3d top-1 %');
    expect(table[2]).toBe(`12,40,${t.bytes},${Number(t.kbps.toFixed(1))},${Number(((100 * t.bytes) / r.original.bytes).toFixed(1))},${Number((100 * saved.top1).toFixed(1))}`);

    // A rerun: the train-on run and its score are reused, the same numbers.
    stages.length = 0;
    const again = await transcodeStudy(data, accOut, options);
    expect(stages.filter((x) => x.includes('on crf40-gop12'))).toEqual(['train mv3d on crf40-gop12: skipped', 'eval mv3d trained on crf40-gop12: skipped']);
    expect(again.trainOn).toEqual(r.trainOn);

    // A level outside the grid, or without models, is refused before anything runs.
    await expect(transcodeStudy(data, accOut, { ...options, trainOn: [30] })).rejects.toThrow("Expected trainOn levels among the study's crf levels (20, 40) but received 30");
    await expect(transcodeStudy(data, accOut, { crf: [20], gop: [12], trainOn: [20] })).rejects.toThrow('trainOn goes with accuracy (the models to train)');
    const cliAlone = await cli([...args, '--train-on', '40']);
    expect(cliAlone.code).toBe(2);
    expect(cliAlone.stderr).toContain('--train-on goes with --models');
  }, 120_000);

  it('--train-on trains at GOP 12 when the grid has it, else at its largest GOP', () => {
    expect(trainOnSettings([20, 40], 'crf', [20, 30, 40], [1, 12, 5])).toEqual({ levels: [20, 40], gop: 12 });
    expect(trainOnSettings([30], 'qp', [30], [1, 2, 5])).toEqual({ levels: [30], gop: 5 });
    expect(() => trainOnSettings([30, 30], 'crf', [30], [12])).toThrow('Expected distinct values for trainOn but received 30,30');
    expect(() => trainOnSettings(['x'], 'crf', [30], [12])).toThrow('Expected an integer from 0 to 51 for trainOn but received "x"');
  });

  it('refuses an unknown model, and training options without --models', async () => {
    const bad = await cli([...args, '--models', 'mv3d,resnet7']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected one of');
    expect(bad.stderr).toContain('for models but received "resnet7"');
    const alone = await cli([...args, '--iterations', '4']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--iterations goes with --models');
  });
});
