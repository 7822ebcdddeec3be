// prepare: a dataset turned into a cache of motion grids, key frames, frame bits and rates.
// Each video is processed on its own (in parallel, `jobs` at a time) into a part file written
// atomically, so a killed run resumes where it stopped; the parts are then assembled in dataset
// order into shards, so the result is the same bytes however the work was scheduled.

import { createHash } from 'node:crypto';
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crop, croppedBits, type CropResult } from '../codec/crop.js';
import { decodeVideo } from '../codec/decode.js';
import { encode, type VideoCodec } from '../codec/encode.js';
import { codecAddon, packageRoot } from '../codec/native.js';
import { probe } from '../codec/probe.js';
import type { DatasetItem, VideoDataset } from '../datasets/types.js';
import { estimatedCroppedBits, ratesOfEncoding, ratesOfStream } from '../rate/rates.js';
import { writeAtomically, writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { frameSize, integerInRange, positiveInteger } from '../util/validate.js';
import { CACHE_FORMAT, CACHE_VERSION, SHARD_BYTES, type CacheManifest, type CacheSettings, type CachedVideo } from './format.js';

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
  const codec = options.codec ?? 'h264';
  const keySize = options.keySize ?? '112x112';
  frameSize(keySize, 'key-size');
  return {
    codec,
    qp: asIs ? null : options.crf !== undefined ? null : integerInRange(options.qp ?? 30, 'qp', 0, 51),
    crf: asIs || options.crf === undefined ? null : integerInRange(options.crf, 'crf', 0, 51),
    asIs,
    size: asIs ? null : (frameSize(options.size ?? '320x240', 'size'), options.size ?? '320x240'),
    fps: asIs ? null : positiveInteger(options.fps ?? 25, 'fps'),
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
    let stream = item.path;
    let rates: Part['rates'];
    let cropped: Part['cropped'] = null;
    const keepCropped = (c: CropResult | undefined): CropResult | undefined => {
      if (c) cropped = croppedBits(c);
      return c;
    };
    if (settings.asIs) {
      const info = await probe(item.path);
      const c = keepCropped(info.codec === 'h264' && !info.hasBFrames ? await crop(item.path, path.join(work, 'cropped.264'), { onWarning: warn }) : undefined);
      const r = ratesOfStream(info.codec === 'hevc' ? 'hevc' : 'h264', info.frameCount, info.duration, info.videoBytes, c);
      rates = { rOrig: r.rOrig, rCropped: r.rCropped, rCroppedEncoder: null, rMotion: null };
    } else {
      const encoded = await encode(item.path, path.join(work, 'stream.mp4'), {
        codec: settings.codec,
        ...(settings.qp !== null ? { qp: settings.qp } : { crf: settings.crf! }),
        gop: 0,
        bframes: 0,
        meRange: 16,
        size: settings.size!,
        fps: settings.fps!,
        threads: 1, // the vectors must not depend on the machine's core count
        onWarning: warn,
      });
      stream = encoded.output;
      // The cropped-stream writer is H.264's; an HEVC stream's cropped rate is the encoder's count.
      const c = settings.codec === 'h264' ? await crop(stream, path.join(work, 'cropped.264'), { onWarning: warn }) : undefined;
      const r = ratesOfEncoding(encoded, keepCropped(c));
      // No HEVC cropped stream: the Multi-CNN counts what one would carry from the encoder's split.
      if (!c) cropped = estimatedCroppedBits(encoded);
      rates = { rOrig: r.rOrig, rCropped: r.rCropped, rCroppedEncoder: r.rCroppedEncoder, rMotion: r.rMotion };
    }
    const key = frameSize(settings.keySize, 'key-size');
    const motion = await fs.open(path.join(partsDir, `${id}.motion`), 'w');
    let keyFrame: Part['keyFrame'] = null;
    let frames = 0;
    let rows = 0;
    let cols = 0;
    let fps = 0;
    let frameTypes = '';
    const frameBits: number[] = [];
    try {
      const decode = decodeVideo(stream, { vectors: false, grid: settings.grid, units: 'quarter-pel', keyFrames: true, firstKeyFrameOnly: true, keyFrameWidth: key.width, keyFrameHeight: key.height, onWarning: warn }, (s) => {
        fps = s.fps;
      });
      for await (const batch of decode) {
        const g = batch.grid!;
        rows = g.rows;
        cols = g.cols;
        await motion.write(new Uint8Array(g.data.buffer, g.data.byteOffset, g.data.byteLength));
        for (const f of batch.frames) {
          frameTypes += f.type;
          frameBits.push(f.bits);
        }
        frames += batch.frames.length;
        const first = batch.keyFrames[0];
        if (!keyFrame && first) {
          await fs.writeFile(path.join(partsDir, `${id}.key`), first.data);
          keyFrame = { width: first.width, height: first.height, index: first.index };
        }
      }
    } finally {
      await motion.close();
    }
    if (frames === 0) throw new MvclassError(`${item.path}: no frames decoded`, item.path);
    const part: Part = {
      id,
      path: item.path,
      label: item.label,
      className: item.className,
      split: item.split,
      frames,
      rows,
      cols,
      fps,
      duration: fps > 0 ? frames / fps : 0,
      frameTypes,
      frameBits,
      keyFrame,
      rates,
      cropped,
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
  return { out, videos, failed, skipped };
}
