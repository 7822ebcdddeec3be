// buildSweepReport: the sweep's numbers as seed 004's tables and figures (report.html beside
// every figure as SVG and PNG and every table as CSV, JSON and Markdown).

import type { VideoCodec } from '../codec/encode.js';
import { PreparedCache } from '../cache/read.js';
import { activityMap } from '../report/activity.js';
import { frontierFigure, gammaFitFigure, linearFitFigure, rateAccuracyFigure } from '../report/figures.js';
import { writeReport, type ReportSection } from '../report/html.js';
import { temporalRate, type McnnCheck, type McnnFit } from '../rate/mcnn/fit.js';
import type { McnnSolution } from '../rate/mcnn/optimise.js';
import { PAPER_RATES } from '../rate/rates.js';
import type { QpResult, SweepSchedule } from './sweep.js';

/** Seed 004's 3D-CNN-F accuracy on UCF-101 (Table III), where it reports one. */
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

async function activityMaps(qps: QpResult[]): Promise<ReportSection['images']> {
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
      const clip = await cache.clip(i);
      const frame = Math.min(10, clip.frames - 1);
      const cells = clip.rows * clip.cols;
      const at = frame * 2 * cells;
      const dx = Array.from(clip.data.subarray(at, at + cells), (q) => q / 4);
      const dy = Array.from(clip.data.subarray(at + cells, at + 2 * cells), (q) => q / 4);
      images.push({ name: `fig2-activity-qp${qps[k]!.qp}`, caption: `QP ${qps[k]!.qp}, frame ${frame}`, png: activityMap({ rows: clip.rows, cols: clip.cols, dx, dy }, { maxMagnitude: 4 }) });
    }
    return images;
  } finally {
    await Promise.all(caches.map((c) => c.close()));
  }
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
  const sections: ReportSection[] = [
    {
      heading: 'Rates (Table I/II analogue)',
      text: `Mean over the dataset's videos, kbps, ${d.codec.toUpperCase()} at 320x240, 25 fps, one IDR then P frames, search range 16. What each rate counts: docs/rates.md.`,
      tables: [{ name: 'table1-rates', caption: 'R_orig, R_cropped (the cropped stream), R_cropped by the encoder\'s count, R_motion, and R_motion as % of R_orig and of R_cropped', header: ['source', 'QP', 'R_orig', 'R_cropped', 'R_cropped (encoder)', 'R_motion', '% of R_orig', '% of R_cropped'], rows: ratesRows, digits: 1 }],
      images: await activityMaps(d.qps),
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
      heading: 'Stages',
      tables: [{ name: 'stages', caption: 'seconds per stage (0: reused from an earlier run)', header: ['stage', 'seconds', 'reused'], rows: d.stages.map((s) => [s.stage, s.seconds, s.skipped ? 'yes' : 'no']), digits: 1 }],
    },
  ];
  await writeReport(dir, { title: d.title, subtitle: `seed 004 reproduced with mvclass: ${d.codec.toUpperCase()}, QP ${d.qps.map((q) => q.qp).join(', ')}`, sections });
}
