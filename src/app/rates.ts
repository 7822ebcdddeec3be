// measureRates: the rates of every video, either as it is or re-encoded with the paper's encoding
// profile (src/ingest/profile.ts) at each QP, then cropped.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VideoCodec } from '../codec/encode.js';
import { ingestVideo } from '../ingest/ingest.js';
import { PAPER_PROFILE, withRate, type EncodingProfile } from '../ingest/profile.js';
import { MvclassError } from '../util/errors.js';
import { meanRates, PAPER_RATES, type Rates } from '../rate/rates.js';
import { csvTable, markdownTable, type Cell } from '../report/table.js';
import { writeFileAtomically } from '../util/atomic.js';

export interface MeasureOptions {
  codec?: VideoCodec;
  /** QPs to encode at; absent: take each video as it is. */
  qps?: number[];
  size?: string;
  fps?: number;
  /** Keep the encoded and cropped streams here (default: a temporary folder, removed). */
  streamsDir?: string;
  /** Encoder threads (default the profile's 1: the same bits on every machine; 0: the encoder chooses, faster, machine-dependent bits). */
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

import { listVideos } from '../datasets/files.js';

export { listVideos };

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
  const profile: EncodingProfile = { ...PAPER_PROFILE, codec, size: options.size ?? PAPER_PROFILE.size, fps: options.fps ?? PAPER_PROFILE.fps, ...(options.threads !== undefined ? { threads: options.threads } : {}) };
  try {
    for (const video of videos) {
      try {
        if (!options.qps) {
          options.onProgress?.(done, steps, path.basename(video));
          const base = path.basename(video, path.extname(video));
          const r = await ingestVideo(video, { crop: 'auto', decode: false, workDir: dir, names: { cropped: `${base}.cropped.264` }, ...warning });
          rows.push({ video, qp: null, ...r.rates });
          done++;
          continue;
        }
        for (const qp of options.qps) {
          options.onProgress?.(done, steps, `${path.basename(video)} QP ${qp}`);
          const name = streamName(video, qp, codec);
          const r = await ingestVideo(video, {
            profile: withRate(profile, { qp }),
            crop: codec === 'h264',
            decode: false,
            workDir: dir,
            names: { stream: `${name}.mp4`, cropped: `${name}.cropped.264` },
            ...warning,
          });
          rows.push({ video, qp, ...r.rates });
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

const HEADER = ['video', 'QP', 'R_orig', 'R_cropped', 'R_cropped (encoder)', 'R_motion', '% of R_orig', '% of R_cropped'];

type RateCells = Record<'rOrig' | 'rCropped' | 'rCroppedEncoder' | 'rMotion' | 'motionPctOrig' | 'motionPctCropped', number | null>;

function rowCells(label: string, qp: Cell, r: RateCells): Cell[] {
  return [label, qp, r.rOrig, r.rCropped, r.rCroppedEncoder, r.rMotion, r.motionPctOrig, r.motionPctCropped];
}

export interface RatesReport {
  /** The table per video, the mean per QP and the paper's UCF-101 row beside it (rates.md). */
  markdown: string;
  /** One row per video and QP (rates.csv). */
  csv: string;
  /** Everything (rates.json). */
  json: { codec: VideoCodec; qps: number[] | null; videos: VideoRatesRow[]; averages: Array<{ qp: number | null; videos: number } & ReturnType<typeof meanRates>>; failed: MeasureResult['failed'] };
}

/** The rates of measureRates as tables: per video, the mean per QP, and the paper's row at its QPs. */
export function ratesReport(result: MeasureResult, settings: { codec: VideoCodec; qps: number[] | null; size: string; fps: number }): RatesReport {
  const { codec, qps } = settings;
  const groups = new Map<number | null, VideoRatesRow[]>();
  for (const row of result.rows) groups.set(row.qp, [...(groups.get(row.qp) ?? []), row]);
  const averages = [...groups].map(([qp, rows]) => ({ qp, videos: rows.length, ...meanRates(rows) }));
  const table: Cell[][] = result.rows.map((r) => rowCells(path.basename(r.video), r.qp ?? 'as is', r));
  for (const a of averages) {
    table.push(rowCells(`**mean of ${a.videos}**`, a.qp ?? 'as is', a));
    const paper = a.qp !== null ? PAPER_RATES[codec][a.qp] : undefined;
    if (paper) {
      table.push(
        rowCells('paper (UCF-101 mean)', a.qp, {
          rOrig: paper.rOrig,
          rCropped: paper.rCropped,
          rCroppedEncoder: null,
          rMotion: paper.rMotion,
          motionPctOrig: (100 * paper.rMotion) / paper.rOrig,
          motionPctCropped: (100 * paper.rMotion) / paper.rCropped,
        }),
      );
    }
  }
  const markdown = `Rates in kbps (${codec}${qps ? `, encoded at ${settings.size}, ${settings.fps} fps, one IDR then P, search range 16` : ', streams as they are'}); see docs/rates.md\n\n${markdownTable(HEADER, table)}`;
  const csv = csvTable(['video', ...HEADER.slice(1)], result.rows.map((r) => rowCells(r.video, r.qp, r)));
  return { markdown, csv, json: { codec, qps, videos: result.rows, averages, failed: result.failed } };
}

/** rates.md, rates.csv and rates.json in `out`, each written atomically. */
export async function writeRatesReport(out: string, report: RatesReport): Promise<void> {
  await writeFileAtomically(path.join(out, 'rates.md'), report.markdown);
  await writeFileAtomically(path.join(out, 'rates.csv'), report.csv);
  await writeFileAtomically(path.join(out, 'rates.json'), JSON.stringify(report.json, null, 1) + '\n');
}
