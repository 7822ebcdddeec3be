// buildSweepReport: the sweep's numbers as the paper's tables and figures (report.html beside
// every figure as SVG and PNG and every table as CSV, JSON and Markdown).

import type { VideoCodec } from '../codec/encode.js';
import { PreparedCache } from '../cache/read.js';
import { activityKey, activityMap } from '../report/activity.js';
import { confusionFigure } from '../report/confusion.js';
import { frontierFigure, gammaFitFigure, linearFitFigure, rateAccuracyFigure } from '../report/figures.js';
import { writeReport, type ReportFigure, type ReportSection } from '../report/html.js';
import { trainingCurvesFigure } from '../report/training.js';
import { temporalRate, type McnnCheck, type McnnFit } from '../rate/mcnn/fit.js';
import type { McnnSolution } from '../rate/mcnn/optimise.js';
import { PAPER_RATES } from '../rate/rates.js';
import { readTrainingMetrics } from './plot.js';
import { SWEEP_NETWORKS, type SweepNetwork, type SweepSchedule } from '../config/schema.js';
import type { QpResult } from './results.js';

/** The paper's 3D-CNN-F accuracy on UCF-101 (Table III), where it reports one. */
const PAPER_3DF: Record<VideoCodec, Record<number, number>> = { h264: { 30: 0.881, 40: 0.881, 51: 0.84 }, hevc: { 30: 0.867 } };

export interface SweepReportData {
  title: string;
  codec: VideoCodec;
  qps: QpResult[];
  fitQp: number;
  mcnn: McnnFit;
  checks: McnnCheck[];
  predicted: McnnSolution[];
  stages: Array<{ stage: string; seconds: number; skipped: boolean }>;
  schedule: SweepSchedule;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? null : Number((100 * x).toFixed(1)));

/** Brightness of the activity maps saturates here (pixels per frame). */
const ACTIVITY_MAX_PX = 4;

async function activityMaps(qps: QpResult[]): Promise<NonNullable<ReportSection['images']>> {
  // The same frame of the same test video at every QP.
  const caches = await Promise.all(qps.map((q) => PreparedCache.open(q.cache)));
  try {
    const first = caches[0]!.videos.findIndex((v) => v.split === 'test');
    if (first < 0) return [];
    const target = caches[0]!.videos[first]!.path;
    const images = [];
    for (const [k, cache] of caches.entries()) {
      const i = cache.videos.findIndex((v) => v.path === target);
      if (i < 0) continue;
      const video = cache.videos[i]!;
      const clip = await cache.clip(i);
      const frame = Math.min(10, clip.frames - 1);
      const cells = clip.rows * clip.cols;
      const at = frame * 2 * cells;
      const dx = Array.from(clip.data.subarray(at, at + cells), (q) => q / 4);
      const dy = Array.from(clip.data.subarray(at + cells, at + 2 * cells), (q) => q / 4);
      images.push({
        name: `fig2-activity-qp${qps[k]!.qp}`,
        caption: `QP ${qps[k]!.qp}: test video ${video.id} (${video.className}), frame ${frame} (${video.frameTypes[frame] ?? '?'} frame), ${clip.cols}x${clip.rows} blocks of 8x8 px; hue: direction, brightness: magnitude up to ${ACTIVITY_MAX_PX} px (key above)`,
        png: activityMap({ rows: clip.rows, cols: clip.cols, dx, dy }, { maxMagnitude: ACTIVITY_MAX_PX }),
      });
    }
    return images;
  } finally {
    await Promise.all(caches.map((c) => c.close()));
  }
}

const NETWORK_NAMES: Record<SweepNetwork, string> = { mv3d: '3D CNN', mv2d: '2D CNN', vgg16: 'spatial CNN' };

/** Each QP's networks' training curves; a run without a readable metrics.jsonl is named in `missing`. */
async function trainingFigures(qps: QpResult[]): Promise<{ figures: ReportFigure[]; missing: string[] }> {
  const figures: ReportFigure[] = [];
  const missing: string[] = [];
  for (const q of qps) {
    for (const model of SWEEP_NETWORKS) {
      const run = q.runs[model];
      const history = await readTrainingMetrics(run).catch((error: Error) => {
        missing.push(`QP ${q.qp} ${NETWORK_NAMES[model]}: ${error.message}`);
        return null;
      });
      if (!history) continue;
      const val = history.val.length > 0 ? ' and on the validation split (one centred view per video)' : '; no validation was logged';
      figures.push({
        name: `training-qp${q.qp}-${model}`,
        caption: `Training of the ${NETWORK_NAMES[model]} (${model}) at QP ${q.qp}: loss (mean per logged window) and top-1 accuracy on the training batches${val}, against the SGD iteration`,
        figure: await trainingCurvesFigure(history, { title: `${NETWORK_NAMES[model]} at QP ${q.qp}` }),
      });
    }
  }
  return { figures, missing };
}

/** The confusion matrices of the fused classifiers (3D-CNN-F, 2D-CNN-F) of each QP. */
async function confusionFigures(qps: QpResult[]): Promise<ReportFigure[]> {
  const figures: ReportFigure[] = [];
  for (const q of qps) {
    for (const [key, label] of [['mv3d-F', '3D-CNN-F'], ['mv2d-F', '2D-CNN-F']] as const) {
      const r = q.accuracy[key];
      figures.push({
        name: `confusion-qp${q.qp}-${key}`,
        caption: `${label} at QP ${q.qp} (the ${key === 'mv3d-F' ? '3D' : '2D'} CNN's scores averaged with the spatial CNN's) on the ${r.videos} test videos: rows the true class, columns the prediction; counts in the cells, colour the share of the true class`,
        figure: await confusionFigure(r, { title: `${label} at QP ${q.qp}: top-1 ${(100 * r.top1).toFixed(1)}%` }),
      });
    }
  }
  return figures;
}

export async function buildSweepReport(dir: string, d: SweepReportData): Promise<void> {
  const paper = PAPER_RATES[d.codec];
  const ratesRows = d.qps.flatMap((q) => {
    const r = q.rates;
    const rows: Array<Array<string | number | null>> = [['mvclass', q.qp, r.rOrig, r.rCropped, r.rCroppedEncoder, r.rMotion, r.motionPctOrig, r.motionPctCropped]];
    const p = paper[q.qp];
    if (p) rows.push(['paper (UCF-101)', q.qp, p.rOrig, p.rCropped, null, p.rMotion, (100 * p.rMotion) / p.rOrig, (100 * p.rMotion) / p.rCropped]);
    return rows;
  });
  const accuracyRows = d.qps.map((q) => [q.qp, pct(q.accuracy.mv3d.top1), pct(q.accuracy.mv2d.top1), pct(q.accuracy.vgg16.top1), pct(q.accuracy['mv3d-F'].top1), pct(q.accuracy['mv2d-F'].top1), PAPER_3DF[d.codec][q.qp] !== undefined ? pct(PAPER_3DF[d.codec][q.qp]) : null]);

  // Per-video points of the fit QP for Figs. 7, 9 and 10.
  const cache = await PreparedCache.open(d.mcnn.data);
  const fitVideos = cache.videos.filter((v) => (v.split === 'train' || v.split === 'val') && v.rates.rMotion !== null && v.cropped);
  await cache.close();
  const rMotion = fitVideos.map((v) => v.rates.rMotion!);
  const network = (name: 'mv3d' | 'mv2d' | 'vgg16', label: string, rate: (q: QpResult) => number) => ({
    name: label,
    points: d.qps.map((q) => ({ label: `QP ${q.qp}`, rate: rate(q), accuracy: q.accuracy[name].top1 })),
  });
  const fit = d.qps.find((q) => q.qp === d.fitQp)!;
  const maps = await activityMaps(d.qps);
  const training = await trainingFigures(d.qps);
  const sections: ReportSection[] = [
    {
      heading: 'Rates (Table I/II analogue)',
      text: `Mean over the dataset's videos, kbps, ${d.codec.toUpperCase()} at 320x240, 25 fps, one IDR then P frames, search range 16. What each rate counts: docs/rates.md.`,
      tables: [{ name: 'table1-rates', caption: 'R_orig, R_cropped (the cropped stream), R_cropped by the encoder\'s count, R_motion, and R_motion as % of R_orig and of R_cropped', header: ['source', 'QP', 'R_orig', 'R_cropped', 'R_cropped (encoder)', 'R_motion', '% of R_orig', '% of R_cropped'], rows: ratesRows, digits: 1 }],
    },
    {
      heading: 'Motion-vector activity (Fig. 2 analogue)',
      text: `The 8x8-block motion grid of one test video at each QP, one block a square: the vector's direction as hue, its length as brightness (black: no motion, full brightness from ${ACTIVITY_MAX_PX} px on). Coarser quantisation leaves fewer and smoother vectors.`,
      figures: maps.length ? [{ name: 'fig2-activity-key', caption: `Colour key of the activity maps: one gradient bar per direction, from 0 to ${ACTIVITY_MAX_PX} px (pixels per frame, as the grids hold them)`, figure: await activityKey({ maxMagnitude: ACTIVITY_MAX_PX, unit: 'px' }) }] : [],
      images: maps,
    },
    {
      heading: 'Accuracy per QP (Table III analogue)',
      text: `Top-1 on the test split, ${d.schedule.temporal} temporal x ${d.schedule.crops} crop views; -F: averaged with the spatial stream's scores.`,
      tables: [{ name: 'table3-accuracy', caption: 'top-1 accuracy (%)', header: ['QP', '3D CNN', '2D CNN', 'spatial', '3D-CNN-F', '2D-CNN-F', 'paper 3D-CNN-F (UCF-101)'], rows: accuracyRows, digits: 1 }],
      figures: [
        {
          name: 'fig3-rate-accuracy',
          caption: 'Rate-accuracy per QP and network (rate: what the network is sent, kbps)',
          figure: await rateAccuracyFigure([
            network('mv3d', '3D CNN', (q) => q.sent.mv3d),
            network('mv2d', '2D CNN', (q) => q.sent.mv2d),
            network('vgg16', 'spatial CNN', (q) => q.sent.spatial),
          ]),
        },
      ],
    },
    {
      heading: `Multi-CNN at QP ${d.fitQp}`,
      text:
        `Gamma fit of R_motion: alpha ${d.mcnn.alpha.toFixed(3)}, beta ${d.mcnn.beta.toFixed(4)} (a rate: mean ${(d.mcnn.alpha / d.mcnn.beta).toFixed(2)} kbps), KL ${d.mcnn.kl.toFixed(3)}. ` +
        `R_3D = ${d.mcnn.a3d.toFixed(3)} R_motion + ${d.mcnn.b3d.toFixed(3)} (R2 ${d.mcnn.r2_3d.toFixed(3)}); R_2D = ${d.mcnn.a2d.toFixed(3)} R_motion + ${d.mcnn.b2d.toFixed(3)} (R2 ${d.mcnn.r2_2d.toFixed(3)}); I_SP ${d.mcnn.isp.toFixed(2)} kbps. ` +
        `Validation accuracies: 3D ${pct(d.mcnn.acc3d)}%, 2D ${pct(d.mcnn.acc2d)}%, spatial ${pct(d.mcnn.accsp)}% (${d.mcnn.videos.validation} videos). The measured points apply the chosen thresholds to each test video.`,
      tables: [
        {
          name: 'mcnn-check',
          caption: 'The model against the test split',
          header: ['budget', 'R_L', 'R_H', 'predicted accuracy %', 'measured accuracy %', 'predicted rate', 'measured rate', '3D / 2D / spatial'],
          rows: d.checks.map((c) => [c.budget, c.rL === null ? null : Number.isFinite(c.rL) ? c.rL : 'inf', c.rH === null ? null : Number.isFinite(c.rH) ? c.rH : 'inf', pct(c.predicted.accuracy), pct(c.measured?.accuracy), c.predicted.rateSent, c.measured?.rateSent ?? null, c.measured ? `${c.measured.chosen.mv3d} / ${c.measured.chosen.mv2d} / ${c.measured.chosen.spatial}` : null]),
          digits: 2,
        },
      ],
      figures: [
        {
          name: 'fig6-mcnn-frontier',
          caption: 'MCNN rate-accuracy frontier, predicted and measured, against the single networks',
          figure: await frontierFigure({
            predicted: d.predicted.filter((s) => s.feasible).map((s) => ({ rate: s.rateSent!, accuracy: s.accuracy! })),
            measured: d.checks.filter((c) => c.measured).map((c) => ({ rate: c.measured!.rateSent, accuracy: c.measured!.accuracy })),
            singles: [
              { name: '3D CNN', rate: fit.sent.mv3d, accuracy: fit.accuracy.mv3d.top1 },
              { name: '2D CNN', rate: fit.sent.mv2d, accuracy: fit.accuracy.mv2d.top1 },
              { name: 'spatial', rate: fit.sent.spatial, accuracy: fit.accuracy.vgg16.top1 },
            ],
          }),
        },
        { name: 'fig7-rmotion-gamma', caption: 'R_motion histogram with the Gamma fit', figure: await gammaFitFigure({ samples: rMotion, alpha: d.mcnn.alpha, beta: d.mcnn.beta, kl: d.mcnn.kl }) },
        {
          name: 'fig9-r3d-fit',
          caption: 'What the 3D CNN is sent against R_motion',
          figure: await linearFitFigure({ title: 'R_3D vs R_motion', x: rMotion, y: fitVideos.map((v) => temporalRate(v, d.mcnn.frames3d)), a: d.mcnn.a3d, b: d.mcnn.b3d, r2: d.mcnn.r2_3d, xLabel: 'R_motion (kbps)', yLabel: 'R_3D (kbps)' }),
        },
        {
          name: 'fig10-r2d-fit',
          caption: 'What the 2D CNN is sent against R_motion',
          figure: await linearFitFigure({ title: 'R_2D vs R_motion', x: rMotion, y: fitVideos.map((v) => temporalRate(v, d.mcnn.frames2d)), a: d.mcnn.a2d, b: d.mcnn.b2d, r2: d.mcnn.r2_2d, xLabel: 'R_motion (kbps)', yLabel: 'R_2D (kbps)' }),
        },
      ],
    },
    {
      heading: 'Training curves',
      text:
        `Each network's loss and top-1 accuracy while training (metrics.jsonl in each run folder; \`mvclass plot <run>\` draws one run), the loss on a log axis when it spans a factor of 10 or more.` +
        (training.missing.length ? `\n\nNot drawn: ${training.missing.join('; ')}.` : ''),
      figures: training.figures,
    },
    {
      heading: 'Confusion of the fused classifiers',
      text: 'Which classes the -F classifiers (a motion CNN averaged with the spatial CNN) take for which, on the test split.',
      figures: await confusionFigures(d.qps),
    },
    {
      heading: 'Stages',
      tables: [{ name: 'stages', caption: 'seconds per stage (0: reused from an earlier run)', header: ['stage', 'seconds', 'reused'], rows: d.stages.map((s) => [s.stage, s.seconds, s.skipped ? 'yes' : 'no']), digits: 1 }],
    },
  ];
  await writeReport(dir, { title: d.title, subtitle: `the rate-accuracy paper reproduced with mvclass: ${d.codec.toUpperCase()}, QP ${d.qps.map((q) => q.qp).join(', ')}`, sections });
}
