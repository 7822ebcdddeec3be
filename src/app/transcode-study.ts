// transcodeStudy: how re-encoding at CRF (or QP) x GOP changes a dataset's size and quality. Every
// video is re-encoded in-process (x264, preset medium; encode()) once per cell, its short side
// capped (only ever scaled down, even sizes), into <out>/transcoded/<cell>/<video>.mp4, and each
// is compared with the original decoded at the same size (compareVideos()). Per cell: total
// bytes, mean kbps and mean MAE/RMSE/PSNR/SSIM over the videos; <out>/transcode.json.
//
// Resumable: outputs are written atomically, so a transcoded file that exists is complete and is
// not encoded again; its quality is kept in <out>/quality/<cell>/<video>.json, tied to the
// file's size and time, and not computed again either. An original whose size or time changed
// since (as that record says) is transcoded and measured again.
//
// With `accuracy` (models to train): networks trained on the originals are tested on each cell's
// own streams, the same test videos everywhere (app/transcode-accuracy.ts); each cell and the
// original get `accuracy` (top-1 per model), and accuracy.md / accuracy.csv (and accuracy.svg /
// accuracy.png, accuracy vs kbps per model and GOP) go into <out>, and transcode.json gets the
// MV-vs-pixel `comparison`; with `trainOn`, the networks are also trained and tested on chosen
// cells (app/transcode-train-on.ts). Last, report.html from the saved JSON (app/transcode-report.ts).

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode, emitWarning } from '../codec/encode.js';
import { probe } from '../codec/probe.js';
import { compareVideos } from '../codec/quality.js';
import { openDataset } from '../datasets/open.js';
import { writeFileAtomically } from '../util/atomic.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { infinityAsText, infinityFromText, readJsonIfAny } from '../util/json.js';
import { forEachLimit } from '../util/pool.js';
import { integerInRange, invalid, nonNegativeInteger, positiveInteger } from '../util/validate.js';
import { csvTable, markdownTable, type Cell as TableCell } from '../report/table.js';
// Types only: the module (and libtorch with it) is loaded when accuracy is asked for.
import type { AccuracySettings, TranscodeAccuracyOptions } from './transcode-accuracy.js';
import type { Comparison } from '../metrics/transcode.js';
import type { TrainOnRow } from './transcode-train-on.js';

export const DEFAULT_CRFS = [0, 10, 20, 30, 40, 50] as const;
export const DEFAULT_GOPS = [1, 2, 5, 10, 12] as const;
export const DEFAULT_SHORT_SIDE = 360;
export const TRANSCODE_PRESET = 'medium';

export interface TranscodeStudyOptions {
  /** Constant rate factors, 0..51 (default 0, 10, 20, 30, 40, 50). */
  crf?: readonly number[];
  /** Constant QPs, 0..51, instead of CRFs. */
  qp?: readonly number[];
  /** Frames between IDR frames (1: every frame intra; 0: one IDR, then only P). Default 1, 2, 5, 10, 12. */
  gop?: readonly number[];
  /** The largest short side of the re-encoded videos (default 360); smaller videos keep their size. */
  shortSide?: number;
  /** Videos encoded, compared or (with accuracy) prepared at once (default: the number of cores). */
  jobs?: number;
  /** Also train these networks on the originals and test them on every cell (and the originals). */
  accuracy?: TranscodeAccuracyOptions;
  /** With `accuracy`: also train and test them on the cells at these levels (GOP 12, else the largest GOP; app/transcode-train-on.ts). */
  trainOn?: readonly number[];
  onWarning?: (message: string) => void;
  /** After each (cell, video): how many of all are done, and whether it was reused. */
  onProgress?: (done: number, total: number, reused: boolean) => void;
}

/** One cell of the grid: its settings and the means over the dataset's videos. */
export interface TranscodeCell {
  crf?: number;
  qp?: number;
  gop: number;
  videos: number;
  /** Total bytes of the cell's files. */
  bytes: number;
  /** Mean over videos of bytes * 8 / duration, in kilobits per second. */
  kbps: number;
  /** Means over videos of FFmpeg's average PSNR (dB; Infinity where identical), SSIM All, luma MAE and RMSE. */
  psnr: number;
  ssim: number;
  mae: number;
  rmse: number;
  /** With `accuracy`: top-1 on the test split per model, the networks trained on the originals. */
  accuracy?: Record<string, number>;
}

export interface TranscodeStudyResult {
  dataset: string;
  shortSide: number;
  preset: string;
  cells: TranscodeCell[];
  /** The dataset's own files: total bytes and mean kbps. */
  original: { videos: number; bytes: number; kbps: number; accuracy?: Record<string, number> };
  /** With `accuracy`: the MV-vs-pixel comparison (metrics/transcode.ts, compareModels). */
  comparison?: Comparison;
  /** With `trainOn`: the networks trained and tested on each of those cells, in trainOn's order. */
  trainOn?: TrainOnRow[];
}

interface Source {
  path: string;
  /** The dataset-relative name its outputs take, with .mp4 for an extension. */
  name: string;
  bytes: number;
  mtimeMs: number;
  duration: number;
  /** The size it is re-encoded and compared at. */
  width: number;
  height: number;
}

interface Cell {
  rate: { crf: number } | { qp: number };
  gop: number;
  folder: string;
}

interface VideoQualityRecord {
  /** The original it was made from (a changed original is transcoded again). */
  source: { bytes: number; mtimeMs: number };
  /** The transcoded file this was measured on (a replaced file is measured again). */
  file: { bytes: number; mtimeMs: number };
  width: number;
  height: number;
  bytes: number;
  duration: number;
  psnr: number;
  ssim: number;
  mae: number;
  rmse: number;
}

function levels(values: readonly unknown[] | undefined, fallback: readonly number[], name: string, check: (v: unknown) => number): number[] {
  if (values === undefined) return [...fallback];
  if (!Array.isArray(values) || values.length === 0) throw invalid('a non-empty list of integers', name, values);
  const out = values.map(check);
  if (new Set(out).size !== out.length) throw new UsageError(`Expected distinct values for ${name} but received ${out.join(',')}`);
  return out;
}

/** Even width and height with the short side at most `shortSide` (never scaled up). */
export function cappedSize(width: number, height: number, shortSide: number): { width: number; height: number } {
  const short = Math.min(width, height);
  if (short <= shortSide) return { width: width & ~1, height: height & ~1 };
  const scale = shortSide / short;
  const even = (v: number) => Math.max(2, 2 * Math.round((v * scale) / 2));
  return { width: even(width), height: even(height) };
}

/** The name a dataset video's outputs take under each cell: its path below the root, as .mp4. */
function outputName(root: string, file: string, index: number): string {
  const rel = path.relative(root, file);
  const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  const base = inside ? rel : path.join('_outside', String(index), path.basename(file));
  const ext = path.extname(base);
  return (ext ? base.slice(0, -ext.length) : base) + '.mp4';
}

function cellFolder(rate: Cell['rate'], gop: number): string {
  return 'crf' in rate ? `crf${rate.crf}-gop${gop}` : `qp${rate.qp}-gop${gop}`;
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

export async function transcodeStudy(dataset: string, out: string, options: TranscodeStudyOptions = {}): Promise<TranscodeStudyResult> {
  if (options.qp !== undefined && options.crf !== undefined) throw new UsageError('Give either crf or qp levels, not both');
  const rate = (v: unknown, name: string) => integerInRange(v, name, 0, 51);
  const rates: Cell['rate'][] =
    options.qp !== undefined
      ? levels(options.qp, [], 'qp', (v) => rate(v, 'qp')).map((qp) => ({ qp }))
      : levels(options.crf, DEFAULT_CRFS, 'crf', (v) => rate(v, 'crf')).map((crf) => ({ crf }));
  const gops = levels(options.gop, DEFAULT_GOPS, 'gop', (v) => nonNegativeInteger(v, 'gop'));
  const shortSide = positiveInteger(options.shortSide ?? DEFAULT_SHORT_SIDE, 'shortSide');
  if (shortSide % 2 || shortSide < 16) throw invalid('an even integer of at least 16', 'shortSide', options.shortSide);
  const jobs = positiveInteger(options.jobs ?? os.availableParallelism(), 'jobs');
  const onWarning = options.onWarning ?? emitWarning;
  const accuracyModule = options.accuracy ? await import('./transcode-accuracy.js') : undefined;
  // Checked before anything is encoded: an unknown model is a usage error.
  const accuracy: AccuracySettings | undefined = options.accuracy ? accuracyModule!.accuracySettings(options.accuracy) : undefined;
  if (accuracy) await accuracyModule!.checkAccuracyDevice(accuracy);
  if (options.trainOn !== undefined && !accuracy) throw new UsageError('trainOn goes with accuracy (the models to train)');
  const trainOnModule = options.trainOn !== undefined ? await import('./transcode-train-on.js') : undefined;
  const trainOn = trainOnModule?.trainOnSettings(options.trainOn!, 'crf' in rates[0]! ? 'crf' : 'qp', rates.map((r) => ('crf' in r ? r.crf : r.qp)), gops);

  const data = await openDataset(dataset);
  if (data.items.length === 0) throw new MvclassError(`${data.root}: the dataset has no videos`, data.root);
  await fs.mkdir(out, { recursive: true });

  // Transcoded files made at another short side are not this study's: refuse rather than mix.
  const settingsFile = path.join(out, 'transcoded', 'settings.json');
  const settings = { shortSide, preset: TRANSCODE_PRESET };
  const saved = await fs.readFile(settingsFile, 'utf8').then((t) => JSON.parse(t) as typeof settings, () => undefined);
  if (saved && (saved.shortSide !== settings.shortSide || saved.preset !== settings.preset)) {
    throw new MvclassError(
      `${settingsFile}: ${out} holds videos transcoded at short side ${saved.shortSide}, preset ${saved.preset}; this study asks for ${shortSide}, ${TRANSCODE_PRESET}: use another output folder`,
      settingsFile,
    );
  }
  await fs.mkdir(path.dirname(settingsFile), { recursive: true });
  if (!saved) await writeFileAtomically(settingsFile, JSON.stringify(settings, null, 2) + '\n');

  const names = new Map<string, string>();
  const sources: Source[] = [];
  await forEachLimit(
    data.items.map((item, index) => ({ item, index })),
    jobs,
    async ({ item, index }) => {
      const name = outputName(data.root, item.path, index);
      const other = names.get(name);
      if (other) throw new MvclassError(`${item.path}: its outputs would have the same name as those of ${other} (${name})`, item.path);
      names.set(name, item.path);
      const [info, stat] = await Promise.all([probe(item.path), fs.stat(item.path)]);
      if (!(info.duration > 0)) throw new MvclassError(`${item.path}: no duration, so no bitrate`, item.path);
      const size = cappedSize(info.width, info.height, shortSide);
      if (size.width < 16 || size.height < 16) {
        throw new MvclassError(`${item.path}: ${info.width}x${info.height} is too small to compare (SSIM needs at least 16x16)`, item.path);
      }
      sources[index] = { path: item.path, name, bytes: stat.size, mtimeMs: stat.mtimeMs, duration: info.duration, ...size };
    },
  );

  const cells: Cell[] = rates.flatMap((r) => gops.map((gop) => ({ rate: r, gop, folder: cellFolder(r, gop) })));
  const tasks = cells.flatMap((cell) => sources.map((source) => ({ cell, source })));
  const records = new Map<string, VideoQualityRecord>();
  let done = 0;
  await forEachLimit(tasks, jobs, async ({ cell, source }) => {
    const target = path.join(out, 'transcoded', cell.folder, source.name);
    const recordFile = path.join(out, 'quality', cell.folder, source.name.replace(/\.mp4$/, '.json'));
    let reused = true;
    let record = await readJsonIfAny<VideoQualityRecord>(recordFile, infinityFromText); // absent or unreadable: measured again
    const changed = record !== undefined && (record.source?.bytes !== source.bytes || record.source?.mtimeMs !== source.mtimeMs);
    let stat = changed ? undefined : await fs.stat(target).catch(() => undefined);
    if (!stat) {
      reused = false;
      await fs.mkdir(path.dirname(target), { recursive: true });
      await encode(source.path, target, { ...cell.rate, gop: cell.gop, preset: TRANSCODE_PRESET, size: `${source.width}x${source.height}`, threads: 1, onWarning });
      stat = await fs.stat(target);
    }
    const fresh = record && record.file.bytes === stat.size && record.file.mtimeMs === stat.mtimeMs && record.width === source.width && record.height === source.height;
    if (!record || !fresh) {
      reused = false;
      const [quality, info] = await Promise.all([
        compareVideos({ reference: source.path, distorted: target, width: source.width, height: source.height, onWarning }),
        probe(target),
      ]);
      record = {
        source: { bytes: source.bytes, mtimeMs: source.mtimeMs },
        file: { bytes: stat.size, mtimeMs: stat.mtimeMs },
        width: source.width,
        height: source.height,
        bytes: stat.size,
        duration: info.duration,
        psnr: quality.psnr.average,
        ssim: quality.ssim.all,
        mae: quality.mae,
        rmse: quality.rmse,
      };
      await fs.mkdir(path.dirname(recordFile), { recursive: true });
      await writeFileAtomically(recordFile, JSON.stringify(record, infinityAsText, 2) + '\n');
    }
    records.set(`${cell.folder}\n${source.name}`, record);
    options.onProgress?.(++done, tasks.length, reused);
  });

  const result: TranscodeStudyResult = {
    dataset: data.root,
    shortSide,
    preset: TRANSCODE_PRESET,
    cells: cells.map((cell) => {
      const rs = sources.map((s) => records.get(`${cell.folder}\n${s.name}`)!);
      return {
        ...cell.rate,
        gop: cell.gop,
        videos: rs.length,
        bytes: rs.reduce((s, r) => s + r.bytes, 0),
        kbps: mean(rs.map((r) => (r.bytes * 8) / r.duration / 1000)),
        psnr: mean(rs.map((r) => r.psnr)),
        ssim: mean(rs.map((r) => r.ssim)),
        mae: mean(rs.map((r) => r.mae)),
        rmse: mean(rs.map((r) => r.rmse)),
      };
    }),
    original: {
      videos: sources.length,
      bytes: sources.reduce((s, v) => s + v.bytes, 0),
      kbps: mean(sources.map((v) => (v.bytes * 8) / v.duration / 1000)),
    },
  };
  if (accuracy) {
    const measured = await accuracyModule!.transcodeAccuracy(
      data,
      sources,
      cells.map((cell) => ({ folder: cell.folder, files: sources.map((s) => path.join(out, 'transcoded', cell.folder, s.name)) })),
      out,
      accuracy,
      jobs,
      onWarning,
    );
    result.original.accuracy = measured.original;
    result.cells.forEach((c, i) => (c.accuracy = measured.cells.get(cells[i]!.folder)!));
    await writeAccuracyTables(out, result, accuracy.models);
    if (trainOn) {
      const chosen = trainOn.levels.map((level) => cells.findIndex((c) => ('crf' in c.rate ? c.rate.crf : c.rate.qp) === level && c.gop === trainOn.gop));
      const measured = await trainOnModule!.transcodeTrainOn(out, chosen.map((i) => cells[i]!.folder), accuracy);
      result.trainOn = chosen.map((i, k) => {
        const c = result.cells[i]!;
        return { ...(c.crf !== undefined ? { crf: c.crf } : { qp: c.qp! }), gop: c.gop, bytes: c.bytes, kbps: c.kbps, accuracy: measured[k]! };
      });
    }
  }
  const report = await import('./transcode-report.js');
  const comparison = report.transcodeComparison(result);
  if (comparison) result.comparison = comparison;
  await writeFileAtomically(path.join(out, 'transcode.json'), JSON.stringify(result, infinityAsText, 2) + '\n');
  await report.buildTranscodeReport(out);
  return result;
}

/** accuracy.md and accuracy.csv: per cell (and the originals) bytes, kbps, SSIM and each model's top-1; accuracy.svg/.png: top-1 vs kbps per model and GOP. */
async function writeAccuracyTables(out: string, result: TranscodeStudyResult, models: readonly string[]): Promise<void> {
  const rateName = result.cells.some((c) => c.qp !== undefined) ? 'QP' : 'CRF';
  const header = ['cell', rateName, 'GOP', 'bytes', 'kbps', 'SSIM', ...models.map((m) => `${m} top-1 (%)`)];
  const pct = (a: Record<string, number> | undefined, m: string) => (a?.[m] === undefined ? null : 100 * a[m]!);
  const rows: TableCell[][] = [
    ['original', null, null, result.original.bytes, result.original.kbps, null, ...models.map((m) => pct(result.original.accuracy, m))],
    ...result.cells.map((c): TableCell[] => [`${rateName.toLowerCase()}${c.crf ?? c.qp}-gop${c.gop}`, c.crf ?? c.qp, c.gop, c.bytes, c.kbps, c.ssim, ...models.map((m) => pct(c.accuracy, m))]),
  ];
  const title = `Top-1 on the test split of networks trained on the originals, tested on each cell's own streams (${result.dataset}, short side at most ${result.shortSide})`;
  // SSIM wants more digits than kbps or accuracy: written with 4, the rest with 1.
  const mdRows = rows.map((r) => r.map((v, i) => (i === 5 && typeof v === 'number' ? v.toFixed(4) : v)));
  await writeFileAtomically(path.join(out, 'accuracy.md'), `${title}\n\n${markdownTable(header, mdRows, 1)}`);
  await writeFileAtomically(path.join(out, 'accuracy.csv'), csvTable(header, rows));
  const gops = [...new Set(result.cells.map((c) => c.gop))];
  const { rateAccuracyFigure } = await import('../report/figures.js');
  const figure = await rateAccuracyFigure(
    models.flatMap((m) =>
      gops.map((gop) => ({
        name: `${m} GOP ${gop}`,
        points: result.cells.filter((c) => c.gop === gop).map((c) => ({ label: `${rateName} ${c.crf ?? c.qp}`, rate: c.kbps, accuracy: c.accuracy![m]! })),
      })),
    ),
    { title: 'Top-1 vs kbps per model and GOP (trained on the originals)' },
  );
  await writeFileAtomically(path.join(out, 'accuracy.svg'), figure.svg);
  await writeFileAtomically(path.join(out, 'accuracy.png'), figure.png);
}
