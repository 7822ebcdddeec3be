// extract on a folder: every video under it, each written as `extractMotion` writes one video
// (an .npy bundle, a CSV or a JSON file), into the same tree under `out`. Videos run in parallel
// (`jobs` at a time) in this process, or on the workers of a job queue (`queue`); each output is
// written atomically by the same function either way, so the files are the same bytes.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { softwareVersions, type SoftwareVersions } from '../codec/native.js';
import type { GridUnits } from '../codec/decode.js';
import { videosUnder } from '../datasets/files.js';
import { extractMotion, EXTRACT_FORMATS, type ExtractFormat } from '../export/extract.js';
import type { MotionSummary } from '../export/stats.js';
import { assertSameVersions, permanentFailure, runJobs } from '../queue/queue.js';
import { removeTemporaries } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { forEachLimit } from '../util/pool.js';
import { oneOf, positiveInteger } from '../util/validate.js';

export interface ExtractFolderOptions {
  format?: ExtractFormat;
  grid?: number;
  units?: GridUnits;
  keyFrames?: boolean;
  keyFrameWidth?: number;
  keyFrameHeight?: number;
  /** Videos at once in this process (default: cores + 1). */
  jobs?: number;
  /** Hand the videos to the workers of this job queue (a Redis URL) instead. */
  queue?: string;
  /** With `queue`: tries per video (default 3). */
  attempts?: number;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

export interface ExtractFolderResult {
  folder: string;
  out: string;
  format: ExtractFormat;
  videos: Array<{ path: string; out: string; frames: number; vectors: number }>;
  failed: Array<{ path: string; reason: string }>;
}

/** The settings every video of a folder is extracted with: a job carries them. */
interface ExtractSettings {
  format: ExtractFormat;
  grid: number;
  units: GridUnits;
  keyFrames: boolean;
  keyFrameWidth: number;
  keyFrameHeight: number;
}

/** One video's job: where it is, where its output goes, how, and by which versions. */
interface ExtractJob {
  video: string;
  out: string;
  settings: ExtractSettings;
  software: SoftwareVersions;
}

export const EXTRACT_JOB = 'extract-video';

/** Where a video's output goes: its place in the tree under `out`, named as for one video. */
export function outputOf(folder: string, out: string, video: string, format: ExtractFormat): string {
  const relative = path.relative(folder, video);
  const name = path.basename(relative, path.extname(relative));
  return path.join(out, path.dirname(relative), `${name}.${format === 'npy' ? 'mv' : format}`);
}

async function extractOne(job: ExtractJob, onWarning?: (m: string) => void): Promise<MotionSummary> {
  await fs.mkdir(path.dirname(job.out), { recursive: true });
  const s = job.settings;
  const result = await extractMotion(job.video, {
    format: s.format,
    out: job.out,
    grid: s.grid,
    units: s.units,
    keyFrames: s.keyFrames,
    keyFrameWidth: s.keyFrameWidth,
    keyFrameHeight: s.keyFrameHeight,
    ...(onWarning ? { onWarning } : {}),
  });
  return result.summary;
}

/** Extracts every video under `folder` into the same tree under `out`. */
export async function extractFolder(folder: string, out: string, options: ExtractFolderOptions = {}): Promise<ExtractFolderResult> {
  const settings: ExtractSettings = {
    format: oneOf(options.format ?? 'npy', 'format', EXTRACT_FORMATS),
    grid: positiveInteger(options.grid ?? 8, 'grid'),
    units: oneOf(options.units ?? 'pixels', 'units', ['pixels', 'quarter-pel'] as const),
    keyFrames: options.keyFrames ?? true,
    keyFrameWidth: options.keyFrameWidth ?? 0,
    keyFrameHeight: options.keyFrameHeight ?? 0,
  };
  const jobs = positiveInteger(options.jobs ?? os.cpus().length + 1, 'jobs');
  const root = path.resolve(folder);
  const target = path.resolve(out);
  if (target === root || target.startsWith(root + path.sep)) throw new MvclassError(`${out}: the output folder must not be inside ${folder}, whose videos are read`, out);
  const videos = await videosUnder(root);
  // Each video's output, worked out once; two videos may not share one.
  const outputs = new Map<string, string>();
  const writers = new Map<string, string>();
  for (const video of videos) {
    const o = outputOf(root, target, video, settings.format);
    const other = writers.get(o);
    if (other !== undefined) throw new MvclassError(`${video} and ${other} would both be written to ${o}: rename one`, video);
    writers.set(o, video);
    outputs.set(video, o);
  }
  const software = softwareVersions();
  const done: ExtractFolderResult['videos'] = [];
  const failed: ExtractFolderResult['failed'] = [];
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'MvclassWarning'));
  let finished = 0;
  const report = (video: string, summary: MotionSummary | null, reason?: string) => {
    if (summary) done.push({ path: video, out: outputs.get(video)!, frames: summary.frames, vectors: summary.vectors });
    else failed.push({ path: video, reason: reason ?? 'failed' });
    options.onProgress?.(++finished, videos.length);
  };
  options.onProgress?.(0, videos.length);
  const jobOf = (video: string): ExtractJob => ({ video, out: outputs.get(video)!, settings, software });
  if (options.queue) {
    const run = `extract ${target}`;
    const byId = new Map<string, string>();
    const queued = [];
    for (const video of videos) {
      const stat = await fs.stat(video);
      const id = `extract-${createHash('sha1').update(JSON.stringify([target, video, stat.size, stat.mtimeMs, settings])).digest('hex').slice(0, 24)}`;
      byId.set(id, video);
      queued.push({ id, data: jobOf(video) });
    }
    await runJobs<ExtractJob, MotionSummary>(options.queue, run, EXTRACT_JOB, queued, {
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      onResult: (id, summary) => report(byId.get(id)!, summary),
      onFailure: (id, reason) => report(byId.get(id)!, null, reason),
      onWarning: warn,
    });
  } else {
    await forEachLimit(videos, jobs, async (video) => {
      let summary: MotionSummary | null = null;
      let reason: string | undefined;
      try {
        summary = await extractOne(jobOf(video), warn);
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
      report(video, summary, reason); // outside the try: a progress callback that throws stops the run
    });
  }
  // A writer killed in the middle (a worker's SIGKILL, a Ctrl-C of an earlier run) left its
  // temporary output beside the video's: removed, now that every video is done.
  await forEachLimit([...new Set([...outputs.values()].map((o) => path.dirname(o)))], 16, async (dir) => {
    await removeTemporaries(dir);
  });
  const order = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { folder: root, out: target, format: settings.format, videos: done.sort(order), failed: failed.sort(order) };
}

/** A worker's side of an extract job; its warnings go back to the coordinator. */
export async function runExtractJob(data: unknown, warn: (message: string) => void): Promise<MotionSummary> {
  const job = data as ExtractJob;
  if (typeof job?.video !== 'string' || typeof job.out !== 'string' || typeof job.settings !== 'object' || !path.isAbsolute(job.video) || !path.isAbsolute(job.out)) {
    throw permanentFailure('not an extract job (video, out and settings expected, the paths absolute)');
  }
  assertSameVersions(job.software, { ...softwareVersions() });
  return extractOne(job, warn);
}
