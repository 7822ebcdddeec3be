// transcodeStudy: how re-encoding at CRF (or QP) x GOP changes a dataset's size and quality. Every
// video is re-encoded in-process (x264, preset medium; encode()) once per cell, its short side
// capped (only ever scaled down, even sizes), into <out>/transcoded/<cell>/<video>.mp4, and each
// is compared with the original decoded at the same size (compareVideos()). Per cell: total
// bytes, mean kbps and mean MAE/RMSE/PSNR/SSIM over the videos; <out>/transcode.json.
//
// With `jpeg` (seed 003's JPEG study): also a cell per FFmpeg mjpeg q-scale, every frame a JPEG
// (encodeJpeg) at the same capped size, in <out>/transcoded/jpeg-q<q>/<video>.avi, made, kept and
// measured exactly as the H.264 cells are; transcode.json's `jpeg`. Only the pixel networks are
// tested on them: their frames carry no motion vectors.
//
// Resumable: outputs are written atomically, so a transcoded file that exists is complete and is
// not encoded again; its quality is kept in <out>/quality/<cell>/<video>.json, written after the
// file and tied to its size, and not computed again either. An original whose size or time
// changed since (as that record says) is transcoded and measured again. A video that cannot be
// read, or fails in any cell, is listed in `failed` with the reason and left out of every cell.
//
// Distributed. With `queue` (a Redis URL) each (cell, video) left to do is a job of the job queue
// (src/queue) run by `mvclass worker` processes on any machine, with the same transcodeOne into
// the same folder, which must be on a filesystem every worker mounts; a job's id names the
// study's folder, the cell's settings and the original as it is now, so a coordinator started
// again adds nothing twice. The files, records and transcode.json are those of a local run, byte
// for byte. With `accuracy`, the preparations go through the queue too; training and evaluation
// stay in this process.
//
// With `accuracy` (models to train): networks trained on the originals are tested on each cell's
// own streams, the same test videos everywhere (app/transcode-accuracy.ts); each cell and the
// original get `accuracy` (top-1 per model), and accuracy.md / accuracy.csv (and accuracy.svg /
// accuracy.png, accuracy vs kbps per model and GOP) go into <out>, and transcode.json gets the
// MV-vs-pixel `comparison`; with `trainOn`, the networks are also trained and tested on chosen
// cells (app/transcode-train-on.ts). Last, report.html from the saved JSON (app/transcode-report.ts).

import { createHash } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode, encodeJpeg, emitWarning, jpegQuality, type EncodeOptions } from '../codec/encode.js';
import { softwareVersions, type SoftwareVersions } from '../codec/native.js';
import { probe } from '../codec/probe.js';
import { assertRegionFits, pictureRegion, regionText, type PictureRegion } from '../codec/region.js';
import { assertSameVersions, permanentFailure, runJobs } from '../queue/queue.js';
import { compareVideos } from '../codec/quality.js';
import { openDataset } from '../datasets/open.js';
import type { UnlistedVideos } from '../config/regions.js';
import { regionsOf } from './prepare.js';
import { removeTemporaries, writeFileAtomically } from '../util/atomic.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { infinityAsText, infinityFromText, readJsonFile, readJsonIfAny } from '../util/json.js';
import { forEachLimit } from '../util/pool.js';
import { integerInRange, invalid, nonNegativeInteger, positiveInteger } from '../util/validate.js';
import { csvTable, markdownTable, type Cell as TableCell } from '../report/table.js';
import { modelFamily, NO_MOTION_VECTORS } from '../metrics/transcode.js';
// Types only: the module (and libtorch with it) is loaded when accuracy is asked for.
import type { AccuracySettings, TranscodeAccuracyOptions } from './transcode-accuracy.js';
import type { TranscodeCell, TranscodeStudyResult } from './transcode-result.js';
export type { JpegCell, TranscodeCell, TranscodeStudyResult } from './transcode-result.js';

export const DEFAULT_CRFS = [0, 10, 20, 30, 40, 50] as const;
export const DEFAULT_GOPS = [1, 2, 5, 10, 12] as const;
export const DEFAULT_SHORT_SIDE = 360;
export const TRANSCODE_PRESET = 'medium';

export interface TranscodeStudyOptions {
  /** Constant rate factors, 0..51 (default 0, 10, 20, 30, 40, 50). */
  crf?: readonly number[];
  /** Constant QPs, 0..51, instead of CRFs. */
  qp?: readonly number[];
  /** Also every frame as a JPEG at these FFmpeg mjpeg q-scales, 2 (best) to 31 (codec/encode.ts, jpegQuality): seed 003's JPEG study. */
  jpeg?: readonly number[];
  /** Frames between IDR frames (1: every frame intra; 0: one IDR, then only P). Default 1, 2, 5, 10, 12. */
  gop?: readonly number[];
  /** The largest short side of the re-encoded videos (default 360); smaller videos keep their size. */
  shortSide?: number;
  /** Videos encoded, compared or (with accuracy) prepared at once (default: the number of cores). */
  jobs?: number;
  /** Re-encode only this region of each picture ("x,y,w,h"; codec/region.ts), compared with the
   * same region of the original; the short side cap applies to the region. */
  roi?: string | PictureRegion;
  /** A region per video instead, as this region file lists them (config/regions.ts); not with `roi`. */
  roiFile?: string;
  /** With `roiFile`: the videos it does not list are refused ('refuse', the default) or keep their whole picture ('full'). */
  roiUnlisted?: UnlistedVideos;
  /** Transcode and measure on the workers of this job queue (a Redis URL) instead of in this
   * process; `out` must be on a filesystem every worker mounts (docs/scale-out.md). */
  queue?: string;
  /** With `queue`: tries per (cell, video) before it is listed as failed (default 3). */
  attempts?: number;
  /** Also train these networks on the originals and test them on every cell (and the originals). */
  accuracy?: TranscodeAccuracyOptions;
  /** With `accuracy`: also train and test them on the cells at these levels (GOP 12, else the largest GOP; app/transcode-train-on.ts). */
  trainOn?: readonly number[];
  onWarning?: (message: string) => void;
  /** After each (cell, video): how many of all are done, and whether it was reused. */
  onProgress?: (done: number, total: number, reused: boolean) => void;
}

/** One cell of the grid: its settings and the means over the dataset's videos. */
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

/** An H.264 cell's rate, or a JPEG cell's q-scale (its every frame coded on its own, as at GOP 1). */
type CellRate = { crf: number } | { qp: number } | { jpeg: number };

interface Cell {
  rate: CellRate;
  gop: number;
  folder: string;
}

/**
 * What was measured on one transcoded file. It holds nothing of the run that wrote it (no time of
 * its own), so a queued run writes the bytes a local one does: the file it was measured on is the
 * one of `bytes` bytes written before the record (a replaced file is newer and is measured again).
 */
interface VideoQualityRecord {
  /** The original it was made from (a changed original is transcoded again). */
  source: { bytes: number; mtimeMs: number };
  width: number;
  height: number;
  bytes: number;
  duration: number;
  psnr: number;
  ssim: number;
  mae: number;
  rmse: number;
}

/** One (cell, video) of the grid: what transcodeOne needs, as JSON (a queued job's data). */
interface TranscodeTask {
  /** The study's folder, absolute. */
  out: string;
  folder: string;
  rate: Cell['rate'];
  gop: number;
  source: Source;
  /** The original's region that is re-encoded and compared (absent: the whole picture). */
  region?: PictureRegion;
}

/** A JPEG cell's frames go into an MJPEG .avi (the study's decoders read it as they read the .mp4s). */
function cellFile(out: string, cell: Pick<Cell, 'rate' | 'folder'>, source: Source): string {
  const name = 'jpeg' in cell.rate ? source.name.replace(/\.mp4$/, '.avi') : source.name;
  return path.join(out, 'transcoded', cell.folder, name);
}

function targetOf(task: TranscodeTask): string {
  return cellFile(task.out, task, task.source);
}

function recordFileOf(task: TranscodeTask): string {
  return path.join(task.out, 'quality', task.folder, task.source.name.replace(/\.mp4$/, '.json'));
}

/** The record an earlier run left for `task`, when it still holds: same original, same file, measured after it was written. */
async function keptRecord(task: TranscodeTask): Promise<VideoQualityRecord | undefined> {
  const recordFile = recordFileOf(task);
  const record = await readJsonIfAny<VideoQualityRecord>(recordFile, infinityFromText); // absent or unreadable: measured again
  if (!record || record.source?.bytes !== task.source.bytes || record.source?.mtimeMs !== task.source.mtimeMs) return undefined;
  if (record.width !== task.source.width || record.height !== task.source.height) return undefined;
  const [file, written] = await Promise.all([fs.stat(targetOf(task)).catch(() => undefined), fs.stat(recordFile).catch(() => undefined)]);
  return file && written && file.size === record.bytes && file.mtimeMs <= written.mtimeMs ? record : undefined;
}

/**
 * The encode() options of a cell's file: x264 preset medium at the cell's rate and GOP, at the
 * capped size, one thread (the same bytes on every machine). bench/transcode encodes with them too.
 */
export function transcodeEncodeOptions(rate: { crf: number } | { qp: number }, gop: number, size: { width: number; height: number }, region?: PictureRegion): EncodeOptions {
  return { ...rate, gop, preset: TRANSCODE_PRESET, size: `${size.width}x${size.height}`, threads: 1, ...(region ? { region } : {}) };
}

/**
 * Transcodes one video for one cell (unless its file is there, made from the same original) and
 * measures it against the original; the record is written last. Run here or by a queue's worker.
 */
async function transcodeOne(task: TranscodeTask, onWarning: (message: string) => void): Promise<VideoQualityRecord> {
  const { source } = task;
  const target = targetOf(task);
  const recordFile = recordFileOf(task);
  const old = await readJsonIfAny<VideoQualityRecord>(recordFile, infinityFromText);
  // A file beside a record of another original was made from that one: made again.
  const changed = old !== undefined && (old.source?.bytes !== source.bytes || old.source?.mtimeMs !== source.mtimeMs);
  let stat = changed ? undefined : await fs.stat(target).catch(() => undefined);
  if (!stat) {
    await fs.mkdir(path.dirname(target), { recursive: true });
    if ('jpeg' in task.rate) await encodeJpeg(source.path, target, { q: task.rate.jpeg, size: `${source.width}x${source.height}`, ...(task.region ? { region: task.region } : {}), onWarning });
    else await encode(source.path, target, { ...transcodeEncodeOptions(task.rate, task.gop, source, task.region), onWarning });
    stat = await fs.stat(target);
  }
  const [quality, info] = await Promise.all([compareVideos({ reference: source.path, distorted: target, width: source.width, height: source.height, ...(task.region ? { referenceRegion: task.region } : {}), onWarning }), probe(target)]);
  const record: VideoQualityRecord = {
    source: { bytes: source.bytes, mtimeMs: source.mtimeMs },
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
  await writeFileAtomically(recordFile, recordText(record));
  return record;
}

const recordText = (record: VideoQualityRecord) => JSON.stringify(record, infinityAsText, 2) + '\n';

/** A queued (cell, video): the task with the coordinator's software versions. */
interface TranscodeJob {
  task: TranscodeTask;
  software: SoftwareVersions;
}

export const TRANSCODE_JOB = 'transcode-video';

/**
 * A worker's side of a queued (cell, video): transcodeOne into the coordinator's study folder;
 * the record goes back as its text (JSON has no Infinity, the text keeps it).
 */
export async function runTranscodeJob(data: unknown, warn: (message: string) => void): Promise<string> {
  const job = data as TranscodeJob;
  const t = job?.task;
  if (typeof t?.out !== 'string' || !path.isAbsolute(t.out) || typeof t.folder !== 'string' || typeof t.source?.path !== 'string' || !path.isAbsolute(t.source.path) || typeof t.rate !== 'object' || t.rate === null) {
    throw permanentFailure('not a transcode job (task with an absolute out and source path expected)');
  }
  assertSameVersions(job.software, { ...softwareVersions() });
  const folder = await fs.stat(path.join(t.out, 'transcoded')).catch(() => null);
  if (!folder?.isDirectory()) {
    throw permanentFailure(`${path.join(t.out, 'transcoded')} is not a folder on this machine: the study folder must be on a filesystem every worker mounts`);
  }
  return recordText(await transcodeOne(t, warn));
}

/** Hands `todo` to the job queue at `url` and waits for the workers; `finished` is told each outcome. */
async function transcodeOnQueue(
  url: string,
  out: string,
  todo: TranscodeTask[],
  attempts: number | undefined,
  warn: (m: string) => void,
  finished: (task: TranscodeTask, outcome: { record: VideoQualityRecord; reused: boolean } | { reason: string }) => void,
): Promise<void> {
  const software = softwareVersions();
  const byId = new Map<string, TranscodeTask>();
  const jobs = todo.map((task) => {
    if (!path.isAbsolute(task.source.path)) throw new MvclassError(`${task.source.path}: a queued video's path must be absolute (the workers run elsewhere)`, task.source.path);
    // The run, the video as it is now and every setting its file depends on.
    const id = `transcode-${createHash('sha1').update(JSON.stringify([out, task.folder, task.rate, task.gop, TRANSCODE_PRESET, task.source])).digest('hex').slice(0, 24)}`;
    byId.set(id, task);
    return { id, data: { task, software } satisfies TranscodeJob };
  });
  await runJobs<TranscodeJob, string>(url, `transcode ${out}`, TRANSCODE_JOB, jobs, {
    ...(attempts !== undefined ? { attempts } : {}),
    onResult: (id, text) => finished(byId.get(id)!, { record: JSON.parse(text, infinityFromText) as VideoQualityRecord, reused: false }),
    onFailure: (id, reason) => finished(byId.get(id)!, { reason }),
    onWarning: warn,
  });
}

function levels(values: readonly unknown[] | undefined, fallback: readonly number[], name: string, check: (v: unknown) => number): number[] {
  if (values === undefined) return [...fallback];
  if (!Array.isArray(values) || values.length === 0) throw invalid('a non-empty list of integers', name, values);
  const out = values.map(check);
  if (new Set(out).size !== out.length) throw new UsageError(`Expected distinct values for ${name} but received ${out.join(',')}`);
  return out;
}

/**
 * `warn` without FFmpeg 5.1's "mjpeg: EOI missing, emulating" about a JPEG cell's own files: its
 * mjpeg decoder says it of some well-formed JPEGs (ending in EOI) that its own encoder writes, the
 * ffmpeg CLI's alike (its scan parser stops a byte short of the EOI marker on them), and decodes the
 * whole picture all the same (libjpeg's luma of such a frame differs from FFmpeg's by at most one
 * level, IDCT rounding). Any other warning, and this one about any other file, is passed on.
 */
function withoutBenignJpegWarnings(warn: (message: string) => void): (message: string) => void {
  return (message) => {
    if (/[/\\]transcoded[/\\]jpeg-q\d+[/\\].*\.avi: mjpeg: EOI missing, emulating$/.test(message)) return;
    warn(message);
  };
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
  if ('jpeg' in rate) return `jpeg-q${rate.jpeg}`;
  return 'crf' in rate ? `crf${rate.crf}-gop${gop}` : `qp${rate.qp}-gop${gop}`;
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

export async function transcodeStudy(dataset: string, out: string, options: TranscodeStudyOptions = {}): Promise<TranscodeStudyResult> {
  if (options.qp !== undefined && options.crf !== undefined) throw new UsageError('Give either crf or qp levels, not both');
  const rate = (v: unknown, name: string) => integerInRange(v, name, 0, 51);
  const rates: Array<{ crf: number } | { qp: number }> =
    options.qp !== undefined
      ? levels(options.qp, [], 'qp', (v) => rate(v, 'qp')).map((qp) => ({ qp }))
      : levels(options.crf, DEFAULT_CRFS, 'crf', (v) => rate(v, 'crf')).map((crf) => ({ crf }));
  const gops = levels(options.gop, DEFAULT_GOPS, 'gop', (v) => nonNegativeInteger(v, 'gop'));
  const jpegs = options.jpeg === undefined ? [] : levels(options.jpeg, [], 'jpeg', (v) => jpegQuality(v, 'jpeg'));
  const shortSide = positiveInteger(options.shortSide ?? DEFAULT_SHORT_SIDE, 'shortSide');
  if (shortSide % 2 || shortSide < 16) throw invalid('an even integer of at least 16', 'shortSide', options.shortSide);
  const jobs = positiveInteger(options.jobs ?? os.availableParallelism(), 'jobs');
  const region = options.roi === undefined ? undefined : pictureRegion(options.roi, 'roi');
  const onWarning = withoutBenignJpegWarnings(options.onWarning ?? emitWarning);
  const accuracyModule = options.accuracy ? await import('./transcode-accuracy.js') : undefined;
  // Checked before anything is encoded: an unknown model is a usage error.
  const accuracy: AccuracySettings | undefined = options.accuracy ? accuracyModule!.accuracySettings(options.accuracy) : undefined;
  if (accuracy) await accuracyModule!.checkAccuracyDevice(accuracy);
  if (options.trainOn !== undefined && !accuracy) throw new UsageError('trainOn goes with accuracy (the models to train)');
  const trainOnModule = options.trainOn !== undefined ? await import('./transcode-train-on.js') : undefined;
  const trainOn = trainOnModule?.trainOnSettings(options.trainOn!, 'crf' in rates[0]! ? 'crf' : 'qp', rates.map((r) => ('crf' in r ? r.crf : r.qp)), gops);

  const data = await openDataset(dataset);
  if (data.items.length === 0) throw new MvclassError(`${data.root}: the dataset has no videos`, data.root);
  // A region per video: checked against the dataset before anything is written.
  const regionFile = await regionsOf(data, { ...(options.roi !== undefined ? { roi: options.roi } : {}), ...(options.roiFile !== undefined ? { roiFile: options.roiFile } : {}), ...(options.roiUnlisted !== undefined ? { roiUnlisted: options.roiUnlisted } : {}) });
  const regionOf = (video: string): PictureRegion | undefined => region ?? regionFile?.regions.get(video);
  await fs.mkdir(out, { recursive: true });

  // Transcoded files made at another short side are not this study's: refuse rather than mix.
  const settingsFile = path.join(out, 'transcoded', 'settings.json');
  const settings: { shortSide: number; preset: string; roi?: string; roiFile?: string } = {
    shortSide,
    preset: TRANSCODE_PRESET,
    ...(region ? { roi: regionText(region) } : {}),
    ...(regionFile ? { roiFile: regionFile.digest } : {}),
  };
  const saved = await readJsonFile<typeof settings>(settingsFile);
  if (saved !== undefined && (typeof saved !== 'object' || saved === null || typeof saved.shortSide !== 'number' || typeof saved.preset !== 'string')) {
    throw new MvclassError(`${settingsFile}: damaged, not the settings of a transcode study (a shortSide number and a preset name expected); remove it or use another folder`, settingsFile);
  }
  if (saved && (saved.shortSide !== settings.shortSide || saved.preset !== settings.preset || saved.roi !== settings.roi || saved.roiFile !== settings.roiFile)) {
    const what = (s: typeof settings) => `short side ${s.shortSide}, preset ${s.preset}${s.roi !== undefined ? `, region ${s.roi}` : ''}${s.roiFile !== undefined ? `, the regions of digest ${s.roiFile}` : ''}`;
    throw new MvclassError(`${settingsFile}: ${out} holds videos transcoded at ${what(saved)}; this study asks for ${what(settings)}: use another output folder`, settingsFile);
  }
  await fs.mkdir(path.dirname(settingsFile), { recursive: true });
  if (!saved) await writeFileAtomically(settingsFile, JSON.stringify(settings, null, 2) + '\n');

  const names = new Map<string, string>();
  // Indexed as the dataset's items; a hole where a video could not be read.
  const sources: Array<Source | undefined> = [];
  const failed: TranscodeStudyResult['failed'] = data.missing.map((m) => ({ path: m.path, reason: m.reason }));
  await forEachLimit(
    data.items.map((item, index) => ({ item, index })),
    jobs,
    async ({ item, index }) => {
      const name = outputName(data.root, item.path, index);
      const other = names.get(name);
      if (other) throw new MvclassError(`${item.path}: its outputs would have the same name as those of ${other} (${name})`, item.path);
      names.set(name, item.path);
      let info: Awaited<ReturnType<typeof probe>>;
      let stat: Stats;
      try {
        [info, stat] = await Promise.all([probe(item.path), fs.stat(item.path)]);
        if (!(info.duration > 0)) throw new MvclassError(`${item.path}: no duration, so no bitrate`, item.path);
      } catch (error) {
        // A video that cannot be read is listed among the failures; the study goes on without it.
        failed.push({ path: item.path, reason: error instanceof Error ? error.message : String(error) });
        return;
      }
      const own = regionOf(item.path);
      if (own) assertRegionFits(own, info.width, info.height, item.path);
      const size = own ? cappedSize(own.width, own.height, shortSide) : cappedSize(info.width, info.height, shortSide);
      if (size.width < 16 || size.height < 16) {
        throw new MvclassError(`${item.path}: ${info.width}x${info.height} is too small to compare (SSIM needs at least 16x16)`, item.path);
      }
      sources[index] = { path: item.path, name, bytes: stat.size, mtimeMs: stat.mtimeMs, duration: info.duration, ...size };
    },
  );

  const h264Cells: Cell[] = rates.flatMap((r) => gops.map((gop) => ({ rate: r, gop, folder: cellFolder(r, gop) })));
  const jpegCells: Cell[] = jpegs.map((q) => ({ rate: { jpeg: q }, gop: 1, folder: cellFolder({ jpeg: q }, 1) }));
  // The JPEG cells after the H.264 ones: a failure's "first cell in grid order" is an H.264 cell's when both fail.
  const cells: Cell[] = [...h264Cells, ...jpegCells];
  const root = path.resolve(out);
  // Each video's task carries its region (one for all, its own from a region file, or none).
  const withRegion = (source: Source) => {
    const own = regionOf(source.path);
    return own ? { source, region: own } : { source };
  };
  const tasks: TranscodeTask[] = cells.flatMap((cell) => sources.filter((s) => s !== undefined).map((s) => ({ out: root, folder: cell.folder, rate: cell.rate, gop: cell.gop, ...withRegion(s) })));
  const records = new Map<string, VideoQualityRecord>();
  // A (cell, video) that failed, by video: the first cell's reason in grid order.
  const cellFailures = new Map<string, Array<{ cell: number; reason: string }>>();
  const cellIndex = new Map(cells.map((c, i) => [c.folder, i]));
  const key = (t: TranscodeTask) => `${t.folder}\n${t.source.name}`;
  let done = 0;
  const finished = (task: TranscodeTask, outcome: { record: VideoQualityRecord; reused: boolean } | { reason: string }) => {
    if ('record' in outcome) records.set(key(task), outcome.record);
    else {
      const list = cellFailures.get(task.source.path) ?? [];
      list.push({ cell: cellIndex.get(task.folder)!, reason: `${task.folder}: ${outcome.reason}` });
      cellFailures.set(task.source.path, list);
    }
    options.onProgress?.(++done, tasks.length, 'record' in outcome && outcome.reused);
  };
  // What an earlier run left complete is taken as it is, here; the rest is made here or on the queue's workers.
  const todo: TranscodeTask[] = [];
  const earlier: Array<VideoQualityRecord | undefined> = [];
  await forEachLimit(tasks.map((task, i) => ({ task, i })), 16, async ({ task, i }) => {
    earlier[i] = await keptRecord(task);
  });
  tasks.forEach((task, i) => (earlier[i] ? finished(task, { record: earlier[i], reused: true }) : todo.push(task)));
  if (options.queue !== undefined) {
    await transcodeOnQueue(options.queue, root, todo, options.attempts, onWarning, finished);
  } else {
    await forEachLimit(todo, jobs, async (task) => {
      let outcome: { record: VideoQualityRecord; reused: boolean } | { reason: string };
      try {
        outcome = { record: await transcodeOne(task, onWarning), reused: false };
      } catch (error) {
        outcome = { reason: error instanceof Error ? error.message : String(error) };
      }
      finished(task, outcome); // outside the try: a progress callback that throws stops the run
    });
  }
  // A writer killed in the middle (a worker's SIGKILL, a Ctrl-C of an earlier run) left its
  // temporary file beside the output: removed, now that every (cell, video) is done.
  await forEachLimit([...new Set(tasks.flatMap((t) => [path.dirname(targetOf(t)), path.dirname(recordFileOf(t))]))], 16, async (dir) => {
    await removeTemporaries(dir);
  });
  for (const [file, list] of cellFailures) failed.push({ path: file, reason: list.sort((a, b) => a.cell - b.cell)[0]!.reason });
  failed.sort((a, b) => a.path.localeCompare(b.path));
  // Every cell averages the same videos: one that failed anywhere is left out of all.
  const kept = sources.filter((s): s is Source => s !== undefined && !cellFailures.has(s.path));
  if (kept.length === 0) throw new MvclassError(`${data.root}: no video could be transcoded: ${failed.map((f) => `${f.path}: ${f.reason}`).join('; ')}`, data.root);

  /** A cell's totals and means over the kept videos (the same for H.264 and JPEG cells). */
  const cellMeans = (cell: Cell) => {
    const rs = kept.map((s) => records.get(`${cell.folder}\n${s.name}`)!);
    return {
      videos: rs.length,
      bytes: rs.reduce((s, r) => s + r.bytes, 0),
      kbps: mean(rs.map((r) => (r.bytes * 8) / r.duration / 1000)),
      psnr: mean(rs.map((r) => r.psnr)),
      ssim: mean(rs.map((r) => r.ssim)),
      mae: mean(rs.map((r) => r.mae)),
      rmse: mean(rs.map((r) => r.rmse)),
    };
  };
  const result: TranscodeStudyResult = {
    dataset: data.root,
    shortSide,
    preset: TRANSCODE_PRESET,
    ...(region ? { roi: regionText(region) } : {}),
    ...(regionFile ? { roiFile: options.roiFile! } : {}),
    cells: h264Cells.map((cell) => ({ ...(cell.rate as { crf: number } | { qp: number }), gop: cell.gop, ...cellMeans(cell) })),
    ...(jpegCells.length > 0 ? { jpeg: jpegCells.map((cell) => ({ q: (cell.rate as { jpeg: number }).jpeg, ...cellMeans(cell) })) } : {}),
    original: {
      videos: kept.length,
      bytes: kept.reduce((s, v) => s + v.bytes, 0),
      kbps: mean(kept.map((v) => (v.bytes * 8) / v.duration / 1000)),
    },
    failed,
  };
  if (accuracy) {
    if (failed.length > 0) {
      throw new MvclassError(`${data.root}: ${failed.length} video(s) could not be transcoded, and the accuracy study needs every video in every cell: ${failed.map((f) => `${f.path}: ${f.reason}`).join('; ')}`, data.root);
    }
    const pixelModels = accuracy.models.filter((m) => modelFamily(m) === 'pixel');
    const measured = await accuracyModule!.transcodeAccuracy(
      data,
      kept,
      [
        ...h264Cells.map((cell) => ({ folder: cell.folder, files: kept.map((s) => cellFile(out, cell, s)) })),
        // JPEG frames carry no motion vectors: only the pixel networks are tested on them.
        ...(pixelModels.length > 0 ? jpegCells.map((cell) => ({ folder: cell.folder, files: kept.map((s) => cellFile(out, cell, s)), models: pixelModels, noMotion: true })) : []),
      ],
      out,
      accuracy,
      jobs,
      onWarning,
      {
        ...(options.queue !== undefined ? { queue: { url: options.queue, attempts: options.attempts } } : {}),
        ...(region ? { roi: regionText(region) } : {}),
        ...(regionFile ? { roiFile: options.roiFile!, ...(options.roiUnlisted !== undefined ? { roiUnlisted: options.roiUnlisted } : {}) } : {}),
      },
    );
    result.original.accuracy = measured.original;
    result.cells.forEach((c, i) => (c.accuracy = measured.cells.get(h264Cells[i]!.folder)!));
    result.jpeg?.forEach((c, i) => (c.accuracy = measured.cells.get(jpegCells[i]!.folder) ?? {}));
    await writeAccuracyTables(out, result, accuracy.models);
    if (trainOn) {
      const chosen = trainOn.levels.map((level) => h264Cells.findIndex((c) => ('crf' in c.rate ? c.rate.crf : 'qp' in c.rate ? c.rate.qp : undefined) === level && c.gop === trainOn.gop));
      const measured = await trainOnModule!.transcodeTrainOn(out, chosen.map((i) => h264Cells[i]!.folder), accuracy);
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
    // JPEG cells: no rate level or GOP; the MV networks cannot read them (no motion vectors), said as such.
    ...(result.jpeg ?? []).map((c): TableCell[] => [`jpeg-q${c.q}`, null, null, c.bytes, c.kbps, c.ssim, ...models.map((m) => (modelFamily(m) === 'mv' ? NO_MOTION_VECTORS : pct(c.accuracy, m)))]),
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
