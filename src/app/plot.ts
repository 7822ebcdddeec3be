// plotRuns: the figures of training runs (what `mvclass plot` writes): each run's loss and
// accuracy curves from its metrics.jsonl and, when it has per-video scores (or a cache to score
// it on), its confusion matrix, as SVG and PNG, every file written atomically.
//
// Scores are looked for, in order, in --scores, in <run>/scores.json (`mvclass eval --run <run>
// --save-scores <run>/scores.json`) and where the sweep keeps them (<run>/../../scores/<name>.json).
// With `data` and no scores, the run is evaluated on the cache and the scores written beside the
// figures.

import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { classificationReport, meanScores, type ClassificationReport } from '../metrics/classification.js';
import { confusionFigure } from '../report/confusion.js';
import { trainingCurvesFigure } from '../report/training.js';
import { readRun, readScores, readTrainingMetrics, RUN_FILES, type ScoresFile } from '../run/format.js';

export { readScores, readTrainingMetrics, type ScoresFile };
import { assertParentExists, writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import type { Device } from '../nn/device.js';

/** The confusion of one score file, or of several fused (the mean of their scores over the videos they share, as `mvclass fuse`). */
export function scoresReport(files: ScoresFile[], names: string[] = files.map((f) => f.model)): ClassificationReport {
  const first = files[0];
  if (!first) throw new MvclassError('no score files');
  files.forEach((f, i) => {
    if (JSON.stringify(f.classes) !== JSON.stringify(first.classes)) throw new MvclassError(`${names[i]}: other classes than ${names[0]}`);
  });
  const byId = files.map((f) => new Map(f.videos.map((v) => [v.id, v])));
  const common = first.videos.filter((v) => byId.every((m) => m.has(v.id)));
  if (common.length === 0) throw new MvclassError(`${names.join(', ')}: no video in common`);
  const scores = common.map((v) => (files.length === 1 ? v.scores : Array.from(meanScores(byId.map((m) => m.get(v.id)!.scores)))));
  return classificationReport(scores, common.map((v) => v.label), first.classes);
}

export interface PlotOptions {
  /** Where the figures go (default: each run folder). Made when missing; its parent must exist. */
  out?: string;
  /** Score files for the confusion matrix (several: fused); default: found beside the run. */
  scores?: string[];
  /** A prepared cache to evaluate a run on when it has no scores. */
  data?: string;
  split?: 'train' | 'test' | 'val';
  temporal?: number;
  crops?: 1 | 10;
  threads?: number;
  /** Where the network runs with `data` (default cpu). */
  device?: Device;
  onWarning?: (message: string) => void;
}

export interface PlottedRun {
  run: string;
  /** Files written for this run: the scores when it was evaluated (`data`), SVG then PNG of the curves, then of the confusion matrix when there were scores. */
  files: string[];
  /** The score files the confusion matrix was drawn from (none: no confusion matrix). */
  scores: string[];
}

/** Model name and classes from run.json, if it is there and readable (only for titles and checks). */
async function runInfo(run: string): Promise<{ model: string | null; classes: string[] | null }> {
  const r = await readRun(run).catch(() => null);
  return { model: r?.config.model ?? null, classes: r?.config.classes ?? null };
}

/** File stems that tell the runs apart: the folder names, with parent folders added while two agree. */
export function runStems(runs: string[]): string[] {
  const parts = runs.map((r) => path.resolve(r).split(path.sep).filter(Boolean));
  for (let depth = 1; ; depth++) {
    const stems = parts.map((p) => p.slice(-depth).join('-').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '') || 'run');
    const longest = Math.max(...parts.map((p) => p.length));
    if (new Set(stems).size === stems.length || depth >= longest) return stems.map((s, i) => (stems.indexOf(s) === i ? s : `${s}-${i + 1}`));
  }
}

const SCORE_NAMES = [RUN_FILES.scores];

function foundScores(run: string, model: string | null): string[] {
  for (const name of SCORE_NAMES) {
    const file = path.join(run, name);
    if (existsSync(file)) return [file];
  }
  // The sweep's layout: <qp>/runs/<model> and <qp>/scores/<model>.json.
  const sweep = path.join(path.dirname(path.dirname(path.resolve(run))), 'scores', `${model ?? path.basename(path.resolve(run))}.json`);
  return path.basename(path.dirname(path.resolve(run))) === 'runs' && existsSync(sweep) ? [sweep] : [];
}

/** Plots each run; see the top of this file. Returns the files written per run. */
export async function plotRuns(runs: string[], options: PlotOptions = {}): Promise<PlottedRun[]> {
  if (runs.length === 0) throw new MvclassError('plot needs at least one run folder');
  if (options.scores?.length && runs.length > 1) throw new MvclassError('--scores belongs to one run: plot one run at a time with it');
  // Everything is read and checked before the first file is written.
  const prepared = [];
  const stems = runStems(runs);
  for (const [i, run] of runs.entries()) {
    const history = await readTrainingMetrics(run);
    for (const w of history.warnings) options.onWarning?.(w);
    const info = await runInfo(run);
    const scoreFiles = options.scores?.length ? options.scores : foundScores(run, info.model);
    const scores = await Promise.all(scoreFiles.map(readScores));
    if (info.classes && scores.some((s) => JSON.stringify(s.classes) !== JSON.stringify(info.classes))) {
      throw new MvclassError(`${scoreFiles.join(', ')}: other classes than ${run} was trained on`, run);
    }
    prepared.push({ run, stem: stems[i]!, history, info, scoreFiles, scores });
  }
  // With a cache to evaluate on: a device libtorch cannot use is refused before anything is written.
  if (options.data !== undefined && prepared.some((p) => p.scores.length === 0)) await (await import('../nn/model.js')).checkDevice(options.device);
  if (options.out !== undefined) {
    await assertParentExists(options.out);
    await fs.mkdir(options.out, { recursive: true });
  }
  const results: PlottedRun[] = [];
  for (const p of prepared) {
    const dir = options.out ?? p.run;
    const prefix = options.out !== undefined ? `${p.stem}-` : '';
    const files: string[] = [];
    const put = async (name: string, data: string | Uint8Array) => {
      const target = path.join(dir, name);
      await writeFileAtomically(target, data);
      files.push(target);
    };
    let { scoreFiles, scores } = p;
    if (scores.length === 0 && options.data !== undefined) {
      // Before any figure: a run that cannot be evaluated leaves nothing behind. libtorch is loaded only here.
      const { evaluateRun } = await import('./evaluate.js');
      const saved = path.join(dir, `${prefix}scores.json`);
      await evaluateRun({ run: p.run, data: options.data, split: options.split ?? 'test', temporal: options.temporal ?? 10, crops: options.crops ?? 10, saveScores: saved, threads: options.threads ?? 0, ...(options.device ? { device: options.device } : {}) });
      files.push(saved);
      scoreFiles = [saved];
      scores = [await readScores(saved)];
    }
    const label = p.info.model ? `${p.info.model} (${p.run})` : p.run;
    const curves = await trainingCurvesFigure(p.history, { title: `Training: ${label}` });
    const confusion = scores.length > 0 ? await confusionFigure(scoresReport(scores, scoreFiles), { title: `Confusion: ${scores.length > 1 ? `fused ${scores.map((s) => s.model).join(' + ')}` : scores[0]!.model} (${p.run})` }) : null;
    await put(`${prefix}training.svg`, curves.svg);
    await put(`${prefix}training.png`, curves.png);
    if (confusion) {
      await put(`${prefix}confusion.svg`, confusion.svg);
      await put(`${prefix}confusion.png`, confusion.png);
    }
    results.push({ run: p.run, files, scores: scoreFiles });
  }
  return results;
}
