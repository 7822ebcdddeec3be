// Classification metrics over per-video class scores: top-1, top-5, mean class accuracy (the
// mean of per-class recall) and the confusion matrix (rows truth, columns prediction).

export interface ClassificationReport {
  videos: number;
  top1: number;
  top5: number;
  meanClassAccuracy: number;
  perClass: number[];
  confusion: number[][];
  classes: string[];
}

/** scores: one row of `classes.length` probabilities per video. */
export function classificationReport(scores: ArrayLike<number>[], labels: number[], classes: string[]): ClassificationReport {
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let top1 = 0;
  let top5 = 0;
  scores.forEach((row, v) => {
    const truth = labels[v]!;
    const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => row[b]! - row[a]! || a - b);
    const predicted = order[0]!;
    confusion[truth]![predicted]!++;
    if (predicted === truth) top1++;
    if (order.slice(0, 5).includes(truth)) top5++;
  });
  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total > 0 ? row[c]! / total : 0;
  });
  const present = confusion.map((row) => row.some((n) => n > 0));
  const presentCount = present.filter(Boolean).length;
  const n = scores.length;
  return {
    videos: n,
    top1: n ? top1 / n : 0,
    top5: n ? top5 / n : 0,
    meanClassAccuracy: presentCount ? perClass.reduce((s, a, c) => s + (present[c] ? a : 0), 0) / presentCount : 0,
    perClass,
    confusion,
    classes,
  };
}

/** Mean of several score rows (multi-view averaging, or the "-F" fusion of streams). */
export function meanScores(rows: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(rows[0]?.length ?? 0);
  for (const row of rows) for (let i = 0; i < out.length; i++) out[i]! += row[i]!;
  for (let i = 0; i < out.length; i++) out[i]! /= rows.length;
  return out;
}
