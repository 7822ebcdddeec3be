// prepare: a dataset turned into a cache of motion grids, key frames, frame bits and rates.
//
// Incremental. Preparing into a folder that already holds a cache reuses it. When that cache opens
// (PreparedCache.open checks its manifest: untrusted input, like any cache's) and was made with the
// same settings (every CacheSettings field equal) by the same mvclass and FFmpeg versions, each
// dataset item whose path, size and modification time equal a cached video's (its `source`, see
// cache/format.ts) is copied from the old shards instead of being ingested again; only new or
// changed items go through ingestVideo, and so do those that failed before (a rerun retries them).
// Videos no longer in the dataset are left out. Label, class and split always come from the
// dataset as it is now (adding videos may move the seeded split). Other settings, another version,
// an older cache without `source` or a damaged one (a warning says why) prepare every video.
//
// Resumable. Each video to ingest is processed on its own (in parallel, `jobs` at a time) into a
// part file under .<out>.parts-<settings hash>/ beside the output, written atomically, its JSON
// last and stamped with the input's size and mtime, so a killed run resumes where it stopped (a
// part whose input has changed since is made again).
//
// Same bytes. The videos are then laid out in dataset order, each from the old cache or from its
// part, in shards rolled at SHARD_BYTES (or `shardBytes`), and written with the manifest last into a temporary
// folder that replaces `out` only when complete (the old cache is read until then); the parts are
// removed after. A video's bytes and manifest entry do not depend on where they came from or on
// how the work was scheduled, so an incremental run writes the same bytes, manifest included, as
// a fresh run on the same dataset. When `out` already holds exactly those bytes (an unchanged
// dataset: the same manifest text, every video at its place, the same shards at their sizes and
// nothing else in the folder) nothing is written at all.
//
// Regions. With `roi` every picture is cut to one region before it is encoded; with `roiFile`
// each video to its own (config/regions.ts: the file is checked against the dataset first). The
// regions' digest is a setting (`roiFile`), so parts and reuse are keyed by it, and each video's
// region is recorded in its entry (`roi`).
//
// Distributed. With `queue` (a Redis URL) the videos to ingest become jobs of the job queue
// (src/queue) instead of running here: workers on any machine (app/worker.ts, `mvclass worker`)
// run the same prepareVideo into the same parts folder, which must therefore be on a filesystem
// every worker mounts; this process waits for them, then lays out and writes the cache as above,
// so the bytes are those of a single-process run. A job's id names the parts folder (the output
// and the settings), the video and its stamp: a coordinator started again adds nothing twice.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VideoCodec } from '../codec/encode.js';
import { softwareVersions, type SoftwareVersions } from '../codec/native.js';
import { assertSameVersions, permanentFailure, runJobs } from '../queue/queue.js';
import { ingestVideo, type IngestResult } from '../ingest/ingest.js';
import { PAPER_PROFILE, PAPER_QP, profileOfCache } from '../ingest/profile.js';
import type { DatasetItem, VideoDataset } from '../datasets/types.js';
import { PreparedCache } from '../cache/read.js';
import { writeAtomically, writeFileAtomically } from '../util/atomic.js';
import { forEachLimit } from '../util/pool.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { frameSize, integerInRange, oneOf, positiveInteger } from '../util/validate.js';
import { datasetRegions, sharedRegionSize, UNLISTED_CHOICES, type DatasetRegions, type UnlistedVideos } from '../config/regions.js';
import { clipFrames, clipShortSide } from '../codec/clips.js';
import { pictureRegion, regionText, type PictureRegion } from '../codec/region.js';
import { CACHE_FORMAT, CACHE_VERSION, SHARD_BYTES, type ByteRange, type CacheManifest, type CacheSettings, type CachedVideo, type SourceStamp } from '../cache/format.js';

export interface PrepareOptions {
  codec?: VideoCodec;
  /** Encode at this fixed QP (default 30, the paper's setting), or at `crf`. */
  qp?: number;
  crf?: number;
  /** Keep each input bitstream as it is (no re-encoding). */
  asIs?: boolean;
  /** With asIs: read streams that carry no motion vectors (MJPEG: study transcode's JPEG cells) for
   * their pictures alone; their grids are all holes, so only the pixel networks can use the cache. */
  noMotion?: boolean;
  /** Re-encode only this region of each picture, "x,y,w,h" (codec/region.ts); `size` defaults to the region's. */
  roi?: string | PictureRegion;
  /** Re-encode each video from its own region, as this region file lists them (config/regions.ts);
   * `size` defaults to the regions' when they all have one. Not with `roi`. */
  roiFile?: string;
  /** With `roiFile`: the videos it does not list are refused ('refuse', the default) or keep their whole picture ('full'). */
  roiUnlisted?: UnlistedVideos;
  size?: string;
  fps?: number;
  /** Key frame size "WxH" (the spatial network's input; default 112x112). */
  keySize?: string;
  /** Also store a decoded-frame clip of this many frames per video (codec/clips.ts); default none. */
  rgb?: number;
  /** The clips' short side in pixels, even (default 128); only with rgb. */
  shortSide?: number;
  jobs?: number;
  /** Largest shard in bytes (default SHARD_BYTES, 512 MiB); a video larger than this has a shard of its own. */
  shardBytes?: number;
  /** Ingest the videos on the workers of this job queue (a Redis URL) instead of in this process;
   * `out` must be on a filesystem every worker mounts (docs/scale-out.md). */
  queue?: string;
  /** With `queue`: tries per video before it is listed as failed (default 3). */
  attempts?: number;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
  /** Told the result when this preparation is complete (with several QPs: each one's). */
  onDone?: (result: PrepareResult) => void;
}

export interface PrepareResult {
  out: string;
  /** Videos in the cache: prepared + skipped. */
  videos: number;
  failed: Array<{ path: string; reason: string }>;
  /** Videos this run ingested. */
  prepared: number;
  /** Videos taken from earlier runs instead of being ingested: `reused` from the cache that was in
   * `out`, the others from the parts a killed run left. */
  skipped: number;
  reused: number;
}

/** What ingesting a video measured: the fields of its cache entry that come from the video itself. */
type Measured = Pick<CachedVideo, 'frames' | 'rows' | 'cols' | 'fps' | 'duration' | 'frameTypes' | 'frameBits' | 'rates' | 'cropped' | 'roi'> & {
  keyFrame: { width: number; height: number; index: number } | null;
  /** Absent without clips. */
  clip?: { frames: number; height: number; width: number } | undefined;
};

/** A part's JSON: the input as it was when read, and what was measured. */
type Part = Measured & { path: string; source: SourceStamp | null };

/** The input's size and modification time now; null when it is not a file that can be stat'ed. */
async function stampOf(file: string): Promise<SourceStamp | null> {
  const stat = await fs.stat(file).catch(() => null);
  return stat?.isFile() ? { size: stat.size, mtimeMs: stat.mtimeMs } : null;
}

function sameStamp(a: SourceStamp | null | undefined, b: SourceStamp | null): boolean {
  return !!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function sameSettings(a: CacheSettings, b: CacheSettings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof CacheSettings>;
  return [...keys].every((k) => a[k] === b[k]);
}

/**
 * The cache in `out` when its videos may be reused: it opens (every manifest field checked) and
 * was made with `settings` by `software`. Otherwise null; a cache that is there but does not open
 * is named in a warning.
 */
async function reusableCache(out: string, settings: CacheSettings, software: CacheManifest['software'], warn: (m: string) => void): Promise<PreparedCache | null> {
  if (!(await fs.lstat(path.join(out, 'manifest.json')).catch(() => null))) return null; // nothing there: a first run
  let cache: PreparedCache;
  try {
    cache = await PreparedCache.open(out);
  } catch (error) {
    warn(`${out}: the cache there is not reused, every video is prepared again: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
  const m = cache.manifest;
  if (sameSettings(m.settings, settings) && m.software.mvclass === software.mvclass && m.software.ffmpeg === software.ffmpeg) return cache;
  await cache.close();
  return null;
}

/**
 * A video's manifest entry, the same however it was obtained: the dataset item (as it is now),
 * the input's stamp, what was measured and where its bytes went. Every object is built here, key
 * by key, so that an entry copied from an old cache serialises exactly as a freshly made one.
 */
function entryOf(item: DatasetItem, source: SourceStamp | null, m: Measured, motion: ByteRange, key: ByteRange | null, frames: ByteRange | null): CachedVideo {
  const c = m.cropped;
  return {
    id: videoId(item),
    path: item.path,
    label: item.label,
    className: item.className,
    split: item.split,
    frames: m.frames,
    rows: m.rows,
    cols: m.cols,
    fps: m.fps,
    duration: m.duration,
    frameTypes: m.frameTypes,
    frameBits: m.frameBits,
    keyFrame: m.keyFrame && key ? { width: m.keyFrame.width, height: m.keyFrame.height, index: m.keyFrame.index, shard: key.shard, offset: key.offset, bytes: key.bytes } : null,
    ...(m.clip && frames ? { clip: { shard: frames.shard, offset: frames.offset, bytes: frames.bytes, frames: m.clip.frames, height: m.clip.height, width: m.clip.width } } : {}),
    rates: { rOrig: m.rates.rOrig, rCropped: m.rates.rCropped, rCroppedEncoder: m.rates.rCroppedEncoder, rMotion: m.rates.rMotion },
    cropped: c ? { frameBits: c.frameBits, kinds: c.kinds, parameterSetBits: c.parameterSetBits, ...(c.estimated !== undefined ? { estimated: c.estimated } : {}) } : null,
    motion: { shard: motion.shard, offset: motion.offset, bytes: motion.bytes },
    ...(source ? { source: { size: source.size, mtimeMs: source.mtimeMs } } : {}),
    ...(m.roi !== undefined ? { roi: m.roi } : {}),
  };
}

/**
 * Each video's region from `options.roiFile` (none without one), checked against the dataset
 * (config/regions.ts); refuses a region file beside `roi` or `asIs`.
 */
export async function regionsOf(dataset: VideoDataset, options: Pick<PrepareOptions, 'roi' | 'roiFile' | 'roiUnlisted' | 'asIs'>): Promise<DatasetRegions | undefined> {
  if (options.roiFile === undefined) {
    if (options.roiUnlisted !== undefined) throw new UsageError('roi-unlisted goes with roi-file (the videos that file does not list)');
    return undefined;
  }
  if (options.roi !== undefined) throw new UsageError('Give either roi (one region for every video) or roi-file (a region per video), not both');
  if (options.asIs) throw new UsageError('roi-file re-encodes a region of each picture: it cannot go with as-is');
  const unlisted = options.roiUnlisted === undefined ? undefined : oneOf(options.roiUnlisted, 'roi-unlisted', UNLISTED_CHOICES);
  return datasetRegions(dataset, options.roiFile, unlisted);
}

/** The settings a preparation of `dataset` with `options` writes into its cache (and compares with a cache's, to reuse it). */
export async function cacheSettingsFor(dataset: VideoDataset, options: PrepareOptions): Promise<CacheSettings> {
  return settingsOf(options, await regionsOf(dataset, options));
}

/**
 * What the cache in `out` was prepared with that a preparation of `dataset` with `options` would
 * not be ("roiFile "…" (now "…")"), or null when the settings agree: a workflow that keeps a
 * complete cache (the repeats study) must not pass one of other settings off as the one asked for.
 */
export async function otherCacheSettings(dataset: VideoDataset, out: string, options: PrepareOptions): Promise<string | null> {
  const wanted = await cacheSettingsFor(dataset, options);
  const cache = await PreparedCache.open(out);
  const have = cache.manifest.settings;
  await cache.close();
  const keys = [...new Set([...Object.keys(have), ...Object.keys(wanted)])] as Array<keyof CacheSettings>;
  const differ = keys.filter((k) => have[k] !== wanted[k]);
  return differ.length ? differ.map((k) => `${k} ${JSON.stringify(have[k]) ?? 'none'} (now ${JSON.stringify(wanted[k]) ?? 'none'})`).join(', ') : null;
}

function settingsOf(options: PrepareOptions, regions?: DatasetRegions): CacheSettings {
  const asIs = options.asIs ?? false;
  if (options.qp !== undefined && options.crf !== undefined) throw new MvclassError('Give either qp or crf, not both');
  const codec = options.codec ?? PAPER_PROFILE.codec;
  const keySize = options.keySize ?? '112x112';
  frameSize(keySize, 'key-size');
  if (options.rgb === undefined && options.shortSide !== undefined) throw new MvclassError('short-side sets the size of the --rgb clips: give --rgb too');
  // Only with clips, so a cache without them has the settings (and the manifest bytes) it had before clips existed.
  const clips = options.rgb === undefined ? {} : { rgb: clipFrames(options.rgb, 'rgb'), shortSide: clipShortSide(options.shortSide ?? DEFAULT_SHORT_SIDE, 'short-side') };
  const roi = options.roi === undefined ? undefined : pictureRegion(options.roi, 'roi');
  if (roi && asIs) throw new MvclassError('roi re-encodes a region of each picture: it cannot go with as-is');
  if (options.noMotion && !asIs) throw new MvclassError('noMotion reads the videos as they are: it goes with as-is');
  // With a region per video, their size when they share one; else a size must be given.
  const regionSize = roi ? `${roi.width}x${roi.height}` : regions ? sharedRegionSize(regions.regions.values()) : undefined;
  if (regions && regionSize === null && options.size === undefined) {
    throw new UsageError(`${options.roiFile}: the regions are not all of one size: give size (the size every video is encoded at)`, options.roiFile);
  }
  return {
    codec,
    qp: asIs ? null : options.crf !== undefined ? null : integerInRange(options.qp ?? PAPER_QP, 'qp', 0, 51),
    crf: asIs || options.crf === undefined ? null : integerInRange(options.crf, 'crf', 0, 51),
    asIs,
    size: asIs ? null : sizeOf(options.size ?? regionSize ?? PAPER_PROFILE.size),
    fps: asIs ? null : positiveInteger(options.fps ?? PAPER_PROFILE.fps, 'fps'),
    grid: 8,
    keySize,
    ...clips,
    // Only with a region, so a cache of whole pictures has the settings (and manifest bytes) it had before.
    ...(roi ? { roi: regionText(roi) } : {}),
    ...(regions ? { roiFile: regions.digest } : {}),
    ...(options.noMotion ? { noMotion: true as const } : {}),
  };
}

/** A checked size, as given. */
function sizeOf(size: string): string {
  frameSize(size, 'size');
  return size;
}

/** The clips' default short side: 128 (340x256 video gives 170x128 frames). */
export const DEFAULT_SHORT_SIDE = 128;

function videoId(item: DatasetItem): string {
  return createHash('sha1').update(item.path).digest('hex').slice(0, 16);
}

/** The part a run left for `item`, or null. */
async function readPart(partsDir: string, item: DatasetItem): Promise<Part | null> {
  const json = await fs.readFile(path.join(partsDir, `${videoId(item)}.json`), 'utf8').catch(() => null);
  if (json === null) return null;
  try {
    return JSON.parse(json) as Part;
  } catch {
    return null; // written atomically, so never half there; anything else is made again
  }
}

/**
 * Ingests one video into its part in `partsDir`. Each of its files is written atomically (util/
 * atomic.ts: a temporary sibling of its own, renamed into place), the JSON last, so two runs of
 * the same video at once (a worker thought dead that was only slow) each leave a whole part, and
 * both the same bytes. The encoded and cropped streams go to a temporary folder under `workRoot`.
 */
async function prepareVideo(item: DatasetItem, source: SourceStamp | null, settings: CacheSettings, region: PictureRegion | undefined, partsDir: string, workRoot: string, warn: (m: string) => void): Promise<void> {
  const id = videoId(item);
  // A part made from an earlier version of the file goes first: its JSON marks a part complete.
  await fs.rm(path.join(partsDir, `${id}.json`), { force: true });
  const work = await fs.mkdtemp(path.join(workRoot, `.${id}.work-`));
  try {
    const ingested = await writeAtomically(path.join(partsDir, `${id}.motion`), async (temporary): Promise<IngestResult> => {
      const motion = await fs.open(temporary, 'w');
      try {
        const cacheProfile = profileOfCache(settings);
        // A region file's region for this video (settings.roiFile), else the cache's one for all.
        const profile = cacheProfile && region ? { ...cacheProfile, region } : cacheProfile;
        const result = await ingestVideo(item.path, {
          ...(profile ? { profile } : {}),
          // The Multi-CNN needs the cropped stream's sizes: written for H.264 without B-frames (an
          // HEVC encoding's are the encoder's estimate); an as-is stream that cannot be cropped has none.
          crop: 'auto',
          grid: settings.grid,
          ...(settings.noMotion ? { requireVectors: false } : {}),
          onGrids: async (g) => {
            await motion.write(new Uint8Array(g.data.buffer, g.data.byteOffset, g.data.byteLength));
          },
          keyFrame: frameSize(settings.keySize, 'key-size'),
          ...(settings.rgb !== undefined ? { clip: { frames: settings.rgb, shortSide: settings.shortSide! } } : {}),
          workDir: work,
          onWarning: warn,
        });
        if (result.decoded!.frameTypes.length === 0) throw new MvclassError(`${item.path}: no frames decoded`, item.path);
        return result;
      } finally {
        await motion.close();
      }
    });
    const decoded = ingested.decoded!;
    const frames = decoded.frameTypes.length;
    if (decoded.keyFrame) await writeFileAtomically(path.join(partsDir, `${id}.key`), decoded.keyFrame.data);
    if (settings.rgb !== undefined) {
      if (!decoded.clip) throw new MvclassError(`${item.path}: no clip decoded`, item.path);
      await writeFileAtomically(path.join(partsDir, `${id}.frames`), decoded.clip.data);
    }
    const r = ingested.rates;
    const fps = decoded.stream?.fps ?? 0;
    const part: Part = {
      path: item.path,
      source,
      frames,
      rows: decoded.rows,
      cols: decoded.cols,
      fps,
      duration: fps > 0 ? frames / fps : 0,
      frameTypes: decoded.frameTypes,
      frameBits: decoded.frameBits,
      keyFrame: decoded.keyFrame ? { width: decoded.keyFrame.width, height: decoded.keyFrame.height, index: decoded.keyFrame.index } : null,
      ...(decoded.clip ? { clip: { frames: decoded.clip.frames, height: decoded.clip.height, width: decoded.clip.width } } : {}),
      rates: { rOrig: r.rOrig, rCropped: r.rCropped, rCroppedEncoder: settings.asIs ? null : r.rCroppedEncoder, rMotion: settings.asIs ? null : r.rMotion },
      cropped: ingested.cropped,
      ...(region ? { roi: regionText(region) } : {}),
    };
    // The JSON goes last: its presence marks the part as complete.
    await writeFileAtomically(path.join(partsDir, `${id}.json`), JSON.stringify(part));
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** A queued video: what prepareVideo needs, with the coordinator's software versions. */
interface PrepareJob {
  item: DatasetItem;
  source: SourceStamp | null;
  settings: CacheSettings;
  /** With a region file: this video's region. */
  region?: PictureRegion;
  partsDir: string;
  software: SoftwareVersions;
}

export const PREPARE_JOB = 'prepare-video';

/**
 * A worker's side of a queued video: prepareVideo into the coordinator's parts folder (the
 * streams in this machine's temporary folder); its warnings go back to the coordinator.
 */
export async function runPrepareJob(data: unknown, warn: (message: string) => void): Promise<void> {
  const job = data as PrepareJob;
  if (typeof job?.item?.path !== 'string' || typeof job.partsDir !== 'string' || typeof job.settings !== 'object' || job.settings === null || !path.isAbsolute(job.partsDir)) {
    throw permanentFailure('not a prepare job (item, settings and an absolute partsDir expected)');
  }
  assertSameVersions(job.software, { ...softwareVersions() });
  const parts = await fs.stat(job.partsDir).catch(() => null);
  if (!parts?.isDirectory()) {
    throw permanentFailure(`${job.partsDir} is not a folder on this machine: the cache folder must be on a filesystem every worker mounts`);
  }
  const region = job.region === undefined ? undefined : pictureRegion(job.region, 'region');
  await prepareVideo(job.item, job.source, job.settings, region, job.partsDir, os.tmpdir(), warn);
}

/**
 * Hands `todo` to the job queue at `url` and waits for the workers: each video's part appears in
 * `partsDir` as if prepareVideo had run here; `finished` is told each outcome.
 */
async function prepareOnQueue(
  url: string,
  out: string,
  todo: Array<{ item: DatasetItem; source: SourceStamp | null }>,
  settings: CacheSettings,
  regions: DatasetRegions | undefined,
  partsDir: string,
  attempts: number | undefined,
  warn: (m: string) => void,
  finished: (item: DatasetItem, error: string | null) => void,
): Promise<void> {
  const software = softwareVersions();
  const byId = new Map<string, DatasetItem>();
  const jobs = todo.map(({ item, source }) => {
    if (!path.isAbsolute(item.path)) throw new MvclassError(`${item.path}: a queued video's path must be absolute (the workers run elsewhere)`, item.path);
    const id = `prepare-${createHash('sha1').update(JSON.stringify([partsDir, item.path, source])).digest('hex').slice(0, 24)}`;
    byId.set(id, item);
    const region = regions?.regions.get(item.path);
    return { id, data: { item, source, settings, ...(region ? { region } : {}), partsDir, software } satisfies PrepareJob };
  });
  await runJobs<PrepareJob, void>(url, `prepare ${path.resolve(out)}`, PREPARE_JOB, jobs, {
    ...(attempts !== undefined ? { attempts } : {}),
    onResult: (id) => finished(byId.get(id)!, null),
    onFailure: (id, reason) => finished(byId.get(id)!, reason),
    onWarning: warn,
  });
}

/** Where each dataset item's video comes from when it is not made afresh: a video of the old cache. */
type Reuse = Map<DatasetItem, { cache: PreparedCache; index: number; video: CachedVideo }>;

/** One video of the cache to be written: its entry (byte ranges included) and where its bytes are now. */
interface Placed {
  entry: CachedVideo;
  from: { cache: PreparedCache; index: number } | { motion: string; key: string | null; frames: string | null };
}

/** The cache as it is to be: each video placed in its shards, the manifest's text and each shard's size. */
interface Layout {
  placed: Placed[];
  text: string;
  sizes: Map<string, number>;
}

/**
 * Lays the videos out in dataset order, each from the old cache or from its part (a video with
 * neither failed), in shards of at most `shardBytes` (one video per shard when it is larger), one
 * series for motion (motion-NNN.bin), one for key frames (keys-NNN.bin) and, with clips, one for
 * them (frames-NNN.bin). Nothing is written.
 */
async function layOut(
  partsDir: string,
  dataset: VideoDataset,
  settings: CacheSettings,
  software: CacheManifest['software'],
  failed: PrepareResult['failed'],
  reuse: Reuse,
  shardBytes: number,
): Promise<Layout> {
  const sizes = new Map<string, number>();
  const series = (prefix: string) => {
    let index = -1;
    let offset = 0;
    let name = '';
    return (bytes: number): ByteRange => {
      if (index < 0 || (offset + bytes > shardBytes && offset > 0)) {
        name = `${prefix}-${String(++index).padStart(3, '0')}.bin`;
        offset = 0;
      }
      const range = { shard: name, offset, bytes };
      offset += bytes;
      sizes.set(name, offset);
      return range;
    };
  };
  const motionShards = series('motion');
  const keyShards = series('keys');
  const frameShards = series('frames');
  const placed: Placed[] = [];
  for (const item of dataset.items) {
    const old = reuse.get(item);
    if (old) {
      const v = old.video;
      const motion = motionShards(v.motion.bytes);
      const key = v.keyFrame ? keyShards(v.keyFrame.bytes) : null;
      const frames = v.clip ? frameShards(v.clip.bytes) : null;
      placed.push({ entry: entryOf(item, v.source ?? null, v, motion, key, frames), from: { cache: old.cache, index: old.index } });
      continue;
    }
    const part = await readPart(partsDir, item);
    if (part === null) continue; // failed
    const id = videoId(item);
    const files = { motion: path.join(partsDir, `${id}.motion`), key: part.keyFrame ? path.join(partsDir, `${id}.key`) : null, frames: part.clip ? path.join(partsDir, `${id}.frames`) : null };
    const motion = motionShards((await fs.stat(files.motion)).size);
    const key = files.key ? keyShards((await fs.stat(files.key)).size) : null;
    const frames = files.frames ? frameShards((await fs.stat(files.frames)).size) : null;
    placed.push({ entry: entryOf(item, part.source, part, motion, key, frames), from: files });
  }
  const manifest: CacheManifest = {
    format: CACHE_FORMAT,
    version: CACHE_VERSION,
    software,
    settings,
    dataset: { kind: dataset.kind, root: dataset.root, classes: dataset.classes },
    shards: [...sizes.keys()].sort(),
    videos: placed.map((p) => p.entry),
    failed: [...failed].sort((a, b) => a.path.localeCompare(b.path)),
  };
  return { placed, text: JSON.stringify(manifest, null, 1) + '\n', sizes };
}

/** Writes the laid-out cache into the new folder `out`: the shards, then the manifest. */
async function writeLayout(out: string, layout: Layout): Promise<void> {
  const handles = new Map<string, fs.FileHandle>();
  const append = async (range: ByteRange, bytes: Uint8Array, what: string) => {
    if (bytes.length !== range.bytes) throw new MvclassError(`${what}: ${bytes.length} bytes where ${range.bytes} were counted (changed while the cache was written?)`, what);
    let handle = handles.get(range.shard);
    if (!handle) {
      handle = await fs.open(path.join(out, range.shard), 'wx');
      handles.set(range.shard, handle);
    }
    await handle.write(bytes, 0, bytes.length, range.offset);
  };
  try {
    for (const { entry, from } of layout.placed) {
      if ('cache' in from) {
        const clip = await from.cache.clip(from.index);
        await append(entry.motion, new Uint8Array(clip.data.buffer, clip.data.byteOffset, clip.data.byteLength), from.cache.dir);
        if (entry.keyFrame) await append(entry.keyFrame, (await from.cache.keyFrame(from.index))!.data, from.cache.dir);
        if (entry.clip) await append(entry.clip, (await from.cache.frames(from.index))!.data, from.cache.dir);
      } else {
        await append(entry.motion, await fs.readFile(from.motion), from.motion);
        if (entry.keyFrame && from.key) await append(entry.keyFrame, await fs.readFile(from.key), from.key);
        if (entry.clip && from.frames) await append(entry.clip, await fs.readFile(from.frames), from.frames);
      }
    }
  } finally {
    for (const handle of handles.values()) await handle.close();
  }
  await fs.writeFile(path.join(out, 'manifest.json'), layout.text);
}

/**
 * Whether the cache in `out` already holds exactly the bytes `layout` would write: every video
 * in place in the old cache, the same manifest text, the same shards of the same sizes and no
 * other file. Then a rerun on an unchanged dataset writes nothing.
 */
async function alreadyWritten(out: string, layout: Layout): Promise<boolean> {
  if (!layout.placed.every((p, k) => 'cache' in p.from && p.from.index === k)) return false;
  const text = await fs.readFile(path.join(out, 'manifest.json'), 'utf8').catch(() => null);
  if (text !== layout.text) return false;
  const names = (await fs.readdir(out)).sort();
  const expected = ['manifest.json', ...layout.sizes.keys()].sort();
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) return false;
  for (const [shard, size] of layout.sizes) {
    const stat = await fs.lstat(path.join(out, shard)).catch(() => null);
    if (!stat?.isFile() || stat.size !== size) return false;
  }
  return true;
}

/** Prepares `dataset` into the cache folder `out` (replaced only when complete). */
export async function prepareDataset(dataset: VideoDataset, out: string, options: PrepareOptions = {}): Promise<PrepareResult> {
  const regions = await regionsOf(dataset, options);
  const settings = settingsOf(options, regions);
  // One more than the cores: a job waiting on its file or on JavaScript leaves no core idle.
  const jobs = positiveInteger(options.jobs ?? os.cpus().length + 1, 'jobs');
  const shardBytes = positiveInteger(options.shardBytes ?? SHARD_BYTES, 'shardBytes');
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'MvclassWarning'));
  // Parts live beside the output, keyed by the settings, so a rerun with other settings starts afresh.
  const settingsKey = createHash('sha1').update(JSON.stringify(settings)).digest('hex').slice(0, 10);
  const partsDir = path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.parts-${settingsKey}`);
  await fs.mkdir(partsDir, { recursive: true });
  const failed: PrepareResult['failed'] = dataset.missing.map((m) => ({ path: m.path, reason: m.reason }));
  const software = softwareVersions();
  const items = dataset.items;
  const old = await reusableCache(out, settings, software, warn);
  try {
    // The old cache's videos that carry a stamp, by path (the first, should a manifest list one twice).
    const cached = new Map<string, number>();
    for (const [i, v] of (old?.videos ?? []).entries()) if (v.source && !cached.has(v.path)) cached.set(v.path, i);
    const reuse: Reuse = new Map();
    let resumed = 0;
    const todo: Array<{ item: DatasetItem; source: SourceStamp | null }> = [];
    for (const item of items) {
      // Stamped before anything is read: a file that changes while it is being read is made again next time.
      const source = await stampOf(item.path);
      const index = cached.get(item.path);
      if (old && index !== undefined && sameStamp(old.videos[index]!.source, source)) {
        reuse.set(item, { cache: old, index, video: old.videos[index]! });
      } else if (sameStamp((await readPart(partsDir, item))?.source, source)) {
        resumed++;
      } else {
        todo.push({ item, source });
      }
    }
    const skipped = reuse.size + resumed;
    let done = skipped;
    let prepared = 0;
    options.onProgress?.(done, items.length);
    const finished = (item: DatasetItem, error: string | null) => {
      if (error === null) prepared++;
      else failed.push({ path: item.path, reason: error });
      options.onProgress?.(++done, items.length);
    };
    if (options.queue !== undefined) {
      await prepareOnQueue(options.queue, out, todo, settings, regions, partsDir, options.attempts, warn, finished);
    } else {
      await forEachLimit(todo, jobs, async ({ item, source }) => {
        let error: string | null = null;
        try {
          await prepareVideo(item, source, settings, regions?.regions.get(item.path), partsDir, partsDir, warn);
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        finished(item, error); // outside the try: a progress callback that throws stops the run
      });
    }
    const layout = await layOut(partsDir, dataset, settings, software, failed, reuse, shardBytes);
    if (!(old && (await alreadyWritten(out, layout)))) {
      await writeAtomically(out, async (dir) => {
        await fs.mkdir(dir);
        try {
          await writeLayout(dir, layout);
        } finally {
          // Before the old folder is replaced.
          await old?.close();
        }
      });
    }
    await fs.rm(partsDir, { recursive: true, force: true });
    const result: PrepareResult = { out, videos: layout.placed.length, failed, prepared, skipped, reused: reuse.size };
    options.onDone?.(result);
    return result;
  } finally {
    await old?.close();
  }
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
