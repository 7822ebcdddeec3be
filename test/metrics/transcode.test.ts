// The transcode study's arithmetic on known inputs: the slope of top-1 against quality in seed
// 003's units, per-class and relative accuracy, the first level that costs more than a point, and
// the MV-vs-pixel comparison.

import { describe, expect, it } from 'vitest';
import { accuracySlope, compareModels, firstLoss, MAE_UNIT, modelFamily, perClassAccuracy, relativeAccuracy, SSIM_UNIT } from '../../src/metrics/transcode.js';

describe('accuracySlope', () => {
  it("reports seed 003's numbers in its units: 221 points per SSIM is 2.21 per 0.01 SSIM; MAE per level x 255/256", () => {
    // Points on top-1 (%) = 221 SSIM - 152 exactly, given as fractions.
    const ssim = [0.9, 0.95, 0.98];
    const s = accuracySlope(ssim, ssim.map((x) => (221 * x - 152) / 100), SSIM_UNIT)!;
    expect(s.a).toBeCloseTo(221, 9);
    expect(s.b).toBeCloseTo(-152, 9);
    expect(s.slope).toBeCloseTo(2.21, 9);
    expect(s.r2).toBeCloseTo(1, 12);
    expect(s.points).toBe(3);
    // -2 points per MAE level: -2 x 255/256 per 1/256 of the [0, 1] range.
    const m = accuracySlope([2, 4, 6, 8], [0.7, 0.66, 0.62, 0.58], MAE_UNIT)!;
    expect(m.a).toBeCloseTo(-2, 9);
    expect(m.slope).toBeCloseTo((-2 * 255) / 256, 9);
  });

  it('a noisy fit: the least-squares slope and R² of four points worked by hand', () => {
    // x 1,2,3,4; y (points) 10, 12, 11, 15: mean x 2.5, mean y 12, sxy 7.5... sxx 5 -> a 1.4, b 8.5
    const s = accuracySlope([1, 2, 3, 4], [0.1, 0.12, 0.11, 0.15], 1)!;
    expect(s.a).toBeCloseTo(1.4, 9);
    expect(s.b).toBeCloseTo(8.5, 9);
    // syy = 4+0+1+9 = 14; residuals: 10-9.9, 12-11.3, 11-12.7, 15-14.1 -> 0.01+0.49+2.89+0.81 = 4.2
    expect(s.r2).toBeCloseTo(1 - 4.2 / 14, 9);
  });

  it('no line through fewer than two distinct qualities; mismatched inputs are an error', () => {
    expect(accuracySlope([0.9], [0.5], SSIM_UNIT)).toBeNull();
    expect(accuracySlope([0.9, 0.9], [0.5, 0.4], SSIM_UNIT)).toBeNull();
    expect(() => accuracySlope([0.9, 0.8], [0.5], SSIM_UNIT)).toThrow('accuracySlope: 2 index values but 1 accuracies');
  });
});

describe('per-class and relative accuracy', () => {
  it("recall per class from a confusion matrix, null for a class with no videos; the cell's over the original's in %", () => {
    const original = perClassAccuracy([
      [4, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    expect(original).toEqual([1, 0.5, null]);
    const cell = perClassAccuracy([
      [3, 1, 0],
      [0, 2, 0],
      [0, 0, 0],
    ]);
    expect(cell).toEqual([0.75, 1, null]);
    expect(relativeAccuracy(cell, original)).toEqual([75, 200, null]);
    // The originals got class 1 wholly wrong: no ratio.
    expect(relativeAccuracy([0.5, 0.5], [1, 0])).toEqual([50, null]);
    expect(() => relativeAccuracy([1], [1, 1])).toThrow('relativeAccuracy: 1 classes in the cell but 2 in the originals');
  });
});

describe('firstLoss and compareModels', () => {
  const level = (l: number, top1: number) => ({ level: l, bytes: 1000 - 10 * l, kbps: 100 - l, top1 });

  it('the lowest level more than a point below the original, in level order whatever the given order; a point exactly is not more', () => {
    expect(firstLoss([level(40, 0.7), level(20, 0.79), level(30, 0.795)], 0.8)?.level).toBe(40);
    expect(firstLoss([level(40, 0.7), level(20, 0.78), level(30, 0.8)], 0.8)?.level).toBe(20);
    expect(firstLoss([level(20, 0.79), level(30, 0.5)], 0.8, 1)).toMatchObject({ level: 30, bytes: 700, kbps: 70 });
    expect(firstLoss([level(20, 0.49), level(30, 0.495)], 0.5)).toBeNull(); // exactly 1 point, then 0.5
  });

  it('families: mv3d/mv2d are MV, the frame networks pixel', () => {
    expect(['mv3d', 'mv2d', 'vgg16', 'resnet18', 'resnet152'].map(modelFamily)).toEqual(['mv', 'mv', 'pixel', 'pixel', 'pixel']);
  });

  it('per cell each model\'s change in points; per family and GOP the first level any of its models loses more than a point at', () => {
    const cells = [
      { level: 20, gop: 1, bytes: 500, kbps: 50, accuracy: { resnet18: 0.6, mv3d: 0.8, mv2d: 0.7 } },
      { level: 40, gop: 1, bytes: 200, kbps: 20, accuracy: { resnet18: 0.5, mv3d: 0.8, mv2d: 0.65 } },
      { level: 20, gop: 12, bytes: 300, kbps: 30, accuracy: { resnet18: 0.6, mv3d: 0.8, mv2d: 0.7 } },
      { level: 40, gop: 12, bytes: 100, kbps: 10, accuracy: { resnet18: 0.6, mv3d: 0.75, mv2d: 0.7 } },
    ];
    const c = compareModels({ rate: 'crf', cells, original: { bytes: 1000, kbps: 100, accuracy: { resnet18: 0.6, mv3d: 0.8, mv2d: 0.7 } } });
    expect(c.rate).toBe('crf');
    expect(c.points).toBe(1);
    expect(c.models.map((m) => [m.model, m.family, m.original])).toEqual([
      ['mv3d', 'mv', 0.8],
      ['mv2d', 'mv', 0.7],
      ['resnet18', 'pixel', 0.6],
    ]);
    expect(c.models[2]!.cells.map((x) => [x.level, x.gop, x.top1, Number(x.change.toFixed(9))])).toEqual([
      [20, 1, 0.6, 0],
      [40, 1, 0.5, -10],
      [20, 12, 0.6, 0],
      [40, 12, 0.6, 0],
    ]);
    expect(c.families).toEqual([
      // GOP 1: mv2d loses 5 points at CRF 40; GOP 12: mv3d 5 points at CRF 40.
      { family: 'mv', models: ['mv3d', 'mv2d'], gop: 1, level: 40, model: 'mv2d', bytes: 200, kbps: 20, relativeSize: 0.2 },
      { family: 'mv', models: ['mv3d', 'mv2d'], gop: 12, level: 40, model: 'mv3d', bytes: 100, kbps: 10, relativeSize: 0.1 },
      { family: 'pixel', models: ['resnet18'], gop: 1, level: 40, model: 'resnet18', bytes: 200, kbps: 20, relativeSize: 0.2 },
      { family: 'pixel', models: ['resnet18'], gop: 12, level: null, model: null, bytes: null, kbps: null, relativeSize: null },
    ]);
    expect(() => compareModels({ rate: 'qp', cells: [{ level: 30, gop: 1, bytes: 1, kbps: 1, accuracy: {} }], original: { bytes: 1, kbps: 1, accuracy: { mv3d: 1 } } })).toThrow('compareModels: qp 30 GOP 1 has no top-1 for mv3d');
  });
});
