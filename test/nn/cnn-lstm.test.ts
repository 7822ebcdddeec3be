// cnn-lstm (issue 15; seeds 000/001): a ResNet backbone per frame under torchvision's names
// (encoder.resnet.*), FC layers, one LSTM layer over the frames, an FC head on its mean over time.
// The LSTM against a TypeScript reference with the network's own weights, a gradient check, the
// weight files (its own round trip, a torchvision resnet into the backbone), batch norm's modes,
// exact resume, argument errors.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnnModel, type ModelConfig } from '../../src/nn/model.js';
import { nnAddon, type StateTensor } from '../../src/nn/native.js';
import { tempDir } from '../setup/helpers.js';
import { expectInputGradient } from '../support/gradient.js';
import { byName, expectExactResume, valuesOf } from '../support/resume.js';

const dir = tempDir('mvclass-cnn-lstm-');

const tiny = (classes = 3, extra: Partial<ModelConfig> = {}): ModelConfig => ({ model: 'cnn-lstm', classes: Array.from({ length: classes }, (_, i) => `c${i}`), frames: 4, size: 32, width: 0.125, fc: 16, ...extra });

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return new Float32Array(n).map(() => 2 * ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 1);
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** PyTorch's LSTM (gates i, f, g, o in that order), zero initial state: the output h_t at every step of one sequence. */
function lstmReference(x: Float32Array, steps: number, input: number, wih: number[], whh: number[], bias: number[], hidden: number): number[][] {
  let h = new Array<number>(hidden).fill(0);
  let c = new Array<number>(hidden).fill(0);
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const gate = (g: number, j: number) => {
      const row = g * hidden + j;
      let s = bias[row]!;
      for (let k = 0; k < input; k++) s += wih[row * input + k]! * x[t * input + k]!;
      for (let k = 0; k < hidden; k++) s += whh[row * hidden + k]! * h[k]!;
      return s;
    };
    const next = Array.from({ length: hidden }, (_, j) => {
      const i = sigmoid(gate(0, j)), f = sigmoid(gate(1, j)), g = Math.tanh(gate(2, j)), o = sigmoid(gate(3, j));
      const cell = f * c[j]! + i * g;
      return { cell, h: o * Math.tanh(cell) };
    });
    c = next.map((n) => n.cell);
    h = next.map((n) => n.h);
    out.push(h);
  }
  return out;
}

describe('cnn-lstm layout', () => {
  it('names: the backbone as torchvision names a resnet (no fc) under encoder.resnet., then encoder.fc, decoder.lstm, decoder.fc; shapes follow fc', async () => {
    const net = await CnnModel.create(tiny(), { threads: 1 });
    expect(net.inputShape).toEqual([4, 3, 32, 32]);
    const state = await net.state();
    const resnet = await CnnModel.create({ model: 'resnet18', classes: ['a', 'b', 'c'], frames: 1, size: 32, width: 0.125, fc: 1 }, { threads: 1 });
    const backbone = (await resnet.state()).filter((t) => !t.name.startsWith('fc.')).map((t) => [`encoder.resnet.${t.name}`, t.shape]);
    expect(state.filter((t) => t.name.startsWith('encoder.resnet.')).map((t) => [t.name, t.shape])).toEqual(backbone);
    // resnet18 at width 1/8: 64 pooled features; fc 16 -> 16, 12, 8; LSTM hidden 8; 8 -> 4 -> classes.
    expect(state.filter((t) => !t.name.startsWith('encoder.resnet.')).map((t) => `${t.name} ${JSON.stringify(t.shape)}`)).toEqual([
      'encoder.fc.0.weight [16,64]', 'encoder.fc.0.bias [16]', 'encoder.fc.3.weight [12,16]', 'encoder.fc.3.bias [12]', 'encoder.fc.6.weight [8,12]', 'encoder.fc.6.bias [8]',
      'decoder.lstm.weight_ih_l0 [32,8]', 'decoder.lstm.weight_hh_l0 [32,8]', 'decoder.lstm.bias_ih_l0 [32]', 'decoder.lstm.bias_hh_l0 [32]',
      'decoder.fc.0.weight [4,8]', 'decoder.fc.0.bias [4]', 'decoder.fc.3.weight [3,4]', 'decoder.fc.3.bias [3]',
    ]);
    const count = (s: StateTensor[]) => s.filter((t) => !t.buffer).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(net.parameters).toBe(count(state));
    // The seeds' sizes at width 1 on resnet152: 2048 features -> 1024 -> 768 -> 512, LSTM 512, 512 -> 256 -> classes.
    const seeds = await CnnModel.create({ ...tiny(4), size: 64, width: 1, fc: 1024, backbone: 'resnet152' }, { threads: 1 });
    const shapes = new Map((await seeds.state()).map((t) => [t.name, t.shape]));
    expect([shapes.get('encoder.fc.0.weight'), shapes.get('encoder.fc.3.weight'), shapes.get('encoder.fc.6.weight'), shapes.get('decoder.lstm.weight_hh_l0'), shapes.get('decoder.fc.0.weight'), shapes.get('decoder.fc.3.weight')]).toEqual([
      [1024, 2048], [768, 1024], [512, 768], [2048, 512], [256, 512], [4, 256],
    ]);
    expect(shapes.has('encoder.resnet.layer3.35.conv3.weight')).toBe(true);
  });

  it('the LSTM: applyLayer with the network\'s own decoder.lstm weights against a TypeScript LSTM (1e-5)', async () => {
    const state = byName(await (await CnnModel.create(tiny(), { threads: 1, seed: 3 })).state());
    const v = (name: string) => Array.from(state.get(`decoder.lstm.${name}`)!.values);
    const [wih, whh, bih, bhh] = [v('weight_ih_l0'), v('weight_hh_l0'), v('bias_ih_l0'), v('bias_hh_l0')];
    const hidden = 8, input = 8, steps = 5;
    // [4H, in + H]: each row's weight_ih then weight_hh; the two biases summed.
    const weight = new Float32Array(4 * hidden * (input + hidden));
    for (let r = 0; r < 4 * hidden; r++) {
      for (let k = 0; k < input; k++) weight[r * (input + hidden) + k] = wih[r * input + k]!;
      for (let k = 0; k < hidden; k++) weight[r * (input + hidden) + input + k] = whh[r * hidden + k]!;
    }
    const bias = new Float32Array(bih.map((b, i) => b + bhh[i]!));
    const x = rand(2 * steps * input, 21).map((a) => 3 * a);
    const y = nnAddon().applyLayer({ op: 'lstm', input: x, inputShape: [2, steps, input], weight, weightShape: [4 * hidden, input + hidden], bias });
    expect(y.shape).toEqual([2, steps, hidden]);
    for (let b = 0; b < 2; b++) {
      const ref = lstmReference(x.subarray(b * steps * input), steps, input, Array.from(weight).filter((_, i) => i % (input + hidden) < input), Array.from(weight).filter((_, i) => i % (input + hidden) >= input), Array.from(bias), hidden);
      ref.forEach((h, t) => h.forEach((value, j) => expect(Math.abs(y.data[(b * steps + t) * hidden + j]! - value), `clip ${b} step ${t} unit ${j}`).toBeLessThan(1e-5)));
    }
    expect(() => nnAddon().applyLayer({ op: 'lstm', input: x, inputShape: [2, steps, input], weight, weightShape: [4 * hidden, input], bias })).toThrow('lstm needs weightShape [4H, in + H] and inputShape [B, T, in]');
  });

  it('the scores follow the frames\' order and every frame (the LSTM carries each frame into the later steps)', async () => {
    const net = await CnnModel.create(tiny(), { threads: 1, seed: 2 });
    const per = 3 * 32 * 32;
    const x = rand(4 * per, 5);
    const p = Array.from(await net.predict(x));
    const reversed = new Float32Array(4 * per);
    for (let t = 0; t < 4; t++) reversed.set(x.subarray((3 - t) * per, (4 - t) * per), t * per);
    expect(Array.from(await net.predict(reversed))).not.toEqual(p);
    const first = x.slice();
    first.fill(0, 0, per);
    expect(Array.from(await net.predict(first))).not.toEqual(p);
    // Four copies of one frame: reversing changes nothing.
    const same = new Float32Array(4 * per);
    for (let t = 0; t < 4; t++) same.set(x.subarray(0, per), t * per);
    const q = Array.from(await net.predict(same));
    expect(q.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    expect(Array.from(await net.predict(same.slice()))).toEqual(q);
  });

  it('the input gradient matches central finite differences', { timeout: 30_000 }, async () => {
    const model = await CnnModel.create({ ...tiny(), frames: 3 }, { seed: 5, threads: 1 });
    const x = rand(2 * 3 * 3 * 32 * 32, 12);
    const labels = new Int32Array([0, 2]);
    const gradient = await expectInputGradient(model, x, labels, { count: 8, floor: 1e-5, absolute: 1e-4 });
    // Frames of both clips and more than one time step carry gradient.
    const frameOf = (i: number) => Math.floor(i / (3 * 32 * 32));
    expect(new Set(Array.from(gradient.keys()).filter((i) => gradient[i] !== 0).map(frameOf)).size).toBe(6);
  });
});

describe('cnn-lstm batch norm and checkpoints', () => {
  it('prediction (eval mode) repeats exactly, changes nothing and does not depend on the batch; a step moves the running statistics', { timeout: 30_000 }, async () => {
    const model = await CnnModel.create(tiny(), { threads: 1, seed: 4 });
    const per = 4 * 3 * 32 * 32;
    const x = rand(3 * per, 11);
    const before = await model.state();
    const p1 = await model.predict(x);
    expect(Array.from(await model.predict(x))).toEqual(Array.from(p1));
    expect(valuesOf(await model.state())).toEqual(valuesOf(before));
    for (let i = 0; i < 3; i++) {
      const alone = await model.predict(x.subarray(i * per, (i + 1) * per));
      alone.forEach((v, c) => expect(Math.abs(v - p1[i * 3 + c]!)).toBeLessThan(1e-6));
    }
    await model.trainStep(x, new Int32Array([0, 1, 2]), 0.01);
    const after = byName(await model.state());
    expect(after.get('encoder.resnet.bn1.num_batches_tracked')!.values[0]).toBe(1);
    expect(Array.from(after.get('encoder.resnet.layer4.1.bn2.running_var')!.values)).not.toEqual(Array.from(byName(before).get('encoder.resnet.layer4.1.bn2.running_var')!.values));
    expect(Array.from(after.get('decoder.lstm.weight_hh_l0')!.values)).not.toEqual(Array.from(byName(before).get('decoder.lstm.weight_hh_l0')!.values));
  });

  it('N steps, save, load into a fresh network, M steps = N + M steps, bit for bit (Adam)', { timeout: 30_000 }, async () => {
    const x = rand(4 * 4 * 3 * 32 * 32, 5);
    const y = new Int32Array([0, 1, 2, 1]);
    await expectExactResume((seed) => CnnModel.create(tiny(), { threads: 1, seed, optimizer: 'adam' }), x, y, 0.001, path.join(dir, 'cnn-lstm.pt'));
  });

  it('weights: export then import, the same scores; another class count replaces decoder.fc.3; a torchvision resnet18 state dict goes into the backbone', { timeout: 30_000 }, async () => {
    const a = await CnnModel.create(tiny(), { threads: 1, seed: 1 });
    const x = rand(2 * 4 * 3 * 32 * 32, 8);
    for (let i = 0; i < 2; i++) await a.trainStep(x, new Int32Array([0, 2]), 0.05);
    const file = path.join(dir, 'cnn-lstm.pth');
    await a.exportWeights(file);
    const b = await CnnModel.create(tiny(), { threads: 1, seed: 2 });
    expect(Array.from(await b.predict(x))).not.toEqual(Array.from(await a.predict(x)));
    const tensors = (await a.state()).length;
    expect(await b.importWeights(file)).toEqual({ loaded: tensors, skipped: 0 });
    expect(valuesOf(await b.state())).toEqual(valuesOf(await a.state()));
    expect(Array.from(await b.predict(x))).toEqual(Array.from(await a.predict(x)));
    expect(await (await CnnModel.create(tiny(5), { threads: 1 })).importWeights(file)).toEqual({ loaded: tensors - 2, skipped: 2 });

    // A resnet18 frame network's weights (torchvision's file format and names, its fc included).
    const resnet = await CnnModel.create({ model: 'resnet18', classes: ['a', 'b'], frames: 1, size: 32, width: 0.125, fc: 1 }, { threads: 1, seed: 7 });
    await resnet.trainStep(rand(2 * 3 * 32 * 32, 3), new Int32Array([0, 1]), 0.05);
    const torchvision = path.join(dir, 'resnet18.pth');
    await resnet.exportWeights(torchvision);
    const c = await CnnModel.create(tiny(), { threads: 1, seed: 3 });
    const untouched = byName(await c.state());
    const backbone = (await resnet.state()).filter((t) => !t.name.startsWith('fc.'));
    const head = tensors - backbone.length;
    expect(await c.importWeights(torchvision)).toEqual({ loaded: backbone.length, skipped: head });
    const imported = byName(await c.state());
    for (const t of backbone) expect(Array.from(imported.get(`encoder.resnet.${t.name}`)!.values), t.name).toEqual(Array.from(t.values));
    expect(Array.from(imported.get('decoder.lstm.weight_ih_l0')!.values)).toEqual(Array.from(untouched.get('decoder.lstm.weight_ih_l0')!.values));
    // Another width: refused, naming the tensor; nothing changed.
    const wide = await CnnModel.create(tiny(3, { width: 0.25 }), { threads: 1 });
    const before = valuesOf(await wide.state());
    await expect(wide.importWeights(torchvision)).rejects.toThrow(`${torchvision}: cannot import weights: encoder.resnet.conv1.weight is [8, 3, 7, 7] in the file but [16, 3, 7, 7] in this network (another depth, width or input size?)`);
    expect(valuesOf(await wide.state())).toEqual(before);
  });

  it('argument errors: a backbone that is not a resnet, a backbone on another network, an input of the wrong size', async () => {
    await expect(CnnModel.create(tiny(3, { backbone: 'resnet19' as 'resnet18' }))).rejects.toThrow('Expected one of "resnet18", "resnet34", "resnet50", "resnet101", "resnet152" for backbone but received "resnet19"');
    await expect(CnnModel.create({ model: 'resnet18', classes: ['a', 'b'], frames: 1, size: 32, width: 0.125, fc: 1, backbone: 'resnet34' })).rejects.toThrow('only cnn-lstm has a backbone; resnet18 has none');
    await expect(nnAddon().createSession({ model: 'cnn-lstm', classes: 2, frames: 2, size: 32, width: 0.125, fc: 8, backbone: 'vgg16' })).rejects.toThrow('unknown backbone "vgg16" (expected resnet18, resnet34, resnet50, resnet101 or resnet152)');
    const net = await CnnModel.create(tiny(), { threads: 1 });
    await expect(net.predict(new Float32Array(3 * 32 * 32))).rejects.toThrow('input of 3072 values is not a whole batch of [4, 3, 32, 32]');
  });
});
