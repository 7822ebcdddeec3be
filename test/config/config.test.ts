// Presets and config files: a file's mistakes are named by file and key path before anything runs,
// settings layer as preset < config file < given flags, and the sweep's schedules are the presets.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkConfig, loadConfigFile, parseConfig } from '../../src/config/file.js';
import { mergeSection, settingLayers, sweepSchedule } from '../../src/config/merge.js';
import { PRESETS } from '../../src/config/presets.js';
import { CPU_SCHEDULE, PAPER_SCHEDULE } from '../../src/app/sweep.js';
import { MvclassError, UsageError } from '../../src/util/errors.js';
import { cli, ROOT, tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-config-');

function failure(text: string, file = 'config.yaml'): string {
  try {
    parseConfig(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${text}`);
}

describe('config files', () => {
  it('YAML and JSON say the same; sizes, QP lists and views take one form; paths are relative to the file', () => {
    const yaml = parseConfig('preset: cpu\ntrain:\n  batch: 8\n  lr: 1e-3\n  data: ../cache\n  mv3d: { frames: 32 }\nprepare:\n  qp: [30, 40]\n  key-size: 128X96\nsweep:\n  views: 3 x 10\n', '/runs/a/config.yaml');
    const json = parseConfig(
      JSON.stringify({ preset: 'cpu', train: { batch: 8, lr: 0.001, data: '../cache', mv3d: { frames: 32 } }, prepare: { qp: '30, 40', 'key-size': '128x96' }, sweep: { views: '3x10' } }),
      '/runs/a/config.json',
    );
    expect(yaml).toEqual(json);
    expect(yaml).toEqual({
      preset: 'cpu',
      train: { batch: 8, lr: 0.001, data: '/runs/cache', mv3d: { frames: 32 } },
      prepare: { qp: '30,40', 'key-size': '128x96' },
      sweep: { views: '3x10' },
    });
    expect(parseConfig('', 'empty.yaml')).toEqual({});
  });

  it('a wrong value, an unknown key or bad syntax is a usage error naming the file and the key path', () => {
    expect(failure('train:\n  batch: x\n')).toBe('config.yaml: Expected a positive integer for train.batch but received "x"');
    expect(failure('train:\n  mv2d:\n    width: -1\n')).toBe('config.yaml: Expected a positive number for train.mv2d.width but received -1');
    expect(failure('train:\n  device: gpu\n')).toBe('config.yaml: Expected cpu, cuda or cuda:N for train.device but received "gpu"');
    expect(failure('sweep:\n  device: cuda:1x\n')).toBe('config.yaml: Expected cpu, cuda or cuda:N for sweep.device but received "cuda:1x"');
    expect(parseConfig('train:\n  device: cuda:1\nsweep:\n  device: cuda\n', 'c.yaml')).toEqual({ train: { device: 'cuda:1' }, sweep: { device: 'cuda' } });
    expect(failure('prepare:\n  qp: [30, 99]\n')).toBe('config.yaml: Expected an integer from 0 to 51 for prepare.qp[1] but received 99');
    expect(failure('prepare:\n  as-is: yes please\n')).toBe('config.yaml: Expected true or false for prepare.as-is but received "yes please"');
    expect(failure('sweep:\n  views: 10\n')).toMatch(/^config\.yaml: Expected <temporal>x<crops> .* for sweep\.views but received 10$/);
    expect(failure('train:\n  bach: 8\n')).toBe('config.yaml: unknown key train.bach (did you mean train.batch?)');
    expect(failure('train:\n  lrStep: 8\n')).toBe('config.yaml: unknown key train.lrStep (did you mean train.lr-step?)');
    expect(failure('train:\n  mv3d:\n    depth: 3\n')).toBe('config.yaml: unknown key train.mv3d.depth (known: frames, size, width, fc, backbone)');
    expect(failure('trian:\n  batch: 8\n')).toBe('config.yaml: unknown key trian (did you mean train?)');
    expect(failure('train: 8\n')).toBe('config.yaml: Expected a mapping of settings for train but received 8');
    expect(failure('- train\n')).toBe('config.yaml: Expected a mapping of sections (preset, prepare, train, sweep) but received an array of 1');
    expect(failure('preset: gpu\n')).toBe('config.yaml: Expected one of "paper", "cpu" for preset but received "gpu"');
    expect(failure('train:\n  batch: 8\n  batch: 9\n')).toBe('config.yaml: not valid YAML (line 3, column 3): Map keys must be unique');
    expect(failure('train:\n  batch: 8\n batch: [\n')).toMatch(/^config\.yaml: not valid YAML \(line 3, column 1\): /);
    expect(failure('{"train": ', 'config.json')).toMatch(/^config\.json: not valid JSON: /);
    expect(failure('{"train": {"batch": "x"}}', 'config.json')).toBe('config.json: Expected a positive integer for train.batch but received "x"');
    expect(failure('train: {}', 'config.toml')).toBe('config.toml: a config file is JSON (.json) or YAML (.yaml, .yml)');
    // A key such as __proto__ or constructor is an unknown key, not a way into Object.prototype.
    expect(() => checkConfig(JSON.parse('{"train": {"__proto__": {"batch": 1}}}'), 'x.json')).toThrow(/x\.json: unknown key train\.__proto__/);
  });

  it("the README's example is a valid config file", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Presets and config files'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const doc = parseConfig(example, '/project/settings.yaml');
    expect(doc).toMatchObject({ preset: 'cpu', train: { data: '/project/cache/qp30', mv2d: { frames: 24, size: 32 } }, sweep: { qp: '30,40', views: '3x10' } });
    expect(mergeSection(settingLayers(undefined, doc), 'train', 'mv3d')).toMatchObject({ iterations: 300, batch: 16, lr: 0.005, frames: 64, width: 0.25, fc: 128 });
  });

  it('a file that cannot be read is a failed input (exit 1), named', async () => {
    const missing = path.join(dir, 'missing.yaml');
    const error = await loadConfigFile(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MvclassError);
    expect(error).not.toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`${missing}: cannot read the config file (ENOENT)`);
  });
});

describe('presets', () => {
  it('the sweep schedules are the presets', () => {
    expect(sweepSchedule([PRESETS.paper])).toEqual(PAPER_SCHEDULE);
    expect(sweepSchedule([PRESETS.cpu])).toEqual(CPU_SCHEDULE);
    expect(CPU_SCHEDULE).toEqual({
      iterations: 300,
      batch: 16,
      optimizer: 'sgd',
      lr: 0.01,
      lrStep: 250,
      mv3d: { frames: 64, size: 24, width: 0.25, fc: 128 },
      mv2d: { frames: 24, size: 32, width: 0.25, fc: 128 },
      vgg16: { frames: 1, size: 96, width: 0.125, fc: 128 },
      temporal: 3,
      crops: 10,
      keySize: '112x112',
    });
    expect(PAPER_SCHEDULE).toMatchObject({ iterations: 90_000, batch: 64, lrStep: 30_000, mv3d: { frames: 160, size: 24, width: 1, fc: 2048 }, temporal: 10, crops: 10, keySize: '256x256' });
  });

  it('layers: the preset, then the file (a network\'s own section over the flat keys of the same document)', () => {
    const file = parseConfig('preset: cpu\ntrain:\n  batch: 8\n  frames: 40\n  mv2d: { frames: 20 }\n', 'c.yaml');
    const layers = settingLayers(undefined, file);
    expect(layers[0]).toBe(PRESETS.cpu);
    expect(mergeSection(layers, 'train', 'mv3d')).toMatchObject({ iterations: 300, batch: 8, frames: 40, width: 0.25 });
    expect(mergeSection(layers, 'train', 'mv2d')).toMatchObject({ batch: 8, frames: 20, size: 32 });
    // --preset names the preset over the file's `preset:`.
    expect(settingLayers('paper', file)[0]).toBe(PRESETS.paper);
    expect(sweepSchedule(layers)).toEqual({ ...CPU_SCHEDULE, batch: 8, mv3d: { ...CPU_SCHEDULE.mv3d, frames: 40 }, mv2d: { ...CPU_SCHEDULE.mv2d, frames: 20 }, vgg16: CPU_SCHEDULE.vgg16 });
  });
});

describe('--preset, --config and the command line', () => {
  const yaml = (r: { code: number; stdout: string; stderr: string }) => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return parse(r.stdout) as Record<string, Record<string, unknown>>;
  };

  it('train: preset < config file < given flags; defaults never override the file', async () => {
    const file = path.join(dir, 'train.yaml');
    writeFileSync(file, 'preset: cpu\ntrain:\n  model: mv2d\n  data: cache\n  batch: 8\n  lr: 0.005\n  mv2d: { frames: 20 }\n');
    const base = ['train', '-o', path.join(dir, 'run'), '--print-config'];
    expect(yaml(await cli([...base, '--preset', 'cpu', '--model', 'mv3d', '--data', 'c'])).train).toMatchObject({ model: 'mv3d', iterations: 300, batch: 16, frames: 64, width: 0.25 });
    const merged = yaml(await cli([...base, '--config', file, '--lr', '0.002', '--iterations', '90000'])).train!;
    expect(merged).toMatchObject({ model: 'mv2d', data: path.join(dir, 'cache'), iterations: 90_000, batch: 8, lr: 0.002, 'lr-step': 250, frames: 20, size: 32, width: 0.25, fc: 128 });
    // --preset over the file's preset; the file's values over both presets; a flag over all.
    expect(yaml(await cli([...base, '--config', file, '--preset', 'paper'])).train).toMatchObject({ iterations: 90_000, batch: 8, frames: 20, size: 48, width: 1, fc: 4096 });
    expect(yaml(await cli([...base, '--config', file, '--model', 'mv3d', '--frames', '12'])).train).toMatchObject({ model: 'mv3d', frames: 12, size: 24, batch: 8 });
    // What --print-config prints, --config reads back to the same settings.
    const again = path.join(dir, 'again.yaml');
    writeFileSync(again, (await cli([...base, '--config', file])).stdout);
    expect(yaml(await cli([...base, '--config', again]))).toEqual(yaml(await cli([...base, '--config', file])));
    // A bad file stops the command with exit 2, naming file and key.
    writeFileSync(file, 'train:\n  batch: x\n');
    const bad = await cli([...base, '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`mvclass: ${file}: Expected a positive integer for train.batch but received "x"`);
  });

  it('sweep --preset cpu is sweep --cpu; prepare takes its section', async () => {
    const base = ['sweep', 'set', '-o', path.join(dir, 'sweep'), '--print-config'];
    const cpu = await cli([...base, '--cpu']);
    const preset = await cli([...base, '--preset', 'cpu']);
    expect(preset.stdout).toBe(cpu.stdout);
    const doc = yaml(preset);
    expect(sweepSchedule([checkConfig(doc, 'printed')])).toEqual(CPU_SCHEDULE);
    expect(doc.sweep).toMatchObject({ qp: '0,30,40,51', views: '3x10' });
    expect(sweepSchedule([checkConfig(yaml(await cli(base)), 'printed')])).toEqual(PAPER_SCHEDULE);
    expect(yaml(await cli([...base, '--cpu', '--iterations', '40', '--views', '2x1'])).train).toMatchObject({ iterations: 40, batch: 16 });
    const clash = await cli([...base, '--cpu', '--preset', 'paper']);
    expect(clash.code).toBe(2);
    expect(clash.stderr.trim()).toBe('mvclass: --cpu is --preset cpu: give one of --cpu and --preset paper');
    const file = path.join(dir, 'prepare.json');
    writeFileSync(file, JSON.stringify({ preset: 'paper', prepare: { qp: [30, 40], fps: 30 } }));
    expect(yaml(await cli(['prepare', 'set', '-o', path.join(dir, 'cache'), '--config', file, '--fps', '20', '--print-config'])).prepare).toEqual({
      codec: 'h264',
      qp: '30,40',
      size: '320x240',
      fps: 20,
      'key-size': '256x256',
      split: 1,
      seed: 1,
    });
  });
});
