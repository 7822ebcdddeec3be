// study transcode --models with a clip network (x3d-s) beside a motion network: every cache the
// study prepares (the originals and each cell's own streams) holds the decoded-frame clips the clip
// network takes, so it trains on the originals and is tested on every cell like the others.
// Before, the study prepared no clips and the clip network's training was refused half-way.
// Six 1.5 s clips cut from Debian-shipped footage (two classes), tiny networks.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { studyClips, accuracySettings } from '../../src/app/transcode-accuracy.js';
import type { TranscodeStudyResult } from '../../src/app/transcode-study.js';
import { infinityFromText } from '../../src/util/json.js';
import { cli, tempDir } from '../setup/helpers.js';
import { cutSixRealClips } from '../support/real-clips.js';

const dir = tempDir('mvclass-transcode-clips-');
const data = path.join(dir, 'dataset');
const out = path.join(dir, 'out');

interface Manifest {
  settings: { rgb?: number; shortSide?: number };
  videos: Array<{ split: string }>;
}
const manifest = (cache: string) => JSON.parse(readFileSync(path.join(cache, 'manifest.json'), 'utf8')) as Manifest;

let result: TranscodeStudyResult;

beforeAll(async () => {
  await cutSixRealClips(data);
  const r = await cli(
    ['study', 'transcode', data, '-o', out, '--crf', '40', '--gop', '1,12', '--short-side', '144', '--jobs', '2', '--models', 'mv3d,x3d-s', '--iterations', '2', '--batch', '2', '--optimizer', 'adam', '--lr', '0.001', '--frames', '8', '--size', '16', '--width', '0.125', '--fc', '16', '--views', '1x1', '--threads', '1', '--json'],
    180_000,
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  result = JSON.parse(r.stdout, infinityFromText) as TranscodeStudyResult;
}, 240_000);

describe('study transcode --models with a clip network', () => {
  it('the clips asked for: the longest clip of the clip networks, at prepare\'s short side or the largest input side', () => {
    const settings = (models: string[], extra = {}) => studyClips(accuracySettings({ models, ...extra }));
    expect(settings(['mv3d', 'resnet18'])).toBeUndefined();
    // The cpu preset: x3d-s 8 frames of 112, cnn-lstm 8 of 112; prepare's short side is 128.
    expect(settings(['mv3d', 'x3d-s'])).toEqual({ rgb: 8, shortSide: 128 });
    expect(settings(['cnn-lstm', 'x3d-s'], { frames: 13, size: 161 })).toEqual({ rgb: 13, shortSide: 162 });
  });

  it('both networks are tested on the originals and on every cell, each score its saved scores\' own', () => {
    expect(result.cells.map((c) => [c.crf, c.gop])).toEqual([
      [40, 1],
      [40, 12],
    ]);
    const top1 = (label: string, model: string) => {
      const s = JSON.parse(readFileSync(path.join(out, 'accuracy', 'scores', label, `${model}.scores.json`), 'utf8')) as { videos: Array<{ label: number; scores: number[] }> };
      expect(s.videos).toHaveLength(2);
      return s.videos.filter((v) => v.scores.indexOf(Math.max(...v.scores)) === v.label).length / s.videos.length;
    };
    for (const model of ['mv3d', 'x3d-s']) {
      expect(result.original.accuracy![model]).toBe(top1('original', model));
      for (const c of result.cells) expect(c.accuracy![model]).toBe(top1(`crf${c.crf}-gop${c.gop}`, model));
    }
    expect(result.comparison!.models.map((m) => [m.model, m.family])).toEqual([
      ['mv3d', 'mv'],
      ['x3d-s', 'pixel'],
    ]);
  });

  it('every cache holds 8-frame clips at short side 128; the runs are an x3d-s on 8 frames and an mv3d, both with Adam at 0.001', () => {
    const caches = [path.join(out, 'accuracy', 'original', 'cache'), ...result.cells.map((c) => path.join(out, 'accuracy', 'cells', `crf${c.crf}-gop${c.gop}`, 'cache'))];
    for (const cache of caches) {
      const m = manifest(cache);
      expect([m.settings.rgb, m.settings.shortSide]).toEqual([8, 128]);
      expect(m.videos.filter((v) => v.split === 'test')).toHaveLength(2);
    }
    const run = (model: string) => JSON.parse(readFileSync(path.join(out, 'accuracy', 'runs', model, 'run.json'), 'utf8')) as { config: { model: string; frames: number; size: number }; training: { optimizer: string; lr: number } };
    expect([run('x3d-s').config.model, run('x3d-s').config.frames, run('x3d-s').config.size]).toEqual(['x3d-s', 8, 16]);
    for (const model of ['mv3d', 'x3d-s']) expect([run(model).training.optimizer, run(model).training.lr]).toEqual(['adam', 0.001]);
  });

  it('refuses an unknown optimiser, a learning rate that is not a positive number, and either without --models', async () => {
    const args = ['study', 'transcode', data, '-o', path.join(dir, 'refused'), '--crf', '40', '--gop', '12'];
    const optimizer = await cli([...args, '--models', 'mv3d', '--optimizer', 'rmsprop']);
    expect(optimizer.code).toBe(2);
    expect(optimizer.stderr).toContain('Expected one of "sgd", "adam", "adamw" for optimizer but received "rmsprop"');
    const lr = await cli([...args, '--models', 'mv3d', '--lr', 'fast']);
    expect(lr.code).toBe(2);
    expect(lr.stderr).toContain('Expected a positive number for lr but received "fast"');
    for (const flag of [['--optimizer', 'adam'], ['--lr', '0.001']]) {
      const alone = await cli([...args, ...flag]);
      expect(alone.code).toBe(2);
      expect(alone.stderr).toContain(`${flag[0]} goes with --models`);
    }
    // The API: the optimiser's own default rate when none is given; SGD keeps the preset's.
    expect(accuracySettings({ models: ['mv3d'], optimizer: 'adam' }).lr).toBe(0.0001);
    expect(accuracySettings({ models: ['mv3d'] }).lr).toBe(0.01);
  });
});
