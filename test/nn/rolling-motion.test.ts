// classify --rolling over the motion networks: mv3d and mv2d scored on a sliding window of motion
// grids along the stream. The suite's trained fixture (test/support/trained.ts: mv3d and mv2d on
// the synthetic action set at QP 30) follows a clip whose first 100 frames are one training
// clip's action (jump) and the next 100 another's (wave), rendered again from their seeds and
// longer, and encoded as the fixture's cache encodes: the rolling label turns after the switch
// and not before; the series is the mean of the last n window vectors (recomputed here); a
// window's vector is classify's score of the same frames (read by classify's own ingest, sliced);
// a video shorter than the window is one point, classify's score of the video. On real footage
// (with B-frames: display order) the windows are counted and timed for a given stride, the
// mismatch with the training encoding is told, and --encode removes it.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  classifyRolling, classifyVideo, encodeFrames, encoderSettings, loadClassifier, PreparedCache, probe, profileOfCache, readNetworkInputs, renderActionClip, scoreNetworkInputs,
  type RollingResult,
} from '../../src/index.js';
import { actionClipSeed } from '../../src/synth/actionset.js';
import { ACTIONS, type ActionName } from '../../src/synth/actions.js';
import { readRun } from '../../src/run/format.js';
import { cli, fixtures, tempDir } from '../setup/helpers.js';
import { expectRollingArithmetic } from '../support/rolling.js';
import { TRAINED_SET, trained } from '../support/trained.js';

const dir = tempDir('mvclass-rolling-mv-');
const mixed = path.join(dir, 'mixed.mp4');
const short = path.join(dir, 'short.mp4');
const HALF = 100;
const N = 8;
const FIRST: ActionName = 'jump';
const SECOND: ActionName = 'wave';
let mv3d: string;
let mv2d: string;
let T: number;
let result: RollingResult;

beforeAll(async () => {
  const qp30 = path.join((await trained()).sweep, 'qp30');
  mv3d = path.join(qp30, 'runs', 'mv3d');
  mv2d = path.join(qp30, 'runs', 'mv2d');
  const { config, input } = await readRun(mv3d);
  T = config.frames;
  // The first training clip of each action, rendered again from its seed for HALF frames (its first 50 are the set's clip).
  const cache = await PreparedCache.open(path.join(qp30, 'cache'));
  const seedOf = (action: ActionName) => {
    const v = cache.videos.find((x) => x.split === 'train' && x.className === action)!;
    return actionClipSeed(TRAINED_SET.seed, ACTIONS.indexOf(action), Number(/_(\d+)\.mp4$/.exec(v.path)![1]));
  };
  await cache.close();
  // Encoded as the fixture's cache encoded its videos (QP 30, one IDR then P frames), so that no re-encoding is needed.
  const encoding = { width: 320, height: 240, fps: 25, ...encoderSettings(profileOfCache(input!)!) };
  await encodeFrames(mixed, (function* () {
    yield* renderActionClip(FIRST, { frames: HALF, seed: seedOf(FIRST) });
    yield* renderActionClip(SECOND, { frames: HALF, seed: seedOf(SECOND) });
  })(), encoding);
  await encodeFrames(short, renderActionClip(SECOND, { frames: 20, seed: seedOf(SECOND) }), encoding);
  result = await classifyRolling(mixed, mv3d, { rolling: N, threads: 2 });
}, 900_000);

describe('classifyRolling with a motion network', () => {
  it('on a clip that changes action halfway, the rolling label turns after the switch, not before', () => {
    expect([result.model, result.window, result.stride, result.frames, result.fps]).toEqual(['mv3d', T, 1, 2 * HALF, 25]);
    // A window ends at every frame from T - 1 on.
    expect(result.points.map((p) => p.index)).toEqual(Array.from({ length: 2 * HALF - T + 1 }, (_, i) => T - 1 + i));
    const within = (from: number, to: number) => result.points.filter((p) => p.first! >= from && p.index < to);
    const right = (points: RollingResult['points'], label: string) => points.filter((p) => p.top1 === label).length / points.length;
    const firstRight = right(within(0, HALF), FIRST);
    const secondRight = right(within(HALF, 2 * HALF), SECOND);
    const turn = result.points.find((p) => p.index >= HALF && p.rollingTop1 === SECOND)!;
    console.log(`rolling mv3d: raw top-1 right on ${(100 * firstRight).toFixed(0)}% of the windows inside the ${FIRST} half and ${(100 * secondRight).toFixed(0)}% inside the ${SECOND} half; the rolling label turns at frame ${turn.index}; segments ${JSON.stringify(result.segments)}`);
    expect(firstRight).toBeGreaterThanOrEqual(0.8);
    expect(secondRight).toBeGreaterThanOrEqual(0.8);
    // Causal: no window that ends before the switch has seen the second action.
    expect(result.points.filter((p) => p.index < HALF).every((p) => p.rollingTop1 === FIRST)).toBe(true);
    // It turns once most of the last n windows are mostly of the second half, and stays.
    expect(turn.index).toBeLessThanOrEqual(HALF + T + N);
    expect(result.points.filter((p) => p.index >= turn.index).every((p) => p.rollingTop1 === SECOND)).toBe(true);
    expect(result.segments.map((s) => s.class)).toEqual([FIRST, SECOND]);
    expect(result.segments[1]).toMatchObject({ from: turn.time, to: (2 * HALF - 1) / 25 });
    expect(result.top1).toMatch(new RegExp(`^(${FIRST}|${SECOND})$`));
  });

  it("the series is the mean of the last n window vectors; the video score the mean of all; a point is timed at its window's last frame", () => {
    expectRollingArithmetic(result, N, 25);
    for (const p of result.points) expect(p.first).toBe(p.index - T + 1);
  });

  it("a window's vector is classify's score of the same frames (1 and 10 crops), and --stride 16 starts a window every 16 frames", { timeout: 120_000 }, async () => {
    const classifier = await loadClassifier([mv3d], { threads: 2 });
    // The whole video's grids as classify reads them, then the window's frames alone.
    const inputs = await readNetworkInputs(mixed, classifier.settings);
    expect(inputs.clip.frames).toBe(2 * HALF);
    const plane = 2 * inputs.clip.rows * inputs.clip.cols;
    const classify = async (first: number, crops: 1 | 10) => {
      const clip = { ...inputs.clip, frames: T, data: inputs.clip.data.slice(first * plane, (first + T) * plane) };
      return (await scoreNetworkInputs(mixed, { clip, seconds: {} }, classifier, { temporal: 10, crops })).streams[0]!.scores;
    };
    for (const first of [0, HALF - T / 2, 2 * HALF - T]) {
      const p = result.points[first]!;
      expect(p.first).toBe(first);
      const scores = await classify(first, 1);
      for (let c = 0; c < scores.length; c++) expect(p.scores[c]!, `window from ${first}`).toBeCloseTo(scores[c]!, 5);
    }
    const strided = await classifyRolling(mixed, mv3d, { rolling: 3, stride: 16, crops: 10, threads: 2 });
    const count = Math.floor((2 * HALF - T) / 16) + 1;
    expect(strided.points.map((p) => p.first)).toEqual(Array.from({ length: count }, (_, i) => 16 * i));
    expect([strided.stride, strided.rolling, strided.crops, strided.frames]).toEqual([16, 3, 10, 2 * HALF]);
    const last = strided.points.at(-1)!;
    expect(last.rollingScores[0]!).toBeCloseTo(strided.points.slice(-3).reduce((s, q) => s + q.scores[0]!, 0) / 3, 12);
    const tenCrops = await classify(last.first!, 10);
    for (let c = 0; c < tenCrops.length; c++) expect(last.scores[c]!).toBeCloseTo(tenCrops[c]!, 5);
  });

  it("a video shorter than the window is one point: classify's score of the video", { timeout: 60_000 }, async () => {
    const r = await classifyRolling(short, mv3d, { rolling: 4, threads: 2 });
    expect([r.frames, r.window, r.points.length, r.points[0]!.first, r.points[0]!.index]).toEqual([20, 20, 1, 0, 19]);
    const classified = await classifyVideo(short, [mv3d], { temporal: 10, crops: 1, threads: 2 });
    for (let c = 0; c < r.scores.length; c++) expect(r.points[0]!.scores[c]!).toBeCloseTo(classified.streams[0]!.scores[c]!, 5);
  });

  it('real footage (720x576 H.264 with B-frames), mv2d, --stride 5: a window of 16 frames every 5th, in display order, timed at its last frame; the encoding mismatch is told; --encode removes it', { timeout: 120_000 }, async () => {
    const balle = fixtures().real['balle']!;
    const info = await probe(balle);
    const told: string[] = [];
    const r = await classifyRolling(balle, mv2d, { rolling: 5, stride: 5, threads: 2, onMismatch: (m) => told.push(m) });
    console.log(`rolling mv2d on real footage: ${info.frameCount} frames at ${info.fps} fps, ${r.points.length} windows, segments ${JSON.stringify(r.segments)}, seconds ${JSON.stringify(r.seconds)}`);
    expect([r.frames, r.window]).toEqual([info.frameCount, 16]);
    expect(r.fps).toBeCloseTo(info.fps, 6);
    expect(r.points).toHaveLength(Math.floor((info.frameCount - 16) / 5) + 1);
    r.points.forEach((p, i) => {
      expect([p.first, p.index]).toEqual([5 * i, 5 * i + 15]);
      expect(p.time).toBeCloseTo(p.index / info.fps, 3);
    });
    expect(r.points.at(-1)!.time).toBeLessThanOrEqual(info.duration);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(`${balle}: its size is 720x576, not 320x240`);
    expect(told[0]).toContain('B-frames');
    // Re-encoded as the run's cache was made (320x240, 25 fps, QP 30, P frames only): nothing to tell.
    const told2: string[] = [];
    const encoded = await classifyRolling(balle, mv3d, { rolling: 5, stride: 10, encode: true, threads: 2, onMismatch: (m) => told2.push(m) });
    expect(encoded.seconds.encode).toBeGreaterThan(0);
    expect(encoded.points).toHaveLength(Math.floor((encoded.frames - T) / 10) + 1);
    expect(told2).toEqual([]);
  });
});

describe('mvclass classify --rolling with a motion network', () => {
  it('prints the windows and the rolling label as segments, and the full series with --json', { timeout: 60_000 }, async () => {
    const text = await cli(['classify', mixed, '--run', mv3d, '--rolling', String(N), '--stride', '4', '--threads', '2']);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    const count = Math.floor((2 * HALF - T) / 4) + 1;
    expect(lines[0]).toBe(`${mixed}: mv3d, ${T}-frame windows, one every 4 frames (${count} windows over ${2 * HALF} frames), rolling mean of ${N}:`);
    expect(lines[1]).toMatch(new RegExp(`^\\s+${((T - 1) / 25).toFixed(2)} - \\d+\\.\\d\\d\\s+s {2}${FIRST}$`));
    expect(lines.find((l) => l.startsWith('video: '))).toMatch(/^video: \w+ \(\d+\.\d%, the mean of the windows' scores\)$/);
    const json = await cli(['classify', mixed, '--run', mv3d, '--rolling', '2', '--stride', '50', '--json', '--threads', '2']);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as RollingResult;
    expect(parsed.points.map((p) => [p.first, p.index])).toEqual([0, 50, 100, 150].filter((f) => f + T <= 2 * HALF).map((f) => [f, f + T - 1]));
    expect(parsed.points[0]!.scores).toHaveLength(4);
  });
});
