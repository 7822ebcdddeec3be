// mvclass study repeats: the arithmetic on known numbers, the spec's messages (file and key named),
// and the whole study on real footage: two conditions prepared from one motion set at QP 30 and
// 45, two tiny runs each, every run tested on both; a rerun reuses everything and prints the same.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRepeats } from '../../src/app/repeats.js';
import { checkRepeatsSpec, loadRepeatsSpec, type RepeatsSpec } from '../../src/config/study.js';
import { spread, summariseRepeats, type RepeatsSummary } from '../../src/metrics/repeats.js';
import { stripFigure } from '../../src/report/figures.js';
import { UsageError } from '../../src/util/errors.js';
import { fixtures } from '../setup/fixtures.js';
import { cli, tempDir } from '../setup/helpers.js';
import { motionSet } from '../support/motionset.js';

const dir = tempDir('mvclass-repeats-');

describe('repeats arithmetic', () => {
  it('min, mean and max of each condition, the train x test matrix, bytes and saving', () => {
    // top1[trained][run][tested]
    const top1 = [
      [
        [0.5, 0.25],
        [0.75, 0.5],
        [1, 0],
      ],
      [
        [0.25, 0.5],
        [0.5, 1],
        [0, 0.75],
      ],
    ];
    const s = summariseRepeats(['qp30', 'qp45'], [1000, 400], top1);
    expect(s.conditions).toEqual([
      { name: 'qp30', min: 0.5, mean: 0.75, max: 1, runs: [0.5, 0.75, 1], bytes: 1000, saving: 0 },
      { name: 'qp45', min: 0.5, mean: 0.75, max: 1, runs: [0.5, 1, 0.75], bytes: 400, saving: 0.6 },
    ]);
    expect(s.matrix).toEqual([
      [{ max: 1, mean: 0.75 }, { max: 0.5, mean: 0.25 }],
      [{ max: 0.5, mean: 0.25 }, { max: 1, mean: 0.75 }],
    ]);
    expect(spread([3, 1, 2])).toEqual({ min: 1, mean: 2, max: 3 });
  });

  it('refuses ragged or empty inputs and a first condition of no bytes', () => {
    expect(() => summariseRepeats(['a', 'b'], [1, 1], [[[1, 1]], [[1, 1], [1, 1]]])).toThrow(/b has 2 runs, a 1/);
    expect(() => summariseRepeats(['a', 'b'], [1, 1], [[[1]], [[1, 1]]])).toThrow(/run 0 of a was tested on 1 conditions, not 2/);
    expect(() => summariseRepeats(['a', 'b'], [0, 1], [[[1, 1]], [[1, 1]]])).toThrow(/first condition \(a\) has 0 bytes/);
    expect(() => spread([])).toThrow(/no values/);
    expect(() => spread([NaN], 'x')).toThrow(/x\[0\]: expected a finite number/);
  });

  it('the strip plot takes accuracies as fractions, one series per condition', async () => {
    const figure = await stripFigure([{ name: 'a', values: [0.25, 0.5] }, { name: 'b', values: [1] }]);
    expect(figure.svg).toMatch(/^<svg/);
    await expect(stripFigure([{ name: 'a', values: [1.5] }])).rejects.toThrow(/stripFigure: a value 0: expected a fraction from 0 to 1, got 1.5/);
    await expect(stripFigure([{ name: 'a', values: [] }])).rejects.toThrow(/a has no values/);
  });
});

describe('repeats spec', () => {
  const good = { model: 'mv3d', conditions: [{ name: 'a', data: 'ca' }, { name: 'b', dataset: 'set', prepare: { qp: 45, size: '160x120' } }] };
  const failure = (value: unknown): string => {
    try {
      checkRepeatsSpec(value, 'study.yaml', '/specs');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    throw new Error(`accepted: ${JSON.stringify(value)}`);
  };

  it('defaults, and paths relative to the spec folder', () => {
    const spec = checkRepeatsSpec(good, 'study.yaml', '/specs');
    expect(spec).toEqual({ model: 'mv3d', seed: 1, repeats: 10, conditions: [{ name: 'a', data: '/specs/ca' }, { name: 'b', dataset: '/specs/set', prepare: { qp: 45, size: '160x120' } }] });
  });

  it('names the file and the key', () => {
    expect(failure({ ...good, bogus: 1 })).toMatch(/^study\.yaml: unknown key bogus \(known: model, /);
    expect(failure({ ...good, repeat: 3 })).toBe('study.yaml: unknown key repeat (did you mean repeats?)');
    expect(failure({ model: 'mv3d' })).toMatch(/^study\.yaml: conditions is missing: give 2 or more/);
    expect(failure({ ...good, conditions: [good.conditions[0]] })).toBe('study.yaml: Expected a list of 2 or more conditions for conditions but received an array of 1');
    expect(failure({ ...good, conditions: [good.conditions[0], { name: 'a', data: 'x' }] })).toBe('study.yaml: conditions[1].name "a" is already the name of conditions[0]: names must be unique');
    for (const bad of ['x', 0, -2, 1.5]) expect(failure({ ...good, repeats: bad })).toBe(`study.yaml: Expected a positive integer for repeats but received ${JSON.stringify(bad)}`);
    expect(failure({ ...good, conditions: [good.conditions[0], { name: 'b', dataset: 's', prepare: { qpp: 4 } }] })).toBe('study.yaml: unknown key conditions[1].prepare.qpp (did you mean conditions[1].prepare.qp?)');
    expect(failure({ ...good, conditions: [good.conditions[0], { name: 'b', dataset: 's', prepare: { qp: 60 } }] })).toBe('study.yaml: Expected an integer from 0 to 51 for conditions[1].prepare.qp but received 60');
    expect(failure({ ...good, conditions: [{ name: 'a', data: 'x', dataset: 'y' }, good.conditions[1]] })).toMatch(/^study\.yaml: conditions\[0\] has both data and dataset/);
    expect(failure({ ...good, conditions: [{ name: '../a', data: 'x' }, good.conditions[1]] })).toMatch(/^study\.yaml: conditions\[0\]\.name "\.\.\/a" is not a safe folder name/);
    expect(failure({ ...good, model: 'mv4d' })).toMatch(/^study\.yaml: Expected one of "mv3d", .* for model but received "mv4d"/);
    expect(failure({ ...good, lr: -1 })).toBe('study.yaml: Expected a positive number for lr but received -1');
  });

  it('reads YAML and JSON files; the CLI exits 2 with the message', async () => {
    const yaml = path.join(dir, 'spec.yaml');
    writeFileSync(yaml, 'model: mv3d\nrepeats: 2\nconditions:\n  - { name: a, data: ../a }\n  - { name: b, data: ../b }\n');
    const json = path.join(dir, 'spec.json');
    writeFileSync(json, JSON.stringify({ model: 'mv3d', repeats: 2, conditions: [{ name: 'a', data: '../a' }, { name: 'b', data: '../b' }] }));
    expect(await loadRepeatsSpec(yaml)).toEqual(await loadRepeatsSpec(json));
    expect((await loadRepeatsSpec(yaml)).conditions[0]).toEqual({ name: 'a', data: path.resolve(dir, '..', 'a') });

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'model: mv3d\nrepeats: two\nconditions:\n  - { name: a, data: a }\n  - { name: b, data: b }\n');
    const out = path.join(dir, 'bad-out');
    const r = await cli(['study', 'repeats', bad, '-o', out, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mvclass: ${bad}: Expected a positive integer for repeats but received "two"\n`);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false); // checked before anything is written
    // --device and --threads are checked as on every command that runs a network.
    const device = await cli(['study', 'repeats', yaml, '-o', out, '--device', 'gpu']);
    expect([device.code, device.stderr]).toEqual([2, 'mvclass: Expected cpu, cuda or cuda:N for device but received "gpu"\n']);
    const threads = await cli(['study', 'repeats', yaml, '-o', out, '--threads', 'abc']);
    expect([threads.code, threads.stderr]).toEqual([2, 'mvclass: Expected an integer from 0 to 1024 for threads but received "abc"\n']);
    expect(existsSync(out)).toBe(false);
  });
});

describe('repeats on real footage', () => {
  let spec = '';
  beforeAll(async () => {
    const { cockatoo, realshort, balle, inertie, vp9 } = fixtures().real;
    const set = await motionSet({ sources: { cockatoo: cockatoo!, realshort: realshort!, balle: balle!, inertie: inertie!, vp9: vp9! }, perClass: 4 });
    const specs = path.join(dir, 'specs');
    mkdirSync(specs);
    spec = path.join(specs, 'study.yaml');
    // The dataset given relative to the spec's folder; the clips are 160x120, prepared at their own size.
    const rel = path.relative(specs, set);
    writeFileSync(
      spec,
      [
        'model: mv3d',
        'frames: 8',
        'size: 16',
        'width: 0.125',
        'fc: 16',
        'iterations: 10',
        'batch: 8',
        'views: 2x1',
        'repeats: 2',
        'conditions:',
        `  - { name: qp30, dataset: ${rel}, prepare: { qp: 30, size: 160x120, jobs: 2 } }`,
        `  - { name: qp45, dataset: ${rel}, prepare: { qp: 45, size: 160x120, jobs: 2 } }`,
        '',
      ].join('\n'),
    );
  }, 300_000);

  it('trains 2 runs per condition, tests each on both, reports; a rerun retrains nothing and prints the same', { timeout: 240_000 }, async () => {
    const out = path.join(dir, 'study');
    const args = ['study', 'repeats', spec, '-o', out, '--json', '--threads', '1'];
    const t0 = performance.now();
    const first = await cli(args, 200_000);
    const firstSeconds = (performance.now() - t0) / 1000;
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as RepeatsSummary;

    expect(Object.keys(result)).toEqual(['conditions', 'matrix']);
    expect(result.conditions.map((c) => c.name)).toEqual(['qp30', 'qp45']);
    const inUnit = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
    for (const [i, c] of result.conditions.entries()) {
      expect(Object.keys(c)).toEqual(['name', 'min', 'mean', 'max', 'runs', 'bytes', 'saving']);
      expect(c.runs).toHaveLength(2);
      expect(c.runs.every(inUnit)).toBe(true);
      expect(c.min).toBeLessThanOrEqual(c.mean);
      expect(c.mean).toBeLessThanOrEqual(c.max);
      expect(c.min).toBe(Math.min(...c.runs));
      expect(c.max).toBe(Math.max(...c.runs));
      expect(result.matrix[i]![i]!.mean).toBe(c.mean);
      expect(result.matrix[i]![i]!.max).toBe(c.max);
      expect(Number.isInteger(c.bytes) && c.bytes > 0).toBe(true);
    }
    expect(result.matrix).toHaveLength(2);
    for (const row of result.matrix) {
      expect(row).toHaveLength(2);
      for (const cell of row) {
        expect(Object.keys(cell)).toEqual(['max', 'mean']);
        expect(inUnit(cell.max) && inUnit(cell.mean)).toBe(true);
        expect(cell.mean).toBeLessThanOrEqual(cell.max);
      }
    }
    // QP 45 quantises harder than QP 30: fewer bytes for the same clips.
    const [qp30, qp45] = result.conditions;
    expect(qp45!.bytes).toBeLessThan(qp30!.bytes);
    expect(qp30!.saving).toBe(0);
    expect(qp45!.saving).toBeCloseTo(1 - qp45!.bytes / qp30!.bytes, 12);
    expect(qp45!.saving).toBeGreaterThan(0);

    // The bytes are the caches' frame sizes; each run's seed is the base seed + k.
    for (const c of result.conditions) {
      const manifest = JSON.parse(readFileSync(path.join(out, 'caches', c.name, 'manifest.json'), 'utf8')) as { videos: Array<{ frameBits: number[] }> };
      expect(c.bytes).toBe(manifest.videos.reduce((s, v) => s + v.frameBits.reduce((a, b) => a + b, 0), 0) / 8);
      for (const k of [0, 1]) {
        const run = JSON.parse(readFileSync(path.join(out, 'runs', c.name, String(k), 'run.json'), 'utf8')) as { iteration: number; training: { seed: number } };
        expect(run).toMatchObject({ iteration: 10, training: { seed: 1 + k } });
      }
    }
    // Outputs: the same numbers in repeats.json, the report with its tables and the strip plot.
    expect(JSON.parse(readFileSync(path.join(out, 'repeats.json'), 'utf8'))).toEqual(result);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('Trained on x tested on');
    expect(html).toContain('data:image/svg+xml;base64,');
    for (const f of ['repeats-summary.csv', 'repeats-summary.md', 'repeats-matrix.csv', 'repeats-matrix.md', 'repeats-strip.svg', 'repeats-strip.png']) expect(existsSync(path.join(out, f))).toBe(true);
    const csv = readFileSync(path.join(out, 'repeats-summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('condition,runs,min %,mean %,max %,bytes,saving %,cache');
    expect(csv[1]!.startsWith(`qp30,2,${Number((100 * qp30!.min).toFixed(1))},`)).toBe(true);

    // Rerun: nothing prepared, trained or evaluated again (the checkpoints and score files keep
    // their times), the same JSON.
    const stamps = () =>
      ['qp30', 'qp45'].flatMap((c) => [0, 1].flatMap((k) => [path.join(out, 'runs', c, String(k), 'model.pt'), path.join(out, 'scores', c, String(k), 'qp30.json'), path.join(out, 'scores', c, String(k), 'qp45.json')])).map((f) => statSync(f).mtimeMs);
    const before = stamps();
    const t1 = performance.now();
    const second = await cli(args, 120_000);
    const secondSeconds = (performance.now() - t1) / 1000;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(stamps()).toEqual(before);
    // Only the report is made again: every other stage says it was reused.
    expect(second.stderr.split('\n').filter((l) => / \d+\.\d s$/.test(l))).toEqual([expect.stringMatching(/^mvclass: report: /)]);
    expect(second.stderr).toMatch(/train qp45 #1: reused/);
    console.log(`study repeats: ${firstSeconds.toFixed(1)} s, rerun ${secondSeconds.toFixed(1)} s`);
    expect(secondSeconds).toBeLessThan(firstSeconds);

    // The library on a spec object whose conditions are prepared caches: read as they are (the
    // same bytes), nothing prepared into the new folder.
    const again = path.join(dir, 'study-data');
    const stages: string[] = [];
    const r = await runRepeats(
      { model: 'mv3d', frames: 8, size: 16, width: 0.125, fc: 16, iterations: 5, batch: 8, views: '1x1', repeats: 1, conditions: result.conditions.map((c) => ({ name: c.name, data: path.join(out, 'caches', c.name) })) } as unknown as RepeatsSpec,
      again,
      { threads: 1, onStage: (stage, state) => state !== 'start' && stages.push(stage) },
    );
    expect(r.conditions.map((c) => [c.name, c.bytes, c.runs.length])).toEqual(result.conditions.map((c) => [c.name, c.bytes, 1]));
    expect(stages.filter((s) => s.startsWith('prepare'))).toEqual([]);
    expect(existsSync(path.join(again, 'caches'))).toBe(false);
    // Runs of other settings are not passed off as the spec's.
    const wider = { model: 'mv3d', frames: 8, size: 16, width: 0.25, fc: 16, iterations: 5, batch: 8, views: '1x1', repeats: 1, conditions: result.conditions.map((c) => ({ name: c.name, data: path.join(out, 'caches', c.name) })) };
    await expect(runRepeats(wider as unknown as RepeatsSpec, again, { threads: 1 })).rejects.toThrow(`${path.join(again, 'runs', 'qp30', '0')}: the run there was trained with width 0.125, not as spec says`);
  });

  it('a missing cache is named before anything is written', async () => {
    const out = path.join(dir, 'missing-out');
    const missing = path.join(dir, 'no-cache');
    await expect(runRepeats({ model: 'mv3d', conditions: [{ name: 'a', data: missing }, { name: 'b', data: missing }] } as unknown as RepeatsSpec, out)).rejects.toThrow(
      `spec: conditions[0].data: ${missing} holds no prepared cache (no manifest.json)`,
    );
    expect(existsSync(out)).toBe(false);
  });
});
