import { describe, expect, it } from 'vitest';
import { stratifiedSplit, type DatasetItem } from '../../src/datasets/index.js';
import { MvclassError } from '../../src/util/errors.js';

/** Classes of 10, 5, 2 and 1 items, interleaved so the input is not grouped by class. */
function sampleItems(): DatasetItem[] {
  const sizes = [10, 5, 2, 1];
  const items: DatasetItem[] = [];
  for (let i = 0; i < 10; i++) {
    sizes.forEach((size, label) => {
      if (i < size) items.push({ path: `/v/c${label}/${String(i).padStart(2, '0')}.mp4`, label, className: `c${label}`, split: 'train' });
    });
  }
  return items;
}

function testCounts(items: DatasetItem[]): number[] {
  return [0, 1, 2, 3].map((label) => items.filter((i) => i.label === label && i.split === 'test').length);
}

const testPaths = (items: DatasetItem[]): string[] => items.filter((i) => i.split === 'test').map((i) => i.path).sort();

describe('stratifiedSplit', () => {
  it('puts round(n * fraction) of each class in test, at least 1 and at most n - 1', () => {
    const items = sampleItems();
    expect(testCounts(stratifiedSplit(items))).toEqual([2, 1, 1, 0]); // 2, round(1)=1, round(0.4)->1, n=1 -> 0
    expect(testCounts(stratifiedSplit(items, { testFraction: 0.5 }))).toEqual([5, 3, 1, 0]); // round(2.5)=3
    expect(testCounts(stratifiedSplit(items, { testFraction: 0.95 }))).toEqual([9, 4, 1, 0]); // capped at n - 1
    expect(testCounts(stratifiedSplit(items, { testFraction: 0.01 }))).toEqual([1, 1, 1, 0]); // at least 1
  });

  it('keeps every class with 2 or more items on both sides, and a single item in train', () => {
    for (const testFraction of [0.01, 0.2, 0.5, 0.99]) {
      const split = stratifiedSplit(sampleItems(), { testFraction, seed: 7 });
      for (const label of [0, 1, 2]) {
        const sides = new Set(split.filter((i) => i.label === label).map((i) => i.split));
        expect([...sides].sort()).toEqual(['test', 'train']);
      }
      expect(split.filter((i) => i.label === 3).map((i) => i.split)).toEqual(['train']);
    }
  });

  it('is deterministic: same seed same split, another seed another, input order irrelevant', () => {
    const items = sampleItems();
    const a = stratifiedSplit(items, { seed: 42 });
    expect(stratifiedSplit(sampleItems(), { seed: 42 })).toEqual(a);
    expect(testPaths(stratifiedSplit([...items].reverse(), { seed: 42 }))).toEqual(testPaths(a));
    expect(testPaths(stratifiedSplit(items, { seed: 43 }))).not.toEqual(testPaths(a));
    expect(testPaths(stratifiedSplit(items))).toEqual(testPaths(stratifiedSplit(items, { seed: 1 })));
  });

  it('returns new items in the input order and leaves the input alone', () => {
    const items = sampleItems().map((i) => Object.freeze({ ...i, split: 'val' as const }));
    const before = structuredClone(items);
    const split = stratifiedSplit(items, { seed: 3 });
    expect(items).toEqual(before);
    expect(split.map((i) => i.path)).toEqual(items.map((i) => i.path));
    expect(split.map((i) => i.label)).toEqual(items.map((i) => i.label));
    expect(split.every((s, k) => s !== items[k])).toBe(true);
    expect(new Set(split.map((i) => i.split))).toEqual(new Set(['train', 'test']));
    expect(stratifiedSplit([])).toEqual([]);
  });

  it('validates testFraction and seed', () => {
    expect(() => stratifiedSplit(sampleItems(), { testFraction: 1 })).toThrow(
      new MvclassError('Expected a number between 0 and 1 (exclusive) for testFraction but received 1'),
    );
    expect(() => stratifiedSplit(sampleItems(), { testFraction: 0 })).toThrow(/for testFraction but received 0$/);
    expect(() => stratifiedSplit(sampleItems(), { seed: -1 })).toThrow('Expected a non-negative integer for seed but received -1');
  });
});
