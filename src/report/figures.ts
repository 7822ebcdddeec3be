// The paper's figures (the rate-accuracy paper) drawn from numbers computed elsewhere: a Vega-Lite spec per
// figure, rendered to SVG by Vega in Node (no browser, no canvas) and to PNG at 2x by resvg.
// Nothing here computes rates, fits or accuracies; only the presentation (histogram bins, the
// fitted curves' points) is worked out here.
//
// Units: rates in kbps; accuracies and R² are fractions from 0 to 1 (the project's convention,
// as in src/rate/mcnn) and are drawn as percentages.

import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';
import { MvclassError } from '../util/errors.js';
import { gammaPdf } from '../rate/mcnn/gamma.js';

/** One rendered figure: the SVG text and a PNG of it at twice its size. */
export interface Figure {
  svg: string;
  png: Uint8Array;
}

export interface FigureOptions {
  /** Replaces the default title. */
  title?: string;
  /** Size of the plotting area in CSS pixels (default 480 x 320). */
  width?: number;
  height?: number;
}

export interface RateOptions extends FigureOptions {
  /** Log-scaled rate axis (default true). */
  logRate?: boolean;
  /** The x axis' title (default "Rate (kbps)"), for another level on it such as a CRF. */
  xTitle?: string;
  /** The legend's title (default "Network"). */
  seriesTitle?: string;
}

// A font list that resvg resolves to the first one installed (DejaVu on Debian).
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' as const },
};

/** Renders any Vega-Lite spec (data inline) to SVG and a 2x PNG. */
export async function renderVegaLite(spec: TopLevelSpec): Promise<Figure> {
  // Vega and Vega-Lite take 0.4 s to load: only the code that draws a figure pays for them, not
  // every program that imports the library.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const full = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = compile(full).spec;
  // No loader is needed: every figure carries its data inline, and none may reach the network.
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  return { svg, png: svgToPng(svg) };
}

/** Rasterises an SVG at `scale` times its size on a white background. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const rendered = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  return new Uint8Array(rendered.buffer, rendered.byteOffset, rendered.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Checks and formatting

function finite(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MvclassError(`${what}: expected a finite number, got ${String(value)}`);
  return value;
}

function rate(value: number, what: string, log: boolean): number {
  finite(value, what);
  if (log ? value <= 0 : value < 0) {
    throw new MvclassError(`${what}: a rate in kbps must be ${log ? 'positive on a log axis' : 'non-negative'}, got ${value}`);
  }
  return value;
}

/** A fraction from 0 to 1, returned as a percentage. */
function percent(value: number, what: string): number {
  finite(value, what);
  if (value < 0 || value > 1) throw new MvclassError(`${what}: expected a fraction from 0 to 1, got ${value}`);
  return 100 * value;
}

function positive(value: number, what: string): number {
  finite(value, what);
  if (value <= 0) throw new MvclassError(`${what}: expected a positive number, got ${value}`);
  return value;
}

/** Three significant digits, no exponent for ordinary magnitudes: 0.13, 2.43, 18.7, 1230. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(digits)));
}

function size(options: FigureOptions): { width: number; height: number } {
  return { width: options.width ?? 480, height: options.height ?? 320 };
}

function rateAxis(log: boolean, title = 'Rate (kbps)') {
  return { type: 'quantitative' as const, title, scale: log ? { type: 'log' as const } : { zero: false } };
}

const ACCURACY_AXIS = { type: 'quantitative' as const, title: 'Accuracy (%)', scale: { zero: false } };

// ---------------------------------------------------------------------------------------------
// Fig. 3: accuracy vs rate per network

export interface RateAccuracySeries {
  /** The network, e.g. "3D-CNN-F". */
  name: string;
  /** One point per operating point; `label` is drawn beside it (e.g. "QP 30"). */
  points: Array<{ label: string; rate: number; accuracy: number }>;
}

/** Accuracy (%) against rate (kbps, log axis by default), one coloured line per network. */
export async function rateAccuracyFigure(series: RateAccuracySeries[], options: RateOptions = {}): Promise<Figure> {
  const log = options.logRate ?? true;
  const names = series.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new MvclassError(`rateAccuracyFigure: series names repeat: ${names.join(', ')}`);
  const values = series.flatMap((s) =>
    s.points.map((p, i) => ({
      network: s.name,
      label: p.label,
      rate: rate(p.rate, `rateAccuracyFigure: ${s.name} point ${i} rate`, log),
      accuracy: percent(p.accuracy, `rateAccuracyFigure: ${s.name} point ${i} accuracy`),
    })),
  );
  const color = { field: 'network', type: 'nominal' as const, title: options.seriesTitle ?? 'Network', scale: { domain: names } };
  return renderVegaLite({
    title: options.title ?? 'Accuracy vs rate',
    ...size(options),
    data: { values },
    encoding: { x: { field: 'rate', ...rateAxis(log, options.xTitle) }, y: { field: 'accuracy', ...ACCURACY_AXIS }, color },
    layer: [
      { mark: { type: 'line', point: { filled: true, size: 50 } } },
      { mark: { type: 'text', dy: -9, fontSize: 10 }, encoding: { text: { field: 'label' } } },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Fig. 6: the MCNN frontier

export interface FrontierData {
  /** The model's frontier (eq. 6/7), drawn as a line in rate order. */
  predicted: Array<{ rate: number; accuracy: number }>;
  /** MCNN operating points measured by classifying the test videos, drawn as points. */
  measured: Array<{ rate: number; accuracy: number }>;
  /** The single networks, drawn as labelled squares. */
  singles: Array<{ name: string; rate: number; accuracy: number }>;
}

const FRONTIER_KEYS = ['MCNN predicted', 'MCNN measured', 'single networks'];

/** The MCNN rate-accuracy frontier, predicted and measured, against the single networks. */
export async function frontierFigure(data: FrontierData, options: RateOptions = {}): Promise<Figure> {
  const log = options.logRate ?? true;
  const point = (p: { rate: number; accuracy: number }, what: string) => ({
    rate: rate(p.rate, `frontierFigure: ${what} rate`, log),
    accuracy: percent(p.accuracy, `frontierFigure: ${what} accuracy`),
  });
  const predicted = data.predicted.map((p, i) => point(p, `predicted ${i}`)).sort((a, b) => a.rate - b.rate);
  const measured = data.measured.map((p, i) => point(p, `measured ${i}`));
  const singles = data.singles.map((p, i) => ({ name: p.name, ...point(p, `single ${i} (${p.name})`) }));
  const x = { field: 'rate', ...rateAxis(log) };
  const y = { field: 'accuracy', ...ACCURACY_AXIS };
  const color = (key: string) => ({ datum: key, type: 'nominal' as const, title: null, scale: { domain: FRONTIER_KEYS } });
  return renderVegaLite({
    title: options.title ?? 'MCNN rate-accuracy frontier',
    ...size(options),
    layer: [
      { data: { values: predicted }, mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color: color('MCNN predicted') } },
      {
        data: { values: measured },
        mark: { type: 'point', shape: 'circle', filled: true, size: 60 },
        encoding: { x, y, color: color('MCNN measured') },
      },
      {
        data: { values: singles },
        mark: { type: 'point', shape: 'square', filled: true, size: 60 },
        encoding: { x, y, color: color('single networks') },
      },
      {
        data: { values: singles },
        mark: { type: 'text', dy: -10, fontSize: 10 },
        encoding: { x, y, text: { field: 'name' }, color: color('single networks') },
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Fig. 7: the Gamma fit of R_motion

export interface HistogramBin {
  x0: number;
  x1: number;
  count: number;
  /** count / (samples x bin width): the bars' areas sum to 1. */
  density: number;
}

/** Equal-width bins from 0 (or the smallest sample, if negative) to the largest sample. */
export function densityHistogram(samples: ArrayLike<number>, bins?: number): HistogramBin[] {
  const n = samples.length;
  if (n === 0) throw new MvclassError('densityHistogram: no samples');
  let lo = 0;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = finite(samples[i]!, `densityHistogram: sample ${i}`);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi <= lo) hi = lo + 1;
  const count = bins ?? Math.min(60, Math.max(5, Math.ceil(Math.sqrt(n))));
  if (!Number.isInteger(count) || count < 1) throw new MvclassError(`densityHistogram: bins must be a positive integer, got ${count}`);
  const width = (hi - lo) / count;
  const counts = new Array<number>(count).fill(0);
  for (let i = 0; i < n; i++) {
    const k = Math.min(count - 1, Math.floor((samples[i]! - lo) / width));
    counts[k]! += 1;
  }
  return counts.map((c, k) => ({ x0: lo + k * width, x1: lo + (k + 1) * width, count: c, density: c / (n * width) }));
}

export interface GammaFitData {
  /** R_motion of each video, kbps. */
  samples: number[];
  /** Shape. */
  alpha: number;
  /** RATE (1/kbps): the mean is alpha/beta. */
  beta: number;
  /** KL divergence of the fit from the histogram, when known. */
  kl?: number;
}

/** Histogram of R_motion (density) with the Gamma(alpha, beta) density over it. */
export async function gammaFitFigure(data: GammaFitData, options: FigureOptions & { bins?: number } = {}): Promise<Figure> {
  const alpha = positive(data.alpha, 'gammaFitFigure: alpha');
  const beta = positive(data.beta, 'gammaFitFigure: beta');
  const bins = densityHistogram(data.samples, options.bins);
  const lo = bins[0]!.x0;
  const hi = bins[bins.length - 1]!.x1;
  const halfBin = (bins[0]!.x1 - lo) / 2;
  const steps = 200;
  const curve: Array<{ x: number; density: number }> = [];
  for (let i = 0; i <= steps; i++) {
    const x = Math.max(0, lo + ((hi - lo) * i) / steps);
    const density = gammaPdf(x, alpha, beta);
    if (Number.isFinite(density)) curve.push({ x, density });
  }
  // A shape below 1 has an infinite density at 0: keep the axis to what the bars need.
  const top = Math.max(...bins.map((b) => b.density), ...curve.filter((p) => p.x >= halfBin).map((p) => p.density));
  const parts = [`α = ${formatNumber(alpha)}`, `β = ${formatNumber(beta)} /kbps`];
  if (data.kl !== undefined) parts.push(`KL = ${formatNumber(finite(data.kl, 'gammaFitFigure: kl'))}`);
  const x = { type: 'quantitative' as const, title: 'R_motion (kbps)', scale: { domain: [lo, hi], nice: false } };
  const y = { type: 'quantitative' as const, title: 'Density (1/kbps)', scale: { domain: [0, 1.05 * top], nice: false } };
  const keys = [`videos (n = ${data.samples.length})`, 'Gamma fit'];
  const color = (key: string) => ({ datum: key, type: 'nominal' as const, title: null, scale: { domain: keys, range: ['#9ecae9', '#e45756'] } });
  return renderVegaLite({
    title: options.title ?? `R_motion: Gamma fit, ${parts.join(', ')}`,
    ...size(options),
    layer: [
      {
        data: { values: bins },
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: { x: { field: 'x0', ...x }, x2: { field: 'x1' }, y: { field: 'density', ...y }, y2: { datum: 0 }, color: color(keys[0]!) },
      },
      {
        data: { values: curve },
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: { x: { field: 'x', ...x }, y: { field: 'density', ...y }, color: color(keys[1]!) },
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Figs. 9/10: linear fits of the sent rate against R_motion

export interface LinearFitData {
  title: string;
  x: number[];
  y: number[];
  /** Slope and intercept of the fitted line y = a x + b. */
  a: number;
  b: number;
  /** Coefficient of determination, a fraction from 0 to 1 (drawn as %). */
  r2: number;
  xLabel: string;
  yLabel: string;
  /** The x range the line is drawn over (default: the points' range), e.g. the range it was fitted on. */
  lineRange?: [number, number];
}

/** Scatter of (x, y) with the fitted line over the range of x (or lineRange); R² in the title. */
export async function linearFitFigure(data: LinearFitData, options: Omit<FigureOptions, 'title'> = {}): Promise<Figure> {
  if (data.x.length !== data.y.length) throw new MvclassError(`linearFitFigure: ${data.x.length} x values but ${data.y.length} y values`);
  if (data.x.length === 0) throw new MvclassError('linearFitFigure: no points');
  const a = finite(data.a, 'linearFitFigure: a');
  const b = finite(data.b, 'linearFitFigure: b');
  const r2 = percent(data.r2, 'linearFitFigure: r2');
  const points = data.x.map((x, i) => ({ x: finite(x, `linearFitFigure: x[${i}]`), y: finite(data.y[i]!, `linearFitFigure: y[${i}]`) }));
  const xs = points.map((p) => p.x);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const ends = data.lineRange ? data.lineRange.map((x, i) => finite(x, `linearFitFigure: lineRange[${i}]`)) : [lo, hi];
  const line = ends.map((x) => ({ x, y: a * x + b }));
  const x = { field: 'x', type: 'quantitative' as const, title: data.xLabel, scale: { zero: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: data.yLabel, scale: { zero: false } };
  const sign = b < 0 ? '−' : '+';
  return renderVegaLite({
    title: { text: `${data.title} (R² = ${r2.toFixed(1)}%)`, subtitle: `fit: y = ${formatNumber(a)} x ${sign} ${formatNumber(Math.abs(b))}` },
    ...size(options),
    layer: [
      { data: { values: points }, mark: { type: 'point', filled: true, size: 30, opacity: 0.7, color: '#4c78a8' }, encoding: { x, y } },
      { data: { values: line }, mark: { type: 'line', strokeWidth: 2, color: '#e45756' }, encoding: { x, y } },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Repeated runs: one point per run, per condition

export interface StripSeries {
  /** The condition, e.g. "qp30". */
  name: string;
  /** Each run's accuracy, a fraction from 0 to 1. */
  values: number[];
}

/**
 * A strip plot: each run's accuracy (%) as a point above its condition, spread sideways in run
 * order so that equal accuracies stay visible (deterministic: the same numbers draw the same
 * SVG), and the mean as a tick.
 */
export async function stripFigure(series: StripSeries[], options: FigureOptions = {}): Promise<Figure> {
  const names = series.map((s) => s.name);
  if (names.length === 0) throw new MvclassError('stripFigure: no series');
  if (new Set(names).size !== names.length) throw new MvclassError(`stripFigure: series names repeat: ${names.join(', ')}`);
  const points = series.flatMap((s) => {
    if (s.values.length === 0) throw new MvclassError(`stripFigure: ${s.name} has no values`);
    return s.values.map((v, k) => ({
      condition: s.name,
      run: k,
      accuracy: percent(v, `stripFigure: ${s.name} value ${k}`),
      // -0.5 .. 0.5 across the runs, in run order.
      offset: s.values.length === 1 ? 0 : k / (s.values.length - 1) - 0.5,
    }));
  });
  const means = series.map((s) => ({ condition: s.name, accuracy: s.values.reduce((a, v) => a + 100 * v, 0) / s.values.length }));
  const x = { field: 'condition', type: 'nominal' as const, title: 'Condition', sort: names, axis: { labelAngle: 0 } };
  // Both layers share the offset scale, so that the mean's tick (offset 0) sits at the band's centre.
  const xOffset = { type: 'quantitative' as const, scale: { domain: [-1.5, 1.5] } };
  const y = { field: 'accuracy', type: 'quantitative' as const, title: 'Top-1 accuracy (%)', scale: { zero: false } };
  return renderVegaLite({
    title: options.title ?? 'Top-1 of each run',
    ...size(options),
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 50, opacity: 0.75, color: '#4c78a8' },
        encoding: { x, xOffset: { field: 'offset', ...xOffset }, y, tooltip: [{ field: 'run' }, { field: 'accuracy' }] },
      },
      { data: { values: means }, mark: { type: 'tick', color: '#e45756', thickness: 2, size: 40 }, encoding: { x, xOffset: { datum: 0, ...xOffset }, y } },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Per-class accuracy relative to a reference (seed 003 fig. 8)

export interface RelativePoint {
  /** The level on the x axis, e.g. a CRF. */
  level: number;
  /** The class. */
  name: string;
  /** Percent of the reference's accuracy (100: as good; may exceed 100). */
  relative: number;
}

/**
 * One point per class and level (its accuracy as a percentage of the reference's), the mean over
 * the classes per level as a line, and the reference (100) as a rule. Classes are coloured when
 * there are at most 10 of them.
 */
export async function relativeAccuracyFigure(points: RelativePoint[], options: FigureOptions & { xTitle?: string } = {}): Promise<Figure> {
  if (points.length === 0) throw new MvclassError('relativeAccuracyFigure: no points');
  const values = points.map((p, i) => ({ level: finite(p.level, `relativeAccuracyFigure: point ${i} level`), name: p.name, relative: finite(p.relative, `relativeAccuracyFigure: point ${i} relative`) }));
  const levels = [...new Set(values.map((v) => v.level))].sort((a, b) => a - b);
  const means = levels.map((level) => {
    const at = values.filter((v) => v.level === level);
    return { level, relative: at.reduce((s, v) => s + v.relative, 0) / at.length };
  });
  const classes = new Set(values.map((v) => v.name)).size;
  const x = { field: 'level', type: 'quantitative' as const, title: options.xTitle ?? 'CRF', scale: { zero: false } };
  const y = { field: 'relative', type: 'quantitative' as const, title: 'Top-1 relative to the reference (%)', scale: { zero: false } };
  const dot = classes <= 10 ? { color: { field: 'name', type: 'nominal' as const, title: 'Class' } } : {};
  return renderVegaLite({
    title: options.title ?? 'Per-class top-1 relative to the reference',
    ...size(options),
    layer: [
      { data: { values: [{ relative: 100 }] }, mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { y: { field: 'relative', type: 'quantitative' } } },
      { data: { values }, mark: { type: 'point', filled: true, size: 40, opacity: 0.7, ...(classes <= 10 ? {} : { color: '#4c78a8' }) }, encoding: { x, y, ...dot, tooltip: [{ field: 'name' }, { field: 'relative' }] } },
      { data: { values: means }, mark: { type: 'line', color: '#e45756', strokeWidth: 2, point: { color: '#e45756' } }, encoding: { x, y } },
    ],
  });
}
