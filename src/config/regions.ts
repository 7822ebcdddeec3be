// A per-video region file (prepare --roi-file, study transcode --roi-file, a repeats condition's
// prepare.roi-file): each video of a dataset re-encoded from its own region of interest (seeds
// 000/001 crop every clip to the person in it), where --roi keeps one region for all. CSV, one
// video per line, an optional header line `path,x,y,w,h`:
//
//   path,x,y,w,h
//   birds/cockatoo.mp4,112,40,96,64
//   "ball/a, b.mp4",0,0,128,128          # RFC 4180 quoting, as every CSV mvclass reads
//
// The path is relative to the dataset's folder (a manifest's or a Kinetics CSV's folder), written
// with / or \; the region is checked as --roi's (codec/region.ts: even whole numbers, w and h at
// least 16). Whether it fits a video is known only once the video is opened: one that does not is
// listed among the failures naming the video and its size, as --roi's are.
//
// The file is untrusted input: its size is bounded before it is read, every line is checked and a
// problem names the file and the line (crops.csv:7: Expected a non-negative integer for x but
// received "a"); a video listed twice is refused. Against a dataset, every video must be listed
// and every line must name one of its videos (refused, listing them), unless `unlisted: 'full'`
// keeps the whole picture of the videos not listed. The regions that apply go into the cache's
// settings as a digest (`roiFile`), so a run with other regions does not reuse parts made with
// these.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pictureRegion, regionText, type PictureRegion } from '../codec/region.js';
import { parseCsv } from '../datasets/csv.js';
import type { VideoDataset } from '../datasets/types.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { nonNegativeInteger, positiveInteger } from '../util/validate.js';

/** The largest region file read: 64 MiB, some 800,000 lines (Kinetics-700 lists 650,000 clips). */
export const MAX_REGION_FILE_BYTES = 64 * 1024 * 1024;

/** What to do with a dataset's videos the file does not list: refuse them (the default), or keep their whole picture. */
export const UNLISTED_CHOICES = ['refuse', 'full'] as const;
export type UnlistedVideos = (typeof UNLISTED_CHOICES)[number];

const HEADER = ['path', 'x', 'y', 'w', 'h'];

/** A region file's path as matched against a dataset's videos: / separated, normalised, relative. */
function videoKey(name: string): string {
  return path.posix.normalize(name.replace(/\\/g, '/'));
}

/** Lists at most `n` names, saying how many more there are. */
function some(names: readonly string[], n = 5): string {
  return names.slice(0, n).join(', ') + (names.length > n ? ` and ${names.length - n} more` : '');
}

/**
 * The regions of a region file's text, by video path (normalised as videoKey); `file` names it
 * in messages. Every problem is a UsageError naming the file and the line.
 */
export function parseRegionFile(text: string, file: string): Map<string, PictureRegion> {
  const fail = (line: number, problem: string) => new UsageError(`${file}:${line}: ${problem}`, file);
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text.replace(/^\uFEFF/, ''), file);
  } catch (error) {
    // parseCsv's one error (an unclosed quote) is a MvclassError naming file and line: a usage error here.
    throw new UsageError((error as Error).message, file);
  }
  const regions = new Map<string, PictureRegion>();
  const lines = new Map<string, number>();
  for (const [i, { line, fields }] of records.entries()) {
    if (i === 0 && fields.length === HEADER.length && fields.every((f, k) => f.trim().toLowerCase() === HEADER[k])) continue;
    if (fields.length !== HEADER.length) throw fail(line, `expected 5 fields path,x,y,w,h but found ${fields.length}`);
    const name = fields[0]!.trim();
    if (name === '') throw fail(line, 'empty path');
    if (name.includes('\0')) throw fail(line, 'a path with a NUL character');
    if (path.posix.isAbsolute(name.replace(/\\/g, '/')) || path.win32.isAbsolute(name)) throw fail(line, `${JSON.stringify(name)}: expected a path relative to the dataset's folder`);
    const key = videoKey(name);
    let region: PictureRegion;
    try {
      const [x, y, w, h] = fields.slice(1).map((f) => f.trim());
      const numbers = [nonNegativeInteger(x, 'x'), nonNegativeInteger(y, 'y'), positiveInteger(w, 'w'), positiveInteger(h, 'h')];
      region = pictureRegion(numbers.join(','), 'the region');
    } catch (error) {
      throw fail(line, (error as Error).message);
    }
    const earlier = lines.get(key);
    if (earlier !== undefined) throw fail(line, `${JSON.stringify(name)} is listed already on line ${earlier}`);
    lines.set(key, line);
    regions.set(key, region);
  }
  if (regions.size === 0) throw new UsageError(`${file}: no videos listed (expected lines path,x,y,w,h)`, file);
  return regions;
}

/** Reads a region file: a regular file of at most MAX_REGION_FILE_BYTES, then parseRegionFile. */
export async function readRegionFile(file: string): Promise<Map<string, PictureRegion>> {
  const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new MvclassError(`${file}: cannot read the region file (${error.code ?? error.message})`, file);
  });
  let text: string;
  try {
    const stat = await handle.stat();
    // A device or a pipe would be read forever; a huge file would be held in memory whole.
    if (!stat.isFile()) throw new MvclassError(`${file}: the region file is not a regular file`, file);
    if (stat.size > MAX_REGION_FILE_BYTES) throw new MvclassError(`${file}: the region file has ${stat.size} bytes, more than the ${MAX_REGION_FILE_BYTES / 1024 / 1024} MiB one may have`, file);
    // Read to its end but no further than the size it had (one byte more tells it grew meanwhile).
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > stat.size) throw new MvclassError(`${file}: the region file grew while it was read`, file);
    text = buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
  return parseRegionFile(text, file);
}

/** Each video's region (absent: the whole picture) and the digest that keys caches made with them. */
export interface DatasetRegions {
  /** By the dataset item's path (absolute, as DatasetItem.path). */
  regions: Map<string, PictureRegion>;
  /** Hex digest of every line of the file (path and region, in path order): with the dataset, it
   * decides every video's region, whether the unlisted are refused or kept whole. */
  digest: string;
}

/** A dataset's folder: the one the region file's paths are relative to. */
function datasetFolder(dataset: VideoDataset): string {
  return dataset.kind === 'manifest' || dataset.kind === 'kinetics' ? path.dirname(dataset.root) : dataset.root;
}

/**
 * The region of each of `dataset`'s videos from the region file `file`. Refuses, naming the
 * file, lines naming no video of the dataset (found or missing) and, unless `unlisted` is
 * 'full', videos it does not list.
 */
export async function datasetRegions(dataset: VideoDataset, file: string, unlisted: UnlistedVideos = 'refuse'): Promise<DatasetRegions> {
  const listed = await readRegionFile(file);
  const base = datasetFolder(dataset);
  const keyOf = (video: string) => videoKey(path.relative(base, video));
  const regions = new Map<string, PictureRegion>();
  const missingKeys = new Set(dataset.missing.map((m) => keyOf(m.path)));
  const notListed: string[] = [];
  const used = new Set<string>();
  for (const item of dataset.items) {
    const key = keyOf(item.path);
    const region = listed.get(key);
    if (region) {
      regions.set(item.path, region);
      used.add(key);
    } else notListed.push(key);
  }
  const unknown = [...listed.keys()].filter((k) => !used.has(k) && !missingKeys.has(k));
  if (unknown.length > 0) {
    throw new UsageError(`${file}: ${unknown.length} listed path(s) name no video of the dataset ${dataset.root}: ${some(unknown)} (paths are relative to ${base})`, file);
  }
  if (notListed.length > 0 && unlisted !== 'full') {
    throw new UsageError(`${file}: ${notListed.length} video(s) of the dataset ${dataset.root} have no region: ${some(notListed)} (list them, or keep their whole picture with roi-unlisted full)`, file);
  }
  const canonical = [...listed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, r]) => `${k}\n${regionText(r)}`);
  const digest = createHash('sha1').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
  return { regions, digest };
}

/** The size every region shares, "WxH", or null when they differ (or there are none). */
export function sharedRegionSize(regions: Iterable<PictureRegion>): string | null {
  const sizes = new Set<string>();
  for (const r of regions) sizes.add(`${r.width}x${r.height}`);
  return sizes.size === 1 ? [...sizes][0]! : null;
}
