// runSweep: the paper's experiment on a dataset, stage by stage and resumable: for each QP,
// prepare the cache, train the 3D, 2D and spatial networks, evaluate them on the test split and
// fuse them ("-F"); at one QP, fit the Multi-CNN (accuracies on the validation split) and check it
// on the test split; then the report with the paper's tables and figures. A stage whose output
// exists is not run again.

import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { PreparedCache } from '../cache/read.js';
import { prepareDataset, qpFolder } from './prepare.js';
import type { VideoCodec } from '../codec/encode.js';
import { openDataset } from '../datasets/open.js';
import type { ClassificationReport } from '../metrics/classification.js';
import { evaluateRun, fuseScores } from './evaluate.js';
import { checkDevice, type Device, type ModelName } from '../nn/model.js';
import { hasRun, isFrameModel, readRun } from '../run/format.js';
import { trainModel } from './train.js';
import { allTo3dRate, budgetsFor, spatialRate, temporalRate } from '../rate/mcnn/fit.js';
import { fitMcnn, validateMcnn, writeMcnn, type McnnCheck, type McnnFit } from './mcnn.js';
import { frontier } from '../rate/mcnn/optimise.js';
import { meanRates } from '../rate/rates.js';
import { writeFileAtomically } from '../util/atomic.js';
import { infinityAsText, infinityFromText } from '../util/json.js';
import { MvclassError } from '../util/errors.js';
import { buildSweepReport } from './report.js';
import { sweepSchedule } from '../config/merge.js';
import { PRESETS } from '../config/presets.js';
import { SWEEP_NETWORKS, type NetworkShape, type SweepSchedule } from '../config/schema.js';
import type { QpResult } from './results.js';

// The schedule's types live with the other settings (config/schema.ts) and a QP's result with
// the report's inputs (results.ts), so that neither imports this workflow back.
export type { NetworkShape, QpResult, SweepSchedule };


/** The paper's schedule: days on a CPU; for a GPU (the `paper` preset, src/config/presets.ts). */
export const PAPER_SCHEDULE: SweepSchedule = sweepSchedule([PRESETS.paper]);

/** Small networks and a short schedule that run on a 2-core CPU in minutes (the `cpu` preset). */
export const CPU_SCHEDULE: SweepSchedule = sweepSchedule([PRESETS.cpu]);

export interface SweepOptions {
  dataset: string;
  out: string;
  qps: number[];
  codec?: VideoCodec;
  /** The QP at which the Multi-CNN is fitted (default 30 if swept, else the first). */
  fitQp?: number;
  valFraction?: number;
  seed?: number;
  threads?: number;
  /** Where the networks run (default cpu); a device libtorch cannot use is refused before anything is written. */
  device?: Device;
  schedule?: SweepSchedule;
  title?: string;
  onStage?: (stage: string, state: 'start' | 'done' | 'skipped', seconds: number) => void;
  onWarning?: (message: string) => void;
}


export interface SweepResult {
  out: string;
  report: string;
  qps: QpResult[];
  fitQp: number;
  mcnn: McnnFit;
  checks: McnnCheck[];
  stages: Array<{ stage: string; seconds: number; skipped: boolean }>;
}

export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const schedule = options.schedule ?? PAPER_SCHEDULE;
  const codec = options.codec ?? 'h264';
  if (options.qps.length === 0) throw new MvclassError('sweep needs at least one QP');
  const fitQp = options.fitQp ?? (options.qps.includes(30) ? 30 : options.qps[0]!);
  if (!options.qps.includes(fitQp)) throw new MvclassError(`the MCNN QP ${fitQp} is not among the swept QPs ${options.qps.join(', ')}`);
  const device = await checkDevice(options.device);
  await fs.mkdir(options.out, { recursive: true });
  const stages: SweepResult['stages'] = [];
  const stage = async <T>(name: string, done: boolean, work: () => Promise<T>): Promise<T | undefined> => {
    if (done) {
      stages.push({ stage: name, seconds: 0, skipped: true });
      options.onStage?.(name, 'skipped', 0);
      return undefined;
    }
    options.onStage?.(name, 'start', 0);
    const t0 = performance.now();
    const result = await work();
    const seconds = (performance.now() - t0) / 1000;
    stages.push({ stage: name, seconds, skipped: false });
    options.onStage?.(name, 'done', seconds);
    return result;
  };
  const dataset = await openDataset(options.dataset, { seed: options.seed ?? 1, valFraction: options.valFraction ?? 0.15 });
  const warn = options.onWarning ? { onWarning: options.onWarning } : {};
  const threads = options.threads ?? 0;
  const qps: QpResult[] = [];

  for (const qp of options.qps) {
    const dir = qpFolder(options.out, qp);
    const cache = path.join(dir, 'cache');
    await stage(`prepare QP ${qp}`, existsSync(path.join(cache, 'manifest.json')), () =>
      prepareDataset(dataset, cache, { codec, qp, keySize: schedule.keySize, ...warn }),
    );
    const scores: Partial<Record<ModelName, string>> = {};
    const reports: Partial<QpResult['accuracy']> = {};
    for (const model of SWEEP_NETWORKS) {
      const run = path.join(dir, 'runs', model);
      const shape = schedule[model];
      const progress = (await hasRun(run)) ? ((await readRun(run)).iteration ?? 0) : 0;
      await stage(`train ${model} QP ${qp}`, progress >= schedule.iterations, () =>
        trainModel({
          model,
          data: cache,
          out: run,
          iterations: schedule.iterations,
          batch: schedule.batch,
          optimizer: schedule.optimizer,
          lr: schedule.lr,
          lrStep: schedule.lrStep,
          ...(isFrameModel(model) ? {} : { frames: shape.frames }),
          size: shape.size,
          width: shape.width,
          fc: shape.fc,
          seed: options.seed ?? 1,
          threads,
          device,
          ...(schedule.warmup !== undefined ? { warmup: schedule.warmup } : {}),
          ...(schedule.clipNorm !== undefined ? { clipNorm: schedule.clipNorm } : {}),
          ...(schedule.valEvery !== undefined ? { valEvery: schedule.valEvery } : {}),
          ...(schedule.weightDecay !== undefined ? { weightDecay: schedule.weightDecay } : {}),
          resume: progress > 0,
        }),
      );
      const file = path.join(dir, 'scores', `${model}.json`);
      const reportFile = path.join(dir, 'scores', `${model}.report.json`);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await stage(`eval ${model} QP ${qp}`, existsSync(reportFile), async () => {
        const r = await evaluateRun({ run, data: cache, split: 'test', temporal: schedule.temporal, crops: schedule.crops, saveScores: file, threads, device });
        await fs.writeFile(reportFile, JSON.stringify(r));
      });
      scores[model] = file;
      reports[model] = JSON.parse(await fs.readFile(reportFile, 'utf8')) as ClassificationReport;
    }
    reports['mv3d-F'] = await fuseScores([scores.mv3d!, scores.vgg16!]);
    reports['mv2d-F'] = await fuseScores([scores.mv2d!, scores.vgg16!]);
    const opened = await PreparedCache.open(cache);
    const videos = opened.videos.filter((v) => v.cropped);
    await opened.close();
    const mean = (f: (v: (typeof videos)[number]) => number) => videos.reduce((s, v) => s + f(v), 0) / Math.max(videos.length, 1);
    qps.push({
      qp,
      cache,
      runs: { mv3d: path.join(dir, 'runs', 'mv3d'), mv2d: path.join(dir, 'runs', 'mv2d'), vgg16: path.join(dir, 'runs', 'vgg16') },
      rates: meanRates(opened.videos.map((v) => ({ ...v.rates, codec, frames: v.frames, duration: v.duration, motionPctOrig: null, motionPctCropped: null }))),
      sent: { mv3d: mean((v) => temporalRate(v, schedule.mv3d.frames)), mv2d: mean((v) => temporalRate(v, schedule.mv2d.frames)), spatial: mean(spatialRate) },
      accuracy: reports as QpResult['accuracy'],
    });
  }

  const fitDir = qpFolder(options.out, fitQp);
  const runs = { mv3d: path.join(fitDir, 'runs', 'mv3d'), mv2d: path.join(fitDir, 'runs', 'mv2d'), spatial: path.join(fitDir, 'runs', 'vgg16') };
  const mcnnFile = path.join(options.out, 'mcnn.json');
  await stage(`mcnn fit QP ${fitQp}`, existsSync(mcnnFile), async () =>
    writeMcnn(mcnnFile, await fitMcnn(runs, path.join(fitDir, 'cache'), { temporal: schedule.temporal, crops: schedule.crops, threads, device })),
  );
  const mcnn = JSON.parse(await fs.readFile(mcnnFile, 'utf8')) as McnnFit;
  // Budgets from the cheapest selection to beyond sending every video to the 3D network.
  const budgets = budgetsFor(mcnn, Array.from({ length: 12 }, (_, i) => 0.15 + (1.25 * i) / 11), 3);
  // The check reuses the eval stage's test scores (the same views), and its result is kept:
  // a rerun with the same fit and budgets does not check again.
  // Not mcnn-check.json: the report writes its table under that name.
  const checkFile = path.join(options.out, 'mcnn-check-stage.json');
  const fitKey = createHash('sha1').update(JSON.stringify({ mcnn, budgets })).digest('hex');
  const kept = await fs.readFile(checkFile, 'utf8').then((t) => JSON.parse(t, infinityFromText) as { fit?: string; checks?: McnnCheck[] }, () => null);
  const keptChecks = kept?.fit === fitKey && Array.isArray(kept.checks) ? kept.checks : null;
  const scoreFiles = { mv3d: path.join(fitDir, 'scores', 'mv3d.json'), mv2d: path.join(fitDir, 'scores', 'mv2d.json'), spatial: path.join(fitDir, 'scores', 'vgg16.json') };
  const checks =
    (await stage(`mcnn check QP ${fitQp}`, keptChecks !== null, async () => {
      const c = await validateMcnn(mcnn, budgets, { temporal: schedule.temporal, crops: schedule.crops, threads, device, scoreFiles });
      await writeFileAtomically(checkFile, JSON.stringify({ fit: fitKey, checks: c }, infinityAsText, 1) + '\n');
      return c;
    })) ?? keptChecks!;
  const all3d = allTo3dRate(mcnn);
  const predicted = frontier(mcnn, Array.from({ length: 60 }, (_, i) => all3d * (0.05 + (1.4 * i) / 59)));
  const report = path.join(options.out, 'report.html');
  await stage('report', false, () =>
    buildSweepReport(options.out, { title: options.title ?? `mvclass sweep: ${path.basename(path.resolve(options.dataset))}`, codec, qps, fitQp, mcnn, checks, predicted, stages, schedule }),
  );
  return { out: options.out, report, qps, fitQp, mcnn, checks, stages };
}
