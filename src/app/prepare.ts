// prepare: a dataset turned into a cache of motion grids, key frames, frame bits and rates.
// Each video is processed on its own (in parallel, `jobs` at a time) into a part file written
// atomically, so a killed run resumes where it stopped; the parts are then assembled in dataset
// order into shards, so the result is the same bytes however the work was scheduled.

import { createHash } from 'node:crypto';
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VideoCodec } from '../codec/encode.js';
import { codecAddon, packageRoot } from '../codec/native.js';
import { ingestVideo, type IngestResult } from '../ingest/ingest.js';
import { profileOfCache } from '../ingest/profile.js';
import type { DatasetItem, VideoDataset } from '../datasets/types.js';
import { writeAtomically, writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { frameSize, integerInRange, positiveInteger } from '../util/validate.js';
import { CACHE_FORMAT, CACHE_VERSION, SHARD_BYTES, type CacheManifest, type CacheSettings, type CachedVideo } from '../cache/format.js';
import { PAPER_PROFILE, PAPER_QP } from '../ingest/profile.js';

export interface PrepareOptions {
  codec?: VideoCodec;
  /** Encode at this fixed QP (default 30, the paper's setting), or at `crf`. */
  qp?: number;
  crf?: number;
  /** Keep each input bitstream as it is (no re-encoding). */
  asIs?: boolean;
  size?: string;
  fps?: number;
  /** Key frame size "WxH" (the spatial network's input; default 112x112). */
  keySize?: string;
  jobs?: number;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
  /** Told the result when this preparation is complete (with several QPs: each one's). */
  onDone?: (result: PrepareResult) => void;
}

export interface PrepareResult {
  out: string;
  videos: number;
  failed: Array<{ path: string; reason: string }>;
  skipped: number;
}

type Part = Omit<CachedVideo, 'motion' | 'keyFrame'> & { keyFrame: { width: number; height: number; index: number } | null };

function settingsOf(options: PrepareOptions): CacheSettings {
  const asIs = options.asIs ?? false;
  if (options.qp !== undefined && options.crf !== undefined) throw new MvclassError('Give either qp or crf, not both');
  const codec = options.codec ?? PAPER_PROFILE.codec;
  const keySize = options.keySize ?? '112x112';
  frameSize(keySize, 'key-size');
  return {
    codec,
    qp: asIs ? null : options.crf !== undefined ? null : integerInRange(options.qp ?? PAPER_QP, 'qp', 0, 51),
    crf: asIs || options.crf === undefined ? null : integerInRange(options.crf, 'crf', 0, 51),
    asIs,
    size: asIs ? null : (frameSize(options.size ?? PAPER_PROFILE.size, 'size'), options.size ?? PAPER_PROFILE.size),
    fps: asIs ? null : positiveInteger(options.fps ?? PAPER_PROFILE.fps, 'fps'),
    grid: 8,
    keySize,
  };
}

function videoId(item: DatasetItem): string {
  return createHash('sha1').update(item.path).digest('hex').slice(0, 16);
}

async function prepareVideo(item: DatasetItem, settings: CacheSettings, partsDir: string, warn: (m: string) => void): Promise<void> {
  const id = videoId(item);
  const work = path.join(partsDir, `${id}.work`);
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work);
  try {
    const motion = await fs.open(path.join(partsDir, `${id}.motion`), 'w');
    let ingested: IngestResult;
    try {
      const profile = profileOfCache(settings);
      ingested = await ingestVideo(item.path, {
        ...(profile ? { profile } : {}),
        // The Multi-CNN needs the cropped stream's sizes: written for H.264 without B-frames (an
        // HEVC encoding's are the encoder's estimate); an as-is stream that cannot be cropped has none.
        crop: 'auto',
        grid: settings.grid,
        onGrids: async (g) => {
          await motion.write(new Uint8Array(g.data.buffer, g.data.byteOffset, g.data.byteLength));
        },
        keyFrame: frameSize(settings.keySize, 'key-size'),
        workDir: work,
        onWarning: warn,
      });
    } finally {
      await motion.close();
    }
    const decoded = ingested.decoded!;
    const frames = decoded.frameTypes.length;
    if (frames === 0) throw new MvclassError(`${item.path}: no frames decoded`, item.path);
    if (decoded.keyFrame) await fs.writeFile(path.join(partsDir, `${id}.key`), decoded.keyFrame.data);
    const r = ingested.rates;
    const fps = decoded.stream?.fps ?? 0;
    const part: Part = {
      id,
      path: item.path,
      label: item.label,
      className: item.className,
      split: item.split,
      frames,
      rows: decoded.rows,
      cols: decoded.cols,
      fps,
      duration: fps > 0 ? frames / fps : 0,
      frameTypes: decoded.frameTypes,
      frameBits: decoded.frameBits,
      keyFrame: decoded.keyFrame ? { width: decoded.keyFrame.width, height: decoded.keyFrame.height, index: decoded.keyFrame.index } : null,
      rates: { rOrig: r.rOrig, rCropped: r.rCropped, rCroppedEncoder: settings.asIs ? null : r.rCroppedEncoder, rMotion: settings.asIs ? null : r.rMotion },
      cropped: ingested.cropped,
    };
    // The JSON goes last: its presence marks the part as complete.
    await writeFileAtomically(path.join(partsDir, `${id}.json`), JSON.stringify(part));
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function assemble(out: string, partsDir: string, dataset: VideoDataset, settings: CacheSettings, failed: PrepareResult['failed']): Promise<number> {
  const videos: CachedVideo[] = [];
  const shards: string[] = [];
  // One rolling writer per kind of data: motion-NNN.bin and keys-NNN.bin.
  const writer = (prefix: string) => {
    let index = -1;
    let offset = SHARD_BYTES;
    let handle: fs.FileHandle | undefined;
    let name = '';
    return {
      async append(bytes: Uint8Array): Promise<{ shard: string; offset: number; bytes: number }> {
        if (offset + bytes.length > SHARD_BYTES && offset > 0) {
          await handle?.close();
          name = `${prefix}-${String(++index).padStart(3, '0')}.bin`;
          shards.push(name);
          handle = await fs.open(path.join(out, name), 'w');
          offset = 0;
        }
        await handle!.write(bytes);
        const range = { shard: name, offset, bytes: bytes.length };
        offset += bytes.length;
        return range;
      },
      close: async () => handle?.close(),
    };
  };
  const motionShards = writer('motion');
  const keyShards = writer('keys');
  try {
    for (const item of dataset.items) {
      const id = videoId(item);
      const json = await fs.readFile(path.join(partsDir, `${id}.json`), 'utf8').catch(() => null);
      if (json === null) continue;
      const part = JSON.parse(json) as Part;
      const motion = await motionShards.append(await fs.readFile(path.join(partsDir, `${id}.motion`)));
      const keyFrame = part.keyFrame ? { ...part.keyFrame, ...(await keyShards.append(await fs.readFile(path.join(partsDir, `${id}.key`)))) } : null;
      videos.push({ ...part, motion, keyFrame });
    }
  } finally {
    await motionShards.close();
    await keyShards.close();
  }
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  const manifest: CacheManifest = {
    format: CACHE_FORMAT,
    version: CACHE_VERSION,
    software: { mvclass: pkg.version, ffmpeg: codecAddon().ffmpegVersion },
    settings,
    dataset: { kind: dataset.kind, root: dataset.root, classes: dataset.classes },
    shards: [...shards].sort(),
    videos,
    failed: [...failed].sort((a, b) => a.path.localeCompare(b.path)),
  };
  await fs.writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  return videos.length;
}

/** Prepares `dataset` into the cache folder `out` (replaced only when complete). */
export async function prepareDataset(dataset: VideoDataset, out: string, options: PrepareOptions = {}): Promise<PrepareResult> {
  const settings = settingsOf(options);
  // One more than the cores: a job waiting on its file or on JavaScript leaves no core idle.
  const jobs = positiveInteger(options.jobs ?? os.cpus().length + 1, 'jobs');
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'MvclassWarning'));
  // Parts live beside the output, keyed by the settings, so a rerun with other settings starts afresh.
  const settingsKey = createHash('sha1').update(JSON.stringify(settings)).digest('hex').slice(0, 10);
  const partsDir = path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.parts-${settingsKey}`);
  await fs.mkdir(partsDir, { recursive: true });
  const failed: PrepareResult['failed'] = dataset.missing.map((m) => ({ path: m.path, reason: m.reason }));
  const items = dataset.items;
  let skipped = 0;
  const todo: DatasetItem[] = [];
  for (const item of items) {
    if (await fs.stat(path.join(partsDir, `${videoId(item)}.json`)).catch(() => null)) skipped++;
    else todo.push(item);
  }
  let done = skipped;
  options.onProgress?.(done, items.length);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const item = todo[next++]!;
      try {
        await prepareVideo(item, settings, partsDir, warn);
      } catch (error) {
        failed.push({ path: item.path, reason: error instanceof Error ? error.message : String(error) });
      }
      options.onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(todo.length, 1)) }, worker));
  const videos = await writeAtomically(out, async (dir) => {
    await fs.mkdir(dir);
    return assemble(dir, partsDir, dataset, settings, failed);
  });
  await fs.rm(partsDir, { recursive: true, force: true });
  const result = { out, videos, failed, skipped };
  options.onDone?.(result);
  return result;
}

/** The folder of one QP's output among several: <out>/qpNN (prepare with several QPs, the sweep). */
export function qpFolder(out: string, qp: number): string {
  return path.join(out, `qp${qp}`);
}

/**
 * Prepares the dataset once per QP: into `out` itself for a single QP (or none: the default or
 * `crf`), else into qpFolder(out, qp) each. `optionsFor` gives each QP's options (progress
 * reporting); the QP is set here.
 */
export async function prepareDatasetAtQps(dataset: VideoDataset, out: string, qps: number[] | undefined, optionsFor: (qp: number | undefined) => PrepareOptions): Promise<PrepareResult[]> {
  const list: Array<number | undefined> = qps && qps.length > 0 ? qps : [undefined];
  const results: PrepareResult[] = [];
  for (const qp of list) {
    const target = list.length > 1 ? qpFolder(out, qp!) : out;
    results.push(await prepareDataset(dataset, target, { ...optionsFor(qp), ...(qp !== undefined ? { qp } : {}) }));
  }
  return results;
}
