// classify --rolling: a frame network's label over time. A clip whose first half is one action of
// the synthetic set and whose second half another (both rendered by the set's generator and
// encoded as one stream) is scored frame by frame by a small resnet18 trained on decoded-frame
// clips of those actions: the rolling label switches near the midpoint; the rolling series is the
// mean of the last n raw vectors (recomputed here), and a frame's raw vector is the network's score
// of that frame decoded on its own (by index, the way prepare --rgb reads a clip). On real
// footage (with B-frames: display order) the series has one point per k-th frame at the probe's
// frame rate. Bad --rolling / --stride values, a clip network and a frame network trained on key
// frames are refused with a message. (Motion networks: rolling-motion.test.ts.)

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CnnModel, classifyRolling, decodeVideo, encodeFrames, openDataset, prepareDataset, probe, renderActionClip, type CacheSettings, type ModelConfig, type RollingResult } from '../../src/index.js';
import { defaultStride, RollingMean, rollingSegments } from '../../src/app/rolling.js';
import { trainModel } from '../../src/app/train.js';
import { imageViews } from '../../src/nn/inputs.js';
import { cli, fixtures, tempDir } from '../setup/helpers.js';
import { expectRollingArithmetic } from '../support/rolling.js';

const dir = tempDir('mvclass-rolling-');
const set = path.join(dir, 'set');
const cache = path.join(dir, 'cache');
const run = path.join(dir, 'run');
const mixed = path.join(dir, 'mixed.mp4');
const HALF = 40;
const N = 8;
const ENCODING = { width: 320, height: 240, fps: 25, qp: 22, preset: 'veryfast' as const, gop: 50, bframes: 0, threads: 1 };
// Two actions whose poses differ in a single frame; three clips of each.
const ACTIONS = ['jump', 'wave'] as const;
const seedOf = (a: number, i: number) => 1000 + 10 * a + i;
let result: RollingResult;

beforeAll(async () => {
  for (const [a, action] of ACTIONS.entries()) {
    mkdirSync(path.join(set, action), { recursive: true });
    for (let i = 0; i < 3; i++) await encodeFrames(path.join(set, action, `${action}_${i}.mp4`), renderActionClip(action, { frames: HALF, seed: seedOf(a, i) }), ENCODING);
  }
  const dataset = await openDataset(set);
  // A training clip of each action, one after the other in one stream (made again from its seed).
  const trainClip = (a: number) => Number(/_(\d)\.mp4$/.exec(dataset.items.find((item) => item.split === 'train' && item.path.includes(`${ACTIONS[a]}_`))!.path)![1]);
  await encodeFrames(mixed, (function* () {
    yield* renderActionClip(ACTIONS[0], { frames: HALF, seed: seedOf(0, trainClip(0)) });
    yield* renderActionClip(ACTIONS[1], { frames: HALF, seed: seedOf(1, trainClip(1)) });
  })(), ENCODING);
  await prepareDataset(dataset, cache, { rgb: 8, shortSide: 64, jobs: 2 });
  const trained = await trainModel({ model: 'resnet18', data: cache, out: run, iterations: 60, batch: 8, size: 64, width: 0.0625, optimizer: 'adam', lr: 0.001, lrStep: 1000, threads: 2, seed: 1, valEvery: 0 });
  console.log(`rolling fixture: resnet18 on 6 synthetic clips x 8 frames, ${trained.iterations} iterations in ${trained.seconds.toFixed(1)} s, last loss ${trained.finalLoss.toFixed(3)}`);
  result = await classifyRolling(mixed, run, { rolling: N, threads: 2 });
}, 240_000);

describe('classifyRolling', () => {
  it('on a clip that changes action halfway, the rolling label switches near the midpoint', () => {
    expect(result.stride).toBe(1);
    expect(result.frames).toBe(2 * HALF);
    expect(result.points.map((p) => p.index)).toEqual(Array.from({ length: 2 * HALF }, (_, i) => i));
    const [first, second] = ACTIONS;
    const right = (from: number, to: number, label: string) => result.points.slice(from, to).filter((p) => p.top1 === label).length / (to - from);
    const firstRight = right(0, HALF, first);
    const secondRight = right(HALF, 2 * HALF, second);
    const switchAt = result.points.findIndex((p, i) => i >= HALF / 2 && p.rollingTop1 === second);
    console.log(`rolling: raw top-1 right on ${(100 * firstRight).toFixed(0)}% of the ${first} half and ${(100 * secondRight).toFixed(0)}% of the ${second} half; segments ${JSON.stringify(result.segments)}`);
    expect(firstRight).toBeGreaterThanOrEqual(0.8);
    expect(secondRight).toBeGreaterThanOrEqual(0.8);
    // The mean of the last 8 frames turns once most of them are of the second half.
    expect(switchAt).toBeGreaterThanOrEqual(HALF);
    expect(switchAt).toBeLessThanOrEqual(HALF + N);
    expect(result.points.slice(switchAt).every((p) => p.rollingTop1 === second)).toBe(true);
    // The rolling label flickers less than the raw one.
    const changes = (labels: string[]) => labels.filter((l, i) => i > 0 && l !== labels[i - 1]).length;
    expect(changes(result.points.map((p) => p.rollingTop1))).toBeLessThanOrEqual(changes(result.points.map((p) => p.top1)));
    expect(result.segments[0]!.class).toBe(first);
    expect(result.segments.at(-1)!).toMatchObject({ class: second, to: (2 * HALF - 1) / 25 });
    expect(result.segments.reduce((n, s) => n + s.points, 0)).toBe(2 * HALF);
  });

  it('the rolling series is the mean of the last n raw vectors; the video score the mean of all; times are the frames\' at 25 fps', () => {
    expectRollingArithmetic(result, N, 25);
  });

  it("a frame's raw vector is the network's score of that frame decoded by index at the run's short side", { timeout: 60_000 }, async () => {
    const model = await CnnModel.open(run, { threads: 2 });
    const indices = [0, 37, 41, 79];
    const frames = new Map<number, { width: number; height: number; data: Uint8Array }>();
    for await (const batch of decodeVideo(mixed, { vectors: false, clipIndices: indices, clipShortSide: 64 })) for (const f of batch.clipFrames ?? []) frames.set(f.index, f);
    // The streaming pass (every 3rd frame, batch by batch) converts the same bytes as the pass by index.
    const strided = new Map<number, Uint8Array>();
    for await (const batch of decodeVideo(mixed, { vectors: false, clipStride: 3, clipShortSide: 64, batchSize: 8 })) {
      expect((batch.clipFrames ?? []).length).toBeLessThanOrEqual(3);
      for (const f of batch.clipFrames ?? []) strided.set(f.index, f.data);
    }
    expect([...strided.keys()]).toEqual(Array.from({ length: 27 }, (_, i) => 3 * i));
    for (const index of [0, 39, 78]) {
      const byIndex: Uint8Array[] = [];
      for await (const batch of decodeVideo(mixed, { vectors: false, clipIndices: [index], clipShortSide: 64 })) byIndex.push(...(batch.clipFrames ?? []).map((f) => f.data));
      expect(Buffer.from(strided.get(index)!).equals(Buffer.from(byIndex[0]!)), `frame ${index}`).toBe(true);
    }
    await expect(decodeVideo(mixed, { clipIndices: [0], clipStride: 2, clipShortSide: 64 }).next()).rejects.toThrow('Expected clipIndices or clipStride, not both');
    await expect(decodeVideo(mixed, { clipStride: 0, clipShortSide: 64 }).next()).rejects.toThrow('Expected a positive integer for clipStride but received 0');
    for (const index of indices) {
      const f = frames.get(index)!;
      expect([f.width, f.height]).toEqual([86, 64]);
      const scores = await model.predict(imageViews(f, model.config, 1));
      for (let c = 0; c < scores.length; c++) expect(result.points[index]!.scores[c]!).toBeCloseTo(scores[c]!, 5);
    }
  });

  it('--stride 3: frames 0, 3, 6, ... with their own window; 10 crops a frame average ten views', { timeout: 60_000 }, async () => {
    const r = await classifyRolling(mixed, run, { rolling: 4, stride: 3, crops: 10, threads: 2 });
    expect(r.points.map((p) => p.index)).toEqual(Array.from({ length: Math.ceil((2 * HALF) / 3) }, (_, i) => 3 * i));
    expect([r.stride, r.rolling, r.crops, r.frames]).toEqual([3, 4, 10, 2 * HALF]);
    const last = r.points.at(-1)!;
    const window = r.points.slice(-4);
    expect(last.rollingScores[0]!).toBeCloseTo(window.reduce((s, q) => s + q.scores[0]!, 0) / 4, 12);
  });

  it('--encode re-encodes the video as the run\'s cache was made first (QP 30 here): the same frames, close scores', { timeout: 60_000 }, async () => {
    const r = await classifyRolling(mixed, run, { rolling: N, stride: 10, encode: true, threads: 2 });
    expect(r.points.map((p) => p.index)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(r.seconds.encode).toBeGreaterThan(0);
    // QP 30 against the source's QP 22: the pictures differ a little, the labels hardly.
    const agree = r.points.filter((p) => p.top1 === result.points[p.index]!.top1).length;
    expect(agree).toBeGreaterThanOrEqual(6);
    expect(r.points.some((p) => Math.abs(p.scores[0]! - result.points[p.index]!.scores[0]!) > 1e-6)).toBe(true);
  });

  it('the window, the segments and the default stride by themselves', () => {
    const mean = new RollingMean(2, 2);
    expect(mean.push([1, 0])).toEqual([1, 0]);
    expect(mean.push([0, 1])).toEqual([0.5, 0.5]);
    expect(mean.push([0, 1])).toEqual([0, 1]);
    const point = (time: number, label: string) => ({ time, index: 0, top1: label, probability: 1, rollingTop1: label, rollingProbability: 1, scores: [], rollingScores: [] });
    expect(rollingSegments([point(0, 'a'), point(1, 'a'), point(2, 'b'), point(3, 'a')])).toEqual([
      { from: 0, to: 1, class: 'a', points: 2 },
      { from: 2, to: 2, class: 'b', points: 1 },
      { from: 3, to: 3, class: 'a', points: 1 },
    ]);
    expect([defaultStride(0), defaultStride(1500), defaultStride(1501), defaultStride(45_000)]).toEqual([1, 1, 2, 30]);
  });

  it('real footage (720x576 H.264 with B-frames): one point per 5th frame in display order, at the frame rate probe gives', { timeout: 90_000 }, async () => {
    const balle = fixtures().real['balle']!;
    const info = await probe(balle);
    const r = await classifyRolling(balle, run, { rolling: 5, stride: 5, threads: 2 });
    console.log(`rolling on real footage: ${info.frameCount} frames at ${info.fps} fps, ${r.points.length} points, segments ${JSON.stringify(r.segments)}, seconds ${JSON.stringify(r.seconds)}`);
    expect(r.frames).toBe(info.frameCount);
    expect(r.fps).toBeCloseTo(info.fps, 6);
    expect(r.points).toHaveLength(Math.ceil(info.frameCount / 5));
    r.points.forEach((p, i) => {
      expect(p.index).toBe(5 * i);
      expect(p.time).toBeCloseTo(p.index / info.fps, 3);
    });
    expect(r.points.at(-1)!.time).toBeLessThanOrEqual(info.duration);
  });

  it('refuses a clip network and a frame network trained on key frames, naming the run', async () => {
    const keySettings: CacheSettings = { codec: 'h264', qp: 30, crf: null, asIs: false, size: '320x240', fps: 25, grid: 8, keySize: '32x32' };
    const make = async (name: string, config: ModelConfig) => {
      const folder = path.join(dir, name);
      mkdirSync(folder);
      const model = await CnnModel.create(config, { threads: 1 });
      await model.save(path.join(folder, 'model.pt'));
      await model.writeRun(folder, { iteration: 0, input: keySettings });
      return folder;
    };
    const clipNetwork = await make('clip', { model: 'x3d-s', classes: ['a', 'b'], frames: 4, size: 32, width: 0.125, fc: 16 });
    const keyFrames = await make('key', { model: 'vgg16', classes: ['a', 'b'], frames: 1, size: 32, width: 0.0625, fc: 32 });
    await expect(classifyRolling(mixed, clipNetwork, { rolling: 4 })).rejects.toThrow(`${clipNetwork}: --rolling follows a frame network frame by frame or a motion network window by window, and x3d-s is a clip network`);
    await expect(classifyRolling(mixed, keyFrames, { rolling: 4 })).rejects.toThrow(`${keyFrames}: vgg16 was trained on key frames (its cache was prepared without --rgb); --rolling needs a frame network trained on decoded-frame clips`);
    await expect(classifyRolling(mixed, run, { rolling: 0 })).rejects.toThrow('Expected a positive integer for rolling but received 0');
  });
});

describe('mvclass classify --rolling', () => {
  it('prints the rolling label as segments, and the full series with --json', { timeout: 60_000 }, async () => {
    const text = await cli(['classify', mixed, '--run', run, '--rolling', String(N), '--threads', '2']);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${mixed}: resnet18, every frame (80 of 80), rolling mean of 8:`);
    const segments = lines.slice(1, 1 + result.segments.length);
    expect(segments.map((l) => l.trim().split(/\s+/).at(-1))).toEqual(result.segments.map((s) => s.class));
    expect(segments[0]).toMatch(/^\s+0\.00 - \d+\.\d\d\s+s {2}jump$/);
    expect(lines[1 + result.segments.length]).toMatch(new RegExp(`^video: ${result.top1} \\(\\d+\\.\\d%, the mean of the frames' scores\\)$`));
    const json = await cli(['classify', mixed, '--run', run, '--rolling', String(N), '--stride', '2', '--json', '--threads', '2']);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as RollingResult;
    expect(parsed.points.map((p) => p.index)).toEqual(Array.from({ length: HALF }, (_, i) => 2 * i));
    expect(parsed.points[0]!.scores.length).toBe(2);
  });

  it('validates --rolling and --stride', async () => {
    const cases: Array<[string[], string]> = [
      [['--rolling', 'x'], 'mvclass: Expected a positive integer for rolling but received "x"'],
      [['--rolling', '0'], 'mvclass: Expected a positive integer for rolling but received "0"'],
      [['--rolling', '4', '--stride', '-1'], 'mvclass: Expected a positive integer for stride but received "-1"'],
      [['--rolling', '4', '--stride', '1.5'], 'mvclass: Expected a positive integer for stride but received "1.5"'],
      [['--stride', '2'], 'mvclass: --stride goes with --rolling <n>'],
      [['--rolling', '4', '--run', run], 'mvclass: --rolling follows one network over time: give one --run, not 2'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['classify', mixed, '--run', run, ...args]);
      expect([r.code, r.stderr.trim()], args.join(' ')).toEqual([2, message]);
    }
  });
});
