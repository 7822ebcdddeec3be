// --device on every command that runs a network (train, eval, classify, mcnn fit, sweep, demo,
// plot --data, serve): one rule for the value (cpu, cuda, cuda:N; src/nn/device.ts), the same
// usage error on each command, and where libtorch has no CUDA device (Debian's CPU-only
// libtorch-dev) the addon's refusal, on each command before it writes anything. The trained
// fixture (test/support/trained.ts) gives the real runs, caches and clip the commands take.

import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDevice, CnnModel, DEVICE_PATTERN, parseDevice, parsePrecision } from '../../src/index.js';
import { cli, tempDir } from '../setup/helpers.js';
import { trained, type Trained } from '../support/trained.js';

const dir = tempDir();

/** Why CUDA cannot be used here, or null when it can. */
const noCuda: string | null = await checkDevice('cuda').then(
  () => null,
  (error: Error) => error.message,
);

describe('parseDevice', () => {
  it('takes cpu, cuda and cuda:N, and refuses anything else with the validators\' message', () => {
    for (const ok of ['cpu', 'cuda', 'cuda:0', 'cuda:1', 'cuda:15']) {
      expect(parseDevice(ok, 'device')).toBe(ok);
      expect(ok).toMatch(new RegExp(DEVICE_PATTERN));
    }
    for (const [bad, shown] of [
      ['gpu', '"gpu"'],
      ['cuda:1x', '"cuda:1x"'],
      ['cuda:', '"cuda:"'],
      ['cuda:-1', '"cuda:-1"'],
      ['cuda:01', '"cuda:01"'],
      ['CUDA', '"CUDA"'],
      [' cpu', '" cpu"'],
      ['cuda 1', '"cuda 1"'],
      ['cpu:0', '"cpu:0"'],
      ['', '""'],
      [1, '1'],
      [undefined, 'undefined'],
    ] as const) {
      expect(() => parseDevice(bad, 'train.device')).toThrow(`Expected cpu, cuda or cuda:N for train.device but received ${shown}`);
      if (typeof bad === 'string') expect(bad).not.toMatch(new RegExp(DEVICE_PATTERN));
    }
  });

  it('checkDevice: the cpu is always there; a device that is not is the addon\'s refusal, naming the device given', async () => {
    expect(await checkDevice()).toBe('cpu');
    expect(await checkDevice('cpu')).toBe('cpu');
    await expect(checkDevice('gpu')).rejects.toThrow('Expected cpu, cuda or cuda:N for device but received "gpu"');
    if (noCuda !== null) {
      expect(noCuda).toMatch(/^--device cuda: this libtorch has no usable CUDA device/);
      await expect(checkDevice('cuda:3')).rejects.toThrow(/^--device cuda:3: this libtorch has no usable CUDA device/);
    } else {
      // With CUDA: an index beyond the devices is refused, saying how many there are.
      await expect(checkDevice('cuda:4096')).rejects.toThrow(/^--device cuda:4096: there is no CUDA device 4096; this machine has \d+ \(cuda:0/);
    }
  });
});

let t: Trained;
let qp30 = '';
let cache = '';
const run = (model: string) => path.join(qp30, 'runs', model);

beforeAll(async () => {
  t = await trained();
  qp30 = path.join(t.sweep, 'qp30');
  cache = path.join(qp30, 'cache');
}, 900_000);

/**
 * Each command that runs a network, with real inputs, `--device <device>` appended, and the
 * folder it would write (which must not exist after a refusal).
 */
function commands(device: string, tag: string): Array<{ name: string; args: string[]; out: string }> {
  const base = path.join(dir, tag);
  // A copy of a run without scores beside it: plot --data evaluates it.
  const plotRun = path.join(base, 'plot-run');
  if (!existsSync(plotRun)) cpSync(run('mv2d'), plotRun, { recursive: true });
  return [
    { name: 'train', args: ['train', '--model', 'mv2d', '--data', cache, '-o', path.join(base, 'train', 'run'), '--iterations', '2', '--size', '32', '--frames', '16', '--width', '0.25', '--fc', '128'], out: path.join(base, 'train') },
    { name: 'eval', args: ['eval', '--run', run('mv2d'), '--data', cache, '--views', '1x1', '--save-scores', path.join(base, 'eval', 'scores.json')], out: path.join(base, 'eval') },
    { name: 'classify', args: ['classify', t.clip, '--run', run('mv2d'), run('vgg16'), '--views', '1x1'], out: path.join(base, 'classify') },
    { name: 'mcnn fit', args: ['mcnn', 'fit', '--run', run('mv3d'), run('mv2d'), run('vgg16'), '--data', cache, '-o', path.join(base, 'mcnn', 'mcnn.json'), '--views', '1x1'], out: path.join(base, 'mcnn') },
    { name: 'sweep', args: ['sweep', t.set, '-o', path.join(base, 'sweep'), '--cpu', '--qp', '30', '--iterations', '2'], out: path.join(base, 'sweep') },
    { name: 'demo', args: ['demo', '--quick', '-o', path.join(base, 'demo')], out: path.join(base, 'demo') },
    { name: 'plot', args: ['plot', plotRun, '--data', cache, '--views', '1x1', '-o', path.join(base, 'plot')], out: path.join(base, 'plot') },
    { name: 'serve', args: ['serve', t.sweep, '--port', '0'], out: path.join(base, 'serve') },
  ].map((c) => ({ ...c, args: [...c.args, '--device', device] }));
}

describe('--device on every command that runs a network', () => {
  it('a device that is not cpu, cuda or cuda:N is a usage error, the same on every command', { timeout: 120_000 }, async () => {
    for (const device of ['gpu', 'cuda:1x']) {
      const list = commands(device, `usage-${device.replace(':', '-')}`);
      const results = await Promise.all(list.map((c) => cli(c.args)));
      for (const [i, r] of results.entries()) {
        const { name, out } = list[i]!;
        expect(r.stderr.trim(), name).toBe(`mvclass: Expected cpu, cuda or cuda:N for device but received ${JSON.stringify(device)}`);
        expect(r.code, name).toBe(2);
        expect(existsSync(out), name).toBe(false);
      }
    }
    expect(readdirSync(path.join(dir, 'usage-gpu'))).toEqual(['plot-run']);
  });

  it('help shows --device and --threads on each of them', { timeout: 60_000 }, async () => {
    const helps = await Promise.all(['train', 'eval', 'classify', 'mcnn fit', 'sweep', 'demo', 'plot', 'serve'].map((c) => cli([...c.split(' '), '--help'])));
    for (const h of helps) {
      expect(h.code).toBe(0);
      expect(h.stdout.replace(/\s+/g, ' ')).toMatch(/--device <device> where the networks run: cpu, cuda or cuda:N/);
      expect(h.stdout.replace(/\s+/g, ' ')).toMatch(/--threads <n> libtorch threads( with --data)? \(0: leave its default\) \(default: "0"\)/);
    }
  });

  it('--threads is checked the same way on classify and mcnn fit (new there) as on the others', { timeout: 60_000 }, async () => {
    const runs = ['--run', path.join(dir, 'a'), path.join(dir, 'b'), path.join(dir, 'c')];
    for (const args of [['classify', path.join(dir, 'v.mp4'), '--run', path.join(dir, 'a'), '--threads', 'abc'], ['mcnn', 'fit', ...runs, '--data', dir, '--threads', '-1'], ['eval', '--run', dir, '--data', dir, '--threads', '2000']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`Expected an integer from 0 to 1024 for threads but received "${args.at(-1)}"`);
    }
  });

  describe.skipIf(noCuda === null)('where libtorch has no CUDA device', () => {
    it('--device cuda: each command exits 1 with the addon\'s refusal and writes nothing', { timeout: 180_000 }, async () => {
      const list = commands('cuda', 'cuda');
      const results = await Promise.all(list.map((c) => cli(c.args)));
      for (const [i, r] of results.entries()) {
        const { name, out } = list[i]!;
        expect(r.stderr, name).toMatch(/^mvclass: (.*: )?--device cuda: this libtorch has no usable CUDA device \(Debian's libtorch-dev is CPU-only/);
        expect(r.stderr, name).not.toMatch(/internal error|listening/);
        expect(r.code, name).toBe(1);
        expect(existsSync(out), name).toBe(false);
      }
      // plot did not evaluate its run either.
      expect(readdirSync(path.join(dir, 'cuda', 'plot-run')).sort()).toEqual(readdirSync(run('mv2d')).sort());
    });

    it('--device cuda:N: the refusal names the device as given', { timeout: 60_000 }, async () => {
      const list = commands('cuda:1', 'cuda1').filter((c) => ['eval', 'sweep'].includes(c.name));
      for (const c of list) {
        const r = await cli(c.args);
        expect(r.stderr, c.name).toMatch(/^mvclass: (.*: )?--device cuda:1: this libtorch has no usable CUDA device/);
        expect(r.code, c.name).toBe(1);
        expect(existsSync(c.out), c.name).toBe(false);
      }
    });

    it("sweep takes train.device (or sweep.device) from --config when no --device is given", { timeout: 60_000 }, async () => {
      const file = path.join(dir, 'cuda.yaml');
      writeFileSync(file, 'train:\n  device: cuda\n');
      const out = path.join(dir, 'config-sweep');
      const r = await cli(['sweep', t.set, '-o', out, '--cpu', '--qp', '30', '--config', file]);
      expect(r.stderr).toMatch(/^mvclass: --device cuda: this libtorch has no usable CUDA device/);
      expect(r.code).toBe(1);
      expect(existsSync(out)).toBe(false);
    });
  });

  it('sweep: --device, else the file\'s sweep.device, else its train.device, else cpu (as --print-config shows)', { timeout: 60_000 }, async () => {
    const printed = async (lines: string | null, ...flags: string[]) => {
      const args = ['sweep', 'set', '-o', path.join(dir, 'printed'), '--print-config', ...flags];
      if (lines !== null) {
        const file = path.join(dir, `printed-${Math.random().toString(36).slice(2)}.yaml`);
        writeFileSync(file, lines);
        args.push('--config', file);
      }
      const r = await cli(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return (parse(r.stdout) as { sweep: { device?: string } }).sweep.device;
    };
    expect(await printed(null)).toBe('cpu');
    expect(await printed(null, '--device', 'cuda:2')).toBe('cuda:2');
    expect(await printed('train:\n  device: cuda:1\n')).toBe('cuda:1');
    expect(await printed('train:\n  device: cuda:1\nsweep:\n  device: cuda\n')).toBe('cuda');
    expect(await printed('train:\n  device: cuda:1\nsweep:\n  device: cuda\n', '--device', 'cpu')).toBe('cpu');
    expect(existsSync(path.join(dir, 'printed'))).toBe(false);
  });
});

describe('--precision: the networks\' number type on the device', () => {
  const small = { model: 'mv2d' as const, classes: ['a', 'b'], frames: 2, size: 16, width: 0.125, fc: 8 };

  it('takes auto, fp32, bf16 and fp16; the CPU runs fp32 and refuses the others, naming why', async () => {
    for (const ok of ['auto', 'fp32', 'bf16', 'fp16']) expect(parsePrecision(ok, 'precision')).toBe(ok);
    for (const [bad, shown] of [['half', '"half"'], ['BF16', '"BF16"'], ['', '""'], [16, '16']] as const) {
      expect(() => parsePrecision(bad, 'train.precision')).toThrow(`Expected auto, fp32, bf16 or fp16 for train.precision but received ${shown}`);
    }
    const model = await CnnModel.create(small, { device: 'cpu' });
    expect(model.precision).toBe('fp32');
    expect(model.channelsLast).toBe(false);
    // Channels-last on the CPU: refused before any network exists. Debian's libtorch 1.13 corrupted
    // the heap with it (resnet18 at width 1/8 aborted on its first training steps).
    expect((await CnnModel.create(small, { device: 'cpu', channelsLast: false })).channelsLast).toBe(false);
    await expect(CnnModel.create({ ...small, model: 'resnet18', frames: 1, size: 192 }, { device: 'cpu', channelsLast: true })).rejects.toThrow(
      "channelsLast needs a CUDA device: on the CPU, libtorch 1.13's channels-last convolutions corrupt memory (the CPU runs contiguous tensors)",
    );
    expect((await CnnModel.create(small, { device: 'cpu', precision: 'fp32' })).precision).toBe('fp32');
    for (const precision of ['bf16', 'fp16'] as const) {
      await expect(CnnModel.create(small, { device: 'cpu', precision })).rejects.toThrow(`precision ${precision} needs a CUDA device (the CPU runs fp32)`);
    }
    await expect(CnnModel.create(small, { precision: 'half' as never })).rejects.toThrow('Expected auto, fp32, bf16 or fp16 for precision but received "half"');
    await expect(CnnModel.create(small, { channelsLast: 'yes' as never })).rejects.toThrow('Expected true or false for channelsLast but received "yes"');
    await expect(CnnModel.create(small, { deterministic: 1 as never })).rejects.toThrow('Expected true or false for deterministic but received 1');
  });

  it('train, eval, classify and serve show it and check it with the same words; a config file too', { timeout: 120_000 }, async () => {
    const helps = await Promise.all(['train', 'eval', 'classify', 'serve'].map((c) => cli([c, '--help'])));
    for (const h of helps) expect(h.stdout.replace(/\s+/g, ' ')).toMatch(/--precision <type> the networks' number type on the device: auto \(bf16 autocast on a GPU, fp32 on the CPU\), fp32, bf16 or fp16/);
    const list = commands('cpu', 'precision-usage').filter((c) => ['train', 'eval', 'classify', 'serve'].includes(c.name));
    const results = await Promise.all(list.map((c) => cli([...c.args, '--precision', 'half'])));
    for (const [i, r] of results.entries()) {
      expect(r.stderr.trim(), list[i]!.name).toBe('mvclass: Expected auto, fp32, bf16 or fp16 for precision but received "half"');
      expect(r.code, list[i]!.name).toBe(2);
      expect(existsSync(list[i]!.out), list[i]!.name).toBe(false);
    }
    const file = path.join(dir, 'precision.yaml');
    writeFileSync(file, 'train:\n  precision: half\n');
    const r = await cli(['train', '--model', 'mv2d', '--data', cache, '-o', path.join(dir, 'precision-config'), '--config', file]);
    expect(r.stderr.trim()).toBe(`mvclass: ${file}: Expected auto, fp32, bf16 or fp16 for train.precision but received "half"`);
    expect(r.code).toBe(2);
  });

  it('train on the CPU: bf16 is refused before the run folder exists; auto trains in fp32 and run.json records both', { timeout: 120_000 }, async () => {
    const train = commands('cpu', 'precision-train').find((c) => c.name === 'train')!;
    const refused = await cli([...train.args, '--precision', 'bf16']);
    expect(refused.stderr).toMatch(/^mvclass: precision bf16 needs a CUDA device \(the CPU runs fp32\)/);
    expect(refused.code).toBe(1);
    expect(existsSync(train.out)).toBe(false);
    const ok = await cli(train.args);
    expect(ok.stderr).not.toMatch(/error/i);
    expect(ok.code).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(train.out, 'run', 'run.json'), 'utf8')) as { training: { precision: string; numberType: string } };
    expect(saved.training.precision).toBe('auto');
    expect(saved.training.numberType).toBe('fp32');
  });
});
