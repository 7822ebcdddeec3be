// The transcode study's result, as transcode.json holds it and --json prints it: written by
// app/transcode-study.ts, read by app/transcode-report.ts (its own file, so that neither imports the other).

import type { Comparison } from '../metrics/transcode.js';
import type { TrainOnRow } from './transcode-train-on.js';

/** What every cell measures over its videos, H.264 or JPEG. */
export interface CellMeasures {
  videos: number;
  /** Total bytes of the cell's files. */
  bytes: number;
  /** Mean over videos of bytes * 8 / duration, in kilobits per second. */
  kbps: number;
  /** Means over videos of FFmpeg's average PSNR (dB; Infinity where identical), SSIM All, luma MAE and RMSE. */
  psnr: number;
  ssim: number;
  mae: number;
  rmse: number;
  /** With `accuracy`: top-1 on the test split per model, the networks trained on the originals
   * (on a JPEG cell the pixel models only: JPEG frames carry no motion vectors). */
  accuracy?: Record<string, number>;
}

export interface TranscodeCell extends CellMeasures {
  crf?: number;
  qp?: number;
  gop: number;
}

/** A JPEG cell: every frame as a JPEG at FFmpeg mjpeg q-scale `q` (in an MJPEG .avi), measured as the H.264 cells are. */
export interface JpegCell extends CellMeasures {
  q: number;
}

export interface TranscodeStudyResult {
  dataset: string;
  shortSide: number;
  preset: string;
  /** With a region: "x,y,w,h". */
  roi?: string;
  /** With a region file: its path, as given. */
  roiFile?: string;
  cells: TranscodeCell[];
  /** With `jpeg`: the JPEG cells, in the order asked for. */
  jpeg?: JpegCell[];
  /** The dataset's own files: total bytes and mean kbps. */
  original: { videos: number; bytes: number; kbps: number; accuracy?: Record<string, number> };
  /** Videos left out of every cell, with the reason (the first failing cell's, in grid order). */
  failed: Array<{ path: string; reason: string }>;
  /** With `accuracy`: the MV-vs-pixel comparison (metrics/transcode.ts, compareModels). */
  comparison?: Comparison;
  /** With `trainOn`: the networks trained and tested on each of those cells, in trainOn's order. */
  trainOn?: TrainOnRow[];
}
