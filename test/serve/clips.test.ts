// The service and classify read decoded-frame clips: when the Multi-CNN's spatial network is a
// frame network trained on clips (prepare --rgb), the service's worker decodes the upload's T
// frames as prepare --rgb samples them, and the network scores every frame as eval does. On a
// real-footage clip (Debian's realshort.mp4: 320x240 H.264, no B-frames, sent as it is) the
// service's spatial scores and classify's equal eval's for that video in a cache prepared as is.
// The picture-size limit still refuses a stream before any clip frame is decoded, and what a
// worker sends back is checked: a clip of the wrong length or size, or none, is refused. A clip
// network (cnn-lstm) as the spatial run is fed the same clip and scored as eval scores it.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyVideo, loadClassifier, openDataset, prepareDataset, PreparedCache } from '../../src/index.js';
import { evaluateRun } from '../../src/app/evaluate.js';
import { trainModel } from '../../src/app/train.js';
import { readRun } from '../../src/run/format.js';
import { createServer } from '../../src/serve/server.js';
import { checkUploadRead, readUpload, type UploadRead } from '../../src/serve/upload.js';
import { fixtures, tempDir } from '../setup/helpers.js';
import { trained } from '../support/trained.js';

const dir = tempDir('mvclass-serve-clips-');
const modelDir = path.join(dir, 'model');
const run = path.join(dir, 'resnet18');
let real: string;
let evaluated: number[];
let mcnn: { runs: { mv3d: string; mv2d: string; spatial: string } };
let app: FastifyInstance;

beforeAll(async () => {
  const t = await trained();
  mcnn = JSON.parse(readFileSync(path.join(t.sweep, 'mcnn.json'), 'utf8'));
  const { config } = await readRun(mcnn.runs.mv3d);
  // A set of the fixture's classes: two of its synthetic clips each, and the real clip among the first class's.
  real = fixtures().real['realshort']!;
  const set = path.join(dir, 'set');
  for (const cls of config.classes) {
    mkdirSync(path.join(set, cls), { recursive: true });
    for (const name of readdirSync(path.join(t.set, cls)).sort().slice(0, 2)) copyFileSync(path.join(t.set, cls, name), path.join(set, cls, name));
  }
  copyFileSync(real, path.join(set, config.classes[0]!, 'realshort.mp4'));
  // As is: the cache's clip of the real video is read from the very stream the service is sent.
  const cache = path.join(dir, 'cache');
  await prepareDataset(await openDataset(set), cache, { asIs: true, rgb: 4, shortSide: 64, jobs: 2 });
  await trainModel({ model: 'resnet18', data: cache, out: run, iterations: 4, batch: 4, size: 64, width: 0.0625, threads: 2, seed: 1, valEvery: 0 });
  const opened = await PreparedCache.open(cache);
  const v = opened.videos.find((x) => x.path.endsWith('realshort.mp4'))!;
  await opened.close();
  const report = await evaluateRun({ run, data: cache, split: v.split === 'test' ? 'test' : 'train', temporal: 1, crops: 10, threads: 2, keepScores: true });
  evaluated = report.scores!.videos.find((s) => s.id === v.id)!.scores;
  // The fixture's Multi-CNN with this network as its spatial one.
  mkdirSync(modelDir);
  writeFileSync(path.join(modelDir, 'mcnn.json'), JSON.stringify({ ...mcnn, runs: { ...mcnn.runs, spatial: run } }));
  const temp = path.join(dir, 'tmp');
  mkdirSync(temp);
  app = await createServer({ modelDir, tempDir: temp, concurrency: 1, threads: 1 });
}, 600_000);

afterAll(async () => {
  await app?.close();
});

describe('clips in the service and classify', () => {
  it('the service scores the real clip\'s frames as eval does (within 1e-5)', { timeout: 60_000 }, async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/classify?fuse=1', payload: readFileSync(real), headers: { 'content-type': 'video/mp4' } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { streams: Record<string, { scores: number[] }>; stream: { frames: number } };
    expect(body.stream.frames).toBe(36);
    const spatial = body.streams['spatial']!.scores;
    const gap = Math.max(...spatial.map((s, c) => Math.abs(s - evaluated[c]!)));
    console.log(`service on realshort.mp4: spatial ${JSON.stringify(spatial.map((x) => Number(x.toFixed(6))))}, eval ${JSON.stringify(evaluated.map((x) => Number(x.toFixed(6))))}, largest difference ${gap.toExponential(2)}`);
    expect(spatial).toHaveLength(evaluated.length);
    spatial.forEach((s, c) => expect(Math.abs(s - evaluated[c]!)).toBeLessThan(1e-5));
  });

  it('the limits hold before any clip frame is decoded: a picture over --max-picture is refused after probing', { timeout: 60_000 }, async () => {
    const temp = path.join(dir, 'tmp-small');
    mkdirSync(temp);
    const small = await createServer({ modelDir, tempDir: temp, concurrency: 1, threads: 1, maxPicture: { width: 160, height: 120 } });
    try {
      const res = await small.inject({ method: 'POST', url: '/v1/classify?fuse=1', payload: readFileSync(real), headers: { 'content-type': 'video/mp4' } });
      expect([res.statusCode, res.json()]).toEqual([422, { error: 'picture 320x240 is larger than the service accepts (160x120): send the small streams an edge device crops' }]);
    } finally {
      await small.close();
    }
    expect(readdirSync(temp)).toEqual([]);
  });

  it('classify too, alone and beside a motion network trained on key-frame caches (each run read its own way)', { timeout: 60_000 }, async () => {
    const alone = await classifyVideo(real, [run], { crops: 10, threads: 2 });
    const beside = await classifyVideo(real, [mcnn.runs.mv3d, run], { temporal: 1, crops: 10, threads: 2 });
    for (const scores of [alone.streams[0]!.scores, beside.streams[1]!.scores]) scores.forEach((s, c) => expect(Math.abs(s - evaluated[c]!)).toBeLessThan(1e-5));
  });

  it('a clip network (cnn-lstm) as the spatial run: the service scores the real clip as eval does (within 1e-5)', { timeout: 300_000 }, async () => {
    const cache = path.join(dir, 'cache');
    const lstm = path.join(dir, 'cnn-lstm');
    await trainModel({ model: 'cnn-lstm', data: cache, out: lstm, iterations: 3, batch: 4, size: 64, width: 0.0625, fc: 32, threads: 2, seed: 1, valEvery: 0 });
    const opened = await PreparedCache.open(cache);
    const v = opened.videos.find((x) => x.path.endsWith('realshort.mp4'))!;
    await opened.close();
    const report = await evaluateRun({ run: lstm, data: cache, split: v.split === 'test' ? 'test' : 'train', temporal: 1, crops: 10, threads: 2, keepScores: true });
    const expected = report.scores!.videos.find((s) => s.id === v.id)!.scores;
    const models = path.join(dir, 'model-lstm');
    mkdirSync(models);
    writeFileSync(path.join(models, 'mcnn.json'), JSON.stringify({ ...mcnn, runs: { ...mcnn.runs, spatial: lstm } }));
    const temp = path.join(dir, 'tmp-lstm');
    mkdirSync(temp);
    const service = await createServer({ modelDir: models, tempDir: temp, concurrency: 1, threads: 1 });
    try {
      const res = await service.inject({ method: 'POST', url: '/v1/classify?fuse=1', payload: readFileSync(real), headers: { 'content-type': 'video/mp4' } });
      expect(res.statusCode, res.body).toBe(200);
      const spatial = (res.json() as { streams: Record<string, { scores: number[] }> }).streams['spatial']!.scores;
      expect(spatial).toHaveLength(expected.length);
      spatial.forEach((s, c) => expect(Math.abs(s - expected[c]!)).toBeLessThan(1e-5));
    } finally {
      await service.close();
    }
  });

  it('what a worker sends back is checked: the clip must be T frames at the short side, and only when asked for', { timeout: 60_000 }, async () => {
    const classifier = await loadClassifier([mcnn.runs.mv3d, mcnn.runs.mv2d, run], { threads: 1 });
    expect(classifier.clip).toEqual({ frames: 4, shortSide: 64 });
    const folder = path.join(dir, 'check');
    mkdirSync(folder);
    copyFileSync(real, path.join(folder, 'in.mp4'));
    const read = await readUpload({ input: path.join(folder, 'in.mp4'), folder, settings: classifier.settings, clip: classifier.clip, maxWidth: 1920, maxHeight: 1088 });
    const frames = read.inputs.frames!;
    expect([frames.frames, frames.height, frames.width, frames.indices]).toEqual([4, 64, 86, [4, 13, 22, 31]]);
    expect(() => checkUploadRead(read, classifier.settings, classifier.clip)).not.toThrow();
    const withFrames = (f: unknown) => ({ ...read, inputs: { ...read.inputs, frames: f } }) as UploadRead;
    const tampered = [
      withFrames(undefined),
      withFrames({ ...frames, frames: 5 }),
      withFrames({ ...frames, height: 32, data: frames.data.subarray(0, frames.data.length / 2) }),
      withFrames({ ...frames, data: frames.data.subarray(1) }),
    ];
    for (const t of tampered) expect(() => checkUploadRead(t, classifier.settings, classifier.clip)).toThrow(/the decoder returned inconsistent data for the stream \(.*clip.*\); it was not classified/);
    expect(() => checkUploadRead(read, classifier.settings, null)).toThrow('the decoder returned inconsistent data for the stream (a decoded-frame clip that was not asked for); it was not classified');
  });
});
