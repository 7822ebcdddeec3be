// The numbers of a repeats study (app/repeats.ts), from accuracies measured elsewhere: each
// condition's spread over its repeated runs (min, mean, max of top-1 on its own test split), the
// train x test matrix (rows: trained on, columns: tested on; the max and mean over the repeats)
// and what each condition's videos cost against the first's.

import { MvclassError } from '../util/errors.js';

export interface Spread {
  min: number;
  mean: number;
  max: number;
}

export interface RepeatsCondition extends Spread {
  name: string;
  /** Top-1 of each repeat on the condition's own test split, in repeat order. */
  runs: number[];
  /** The condition's total video bytes. */
  bytes: number;
  /** 1 - bytes / the first condition's bytes. */
  saving: number;
}

export interface RepeatsSummary {
  conditions: RepeatsCondition[];
  /** matrix[i][j]: the runs trained on condition i, tested on condition j. */
  matrix: Array<Array<{ max: number; mean: number }>>;
}

/** Min, mean and max of a non-empty list of finite numbers. */
export function spread(values: readonly number[], what = 'values'): Spread {
  if (values.length === 0) throw new MvclassError(`${what}: no values`);
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new MvclassError(`${what}[${i}]: expected a finite number, got ${String(v)}`);
  });
  return { min: Math.min(...values), mean: values.reduce((s, v) => s + v, 0) / values.length, max: Math.max(...values) };
}

/**
 * `top1[i][k][j]`: run k trained on condition i, scored on condition j's test split (every
 * condition the same number of runs). The diagonal's mean is the condition's mean: both are the
 * mean of the same numbers in the same order.
 */
export function summariseRepeats(names: readonly string[], bytes: readonly number[], top1: readonly (readonly (readonly number[])[])[]): RepeatsSummary {
  const n = names.length;
  if (n === 0) throw new MvclassError('summariseRepeats: no conditions');
  if (bytes.length !== n || top1.length !== n) throw new MvclassError(`summariseRepeats: ${n} conditions but ${bytes.length} byte counts and ${top1.length} rows of runs`);
  const repeats = top1[0]!.length;
  if (repeats === 0) throw new MvclassError(`summariseRepeats: condition ${names[0]} has no runs`);
  top1.forEach((runs, i) => {
    if (runs.length !== repeats) throw new MvclassError(`summariseRepeats: condition ${names[i]} has ${runs.length} runs, ${names[0]} ${repeats}`);
    runs.forEach((row, k) => {
      if (row.length !== n) throw new MvclassError(`summariseRepeats: run ${k} of ${names[i]} was tested on ${row.length} conditions, not ${n}`);
    });
  });
  const first = bytes[0]!;
  if (!(first > 0)) throw new MvclassError(`summariseRepeats: the first condition (${names[0]}) has ${first} bytes: no saving can be measured against it`);
  const conditions = names.map((name, i) => {
    const runs = top1[i]!.map((row) => row[i]!);
    const s = spread(runs, `${name} runs`);
    return { name, min: s.min, mean: s.mean, max: s.max, runs, bytes: bytes[i]!, saving: 1 - bytes[i]! / first };
  });
  const matrix = names.map((trained, i) =>
    names.map((tested, j) => {
      const s = spread(top1[i]!.map((row) => row[j]!), `${trained} on ${tested}`);
      return { max: s.max, mean: s.mean };
    }),
  );
  return { conditions, matrix };
}
