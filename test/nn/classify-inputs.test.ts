// classify reads what its networks need: only the key frame when every network is spatial (so
// a codec without vectors, VP9 here, still classifies), and it says when a video differs from
// what the networks were trained on, which --encode fixes.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyVideo, CnnModel, encode, loadClassifier, type CacheSettings, type ModelConfig } from '../../src/index.js';
import { volumeViews } from '../../src/nn/inputs.js';
import { testViews } from '../../src/volumes/index.js';
import { fixtures, tempDir } from '../setup/helpers.js';

const f = fixtures();
const dir = tempDir();
const settings: CacheSettings = { codec: 'h264', qp: 30, crf: null, asIs: false, size: '320x240', fps: 25, grid: 8, keySize: '32x32' };
let spatial: string;
let motion: string;
let paperClip: string;

async function makeRun(name: string, config: ModelConfig, input: CacheSettings = settings): Promise<string> {
  const run = path.join(dir, name);
  mkdirSync(run);
  const model = await CnnModel.create(config, { threads: 1 });
  await model.save(path.join(run, 'model.pt'));
  await model.writeRun(run, { iteration: 0, input });
  return run;
}

beforeAll(async () => {
  const classes = ['left', 'right'];
  spatial = await makeRun('spatial', { model: 'vgg16', classes, frames: 1, size: 32, width: 0.0625, fc: 32 });
  motion = await makeRun('motion', { model: 'mv2d', classes, frames: 4, size: 48, width: 0.25, fc: 64 });
  // A clip encoded as the training cache was: 320x240, 25 fps, one IDR then P frames, QP 30.
  paperClip = (await encode(f.clips['h264-b-cabac']!, path.join(dir, 'paper.mp4'), { qp: 30, gop: 0, bframes: 0, size: '320x240', fps: 25, threads: 1 })).output;
});

describe('classify inputs', () => {
  it('classifies a VP9 video (no motion vectors) with a spatial network alone, from its key frame', async () => {
    const r = await classifyVideo(f.real['vp9']!, [spatial], { threads: 1 });
    expect(r.streams.map((s) => s.model)).toEqual(['vgg16']);
    expect(r.top5.map((t) => t.class).sort()).toEqual(['left', 'right']);
    expect(r.top5[0]!.probability + r.top5[1]!.probability).toBeCloseTo(1, 5);
    await expect(classifyVideo(f.real['vp9']!, [motion], { threads: 1 })).rejects.toThrow(/codec vp9 has no motion vectors/);
  });

  it('runs trained on clips of other shapes cannot share one reading of a video; each says which clip it takes', async () => {
    const config: ModelConfig = { model: 'vgg16', classes: ['left', 'right'], frames: 1, size: 32, width: 0.0625, fc: 32 };
    const four = await makeRun('clips4', config, { ...settings, rgb: 4, shortSide: 64 });
    const eight = await makeRun('clips8', config, { ...settings, rgb: 8, shortSide: 64 });
    expect((await loadClassifier([motion, spatial, four], { threads: 1 })).clip).toEqual({ frames: 4, shortSide: 64 });
    expect((await loadClassifier([motion, spatial], { threads: 1 })).clip).toBeNull();
    await expect(loadClassifier([four, eight], { threads: 1 })).rejects.toThrow(`${eight}: trained on clips of 8 frames at short side 64, ${four} on 4 at 64: one video is read one way for all the runs`);
  });

  it('says how a video differs from the training encoding, and that --encode fixes it', async () => {
    const said: string[] = [];
    await classifyVideo(f.real['balle']!, [motion], { threads: 1, temporal: 1, crops: 1, onMismatch: (m) => said.push(m) });
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`${f.real['balle']}: its size is 720x576, not 320x240`);
    expect(said[0]).toMatch(/it has \d+ B-frames/);
    expect(said[0]).toContain('--encode re-encodes it as the training cache was made');

    const quiet: string[] = [];
    await classifyVideo(paperClip, [motion], { threads: 1, temporal: 1, crops: 1, onMismatch: (m) => quiet.push(m) });
    await classifyVideo(f.real['balle']!, [motion], { threads: 1, temporal: 1, crops: 1, encode: true, onMismatch: (m) => quiet.push(m) });
    expect(quiet).toEqual([]);
  });

  it("a motion clip's test views: with 10 crops testViews' volumes in order, with 1 the centre ones, scaled by 1 / motionStd", () => {
    const clip = { frames: 11, rows: 9, cols: 13, data: Int16Array.from({ length: 11 * 2 * 9 * 13 }, (_, i) => ((i * 7919) % 61) - 30) };
    for (const [model, layout] of [['mv3d', '3d'], ['mv2d', '2d']] as const) {
      const config: ModelConfig = { model, classes: ['a', 'b'], frames: 4, size: 6, width: 0.25, fc: 8, motionStd: 2 };
      const views = testViews(clip, { frames: 4, size: 6, layout, temporal: 3 });
      const per = views[0]!.volume.length;
      const ten = volumeViews(clip, config, 3, 10);
      const one = volumeViews(clip, config, 3, 1);
      expect([ten.length, one.length]).toEqual([30 * per, 3 * per]);
      views.forEach((v, i) => {
        expect(Array.from(ten.subarray(i * per, (i + 1) * per))).toEqual(Array.from(v.volume, (x) => Math.fround(x / 2)));
        if (i % 10 === 4) expect(Array.from(one.subarray(((i - 4) / 10) * per, ((i - 4) / 10 + 1) * per))).toEqual(Array.from(v.volume, (x) => Math.fround(x / 2)));
      });
    }
  });
});
