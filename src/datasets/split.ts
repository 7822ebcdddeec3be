// A seeded, per-class train/test split for layouts that do not come with one.

import { invalid, nonNegativeInteger } from '../util/validate.js';
import type { DatasetItem } from './types.js';
import { mulberry32 } from '../util/random.js';

export interface StratifiedSplitOptions {
  /** Share of each class that goes to test, between 0 and 1 exclusive (default 0.2). */
  testFraction?: number;
  /** Same seed, same split (default 1). */
  seed?: number;
}

/**
 * Returns copies of `items` (same order) with split 'test' for round(n * testFraction) items of each
 * class, at least 1 and at most n - 1 once a class has 2 items, so every such class is on both sides;
 * the rest get 'train'.
 */
export function stratifiedSplit(items: readonly DatasetItem[], options: StratifiedSplitOptions = {}): DatasetItem[] {
  const testFraction = options.testFraction ?? 0.2;
  if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1)) {
    throw invalid('a number between 0 and 1 (exclusive)', 'testFraction', testFraction);
  }
  const random = mulberry32(nonNegativeInteger(options.seed ?? 1, 'seed'));

  const byLabel = new Map<number, number[]>();
  items.forEach((item, i) => {
    const group = byLabel.get(item.label);
    if (group) group.push(i);
    else byLabel.set(item.label, [i]);
  });
  const test = new Set<number>();
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    // Sort by path first so the split depends on the seed and the files, not on the input order.
    const path = (i: number): string => items[i]!.path;
    const group = byLabel.get(label)!.sort((a, b) => (path(a) < path(b) ? -1 : path(a) > path(b) ? 1 : a - b));
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j]!, group[i]!];
    }
    const n = group.length;
    const count = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
    for (const index of group.slice(0, count)) test.add(index);
  }
  return items.map((item, i) => ({ ...item, split: test.has(i) ? 'test' : 'train' }));
}

/**
 * Moves a seeded share of each class's training items to 'val' (at least one where a class has
 * three or more), so that choices made after training (the Multi-CNN thresholds, its accuracies)
 * are measured on videos neither the networks nor the test set have seen.
 */
export function holdOutValidation(items: readonly DatasetItem[], options: { fraction: number; seed?: number }): DatasetItem[] {
  const fraction = options.fraction;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) throw invalid('a number between 0 and 1 (exclusive)', 'valFraction', fraction);
  const random = mulberry32(nonNegativeInteger(options.seed ?? 1, 'seed') + 7919);
  const byLabel = new Map<number, number[]>();
  items.forEach((item, i) => {
    if (item.split !== 'train') return;
    byLabel.set(item.label, [...(byLabel.get(item.label) ?? []), i]);
  });
  const val = new Set<number>();
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    // Sorted by path first, so the same seed picks the same videos in any input order.
    const group = byLabel.get(label)!.sort((a, b) => (items[a]!.path < items[b]!.path ? -1 : 1));
    const take = group.length >= 3 ? Math.max(1, Math.round(group.length * fraction)) : 0;
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j]!, group[i]!];
    }
    for (const i of group.slice(0, take)) val.add(i);
  }
  return items.map((item, i) => (val.has(i) ? { ...item, split: 'val' as const } : { ...item }));
}
