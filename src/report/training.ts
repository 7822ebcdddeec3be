// Training curves of one run: the loss (log axis when it spans orders of magnitude) and the
// accuracy on the training batches and, when it was logged, on the validation split, against the
// iteration; drawn from numbers, never computed here. A diverged step (a loss of NaN or Infinity)
// is not drawn on the line but marked where it happened.
// The metrics.jsonl parser is the run folder's (src/run/metrics.ts).

import { parseTrainingMetrics, type ParsedTrainingMetrics, type TrainingHistory } from '../run/metrics.js';
import { MvclassError } from '../util/errors.js';
import { formatNumber, renderVegaLite, type Figure, type FigureOptions } from './figures.js';

export { parseTrainingMetrics, type ParsedTrainingMetrics, type TrainingHistory };

export interface TrainingCurvesOptions extends FigureOptions {
  /** The loss axis: 'auto' (default) is logarithmic when every loss drawn is positive and they span a factor of 10 or more. */
  lossScale?: 'auto' | 'log' | 'linear';
  /** Drawn under the title (default: the last loss and the best validation accuracy). */
  subtitle?: string;
}

/** A loss for people: 3 significant digits, an exponent beyond a million. */
function lossText(loss: number): string {
  return Math.abs(loss) >= 1e6 ? loss.toExponential(2) : formatNumber(loss);
}

const KEYS = ['training batches', 'validation'];
const COLOURS = ['#4c78a8', '#f58518'];

/**
 * Loss (top) and accuracy in % (bottom) against the iteration, one figure per run. Non-finite
 * losses are marked as "diverged" at their iteration instead of drawn; on a log axis a loss of
 * zero or below cannot be drawn and is left out (said in the subtitle).
 */
export async function trainingCurvesFigure(history: TrainingHistory, options: TrainingCurvesOptions = {}): Promise<Figure> {
  const check = (iteration: number, what: string) => {
    if (typeof iteration !== 'number' || !Number.isFinite(iteration) || iteration < 0) throw new MvclassError(`trainingCurvesFigure: ${what}: iteration must be a non-negative number, got ${String(iteration)}`);
    return iteration;
  };
  const losses: Array<{ iteration: number; loss: number }> = [];
  const diverged: Array<{ iteration: number; label: string }> = [];
  const accuracy: Array<{ iteration: number; accuracy: number; curve: string }> = [];
  history.train.forEach((p, i) => {
    const iteration = check(p.iteration, `training point ${i}`);
    if (p.loss !== null && p.loss !== undefined) {
      if (Number.isFinite(p.loss)) losses.push({ iteration, loss: p.loss });
      else diverged.push({ iteration, label: `loss ${String(p.loss)}` });
    }
    if (p.accuracy !== null && p.accuracy !== undefined && Number.isFinite(p.accuracy)) accuracy.push({ iteration, accuracy: 100 * p.accuracy, curve: KEYS[0]! });
  });
  history.val.forEach((p, i) => {
    const iteration = check(p.iteration, `validation point ${i}`);
    if (Number.isFinite(p.accuracy)) accuracy.push({ iteration, accuracy: 100 * p.accuracy, curve: KEYS[1]! });
  });
  if (losses.length === 0 && accuracy.length === 0 && diverged.length === 0) throw new MvclassError('trainingCurvesFigure: nothing to draw (no loss or accuracy logged)');
  losses.sort((a, b) => a.iteration - b.iteration);
  accuracy.sort((a, b) => a.iteration - b.iteration);

  const positive = losses.filter((p) => p.loss > 0);
  const lo = Math.min(...positive.map((p) => p.loss));
  const hi = Math.max(...positive.map((p) => p.loss));
  const scale = options.lossScale ?? 'auto';
  const log = scale === 'log' ? positive.length > 0 : scale === 'auto' ? positive.length > 0 && positive.length === losses.length && hi / lo >= 10 : false;
  const drawn = log ? positive : losses;
  const left = losses.length - drawn.length;

  const all = [...losses.map((p) => p.iteration), ...accuracy.map((p) => p.iteration), ...diverged.map((p) => p.iteration)];
  const last = Math.max(...all);
  const xDomain = [Math.min(0, ...all), last > 0 ? last : 1];
  const x = { field: 'iteration', type: 'quantitative' as const, title: 'Iteration', scale: { domain: xDomain, nice: false } };
  const width = options.width ?? 480;
  const height = options.height ?? 200;

  const marks = (top: number) =>
    diverged.length === 0
      ? []
      : [
          { data: { values: diverged }, mark: { type: 'rule' as const, color: '#d62728', strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x } },
          {
            data: { values: diverged.slice(0, 1) },
            mark: { type: 'text' as const, color: '#d62728', align: 'right' as const, baseline: 'top' as const, dx: -4, fontSize: 10 },
            encoding: { x, y: { datum: top }, text: { value: `diverged (${diverged[0]!.label}) at ${formatNumber(diverged[0]!.iteration, 6)}` } },
          },
        ];

  const lossY = {
    field: 'loss',
    type: 'quantitative' as const,
    title: log ? 'Loss (log axis)' : 'Loss',
    scale: log ? { type: 'log' as const } : { zero: false },
    axis: { format: '~g' },
  };
  const lossTop = drawn.length ? (log ? hi : Math.max(...drawn.map((p) => p.loss))) : 1;
  const lossPanel = {
    width,
    height,
    layer: [
      ...(drawn.length
        ? [{ data: { values: drawn }, mark: { type: 'line' as const, color: COLOURS[0], point: drawn.length < 40 ? { filled: true, size: 20, color: COLOURS[0] } : false }, encoding: { x, y: lossY } }]
        : [{ data: { values: [{ iteration: xDomain[0], loss: 1 }] }, mark: { type: 'point' as const, opacity: 0 }, encoding: { x, y: lossY } }]),
      ...marks(lossTop),
    ],
  };
  const accY = { field: 'accuracy', type: 'quantitative' as const, title: 'Accuracy (%)', scale: { domain: [0, 100] } };
  // Only the curves there are in the legend (no "validation" for a run that never scored its val split).
  const present = KEYS.map((key, i) => [key, COLOURS[i]!] as const).filter(([key]) => accuracy.some((p) => p.curve === key));
  const color = { field: 'curve', type: 'nominal' as const, title: null, scale: { domain: present.map(([k]) => k), range: present.map(([, c]) => c) }, legend: { orient: 'bottom-right' as const } };
  const accPanel = {
    width,
    height,
    layer: [
      accuracy.length
        ? { data: { values: accuracy }, mark: { type: 'line' as const, point: accuracy.length < 80 ? { filled: true, size: 20 } : false }, encoding: { x, y: accY, color } }
        : { data: { values: [{ iteration: xDomain[0], accuracy: 0 }] }, mark: { type: 'point' as const, opacity: 0 }, encoding: { x, y: accY } },
      ...marks(100),
    ],
  };

  const lastLoss = losses.at(-1);
  const vals = accuracy.filter((p) => p.curve === KEYS[1]);
  const best = vals.reduce<(typeof vals)[number] | null>((b, p) => (b === null || p.accuracy > b.accuracy ? p : b), null);
  const notes: string[] = [];
  if (lastLoss) notes.push(`last loss ${lossText(lastLoss.loss)} at iteration ${lastLoss.iteration}`);
  if (best) notes.push(`best validation ${best.accuracy.toFixed(1)}% at iteration ${best.iteration}`);
  else notes.push('no validation logged');
  if (diverged.length) notes.push(`diverged at iteration ${diverged[0]!.iteration}`);
  if (left > 0) notes.push(`${left} loss${left === 1 ? '' : 'es'} ≤ 0 not drawn on the log axis`);
  return renderVegaLite({
    title: { text: options.title ?? 'Training', subtitle: options.subtitle ?? notes.join('; ') },
    vconcat: [lossPanel, accPanel],
    spacing: 14,
  } as unknown as Parameters<typeof renderVegaLite>[0]);
}
