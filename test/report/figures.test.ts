import { describe, expect, it } from 'vitest';
import {
  densityHistogram,
  formatNumber,
  frontierFigure,
  gammaFitFigure,
  linearFitFigure,
  rateAccuracyFigure,
  relativeAccuracyFigure,
  type Figure,
} from '../../src/report/index.js';
// The figures draw the Gamma density of src/rate/mcnn: checked here as the figure uses it.
import { gammaPdf as gammaDensity, logGamma } from '../../src/rate/mcnn/index.js';
import { count, decodePng, expectBalancedTags } from './helpers.js';

const POINT = 'aria-roledescription="point"';

/** A well-formed SVG whose 2x PNG has drawn something on the white background. */
function expectFigure(figure: Figure, title: string): void {
  expect(figure.svg.startsWith('<svg')).toBe(true);
  expect(figure.svg.trimEnd().endsWith('</svg>')).toBe(true);
  expectBalancedTags(figure.svg);
  expect(figure.svg).toContain(title);
  const width = Number(/width="(\d+)"/.exec(figure.svg)![1]);
  const height = Number(/height="(\d+)"/.exec(figure.svg)![1]);
  const png = decodePng(figure.png);
  expect(png.width).toBe(2 * width);
  expect(png.height).toBe(2 * height);
  let inked = 0;
  for (let o = 0; o < png.data.length; o += 4) if (png.data[o]! < 200 || png.data[o + 1]! < 200 || png.data[o + 2]! < 200) inked++;
  expect(inked).toBeGreaterThan(1000);
}

// Deterministic Gamma(5, 0.25) samples: the sum of 5 exponentials with rate 0.25.
function gammaSamples(n: number): number[] {
  let seed = 12345;
  const uniform = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  return Array.from({ length: n }, () => {
    let s = 0;
    for (let i = 0; i < 5; i++) s -= Math.log(uniform());
    return s / 0.25;
  });
}

describe('rateAccuracyFigure', () => {
  it('draws one point and one label per operating point, one line per network', async () => {
    const figure = await rateAccuracyFigure([
      {
        name: '3D-CNN-F',
        points: [
          { label: 'QP 0', rate: 321.3, accuracy: 0.85 },
          { label: 'QP 30', rate: 112.3, accuracy: 0.881 },
          { label: 'QP 40', rate: 49.9, accuracy: 0.881 },
          { label: 'QP 51', rate: 20.0, accuracy: 0.84 },
        ],
      },
      {
        name: '2D-CNN-F',
        points: [
          { label: 'QP 30', rate: 80, accuracy: 0.86 },
          { label: 'QP 40', rate: 30, accuracy: 0.85 },
          { label: 'QP 51', rate: 12, accuracy: 0.8 },
        ],
      },
    ]);
    expectFigure(figure, 'Accuracy vs rate');
    expect(count(figure.svg, POINT)).toBe(7);
    expect(count(figure.svg, 'aria-roledescription="line mark"')).toBe(2);
    expect(count(figure.svg, 'aria-roledescription="text mark"')).toBe(7);
    expect(figure.svg).toContain('>QP 51<');
    expect(figure.svg).toContain('Rate (kbps)');
    expect(figure.svg).toContain('Accuracy (%)');
    expect(figure.svg).toMatch(/for a log scale/);
    // Accuracies are fractions drawn as percentages.
    expect(figure.svg).toContain('Accuracy (%): 88.1');
  });

  it('takes a title and a linear axis, and rejects percentages and non-positive log rates', async () => {
    const figure = await rateAccuracyFigure([{ name: 'a', points: [{ label: 'p', rate: 0, accuracy: 0.5 }] }], { title: 'Custom title', logRate: false });
    expectFigure(figure, 'Custom title');
    expect(figure.svg).toMatch(/for a linear scale/);
    await expect(rateAccuracyFigure([{ name: 'a', points: [{ label: 'p', rate: 10, accuracy: 88.1 }] }])).rejects.toThrow(/fraction from 0 to 1/);
    await expect(rateAccuracyFigure([{ name: 'a', points: [{ label: 'p', rate: 0, accuracy: 0.5 }] }])).rejects.toThrow(/positive on a log axis/);
    await expect(rateAccuracyFigure([{ name: 'a', points: [] }, { name: 'a', points: [] }])).rejects.toThrow(/repeat/);
  });
});

describe('frontierFigure', () => {
  it('draws the predicted frontier as one line, measured and single networks as points', async () => {
    const figure = await frontierFigure({
      predicted: [50, 3, 10, 25].map((rate) => ({ rate, accuracy: 0.8 + rate / 1000 })),
      measured: [
        { rate: 5, accuracy: 0.83 },
        { rate: 25, accuracy: 0.86 },
        { rate: 40, accuracy: 0.87 },
      ],
      singles: [
        { name: '3D-CNN-F', rate: 50.3, accuracy: 0.881 },
        { name: 'Spatial', rate: 20, accuracy: 0.78 },
      ],
    });
    expectFigure(figure, 'MCNN rate-accuracy frontier');
    expect(count(figure.svg, 'aria-roledescription="line mark"')).toBe(1);
    expect(count(figure.svg, POINT)).toBe(5);
    expect(count(figure.svg, 'aria-roledescription="text mark"')).toBe(2);
    expect(figure.svg).toContain('>3D-CNN-F<');
    expect(figure.svg).toContain('>MCNN measured<');
    // The predicted line runs in rate order whatever order it came in: x increases along it.
    const d = /aria-roledescription="line mark" d="([^"]+)"/.exec(figure.svg)![1]!;
    const xs = [...d.matchAll(/[ML]([-\d.]+),/g)].map((m) => Number(m[1]));
    expect(xs).toHaveLength(4);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
  });
});

describe('gamma helpers', () => {
  it('logGamma matches known values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    // Reference values from Python's math.lgamma.
    expect(logGamma(2.43)).toBeCloseTo(0.23667701361878501, 12);
    expect(logGamma(0.1)).toBeCloseTo(2.2527126517342055, 12);
    expect(logGamma(30.25)).toBeCloseTo(72.104204742008, 10);
    expect(logGamma(171.5)).toBeCloseTo(709.1431630309282, 9);
  });

  it('gammaDensity uses beta as a RATE and integrates to 1', () => {
    const [alpha, beta] = [2.43, 0.13];
    let area = 0;
    let mean = 0;
    const dx = 0.01;
    for (let x = dx / 2; x < 400; x += dx) {
      const f = gammaDensity(x, alpha, beta);
      area += f * dx;
      mean += x * f * dx;
    }
    expect(area).toBeCloseTo(1, 4);
    expect(mean).toBeCloseTo(alpha / beta, 2); // 18.7 kbps, Table I's QP 40 R_motion
    expect(gammaDensity(2, 1, 0.5)).toBeCloseTo(0.5 * Math.exp(-1), 12);
    expect(gammaDensity(-1, 2, 1)).toBe(0);
  });

  it('densityHistogram bars have unit area', () => {
    const bins = densityHistogram([1, 2, 2, 3, 9], 4);
    expect(bins).toHaveLength(4);
    expect(bins[0]!.x0).toBe(0);
    expect(bins[3]!.x1).toBe(9);
    expect(bins.map((b) => b.count)).toEqual([3, 1, 0, 1]);
    expect(bins.reduce((s, b) => s + b.density * (b.x1 - b.x0), 0)).toBeCloseTo(1, 12);
    expect(() => densityHistogram([])).toThrow(/no samples/);
    expect(() => densityHistogram([1, NaN])).toThrow(/sample 1/);
  });

  it('formatNumber keeps three significant digits', () => {
    expect(formatNumber(2.4312)).toBe('2.43');
    expect(formatNumber(0.13)).toBe('0.13');
    expect(formatNumber(1234)).toBe('1230');
  });
});

describe('gammaFitFigure', () => {
  it('draws one bar per bin and the density curve, with alpha, beta and KL in the title', async () => {
    const samples = gammaSamples(400);
    const figure = await gammaFitFigure({ samples, alpha: 2.43, beta: 0.13, kl: 0.034 }, { bins: 20 });
    expectFigure(figure, 'α = 2.43, β = 0.13 /kbps, KL = 0.034');
    expect(count(figure.svg, 'aria-roledescription="rect mark"')).toBe(20);
    expect(count(figure.svg, 'aria-roledescription="line mark"')).toBe(1);
    expect(figure.svg).toContain('R_motion (kbps)');
    expect(figure.svg).toContain('videos (n = 400)');
  });

  it('leaves KL out when not given and rejects a non-positive beta', async () => {
    const figure = await gammaFitFigure({ samples: [1, 2, 3, 4, 5, 6], alpha: 0.8, beta: 0.5 });
    expectFigure(figure, 'α = 0.8, β = 0.5 /kbps');
    expect(figure.svg).not.toContain('KL');
    await expect(gammaFitFigure({ samples: [1], alpha: 2, beta: 0 })).rejects.toThrow(/beta/);
  });
});

describe('linearFitFigure', () => {
  it('draws every point and the fitted line, R² in the title', async () => {
    const x = gammaSamples(30);
    const y = x.map((v, i) => 2.21 * v + 9.04 + (i % 3) - 1);
    const figure = await linearFitFigure({ title: 'R_3D vs R_motion', x, y, a: 2.21, b: 9.04, r2: 0.93, xLabel: 'R_motion (kbps)', yLabel: 'R_3D (kbps)' });
    expectFigure(figure, 'R_3D vs R_motion (R² = 93.0%)');
    expect(count(figure.svg, POINT)).toBe(30);
    expect(count(figure.svg, 'aria-roledescription="line mark"')).toBe(1);
    expect(figure.svg).toContain('fit: y = 2.21 x + 9.04');
    expect(figure.svg).toContain('R_3D (kbps)');
    await expect(linearFitFigure({ title: 't', x: [1, 2], y: [1], a: 1, b: 0, r2: 1, xLabel: 'x', yLabel: 'y' })).rejects.toThrow(/2 x values but 1 y/);
  });

  it('draws the line over lineRange only (the range it was fitted on) when given', async () => {
    const path = (svg: string) => /aria-roledescription="line mark"[^>]*d="M([\d.]+),[\d.]+L([\d.]+),/.exec(svg)!;
    const data = { title: 'top-1 vs MAE', x: [0, 5, 10], y: [80, 70, 60], a: -2, b: 80, r2: 1, xLabel: 'MAE', yLabel: 'Top-1 (%)' };
    const full = path((await linearFitFigure(data)).svg);
    const part = path((await linearFitFigure({ ...data, lineRange: [5, 10] })).svg);
    // The x scale spans the points both times: the partial line starts half-way along it.
    expect(Number(part[1])).toBeCloseTo((Number(full[1]) + Number(full[2])) / 2, 0);
    expect(Number(part[2])).toBeCloseTo(Number(full[2]), 3);
  });
});

describe('relativeAccuracyFigure and rateAccuracyFigure with other axes', () => {
  it("a point per class and level, the mean per level as a line, the reference as a rule; the axes' titles as given", async () => {
    const figure = await relativeAccuracyFigure(
      [
        { level: 20, name: 'walk', relative: 100 },
        { level: 20, name: 'run', relative: 80 },
        { level: 40, name: 'walk', relative: 150 },
        { level: 40, name: 'run', relative: 50 },
      ],
      { xTitle: 'QP', title: 'per class' },
    );
    expectFigure(figure, 'per class');
    expect(figure.svg).toContain('QP');
    expect(figure.svg).toContain('Top-1 relative to the reference (%)');
    expect(figure.svg).toContain('name: run; relative: 50');
    expect(count(figure.svg, 'aria-roledescription="rule mark"')).toBe(1);
    // The means (90 and 100) as the line's two points.
    expect(count(figure.svg, 'aria-roledescription="line mark"')).toBe(1);
    await expect(relativeAccuracyFigure([])).rejects.toThrow('relativeAccuracyFigure: no points');
    const crf = await rateAccuracyFigure([{ name: 'GOP 12', points: [{ label: '', rate: 0, accuracy: 0.5 }, { label: '', rate: 40, accuracy: 0.4 }] }], { logRate: false, xTitle: 'CRF', seriesTitle: 'GOP' });
    expect(crf.svg).toContain('CRF');
    expect(crf.svg).not.toContain('Rate (kbps)');
    expect(crf.svg).toContain('>GOP<');
  });
});
