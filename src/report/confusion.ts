// The confusion matrix as a heatmap: true class down, predicted class across, each cell coloured
// by its share of the true class's videos (row-normalised, so a rare class reads as well as a
// common one) and labelled with its count while the cells are large enough to hold a number.
// Cell and label sizes follow the number of classes, so that 2 and 101 classes both read.

import { MvclassError } from '../util/errors.js';
import { renderVegaLite, type Figure } from './figures.js';

export interface ConfusionData {
  classes: string[];
  /** confusion[truth][prediction]: counts of videos (src/metrics/classification.ts). */
  confusion: number[][];
}

export interface ConfusionOptions {
  title?: string;
  subtitle?: string | string[];
  /** Counts in the cells: 'auto' (default) up to 30 classes, zeros left out above 12. */
  counts?: 'auto' | 'all' | 'nonzero' | 'none';
}

interface Layout {
  cell: number;
  font: number;
  labelAngle: number;
}

/** Cell size in px, axis label size and angle for k classes. */
function layout(k: number, longest: number): Layout {
  const cell = Math.max(7, Math.min(48, Math.floor(720 / k)));
  const font = k <= 20 ? 11 : k <= 40 ? 9 : k <= 70 ? 7 : 6;
  const labelAngle = k <= 8 && longest <= 8 ? 0 : k <= 20 ? -45 : -90;
  return { cell, font, labelAngle };
}

/** Row-normalised heatmap of a confusion matrix, with its counts, class names on both axes. */
export async function confusionFigure(data: ConfusionData, options: ConfusionOptions = {}): Promise<Figure> {
  const { classes, confusion } = data;
  const k = classes.length;
  if (k < 1) throw new MvclassError('confusionFigure: no classes');
  if (new Set(classes).size !== k) throw new MvclassError(`confusionFigure: class names repeat: ${classes.join(', ')}`);
  if (confusion.length !== k) throw new MvclassError(`confusionFigure: ${confusion.length} rows for ${k} classes`);
  const cells: Array<{ truth: string; predicted: string; count: number; share: number | null; label: string; dark: boolean }> = [];
  let total = 0;
  let correct = 0;
  confusion.forEach((row, t) => {
    if (!Array.isArray(row) || row.length !== k) throw new MvclassError(`confusionFigure: row ${t} (${classes[t]}) has ${Array.isArray(row) ? row.length : 'no'} cells for ${k} classes`);
    let sum = 0;
    row.forEach((n, p) => {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new MvclassError(`confusionFigure: cell [${classes[t]}, ${classes[p]}] must be a count (a non-negative integer), got ${String(n)}`);
      sum += n;
    });
    total += sum;
    correct += row[t]!;
    row.forEach((n, p) => {
      const share = sum > 0 ? n / sum : null;
      cells.push({ truth: classes[t]!, predicted: classes[p]!, count: n, share: share === null ? null : 100 * share, label: String(n), dark: share !== null && share > 0.55 });
    });
  });
  const mode = options.counts ?? 'auto';
  const shown = mode === 'none' ? [] : mode === 'all' ? cells : mode === 'nonzero' ? cells.filter((c) => c.count > 0) : k > 30 ? [] : k > 12 ? cells.filter((c) => c.count > 0) : cells;
  const longest = Math.max(...classes.map((c) => c.length));
  const { cell, font, labelAngle } = layout(k, longest);
  const axis = { labelFontSize: font, labelLimit: 180, ticks: false, domain: false };
  const x = { field: 'predicted', type: 'ordinal' as const, title: 'Predicted class', sort: classes, scale: { domain: classes }, axis: { ...axis, labelAngle, orient: 'bottom' as const } };
  const y = { field: 'truth', type: 'ordinal' as const, title: 'True class', sort: classes, scale: { domain: classes }, axis };
  const countFont = Math.max(6, Math.min(12, Math.floor(cell / 3)));
  const empty = cells.some((c) => c.share === null);
  const top1 = total > 0 ? (100 * correct) / total : 0;
  return renderVegaLite({
    title: { text: options.title ?? 'Confusion matrix', subtitle: options.subtitle ?? [`${total} videos, ${k} classes, top-1 ${top1.toFixed(1)}%`, `colour: share of the true class's videos (each row sums to 100%)${empty ? '; grey: no videos' : ''}`] },
    width: cell * k,
    height: cell * k,
    layer: [
      {
        data: { values: cells.filter((c) => c.share !== null) },
        mark: { type: 'rect', stroke: k <= 40 ? 'white' : null, strokeWidth: 0.5, aria: false },
        encoding: {
          x,
          y,
          color: {
            field: 'share',
            type: 'quantitative',
            title: '% of true class',
            scale: { scheme: 'blues', domain: [0, 100] },
            legend: { gradientLength: Math.max(80, Math.min(240, cell * k)), format: 'd' },
          },
        },
      },
      // A class without test videos: its row is grey, not "0%".
      ...(empty
        ? [{ data: { values: cells.filter((c) => c.share === null) }, mark: { type: 'rect' as const, color: '#e4e4e4', stroke: k <= 40 ? 'white' : null, strokeWidth: 0.5, aria: false }, encoding: { x, y } }]
        : []),
      ...(shown.length
        ? [
            {
              data: { values: shown },
              mark: { type: 'text' as const, fontSize: countFont, baseline: 'middle' as const, aria: false },
              encoding: { x, y, text: { field: 'label' }, color: { condition: { test: 'datum.dark', value: 'white' }, value: '#222' } },
            },
          ]
        : []),
    ],
  } as unknown as Parameters<typeof renderVegaLite>[0]);
}
