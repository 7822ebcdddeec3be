import { describe, expect, it } from 'vitest';
import { parseTrainingMetrics, trainingCurvesFigure, type TrainingHistory } from '../../src/report/index.js';
import { decodePng, svgSize, svgTexts as texts } from './helpers.js';

/** metrics.jsonl as src/app/train.ts writes it: training windows, validation lines, a divergence. */
function metricsText(options: { iterations?: number; val?: boolean; diverge?: boolean } = {}): string {
  const lines: string[] = [];
  const n = options.iterations ?? 200;
  for (let i = 10; i <= n; i += 10) lines.push(JSON.stringify({ iteration: i, lr: 0.01, loss: 2 * Math.exp(-i / 50) + 0.01, accuracy: Math.min(1, i / n), gradNorm: 1.5 }));
  if (options.val) for (let i = 50; i <= n; i += 50) lines.push(JSON.stringify({ iteration: i, split: 'val', videos: 12, top1: i / (2 * n), meanClassAccuracy: 0.4 }));
  if (options.diverge) lines.push(JSON.stringify({ iteration: n + 1, lr: 0.01, loss: 'NaN', diverged: true }));
  return lines.join('\n') + '\n';
}



describe('parseTrainingMetrics', () => {
  it('reads training windows and validation lines, ignoring fields it does not know', () => {
    const parsed = parseTrainingMetrics(metricsText({ val: true }), 'run/metrics.jsonl');
    expect(parsed.train).toHaveLength(20);
    expect(parsed.train[0]).toEqual({ iteration: 10, loss: expect.closeTo(2 * Math.exp(-0.2) + 0.01, 9), accuracy: 0.05 });
    expect(parsed.val).toEqual([50, 100, 150, 200].map((i) => ({ iteration: i, accuracy: i / 400 })));
    expect(parsed.warnings).toEqual([]);
    // Validation on the training line, as other tools log it.
    expect(parseTrainingMetrics('{"iteration":5,"loss":1,"accuracy":0.5,"val_accuracy":0.25}\n', 'f').val).toEqual([{ iteration: 5, accuracy: 0.25 }]);
  });

  it('keeps a diverged loss as NaN or Infinity', () => {
    const parsed = parseTrainingMetrics(metricsText({ iterations: 20, diverge: true }) + '{"iteration":22,"loss":"Infinity"}\n', 'f');
    expect(parsed.train.at(-2)!.loss).toBeNaN();
    expect(parsed.train.at(-1)!.loss).toBe(Infinity);
    expect(parsed.train.at(-1)!.accuracy).toBeNull();
  });

  it('skips a last line cut short with a warning, and names the file and line of a damaged one', () => {
    const cut = parseTrainingMetrics('{"iteration":1,"loss":2}\n{"iteration":2,"lo', 'run/metrics.jsonl');
    expect(cut.train).toHaveLength(1);
    expect(cut.warnings).toEqual([expect.stringMatching(/^run\/metrics\.jsonl line 2: skipped: cut short/)]);
    expect(() => parseTrainingMetrics('{"iteration":1,"loss":2}\nnot json\n{"iteration":3,"loss":1}\n', 'run/metrics.jsonl')).toThrow(/^run\/metrics\.jsonl line 2: damaged: not JSON/);
    expect(() => parseTrainingMetrics('{"loss":2}\n', 'run/metrics.jsonl')).toThrow(/line 1: damaged: expected a non-negative "iteration"/);
    expect(() => parseTrainingMetrics('{"iteration":1,"accuracy":1.5}\n', 'm')).toThrow(/"accuracy" 1.5 is not a fraction/);
    expect(() => parseTrainingMetrics('[1,2]\n', 'm')).toThrow(/expected a JSON object/);
    expect(() => parseTrainingMetrics('{"iteration":1,"loss":"lots"}\n', 'm')).toThrow(/expected a number for "loss"/);
  });
});

describe('trainingCurvesFigure', () => {
  it('draws loss on a log axis and train/validation accuracy against the iteration; the PNG is the SVG at 2x', async () => {
    const history = parseTrainingMetrics(metricsText({ val: true }), 'f');
    const figure = await trainingCurvesFigure(history, { title: 'mv3d at QP 30' });
    const t = texts(figure.svg);
    expect(t).toEqual(expect.arrayContaining(['mv3d at QP 30', 'Loss (log axis)', 'Accuracy (%)', 'Iteration', 'training batches', 'validation']));
    expect(t.some((s) => /best validation 50\.0% at iteration 200/.test(s))).toBe(true);
    const [w, h] = svgSize(figure.svg);
    const png = decodePng(figure.png);
    expect([png.width, png.height]).toEqual([Math.ceil(2 * w), Math.ceil(2 * h)]);
  });

  it('uses a linear axis when the loss is flat or not positive, and says what it left off a forced log axis', async () => {
    const flat: TrainingHistory = { train: [{ iteration: 1, loss: 1.8, accuracy: 0.2 }, { iteration: 2, loss: 1.79, accuracy: 0.2 }], val: [] };
    const linear = texts((await trainingCurvesFigure(flat)).svg);
    expect(linear).toContain('Loss');
    expect(linear.some((s) => s.includes('no validation logged'))).toBe(true);
    expect(linear).toContain('training batches');
    expect(linear).not.toContain('validation'); // no legend entry for a curve that is not there
    const withZero: TrainingHistory = { train: [{ iteration: 1, loss: 10, accuracy: null }, { iteration: 2, loss: 0, accuracy: null }, { iteration: 3, loss: 0.01, accuracy: null }], val: [] };
    expect(texts((await trainingCurvesFigure(withZero)).svg)).toContain('Loss');
    const forced = texts((await trainingCurvesFigure(withZero, { lossScale: 'log' })).svg);
    expect(forced).toContain('Loss (log axis)');
    expect(forced.some((s) => s.includes('1 loss ≤ 0 not drawn on the log axis'))).toBe(true);
  });

  it('marks where the loss stopped being finite instead of drawing it', async () => {
    const history = parseTrainingMetrics('{"iteration":10,"loss":2.3,"accuracy":0.1}\n{"iteration":20,"loss":125}\n{"iteration":30,"loss":2.6e10}\n{"iteration":31,"loss":"NaN","diverged":true}\n', 'f');
    const figure = await trainingCurvesFigure(history);
    const t = texts(figure.svg);
    expect(t).toContain('Loss (log axis)');
    expect(t.filter((s) => s === 'diverged (loss NaN) at 31')).toHaveLength(2);
    expect(t.some((s) => s.includes('last loss 2.60e+10 at iteration 30'))).toBe(true);
    expect(figure.svg).not.toMatch(/NaN(?!\) at)/); // no NaN coordinate in the drawing
    decodePng(figure.png);
    // Only a divergence, nothing finite: still a figure.
    const only = await trainingCurvesFigure({ train: [{ iteration: 1, loss: NaN, accuracy: null }], val: [] });
    expect(texts(only.svg)).toContain('diverged (loss NaN) at 1');
  });

  it('refuses a history with nothing to draw or a bad iteration', async () => {
    await expect(trainingCurvesFigure({ train: [], val: [] })).rejects.toThrow(/nothing to draw/);
    await expect(trainingCurvesFigure({ train: [{ iteration: NaN, loss: 1, accuracy: null }], val: [] })).rejects.toThrow(/training point 0: iteration/);
  });
});
