// measureRates: the rates of every video, either as it is or re-encoded at seed 004's settings
// at each QP (320x240, 25 fps, one IDR then P frames, search range 16), then cropped.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crop, type CropResult } from '../codec/crop.js';
import { encode, type VideoCodec } from '../codec/encode.js';
import { probe } from '../codec/probe.js';
import { MvclassError } from '../util/errors.js';
import { ratesOfEncoding, ratesOfStream, type Rates } from './rates.js';

export interface MeasureOptions {
  codec?: VideoCodec;
  /** QPs to encode at; absent: take each video as it is. */
  qps?: number[];
  size?: string;
  fps?: number;
  /** Keep the encoded and cropped streams here (default: a temporary folder, removed). */
  streamsDir?: string;
  threads?: number;
  onProgress?: (done: number, total: number, label: string) => void;
  onWarning?: (message: string) => void;
}

export interface VideoRatesRow extends Rates {
  video: string;
  qp: number | null;
}

export interface MeasureResult {
  rows: VideoRatesRow[];
  failed: Array<{ path: string; reason: string }>;
}

export const VIDEO_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv', '.avi', '.mpg', '.mpeg', '.264', '.h264', '.hevc', '.265', '.webm', '.flv', '.3gp', '.ts'];

/** Files as given, folders walked (sorted) for video files. */
export async function listVideos(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => null);
    if (!stat) throw new MvclassError(`${input}: no such file or folder`, input);
    if (stat.isDirectory()) {
      const entries = await fs.readdir(input, { recursive: true, withFileTypes: true });
      const files = entries
        .filter((e) => e.isFile() && VIDEO_EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
        .map((e) => path.join(e.parentPath ?? e.path, e.name))
        .sort();
      out.push(...files);
    } else {
      out.push(input);
    }
  }
  return out;
}

function streamName(video: string, qp: number, codec: VideoCodec): string {
  return `${path.basename(video, path.extname(video))}.${codec}.qp${String(qp).padStart(2, '0')}`;
}

export async function measureRates(videos: string[], options: MeasureOptions = {}): Promise<MeasureResult> {
  const codec = options.codec ?? 'h264';
  const rows: VideoRatesRow[] = [];
  const failed: MeasureResult['failed'] = [];
  const temporary = options.streamsDir === undefined;
  const dir = options.streamsDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'mvclass-rates-')));
  await fs.mkdir(dir, { recursive: true });
  const steps = videos.length * (options.qps?.length ?? 1);
  let done = 0;
  const warning = options.onWarning ? { onWarning: options.onWarning } : {};
  try {
    for (const video of videos) {
      try {
        if (!options.qps) {
          options.onProgress?.(done, steps, path.basename(video));
          const info = await probe(video);
          const streamCodec = info.codec === 'hevc' ? 'hevc' : 'h264';
          let cropped: CropResult | undefined;
          if (info.codec === 'h264' && !info.hasBFrames) {
            cropped = await crop(video, path.join(dir, `${path.basename(video, path.extname(video))}.cropped.264`), warning);
          }
          rows.push({ video, qp: null, ...ratesOfStream(streamCodec, info.frameCount, info.duration, info.videoBytes, cropped) });
          done++;
          continue;
        }
        for (const qp of options.qps) {
          options.onProgress?.(done, steps, `${path.basename(video)} QP ${qp}`);
          const name = streamName(video, qp, codec);
          const encoded = await encode(video, path.join(dir, `${name}.mp4`), {
            codec,
            qp,
            gop: 0,
            bframes: 0,
            meRange: 16,
            size: options.size ?? '320x240',
            fps: options.fps ?? 25,
            threads: options.threads ?? 0,
            ...warning,
          });
          const cropped = codec === 'h264' ? await crop(encoded.output, path.join(dir, `${name}.cropped.264`), warning) : undefined;
          rows.push({ video, qp, ...ratesOfEncoding(encoded, cropped) });
          done++;
        }
      } catch (error) {
        failed.push({ path: video, reason: error instanceof Error ? error.message : String(error) });
        done = rows.length + failed.length * (options.qps?.length ?? 1);
      }
    }
    options.onProgress?.(steps, steps, 'done');
  } finally {
    if (temporary) await fs.rm(dir, { recursive: true, force: true });
  }
  return { rows, failed };
}
