// extractMotion: one decoding pass over a video written out as extract_mvs-style CSV, JSON,
// or an .npy bundle (motion grids, mask, key frames, per-frame metadata). The CLI's extract
// command is a thin shell over this.

import { createWriteStream, promises as fs, WriteStream } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { isStreamSource } from '../codec/input.js';
import { decodeVideo, type DecodedBatch, type GridUnits, type VideoStream } from '../codec/decode.js';
import { writeAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { NpyStreamWriter } from '../util/npy.js';
import { oneOf, positiveInteger } from '../util/validate.js';
import { CSV_HEADER, csvText } from './csv.js';
import { JSON_TAIL, jsonHead, jsonText } from './json.js';
import { MotionStats, type MotionSummary } from './stats.js';
import { TextBuffers } from './text.js';

export type ExtractFormat = 'csv' | 'json' | 'npy';
export const EXTRACT_FORMATS = ['csv', 'json', 'npy'] as const;

export interface ExtractOptions {
  format?: ExtractFormat;
  /** Output file (csv/json) or folder (npy). csv/json without it go to `stdout`. */
  out?: string;
  /** Where csv/json go without `out` (default process.stdout). */
  stdout?: Writable;
  grid?: number;
  units?: GridUnits;
  /** npy: also write the I frames as keyframes.npy (default true). */
  keyFrames?: boolean;
  keyFrameWidth?: number;
  keyFrameHeight?: number;
  onProgress?: (framesDone: number) => void;
  onWarning?: (message: string) => void;
  /** Demuxer and protocol options for reading `file` (a URL, "-"), as decodeVideo takes them. */
  inputOptions?: Record<string, string>;
}

export interface ExtractResult {
  file: string;
  format: ExtractFormat;
  out: string | null;
  stream: VideoStream | null;
  files: string[];
  summary: MotionSummary;
}

async function writeText(stream: Writable, text: string | Buffer, written?: () => void): Promise<void> {
  if (text.length > 0 && !stream.write(text, written)) await once(stream, 'drain');
  else if (text.length === 0) written?.();
}

/** Streams known to be done with a chunk once its write calls back, so its memory can be reused:
 * files we opened and the process's standard output (a file, pipe or terminal). */
function releasesChunks(stream: Writable): boolean {
  return stream instanceof WriteStream || stream === process.stdout;
}

export function defaultBundlePath(file: string): string {
  if (file === '-') return 'stdin.mv';
  const name = isStreamSource(file) ? path.posix.basename(new URL(file).pathname) || 'stream' : path.basename(file);
  return `${path.basename(name, path.extname(name))}.mv`;
}

export async function extractMotion(file: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const format = oneOf(options.format ?? 'csv', 'format', EXTRACT_FORMATS);
  const grid = positiveInteger(options.grid ?? 8, 'grid');
  const units = oneOf(options.units ?? 'pixels', 'units', ['pixels', 'quarter-pel'] as const);
  const stats = new MotionStats();
  let stream: VideoStream | null = null;
  const onOpen = (s: VideoStream) => {
    stream = s;
  };
  let done = 0;
  const observe = (batch: DecodedBatch) => {
    stats.add(batch);
    done += batch.frames.length;
    options.onProgress?.(done);
  };
  const warning = { ...(options.onWarning ? { onWarning: options.onWarning } : {}), ...(options.inputOptions ? { inputOptions: options.inputOptions } : {}) };

  if (format === 'npy') {
    const out = options.out ?? defaultBundlePath(file);
    const files = await writeAtomically(out, async (dir) => {
      await fs.mkdir(dir);
      return writeBundle(file, dir, { ...options, grid, units }, observe, onOpen);
    });
    return { file, format, out, stream, files: files.map((f) => path.join(out, f)), summary: stats.summary() };
  }

  const emit = async (sink: Writable) => {
    let first = true;
    const buffers = releasesChunks(sink) ? new TextBuffers() : undefined;
    const decode = decodeVideo(file, { vectors: true, ...warning }, onOpen);
    for await (const batch of decode) {
      if (first) await writeText(sink, format === 'csv' ? CSV_HEADER : jsonHead(file, stream!));
      const text = await (format === 'csv' ? csvText(batch, buffers) : jsonText(batch, first, buffers));
      await writeText(sink, text, buffers && (() => buffers.give(text)));
      first = false;
      observe(batch);
    }
    if (format === 'json') await writeText(sink, JSON_TAIL);
  };

  if (options.out === undefined) {
    await emit(options.stdout ?? process.stdout);
    return { file, format, out: null, stream, files: [], summary: stats.summary() };
  }
  const out = options.out;
  await writeAtomically(out, async (temp) => {
    const sink = createWriteStream(temp);
    const failed = new Promise<never>((_, reject) => sink.once('error', reject));
    try {
      await Promise.race([emit(sink), failed]);
      sink.end();
      await Promise.race([once(sink, 'finish'), failed]);
    } catch (error) {
      sink.destroy();
      throw error;
    }
  });
  return { file, format, out, stream, files: [out], summary: stats.summary() };
}

async function writeBundle(
  file: string,
  dir: string,
  options: ExtractOptions & { grid: number; units: GridUnits },
  observe: (batch: DecodedBatch) => void,
  onOpen: (stream: VideoStream) => void,
): Promise<string[]> {
  const wantKeys = options.keyFrames ?? true;
  let motion: NpyStreamWriter | undefined;
  let mask: NpyStreamWriter | undefined;
  let keys: NpyStreamWriter | undefined;
  let keyShape: [number, number] | undefined;
  let stream: VideoStream | undefined;
  const frames: object[] = [];
  const keyIndex: Array<{ index: number; pts: number; row: number }> = [];
  try {
    const decode = decodeVideo(
      file,
      {
        vectors: false, // counts and statistics come with every batch; the grid is what we store
        grid: options.grid,
        units: options.units,
        keyFrames: wantKeys,
        keyFrameWidth: options.keyFrameWidth ?? 0,
        keyFrameHeight: options.keyFrameHeight ?? 0,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
        ...(options.inputOptions ? { inputOptions: options.inputOptions } : {}),
      },
      (s) => {
        stream = s;
        onOpen(s);
      },
    );
    for await (const batch of decode) {
      const g = batch.grid!;
      motion ??= new NpyStreamWriter(path.join(dir, 'motion.npy'), [2, g.rows, g.cols]);
      mask ??= new NpyStreamWriter(path.join(dir, 'mask.npy'), [g.rows, g.cols]);
      await motion.append(g.data);
      await mask.append(g.mask);
      batch.frames.forEach((frame, i) => frames.push({ ...frame, vectors: batch.vectorCount[i] }));
      for (const key of batch.keyFrames) {
        keyShape ??= [key.height, key.width];
        keys ??= new NpyStreamWriter(path.join(dir, 'keyframes.npy'), [key.height, key.width, 3]);
        if (key.height !== keyShape[0] || key.width !== keyShape[1]) {
          throw new MvclassError(`${file}: key frames change size mid-stream; pass a fixed key frame size`, file);
        }
        keyIndex.push({ index: key.index, pts: key.pts, row: keyIndex.length });
        await keys.append(key.data);
      }
      observe(batch);
    }
    const s = stream as VideoStream | undefined;
    const rows = s ? Math.ceil(s.height / options.grid) : 0;
    const cols = s ? Math.ceil(s.width / options.grid) : 0;
    // A file with no decodable frame still gets well-formed, empty arrays.
    motion ??= new NpyStreamWriter(path.join(dir, 'motion.npy'), [2, rows, cols]);
    mask ??= new NpyStreamWriter(path.join(dir, 'mask.npy'), [rows, cols]);
    const written = ['motion.npy', 'mask.npy'];
    await motion.close(options.units === 'quarter-pel' ? '<i2' : '<f4');
    await mask.close('|u1');
    if (keys) {
      await keys.close('|u1');
      written.push('keyframes.npy');
    }
    const meta = {
      file: path.resolve(file),
      stream: s ?? null,
      grid: { block: options.grid, units: options.units, list: 'list0', rows, cols },
      layout: {
        'motion.npy': '[T, 2, rows, cols]: dx then dy per block, motion = src - dst (FFmpeg convention)',
        'mask.npy': '[T, rows, cols]: 0 hole, 1 coded vector, 2 filled from >= 2 coded 4-neighbours',
        'keyframes.npy': '[K, height, width, 3] RGB of the I frames listed in keyFrames',
      },
      frames,
      keyFrames: keyIndex,
    };
    await fs.writeFile(path.join(dir, 'frames.json'), JSON.stringify(meta, null, 1) + '\n');
    written.push('frames.json');
    return written;
  } catch (error) {
    await Promise.all([motion?.abort(), mask?.abort(), keys?.abort()]);
    throw error;
  }
}
