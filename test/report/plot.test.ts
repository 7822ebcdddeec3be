// mvclass plot and plotRuns: a run folder's metrics.jsonl (and scores) to SVG and PNG figures.
// The fixtures are written here: metrics.jsonl, run.json and score files as train and eval write them.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plotRuns, runStems } from '../../src/app/plot.js';
import { cli } from '../setup/helpers.js';
import { decodePng, svgSize, svgTexts, tempDir } from './helpers.js';

const CLASSES = ['walking', 'running', 'jumping'];

function metrics(iterations = 60, val = true): string {
  const lines: string[] = [];
  for (let i = 10; i <= iterations; i += 10) lines.push(JSON.stringify({ iteration: i, lr: 0.01, loss: 1.1 - i / 100, accuracy: i / 100, gradNorm: 2 }));
  if (val) for (let i = 30; i <= iterations; i += 30) lines.push(JSON.stringify({ iteration: i, split: 'val', videos: 6, top1: i / 120, meanClassAccuracy: 0.5 }));
  return lines.join('\n') + '\n';
}

function scores(model: string, shift = 0): string {
  // Two videos per class; the second of each class is taken for the next class.
  const videos = CLASSES.flatMap((_, label) =>
    [0, 1].map((j) => {
      const s = [0.1, 0.1, 0.1];
      s[(label + j + shift) % 3] = 0.8;
      return { id: `v${label}-${j}`, path: `/data/${label}-${j}.mp4`, label, scores: s };
    }),
  );
  return JSON.stringify({ model, split: 'test', classes: CLASSES, videos });
}

/** A run folder as mvclass train leaves it (no model.pt: plot never opens it). */
function makeRun(dir: string, model = 'mv3d', text = metrics()): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ config: { model, classes: CLASSES, frames: 16, size: 24, width: 0.25, fc: 64 }, iteration: 60 }));
  writeFileSync(path.join(dir, 'metrics.jsonl'), text);
  return dir;
}

describe('plotRuns', () => {
  it('writes the training curves and, from <run>/scores.json, the confusion matrix into the run folder', async () => {
    const run = makeRun(path.join(tempDir(), 'run'));
    writeFileSync(path.join(run, 'scores.json'), scores('mv3d'));
    const [result] = await plotRuns([run]);
    expect(result!.files.map((f) => path.relative(run, f))).toEqual(['training.svg', 'training.png', 'confusion.svg', 'confusion.png']);
    expect(result!.scores).toEqual([path.join(run, 'scores.json')]);
    const training = readFileSync(path.join(run, 'training.svg'), 'utf8');
    expect(svgTexts(training)).toEqual(expect.arrayContaining([`Training: mv3d (${run})`, 'Loss', 'Accuracy (%)', 'Iteration', 'validation']));
    const confusion = readFileSync(path.join(run, 'confusion.svg'), 'utf8');
    const t = svgTexts(confusion);
    for (const c of CLASSES) expect(t.filter((s) => s === c)).toHaveLength(2);
    expect(t).toContain('6 videos, 3 classes, top-1 50.0%');
    for (const name of ['training', 'confusion']) {
      const [w, h] = svgSize(readFileSync(path.join(run, `${name}.svg`), 'utf8'));
      const png = decodePng(readFileSync(path.join(run, `${name}.png`)));
      expect([png.width, png.height]).toEqual([Math.ceil(2 * w), Math.ceil(2 * h)]);
    }
    expect(readdirSync(run).filter((f) => f.startsWith('.'))).toEqual([]); // no temporaries left
  });

  it('with -o names the figures after the runs and finds the sweep\'s scores; no scores, no confusion matrix', async () => {
    const sweep = tempDir();
    const a = makeRun(path.join(sweep, 'qp30', 'runs', 'mv3d'));
    const b = makeRun(path.join(sweep, 'qp40', 'runs', 'mv3d'));
    mkdirSync(path.join(sweep, 'qp30', 'scores'));
    writeFileSync(path.join(sweep, 'qp30', 'scores', 'mv3d.json'), scores('mv3d'));
    const out = path.join(sweep, 'figures');
    const results = await plotRuns([a, b], { out });
    expect(readdirSync(out).sort()).toEqual(['qp30-runs-mv3d-confusion.png', 'qp30-runs-mv3d-confusion.svg', 'qp30-runs-mv3d-training.png', 'qp30-runs-mv3d-training.svg', 'qp40-runs-mv3d-training.png', 'qp40-runs-mv3d-training.svg']);
    expect(results.map((r) => r.scores)).toEqual([[path.join(sweep, 'qp30', 'scores', 'mv3d.json')], []]);
    expect(runStems(['x/a', 'y/b'])).toEqual(['a', 'b']);
    const [first, second] = runStems(['x/a', 'x/a']);
    expect(first!.endsWith('x-a')).toBe(true);
    expect(second).toBe(`${first}-2`);
  });

  it('fuses several --scores files as mvclass fuse does', async () => {
    const dir = tempDir();
    const run = makeRun(path.join(dir, 'run'));
    writeFileSync(path.join(dir, 'a.json'), scores('mv3d'));
    writeFileSync(path.join(dir, 'b.json'), scores('vgg16', 1));
    const [result] = await plotRuns([run], { scores: [path.join(dir, 'a.json'), path.join(dir, 'b.json')], out: path.join(dir, 'out') });
    const svg = readFileSync(result!.files.find((f) => f.endsWith('confusion.svg'))!, 'utf8');
    expect(svgTexts(svg).some((s) => s.startsWith('Confusion: fused mv3d + vgg16'))).toBe(true);
  });

  it('names the run folder when metrics.jsonl is missing or damaged, and writes nothing', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    await expect(plotRuns([path.join(dir, 'nope')], { out })).rejects.toThrow(`${path.join(dir, 'nope')}: no such run folder`);
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    await expect(plotRuns([empty], { out })).rejects.toThrow(`${empty}: no metrics.jsonl in the run folder`);
    const damaged = makeRun(path.join(dir, 'damaged'), 'mv2d', '{"iteration":10,"loss":1}\n{"iteration":20,"loss":\n{"iteration":30,"loss":1}\n');
    await expect(plotRuns([damaged], { out })).rejects.toThrow(`${path.join(damaged, 'metrics.jsonl')} line 2: damaged: not JSON`);
    const blank = makeRun(path.join(dir, 'blank'), 'mv2d', '\n');
    await expect(plotRuns([blank], { out })).rejects.toThrow(`${path.join(blank, 'metrics.jsonl')}: damaged or empty`);
    const good = makeRun(path.join(dir, 'good'));
    writeFileSync(path.join(good, 'scores.json'), '{"classes":["x"],"videos":[]}');
    await expect(plotRuns([good], { out })).rejects.toThrow(`${path.join(good, 'scores.json')}: other classes than ${good} was trained on`);
    writeFileSync(path.join(good, 'scores.json'), '{"classes":');
    await expect(plotRuns([good], { out })).rejects.toThrow(`${path.join(good, 'scores.json')}: not a score file`);
    // A good run after a bad one: nothing is written before everything is read.
    await expect(plotRuns([makeRun(path.join(dir, 'fine')), damaged], { out })).rejects.toThrow(/damaged/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('mvclass plot', () => {
  it('prints the files it wrote; a missing run folder is named with exit code 1', async () => {
    const dir = tempDir();
    const run = makeRun(path.join(dir, 'run'), 'mv2d', metrics(60, false));
    const ok = await cli(['plot', run, '-o', path.join(dir, 'figs')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split('\n')).toEqual([path.join(dir, 'figs', 'run-training.svg'), path.join(dir, 'figs', 'run-training.png')]);
    expect(ok.stderr).toContain(`${run}: no scores`);
    decodePng(readFileSync(path.join(dir, 'figs', 'run-training.png')));
    const missing = await cli(['plot', path.join(dir, 'missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`mvclass: ${path.join(dir, 'missing')}: no such run folder\n`);
  });
});
