// The numbers a transcode study's report draws (app/transcode-study.ts, app/transcode-report.ts),
// from sizes, qualities and accuracies measured elsewhere:
//
// - accuracySlope: top-1 (in points, 0-100) against a quality index, fitted by least squares over
//   the degraded range, the slope scaled to seed 003's units (fig. 6: points per 0.01 SSIM, points
//   per 1/256 MAE). The degraded range: the cells whose luma MAE is at least DEGRADED_MAE (one 8-bit
//   level), where seed 003 finds the loss linear in the quality; near-lossless cells, where
//   accuracy is flat, are left out of the fit.
// - perClassAccuracy and relativeAccuracy: seed 003 fig. 8, each class's top-1 at a cell as a
//   percentage of the same class's on the originals.
// - firstLoss and compareModels: the MV-vs-pixel table, each model's top-1 and change from the
//   originals per cell, and per family (MV: mv3d, mv2d; pixel: every frame network) and GOP the
//   lowest CRF (or QP) at which the family first loses more than a point, with its size.

import { MvclassError } from '../util/errors.js';
import { fitLine } from '../rate/mcnn/linear.js';
import { MOTION_MODELS } from '../run/format.js';

/** MAE (8-bit levels) from which a cell counts as degraded, and is used in the fits. */
export const DEGRADED_MAE = 1;
/** The loss, in top-1 points, that the comparison looks for. */
export const LOSS_POINTS = 1;
/** MAE is measured in 8-bit levels (0-255); 1/256 of the [0, 1] range of seed 003 is 255/256 of a level. */
export const MAE_UNIT = 255 / 256;
export const SSIM_UNIT = 0.01;

export interface AccuracySlope {
  /** Top-1 points per `unit` of the quality index (positive: accuracy rises with the index). */
  slope: number;
  /** The fitted line, top-1 (points) = a * index + b, in the index's own units. */
  a: number;
  b: number;
  r2: number;
  /** How many cells the fit used. */
  points: number;
}

/**
 * Least-squares line of top-1 (fractions, fitted as points 0-100) against a quality index over the
 * cells given (the caller picks the degraded ones), its slope multiplied by `unit`. Null when fewer
 * than two cells or fewer than two distinct index values: no line can be fitted.
 */
export function accuracySlope(index: readonly number[], top1: readonly number[], unit: number): AccuracySlope | null {
  if (index.length !== top1.length) throw new MvclassError(`accuracySlope: ${index.length} index values but ${top1.length} accuracies`);
  if (!(Number.isFinite(unit) && unit > 0)) throw new MvclassError(`accuracySlope: expected a positive unit, got ${unit}`);
  if (index.length < 2 || new Set(index).size < 2) return null;
  const fit = fitLine(index, top1.map((t) => 100 * t));
  return { slope: fit.a * unit, a: fit.a, b: fit.b, r2: Math.max(0, fit.r2), points: index.length };
}

/** Each class's recall from a confusion matrix (rows: truth); null for a class with no videos. */
export function perClassAccuracy(confusion: readonly (readonly number[])[]): Array<number | null> {
  return confusion.map((row, c) => {
    const total = row.reduce((s, n) => s + n, 0);
    return total > 0 ? row[c]! / total : null;
  });
}

/** 100 x a cell's per-class accuracy / the originals'; null where the originals got none of the class right (or it has no videos). */
export function relativeAccuracy(cell: readonly (number | null)[], original: readonly (number | null)[]): Array<number | null> {
  if (cell.length !== original.length) throw new MvclassError(`relativeAccuracy: ${cell.length} classes in the cell but ${original.length} in the originals`);
  return cell.map((a, c) => {
    const o = original[c];
    return a === null || o === null || o === undefined || o <= 0 ? null : (100 * a) / o;
  });
}

export type Family = 'mv' | 'pixel';

/** What a table says for an MV network on a JPEG cell instead of a top-1: there is nothing for it to read. */
export const NO_MOTION_VECTORS = 'n/a (JPEG: no motion vectors)';

/** MV: the motion-vector networks (mv3d, mv2d); pixel: everything else (vgg16, resnet*). */
export function modelFamily(model: string): Family {
  return (MOTION_MODELS as readonly string[]).includes(model) ? 'mv' : 'pixel';
}

/** One level of a GOP's column: its rate level, size and top-1. */
export interface LevelAccuracy {
  level: number;
  bytes: number;
  kbps: number;
  top1: number;
}

/**
 * The lowest rate level (CRF or QP) whose top-1 is more than `points` below `original`, or null if
 * none is. Levels are taken in increasing order whatever order they are given in.
 */
export function firstLoss(levels: readonly LevelAccuracy[], original: number, points = LOSS_POINTS): LevelAccuracy | null {
  const sorted = [...levels].sort((x, y) => x.level - y.level);
  // Compared in points, rounded to 1e-9 so that 0.5 - 0.49 is not 1.0000000000000009 points.
  return sorted.find((l) => Math.round((100 * (original - l.top1)) * 1e9) / 1e9 > points) ?? null;
}

export interface ComparisonInput {
  /** 'crf' or 'qp': what the cells' level is. */
  rate: 'crf' | 'qp';
  cells: Array<{ level: number; gop: number; bytes: number; kbps: number; accuracy: Record<string, number> }>;
  original: { bytes: number; kbps: number; accuracy: Record<string, number> };
}

export interface Comparison {
  /** What the levels are: CRF or QP. */
  rate: 'crf' | 'qp';
  /** The loss in top-1 points looked for. */
  points: number;
  /** Per model, MV models first then pixel models, each in the order given. */
  models: Array<{
    model: string;
    family: Family;
    /** Top-1 on the originals. */
    original: number;
    /** Per cell, in the cells' order: top-1 and its change from the originals in points (negative: a loss). */
    cells: Array<{ level: number; gop: number; top1: number; change: number }>;
  }>;
  /** Per family present and GOP: the lowest level at which any of its models loses more than `points`. */
  families: Array<{
    family: Family;
    models: string[];
    gop: number;
    /** Null when no level costs that much. */
    level: number | null;
    /** Which model lost it first (at `level`); null with `level`. */
    model: string | null;
    /** The cell's total bytes and mean kbps at that level, and bytes / the originals' bytes. */
    bytes: number | null;
    kbps: number | null;
    relativeSize: number | null;
  }>;
}

/** The MV-vs-pixel comparison: every model's change from the originals per cell, and where each family first loses more than `points`. */
export function compareModels(input: ComparisonInput, points = LOSS_POINTS): Comparison {
  const names = Object.keys(input.original.accuracy);
  const ordered = [...names.filter((m) => modelFamily(m) === 'mv'), ...names.filter((m) => modelFamily(m) === 'pixel')];
  const models = ordered.map((model) => {
    const original = input.original.accuracy[model]!;
    return {
      model,
      family: modelFamily(model),
      original,
      cells: input.cells.map((c) => {
        const top1 = c.accuracy[model];
        if (top1 === undefined) throw new MvclassError(`compareModels: ${input.rate} ${c.level} GOP ${c.gop} has no top-1 for ${model}`);
        return { level: c.level, gop: c.gop, top1, change: 100 * (top1 - original) };
      }),
    };
  });
  const gops = [...new Set(input.cells.map((c) => c.gop))];
  const families: Comparison['families'] = [];
  for (const family of ['mv', 'pixel'] as const) {
    const members = ordered.filter((m) => modelFamily(m) === family);
    if (members.length === 0) continue;
    for (const gop of gops) {
      const column = input.cells.filter((c) => c.gop === gop);
      let best: { loss: LevelAccuracy; model: string } | null = null;
      for (const model of members) {
        const loss = firstLoss(column.map((c) => ({ level: c.level, bytes: c.bytes, kbps: c.kbps, top1: c.accuracy[model]! })), input.original.accuracy[model]!, points);
        if (loss && (!best || loss.level < best.loss.level)) best = { loss, model };
      }
      families.push({
        family,
        models: members,
        gop,
        level: best?.loss.level ?? null,
        model: best?.model ?? null,
        bytes: best?.loss.bytes ?? null,
        kbps: best?.loss.kbps ?? null,
        relativeSize: best && input.original.bytes > 0 ? best.loss.bytes / input.original.bytes : null,
      });
    }
  }
  return { rate: input.rate, points, models, families };
}
