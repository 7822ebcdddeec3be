// buildTranscodeReport: a transcode study's report.html (src/report/html.ts, as the sweep's and the
// repeats study's), drawn from what the study saved: <out>/transcode.json and, for the per-class
// figure, the score records under <out>/accuracy/scores/. Nothing is encoded, trained or scored
// here, so a rerun of the study rebuilds the report from the saved numbers alone.
//
// Sections: the size table per (GOP, CRF|QP) with the size relative to the originals; the quality
// table (PSNR, SSIM, luma MAE, RMSE); with models, accuracy vs CRF per GOP (a figure per model),
// accuracy vs kbps, accuracy vs SSIM and vs MAE with the least-squares slope over the degraded
// range (metrics/transcode.ts), the MV-vs-pixel comparison, per-class accuracy relative to the
// originals (at the largest GOP), and with --train-on the networks trained and tested on
// transcoded videos; with JPEG cells, their size and quality and (with models) the pixel models'
// top-1 vs q-scale and vs SSIM/MAE with the fitted slopes. Every table also as CSV, JSON and Markdown.

import path from 'node:path';
import { linearFitFigure, rateAccuracyFigure, relativeAccuracyFigure, type Figure, type RelativePoint } from '../report/figures.js';
import { writeReport, type ReportSection, type ReportTable } from '../report/html.js';
import {
  accuracySlope,
  compareModels,
  modelFamily,
  NO_MOTION_VECTORS,
  DEGRADED_MAE,
  LOSS_POINTS,
  MAE_UNIT,
  perClassAccuracy,
  relativeAccuracy,
  SSIM_UNIT,
  type Comparison,
} from '../metrics/transcode.js';
import { infinityFromText, readJsonIfAny } from '../util/json.js';
import { MvclassError } from '../util/errors.js';
import type { TranscodeCell, TranscodeStudyResult } from './transcode-result.js';

/** The cells' rate level and its name. */
function rateOf(result: TranscodeStudyResult): { key: 'crf' | 'qp'; name: string } {
  return result.cells.some((c) => c.qp !== undefined) ? { key: 'qp', name: 'QP' } : { key: 'crf', name: 'CRF' };
}

const levelOf = (c: TranscodeCell): number => (c.crf ?? c.qp)!;
const cellName = (c: TranscodeCell): string => (c.crf !== undefined ? `crf${c.crf}-gop${c.gop}` : `qp${c.qp}-gop${c.gop}`);
/** Rounded for the tables (their CSV/JSON/Markdown too): to `d` decimals, non-finite numbers as text. */
const round = (x: number, d: number): number | string => (Number.isFinite(x) ? Number(x.toFixed(d)) : String(x));
const pct = (x: number) => Number((100 * x).toFixed(1));

/** The MV-vs-pixel comparison of a study with models (null without). */
export function transcodeComparison(result: TranscodeStudyResult): Comparison | null {
  const original = result.original.accuracy;
  if (!original || result.cells.some((c) => !c.accuracy)) return null;
  return compareModels({
    rate: rateOf(result).key,
    cells: result.cells.map((c) => ({ level: levelOf(c), gop: c.gop, bytes: c.bytes, kbps: c.kbps, accuracy: c.accuracy! })),
    original: { bytes: result.original.bytes, kbps: result.original.kbps, accuracy: original },
  });
}

/** One cell (H.264 or JPEG) as the accuracy-vs-quality fits see it. */
interface QualityPoint {
  name: string;
  ssim: number;
  mae: number;
  accuracy: Record<string, number>;
}

const degradedOf = (points: readonly QualityPoint[]) => points.filter((p) => Number.isFinite(p.mae) && p.mae >= DEGRADED_MAE);

/** Each model's fit of top-1 against SSIM and MAE over the degraded points (MAE at least DEGRADED_MAE). */
function slopesOver(points: readonly QualityPoint[], models: readonly string[]) {
  const degraded = degradedOf(points);
  return models.map((model) => ({
    model,
    cells: degraded.map((p) => p.name),
    ssim: accuracySlope(degraded.map((p) => p.ssim), degraded.map((p) => p.accuracy[model]!), SSIM_UNIT),
    mae: accuracySlope(degraded.map((p) => p.mae), degraded.map((p) => p.accuracy[model]!), MAE_UNIT),
  }));
}

const h264Points = (result: TranscodeStudyResult): QualityPoint[] => result.cells.filter((c) => c.accuracy).map((c) => ({ name: cellName(c), ssim: c.ssim, mae: c.mae, accuracy: c.accuracy! }));
const jpegPoints = (result: TranscodeStudyResult): QualityPoint[] => (result.jpeg ?? []).filter((c) => c.accuracy).map((c) => ({ name: `jpeg-q${c.q}`, ssim: c.ssim, mae: c.mae, accuracy: c.accuracy! }));

/** Each model's fit of top-1 against SSIM and MAE over the degraded H.264 cells (MAE at least DEGRADED_MAE). */
export function qualitySlopes(result: TranscodeStudyResult, models: readonly string[]) {
  return slopesOver(h264Points(result), models);
}

/** The same fits over the degraded JPEG cells, for the pixel models (the MV networks have none). */
export function jpegQualitySlopes(result: TranscodeStudyResult, models: readonly string[]) {
  return slopesOver(jpegPoints(result), models);
}

/** Top-1 vs SSIM and vs MAE over every point, with each fitted line drawn over the degraded range. */
async function fitFigures(points: readonly QualityPoint[], slopes: ReturnType<typeof slopesOver>, prefix: string): Promise<Array<{ name: string; caption: string; figure: Figure }>> {
  const fits: Array<{ name: string; caption: string; figure: Figure }> = [];
  const degraded = degradedOf(points);
  for (const s of slopes) {
    for (const [index, fit, unit] of [
      ['ssim', s.ssim, 'per 0.01 SSIM'],
      ['mae', s.mae, 'per 1/256 MAE'],
    ] as const) {
      if (!fit) continue;
      const xs = degraded.map((p) => p[index]);
      const shown = points.filter((p) => Number.isFinite(p[index]));
      fits.push({
        name: `${prefix}accuracy-vs-${index}-${s.model}`,
        caption: `${s.model}: top-1 vs ${index.toUpperCase()} over every cell; the line fitted over the ${fit.points} degraded cells: ${fit.slope.toFixed(2)} points ${unit}`,
        figure: await linearFitFigure({
          title: `${s.model}: top-1 vs ${index.toUpperCase()}`,
          x: shown.map((p) => p[index]),
          y: shown.map((p) => 100 * p.accuracy[s.model]!),
          a: fit.a,
          b: fit.b,
          r2: fit.r2,
          xLabel: index === 'ssim' ? 'SSIM' : 'luma MAE (8-bit levels)',
          yLabel: 'Top-1 (%)',
          lineRange: [Math.min(...xs), Math.max(...xs)],
        }),
      });
    }
  }
  return fits;
}

/** The slope table's rows (H.264 and JPEG sections alike). */
const slopeRows = (slopes: ReturnType<typeof slopesOver>) =>
  slopes.map((s) => [s.model, s.cells.length, s.ssim ? round(s.ssim.slope, 3) : null, s.ssim ? round(s.ssim.r2, 3) : null, s.mae ? round(s.mae.slope, 3) : null, s.mae ? round(s.mae.r2, 3) : null]);
const SLOPE_HEADER = ['model', 'cells fitted', 'points per 0.01 SSIM', 'R² (SSIM)', 'points per 1/256 MAE', 'R² (MAE)'];

interface ScoreRecord {
  confusion?: number[][];
  classes?: string[];
}

/** Per-class top-1 relative to the originals at each level of `gop`, per model, from the saved score records; null when a record is missing. */
async function relativePerClass(out: string, result: TranscodeStudyResult, model: string, gop: number): Promise<{ classes: string[]; rows: Array<{ level: number; relative: Array<number | null> }> } | null> {
  const read = (label: string) => readJsonIfAny<ScoreRecord>(path.join(out, 'accuracy', 'scores', label, `${model}.json`));
  const original = await read('original');
  if (!original?.confusion || !original.classes) return null;
  const base = perClassAccuracy(original.confusion);
  const rows: Array<{ level: number; relative: Array<number | null> }> = [];
  for (const c of result.cells.filter((x) => x.gop === gop).sort((x, y) => levelOf(x) - levelOf(y))) {
    const r = await read(cellName(c));
    if (!r?.confusion) return null;
    rows.push({ level: levelOf(c), relative: relativeAccuracy(perClassAccuracy(r.confusion), base) });
  }
  return { classes: original.classes, rows };
}

/** The JPEG cells: size and quality per q-scale; with models, top-1 vs q and vs quality with the fitted slopes (pixel models only). */
async function jpegSection(result: TranscodeStudyResult, models: readonly string[]): Promise<ReportSection> {
  const o = result.original;
  const jpeg = [...result.jpeg!].sort((a, b) => a.q - b.q);
  const size = (bytes: number) => round((100 * bytes) / o.bytes, 1);
  const tables: ReportTable[] = [
    {
      name: 'transcode-jpeg',
      caption: 'Total size and quality per JPEG q-scale',
      header: ['q', 'videos', 'bytes', 'kbps', 'size (% of original)', 'PSNR (dB)', 'SSIM', 'MAE', 'RMSE'],
      rows: [
        ['original', o.videos, o.bytes, round(o.kbps, 1), 100, null, null, null, null],
        ...jpeg.map((c) => [c.q, c.videos, c.bytes, round(c.kbps, 1), size(c.bytes), round(c.psnr, 2), round(c.ssim, 4), round(c.mae, 3), round(c.rmse, 3)]),
      ],
    },
  ];
  const figures: Array<{ name: string; caption: string; figure: Figure }> = [];
  const pixel = models.filter((m) => modelFamily(m) === 'pixel');
  const tested = models.length > 0 && jpeg.every((c) => c.accuracy);
  let fitted = '';
  if (tested) {
    const acc = o.accuracy!;
    tables.push({
      name: 'transcode-jpeg-accuracy',
      caption: `Top-1 (%) per JPEG q-scale; the MV networks: ${NO_MOTION_VECTORS}`,
      header: ['q', 'kbps', 'size %', 'SSIM', ...models.map((m) => `${m} top-1 %`)],
      rows: [
        ['original', round(o.kbps, 1), 100, null, ...models.map((m) => pct(acc[m]!))],
        ...jpeg.map((c) => [c.q, round(c.kbps, 1), size(c.bytes), round(c.ssim, 4), ...models.map((m) => (modelFamily(m) === 'mv' ? NO_MOTION_VECTORS : pct(c.accuracy![m]!)))]),
      ],
    });
    if (pixel.length > 0) {
      figures.push({
        name: 'jpeg-accuracy-vs-q',
        caption: `Top-1 vs JPEG q-scale per pixel model (the originals: ${pixel.map((m) => `${m} ${pct(acc[m]!)}%`).join(', ')})`,
        figure: await rateAccuracyFigure(
          pixel.map((m) => ({ name: m, points: jpeg.map((c) => ({ label: '', rate: c.q, accuracy: c.accuracy![m]! })) })),
          { logRate: false, xTitle: 'JPEG q-scale (FFmpeg -q:v)', seriesTitle: 'Model', title: 'Top-1 vs JPEG q-scale' },
        ),
      });
      const points = jpegPoints(result);
      const slopes = jpegQualitySlopes(result, pixel);
      figures.push(...(await fitFigures(points, slopes, 'jpeg-')));
      const degraded = degradedOf(points);
      fitted = ` Top-1 is fitted against SSIM and MAE over the JPEG cells whose MAE is at least ${DEGRADED_MAE} level (here ${degraded.length} of ${points.length}: ${degraded.map((p) => p.name).join(', ') || 'none'}), in the units of the H.264 fits (their fig. 6 is this JPEG study's).`;
      tables.push({ name: 'transcode-jpeg-slopes', caption: 'Least-squares slope of top-1 against quality over the degraded JPEG cells', header: SLOPE_HEADER, rows: slopeRows(slopes) });
    }
  }
  return {
    heading: 'JPEG',
    text:
      `As Otani et al.'s JPEG study (their tables 4 and 5, figs. 5 and 6): every frame of every video, after the same short-side cap, encoded as a JPEG by libavcodec's mjpeg encoder at a fixed q-scale, the ffmpeg CLI's -q:v (2 the best, 31 the worst), and stored as MJPEG in an .avi. ` +
      `Their -q 10, 17 and 40 (compression strength 70, 80 and 90) are q 10, 17 and 31 here: FFmpeg encodes every -q above 31 as 31; their "-q -1" (the best quality) is q 2. Bytes include the container; size relative to the original files. ` +
      `Quality as for the H.264 cells.` +
      (tested ? ` Top-1 of the networks trained on the originals, tested on each JPEG cell's decoded frames; the MV networks cannot be tested here: JPEG frames carry no motion vectors.${fitted}` : ''),
    figures,
    tables,
  };
}

/** Reads <out>/transcode.json and writes <out>/report.html with its tables and figures; returns the path of report.html. */
export async function buildTranscodeReport(out: string): Promise<string> {
  const file = path.join(out, 'transcode.json');
  const result = await readJsonIfAny<TranscodeStudyResult>(file, infinityFromText);
  if (!result || !Array.isArray(result.cells)) throw new MvclassError(`${file}: no transcode study saved here (run mvclass study transcode first)`, file);
  const rate = rateOf(result);
  const gops = [...new Set(result.cells.map((c) => c.gop))].sort((a, b) => a - b);
  const byGop = [...result.cells].sort((x, y) => x.gop - y.gop || levelOf(x) - levelOf(y));
  const o = result.original;
  const models = o.accuracy ? Object.keys(o.accuracy) : [];
  const sections: ReportSection[] = [];

  sections.push({
    heading: 'Size',
    text: `The re-encoding study of A. Otani, R. Hashiguchi, K. Omi, N. Fukushima and T. Tamaki, "Performance evaluation of action recognition models on low quality videos", on this dataset. Every video re-encoded with x264 (preset ${result.preset}) at each ${rate.name} and GOP (frames between IDR frames), its short side capped at ${result.shortSide}. Bytes: the cell's files summed; kbps: the mean over videos of bytes x 8 / duration; size: bytes as a percentage of the original files' (which keep their own resolution and codec).`,
    tables: [
      {
        name: 'transcode-sizes',
        caption: `Total size per (GOP, ${rate.name})`,
        header: ['GOP', rate.name, 'videos', 'bytes', 'kbps', 'size (% of original)'],
        rows: [
          ['original', null, o.videos, o.bytes, round(o.kbps, 1), 100],
          ...byGop.map((c) => [c.gop, levelOf(c), c.videos, c.bytes, round(c.kbps, 1), round((100 * c.bytes) / o.bytes, 1)]),
        ],
      },
    ],
  });
  sections.push({
    heading: 'Quality',
    text: 'Each transcoded video against its original decoded and resized to the same size: PSNR (dB; "Infinity" where identical) and SSIM as FFmpeg\'s psnr and ssim filters average them, MAE and RMSE of luma in 8-bit levels (0-255); means over the videos.',
    tables: [
      {
        name: 'transcode-quality',
        caption: `Quality per (GOP, ${rate.name})`,
        header: ['GOP', rate.name, 'PSNR (dB)', 'SSIM', 'MAE', 'RMSE'],
        rows: byGop.map((c) => [c.gop, levelOf(c), round(c.psnr, 2), round(c.ssim, 4), round(c.mae, 3), round(c.rmse, 3)]),
      },
    ],
  });

  if (models.length > 0 && result.cells.every((c) => c.accuracy)) {
    const acc = o.accuracy!;
    const perModelLevel: Array<{ name: string; caption: string; figure: Figure }> = [];
    for (const model of models) {
      perModelLevel.push({
        name: `accuracy-vs-${rate.key}-${model}`,
        caption: `${model}: top-1 vs ${rate.name}, one line per GOP (the originals: ${pct(acc[model]!)}%)`,
        figure: await rateAccuracyFigure(
          gops.map((gop) => ({ name: `GOP ${gop}`, points: byGop.filter((c) => c.gop === gop).map((c) => ({ label: '', rate: levelOf(c), accuracy: c.accuracy![model]! })) })),
          { logRate: false, xTitle: rate.name, seriesTitle: 'GOP', title: `${model}: top-1 vs ${rate.name} per GOP` },
        ),
      });
    }
    sections.push({
      heading: 'Accuracy',
      text: `Networks trained on the originals' train split, tested on the test split of the originals and of every cell's own streams (the same videos everywhere). Top-1 in %.`,
      figures: [
        ...perModelLevel,
        {
          name: 'accuracy-vs-kbps',
          caption: `Top-1 vs mean kbps, one line per model and GOP, labelled by ${rate.name}`,
          figure: await rateAccuracyFigure(
            models.flatMap((m) => gops.map((gop) => ({ name: `${m} GOP ${gop}`, points: byGop.filter((c) => c.gop === gop).map((c) => ({ label: `${rate.name} ${levelOf(c)}`, rate: c.kbps, accuracy: c.accuracy![m]! })) }))),
            { title: 'Top-1 vs kbps per model and GOP', seriesTitle: 'Model and GOP' },
          ),
        },
      ],
      tables: [
        {
          name: 'transcode-accuracy',
          caption: 'Top-1 (%) per cell',
          header: ['GOP', rate.name, 'kbps', ...models.map((m) => `${m} top-1 %`)],
          rows: [['original', null, round(o.kbps, 1), ...models.map((m) => pct(acc[m]!))], ...byGop.map((c) => [c.gop, levelOf(c), round(c.kbps, 1), ...models.map((m) => pct(c.accuracy![m]!))])],
        },
      ],
    });

    const comparison = result.comparison ?? transcodeComparison(result)!;
    const ordered = comparison.models.map((m) => m.model);
    const label = (m: string) => `${m} (${comparison.models.find((x) => x.model === m)!.family === 'mv' ? 'MV' : 'pixel'})`;
    sections.push({
      heading: 'Motion vectors vs pixels under re-encoding',
      text:
        `The MV networks (mv3d, mv2d) read the motion vectors of each cell's own stream; the pixel networks (vgg16, resnet*) its decoded key frames. Change: top-1 at the cell minus top-1 on the originals, in points. ` +
        `A family first loses more than ${LOSS_POINTS} point at the lowest ${rate.name} (per GOP) at which any of its models' top-1 is more than ${LOSS_POINTS} point below that model's on the originals; "none" when no ${rate.name} of the grid costs that much.`,
      tables: [
        {
          name: 'transcode-comparison',
          caption: 'Top-1 (%) and its change from the originals (points) per cell, MV models first',
          header: ['GOP', rate.name, 'kbps', 'size %', ...ordered.flatMap((m) => [`${label(m)} top-1 %`, `${m} change`])],
          rows: [
            ['original', null, round(o.kbps, 1), 100, ...comparison.models.flatMap((m) => [pct(m.original), 0])],
            ...byGop.map((c) => {
              const i = result.cells.indexOf(c);
              return [c.gop, levelOf(c), round(c.kbps, 1), round((100 * c.bytes) / o.bytes, 1), ...comparison.models.flatMap((m) => [pct(m.cells[i]!.top1), round(m.cells[i]!.change, 1)])];
            }),
          ],
        },
        {
          name: 'transcode-families',
          caption: `Per family and GOP: the ${rate.name} at which it first loses more than ${LOSS_POINTS} point of top-1, and the size there`,
          header: ['family', 'models', 'GOP', `${rate.name} first > ${LOSS_POINTS} pt lost`, 'by', 'bytes', 'kbps', 'size %'],
          rows: comparison.families.map((f) => [
            f.family === 'mv' ? 'MV' : 'pixel',
            f.models.join(' '),
            f.gop,
            f.level ?? 'none',
            f.model,
            f.bytes,
            f.kbps === null ? null : round(f.kbps, 1),
            f.relativeSize === null ? null : round(100 * f.relativeSize, 1),
          ]),
        },
      ],
    });

    const slopes = qualitySlopes(result, models);
    const fits = await fitFigures(h264Points(result), slopes, '');
    const degraded = result.cells.filter((c) => Number.isFinite(c.mae) && c.mae >= DEGRADED_MAE);
    sections.push({
      heading: 'Accuracy vs quality',
      text:
        `Top-1 (points, 0-100) fitted by least squares against SSIM and against luma MAE over the degraded range: the cells whose MAE is at least ${DEGRADED_MAE} level (here ${degraded.length} of ${result.cells.length}: ${degraded.map(cellName).join(', ') || 'none'}), where Otani et al. find the loss linear in the quality. ` +
        `Slopes in their units (their fig. 6): points per 0.01 SSIM (positive: accuracy falls as SSIM falls), and points per 1/256 MAE on [0, 1] pixels, i.e. per 255/256 of an 8-bit level (negative: accuracy falls as MAE grows). No fit with fewer than two degraded cells of different quality.`,
      figures: fits,
      tables: [
        {
          name: 'transcode-slopes',
          caption: 'Least-squares slope of top-1 against quality over the degraded cells',
          header: SLOPE_HEADER,
          rows: slopeRows(slopes),
        },
      ],
    });

    const gop = gops[gops.length - 1]!;
    const classFigures: Array<{ name: string; caption: string; figure: Figure }> = [];
    const classTables: ReportTable[] = [];
    for (const model of models) {
      const rel = await relativePerClass(out, result, model, gop);
      if (!rel) continue;
      const points: RelativePoint[] = rel.rows.flatMap((r) => r.relative.flatMap((v, k) => (v === null ? [] : [{ level: r.level, name: rel.classes[k]!, relative: v }])));
      if (points.length > 0) {
        classFigures.push({
          name: `relative-per-class-${model}`,
          caption: `${model}: each class's top-1 at GOP ${gop} as a percentage of the same class's on the originals (100, dashed); the line: the mean over classes`,
          figure: await relativeAccuracyFigure(points, { xTitle: rate.name, title: `${model}: per-class top-1 relative to the originals (GOP ${gop})` }),
        });
      }
      classTables.push({
        name: `per-class-${model}`,
        caption: `${model}: per-class top-1 at GOP ${gop} relative to the originals (%); blank where the originals got none of the class right`,
        header: ['class', ...rel.rows.map((r) => `${rate.name} ${r.level}`)],
        rows: rel.classes.map((name, k) => [name, ...rel.rows.map((r) => (r.relative[k] === null ? null : round(r.relative[k]!, 1)))]),
      });
    }
    if (classTables.length > 0) {
      sections.push({
        heading: 'Per-class accuracy relative to the originals',
        text: `As Otani et al.'s fig. 8: each class's top-1 (its recall on the test split) at each ${rate.name} at GOP ${gop}, the study's largest GOP, divided by the same class's top-1 on the originals, in %. Classes the originals got wholly wrong have no ratio and are left out.`,
        figures: classFigures,
        tables: classTables,
      });
    }
  }

  if (result.trainOn && result.trainOn.length > 0) {
    const trainModels = Object.keys(result.trainOn[0]!.accuracy);
    sections.push({
      heading: 'Trained and tested on transcoded videos',
      text: `As Otani et al.'s tables 6-9: each network trained on the train split of the videos transcoded at one setting and tested on the test split of the same setting; sizes beside accuracy. The originals' row: the networks trained and tested on the originals (above).`,
      tables: [
        {
          name: 'transcode-train-on',
          caption: 'Top-1 (%) trained and tested on each setting, with its size',
          header: ['GOP', rate.name, 'bytes', 'kbps', 'size %', ...trainModels.map((m) => `${m} top-1 %`)],
          rows: [
            ...(o.accuracy ? [['original', null, o.bytes, round(o.kbps, 1), 100, ...trainModels.map((m) => (o.accuracy![m] === undefined ? null : pct(o.accuracy![m]!)))]] : []),
            ...result.trainOn.map((t) => [t.gop, (t.crf ?? t.qp)!, t.bytes, round(t.kbps, 1), round((100 * t.bytes) / o.bytes, 1), ...trainModels.map((m) => pct(t.accuracy[m]!))]),
          ],
        },
      ],
    });
  }

  if (result.jpeg && result.jpeg.length > 0) sections.push(await jpegSection(result, models));

  // Videos no cell could use are left out of every cell (transcode-study): the report says which and why.
  const failed = result.failed ?? [];
  if (failed.length > 0) {
    sections.push({
      heading: 'Videos left out',
      text: `${failed.length} video(s) could not be transcoded or measured in some cell, and are left out of every cell so that all cells average the same videos.`,
      tables: [{ name: 'transcode-failed', caption: 'Videos left out, with the first failing cell\'s reason', header: ['video', 'reason'], rows: failed.map((f) => [f.path, f.reason]) }],
    });
  }

  const written = await writeReport(out, {
    title: `mvclass study transcode: ${path.basename(result.dataset)}`,
    subtitle: `${result.dataset}: ${o.videos} videos, ${rate.name} ${[...new Set(result.cells.map(levelOf))].join(', ')} x GOP ${gops.join(', ')}, short side at most ${result.shortSide}${result.jpeg?.length ? `, JPEG q ${result.jpeg.map((c) => c.q).join(', ')}` : ''}${models.length ? `; models ${models.join(', ')}` : ''}`,
    sections,
  });
  return written.html;
}
