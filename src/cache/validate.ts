// A cache's manifest.json is untrusted input: caches are handed around, and the manifest decides
// which files are opened and how many bytes are allocated and read. parseCacheManifest checks
// every field before any of it is used and returns a fresh, typed copy; checkShardRanges then
// holds each byte range to its shard's real size (PreparedCache.open stats the shards).
// Every rejection is an MvclassError naming the manifest, the video and the problem.

import { MAX_CLIP_FRAMES, MAX_CLIP_SHORT_SIDE } from '../codec/clips.js';
import { MvclassError } from '../util/errors.js';
import { Fields, show } from '../util/fields.js';
import { CACHE_FORMAT, CACHE_VERSION, type ByteRange, type CacheManifest, type CacheSettings, type CachedVideo, type SourceStamp } from './format.js';

// Bounds that keep frames*2*rows*cols*2 and width*height*3 far inside safe integers
// (2^24 frames is a week of video at 25 fps; 4096 grid blocks are 32768 pixels at 8x8).
const MAX_FRAMES = 2 ** 24;
const MAX_GRID_SIDE = 4096;
const MAX_IMAGE_SIDE = 16384;
const SPLITS = ['train', 'test', 'val', 'unused'] as const;
// A plain file name: no separator, no "." or "..", nothing hidden, nothing absolute.
const SHARD_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/** A size "WxH" as prepare stores what it was given (util/validate's frameSize), both sides bounded. */
function sizeText(f: Fields, key: string): string {
  const text = f.string(key, /^\s*\d{1,9}x\d{1,9}\s*$/i, `a size WxH up to ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE}`);
  const sides = text.trim().toLowerCase().split('x').map(Number);
  if (sides.some((n) => n < 1 || n > MAX_IMAGE_SIDE)) f.expected(`a size WxH up to ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE}`, key);
  return text;
}

/** A region "x,y,w,h" as prepare stores it (codec/region.ts's regionText). */
function regionOf(f: Fields): string {
  return f.string('roi', /^\d{1,5},\d{1,5},\d{1,5},\d{1,5}$/, 'a region x,y,w,h');
}

/** The digest of a region file (config/regions.ts); never beside one region for all. */
function roiFileOf(f: Fields): string {
  if (f.raw('roi') !== undefined) f.fail('settings have both roi (one region for all) and roiFile (a region per video)');
  return f.string('roiFile', /^[0-9a-f]{16}$/, 'a digest of 16 hex digits');
}

/** Present only as true, and only on an as-is cache (a re-encoded one always has motion vectors). */
function noMotionOf(f: Fields): true {
  if (!f.boolean('noMotion')) f.fail(`${f.name('noMotion')} is false: absent when the videos have motion vectors`);
  if (f.raw('asIs') !== true) f.fail(`${f.name('noMotion')} goes with asIs: a re-encoded cache has motion vectors`);
  return true;
}

/** The settings a cache was prepared with (also what a run records as its input). */
export function cacheSettingsOf(f: Fields): CacheSettings {
  return {
    codec: f.oneOf('codec', ['h264', 'hevc'] as const),
    qp: f.nullable('qp', (k) => f.integer(k, 0, 51)),
    crf: f.nullable('crf', (k) => f.integer(k, 0, 51)),
    asIs: f.boolean('asIs'),
    size: f.nullable('size', (k) => sizeText(f, k)),
    fps: f.nullable('fps', (k) => f.integer(k, 1)),
    grid: f.integer('grid', 1, 256),
    keySize: sizeText(f, 'keySize'),
    // Both or neither: a cache with clips says how many frames and at what size.
    ...(f.raw('rgb') === undefined && f.raw('shortSide') === undefined
      ? {}
      : { rgb: f.integer('rgb', 1, MAX_CLIP_FRAMES), shortSide: f.integer('shortSide', 2, MAX_CLIP_SHORT_SIDE) }),
    ...(f.raw('roi') === undefined ? {} : { roi: regionOf(f) }),
    ...(f.raw('roiFile') === undefined ? {} : { roiFile: roiFileOf(f) }),
    ...(f.raw('noMotion') === undefined ? {} : { noMotion: noMotionOf(f) }),
  };
}

function rangeOf(f: Fields, shards: ReadonlySet<string>): ByteRange {
  const shard = f.string('shard', SHARD_NAME, 'a plain file name');
  if (!shards.has(shard)) f.fail(`${f.name('shard')} ${show(shard)} is not one of the manifest's shards`);
  return { shard, offset: f.integer('offset', 0), bytes: f.integer('bytes', 0) };
}

function videoOf(file: string, value: unknown, index: number, classes: readonly string[], shards: ReadonlySet<string>, settings: CacheSettings): CachedVideo {
  const first = Fields.of(file, `${file}: video ${index}`, value, `videos[${index}]`);
  const id = first.string('id', /./, 'a non-empty string');
  // From here on every message names the video by id and index.
  const f = Fields.of(file, `${file}: video ${show(id)} (index ${index})`, value, `videos[${index}]`);
  const label = f.integer('label', 0, classes.length - 1);
  const className = f.string('className');
  if (className !== classes[label]) f.fail(`className ${show(className)} is not class ${label} (${show(classes[label])})`);
  const frames = f.integer('frames', 1, MAX_FRAMES);
  const rows = f.integer('rows', 1, MAX_GRID_SIDE);
  const cols = f.integer('cols', 1, MAX_GRID_SIDE);
  const frameTypes = f.string('frameTypes', /^[IPB?]*$/, 'a string of I, P, B and ?');
  if (frameTypes.length !== frames) f.fail(`frameTypes has ${frameTypes.length} letters but frames is ${frames}`);
  const frameBits = f.counts('frameBits');
  if (frameBits.length !== frames) f.fail(`frameBits has ${frameBits.length} entries but frames is ${frames}`);

  const motion = rangeOf(f.object('motion'), shards);
  const motionBytes = frames * 2 * rows * cols * 2;
  if (motion.bytes !== motionBytes) f.fail(`motion.bytes is ${motion.bytes} but frames*2*rows*cols*2 is ${motionBytes}`);

  const keyFrame = f.nullable('keyFrame', (k) => {
    const key = f.object(k);
    const range = rangeOf(key, shards);
    const width = key.integer('width', 1, MAX_IMAGE_SIDE);
    const height = key.integer('height', 1, MAX_IMAGE_SIDE);
    const keyIndex = key.integer('index', 0, frames - 1);
    if (range.bytes !== width * height * 3) f.fail(`keyFrame.bytes is ${range.bytes} but width*height*3 is ${width * height * 3}`);
    return { ...range, width, height, index: keyIndex };
  });

  // Present exactly when the settings ask for clips, with their frame count and short side.
  if ((f.raw('clip') === undefined) !== (settings.rgb === undefined)) {
    f.fail(settings.rgb === undefined ? 'has a clip but the settings have no rgb' : `has no clip but the settings have rgb ${settings.rgb}`);
  }
  const clip = f.raw('clip') === undefined ? undefined : (() => {
    const c = f.object('clip');
    const range = rangeOf(c, shards);
    const clipFrames = c.integer('frames', 1, MAX_CLIP_FRAMES);
    const height = c.integer('height', 1, MAX_IMAGE_SIDE);
    const width = c.integer('width', 1, MAX_IMAGE_SIDE);
    if (clipFrames !== settings.rgb) f.fail(`clip.frames is ${clipFrames} but the settings have rgb ${settings.rgb}`);
    if (Math.min(height, width) !== settings.shortSide) f.fail(`clip is ${width}x${height} but the settings have shortSide ${settings.shortSide}`);
    const expected = clipFrames * height * width * 3;
    if (range.bytes !== expected) f.fail(`clip.bytes is ${range.bytes} but frames*height*width*3 is ${expected}`);
    return { ...range, frames: clipFrames, height, width };
  })();

  const r = f.object('rates');
  const rate = (k: string) => r.nullable(k, (key) => r.amount(key));
  // A zero duration gives an infinite rate, which JSON.stringify wrote as null.
  const rates = { rOrig: r.nullable('rOrig', (key) => r.amount(key)) ?? Infinity, rCropped: rate('rCropped'), rCroppedEncoder: rate('rCroppedEncoder'), rMotion: rate('rMotion') };

  const cropped = f.nullable('cropped', (k) => {
    const c = f.object(k);
    const bits = c.counts('frameBits');
    const kinds = c.string('kinds', /^[CR]*$/, 'a string of C and R');
    if (kinds.length !== bits.length) f.fail(`cropped.kinds has ${kinds.length} letters but cropped.frameBits has ${bits.length} entries`);
    const estimated = c.raw('estimated') === undefined ? {} : { estimated: c.boolean('estimated') };
    return { frameBits: bits, kinds, parameterSetBits: c.integer('parameterSetBits', 0), ...estimated };
  });

  // Optional (caches before it lack it): the input's size and modification time, which decide
  // whether a later prepare may reuse this video.
  const source = f.raw('source') === undefined ? undefined : sourceOf(f.object('source'));
  // Only with a region file: this video's own region (none: its whole picture).
  const roi = f.raw('roi') === undefined ? undefined : regionOf(f);
  if (roi !== undefined && settings.roiFile === undefined) f.fail('roi is given but the settings have no roiFile (a region per video)');

  return {
    id,
    path: f.string('path'),
    label,
    className,
    split: f.oneOf('split', SPLITS),
    frames,
    rows,
    cols,
    fps: f.amount('fps'),
    duration: f.amount('duration'),
    frameTypes,
    frameBits,
    motion,
    keyFrame,
    ...(clip ? { clip } : {}),
    rates,
    cropped,
    ...(source ? { source } : {}),
    ...(roi !== undefined ? { roi } : {}),
  };
}

function sourceOf(s: Fields): SourceStamp {
  const size = s.integer('size', 0);
  const mtimeMs = s.raw('mtimeMs');
  // Any finite time: a file may be dated before 1970.
  if (typeof mtimeMs !== 'number' || !Number.isFinite(mtimeMs)) s.expected('a finite number', 'mtimeMs');
  return { size, mtimeMs };
}

/**
 * The manifest in `text` (read from `file`), every field checked: types, bounds, sizes that agree
 * with the shapes, labels within the classes, shard names that are plain file names listed in
 * `shards`. Throws MvclassError on anything else; never touches the disk.
 */
export function parseCacheManifest(text: string, file: string): CacheManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MvclassError(`${file}: damaged manifest: ${(error as Error).message}`, file);
  }
  const m = Fields.of(file, file, json, 'the manifest');
  if (m.raw('format') !== CACHE_FORMAT || m.raw('version') !== CACHE_VERSION) {
    m.fail(`not a cache of this version (format ${show(m.raw('format'))} v${show(m.raw('version'))}; this mvclass reads ${CACHE_FORMAT} v${CACHE_VERSION})`);
  }
  const software = m.object('software');
  const dataset = m.object('dataset');
  const classes = dataset.names('classes', 1);
  const shards = m.array('shards').map((s, i) => (typeof s === 'string' && SHARD_NAME.test(s) ? s : m.expected('a plain file name', `shards[${i}]`, s)));
  const shardSet = new Set(shards);
  if (shardSet.size !== shards.length) m.fail('shards names a file twice');
  const settings = cacheSettingsOf(m.object('settings'));
  const videos = m.array('videos').map((v, i) => videoOf(file, v, i, classes, shardSet, settings));
  const failed = m.array('failed').map((v, i) => {
    const f = Fields.of(file, file, v, `failed[${i}]`, `failed[${i}].`);
    return { path: f.string('path'), reason: f.string('reason') };
  });
  return {
    format: CACHE_FORMAT,
    version: CACHE_VERSION,
    software: { mvclass: software.string('mvclass'), ffmpeg: software.string('ffmpeg') },
    settings,
    dataset: { kind: dataset.string('kind'), root: dataset.string('root'), classes },
    shards,
    videos,
    failed,
  };
}

/** Every byte range within its shard, given each shard's size in bytes. */
export function checkShardRanges(manifest: CacheManifest, file: string, sizes: ReadonlyMap<string, number>): void {
  for (const [i, v] of manifest.videos.entries()) {
    const ranges: Array<[string, ByteRange]> = [['motion', v.motion]];
    if (v.keyFrame) ranges.push(['keyFrame', v.keyFrame]);
    if (v.clip) ranges.push(['clip', v.clip]);
    for (const [name, r] of ranges) {
      const size = sizes.get(r.shard);
      if (size === undefined) throw new MvclassError(`${file}: no size for shard ${show(r.shard)}`, file);
      if (r.offset + r.bytes > size) {
        throw new MvclassError(
          `${file}: video ${show(v.id)} (index ${i}): ${name} bytes ${r.offset}..${r.offset + r.bytes} lie beyond the end of ${r.shard} (${size} bytes)`,
          file,
        );
      }
    }
  }
}
