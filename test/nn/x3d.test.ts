// X3D-S (issue 15): its pieces (depthwise 3D convolution, squeeze-excitation, Swish) against
// TypeScript references; pytorchvideo's state dict names, shapes and parameter count; a gradient
// check; batch norm in train and eval mode; the initialisation (zero-scale residual branches); exact
// resume; weight files round-tripped and refused.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnnModel, type ModelConfig } from '../../src/nn/model.js';
import { nnAddon } from '../../src/nn/native.js';
import { openDataset, prepareDataset } from '../../src/index.js';
import { CLIP_MODELS, MODELS, readRun } from '../../src/run/format.js';
import { cli, tempDir } from '../setup/helpers.js';
import { actionSet } from '../support/actionset.js';
import { expectInputGradient } from '../support/gradient.js';
import { byName, expectExactResume, valuesOf } from '../support/resume.js';

/** Training iterations of the command-line test. */
const ITERATIONS = 30;

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return new Float32Array(n).map(() => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

function expectClose(actual: Float32Array, expected: number[], tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i]! - e), `element ${i}: ${actual[i]} vs ${e}`).toBeLessThan(tolerance));
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Depthwise 3D convolution, batch 1: channel c of the output is channel c of x with filter c; zero padding. */
function depthwiseRef(x: Float32Array, [c, t, h, w]: number[], k: Float32Array, [kt, kh, kw]: number[], stride: number[], pad: number[]): number[] {
  const out: number[] = [];
  const [ot, oh, ow] = [t, h, w].map((n, i) => Math.floor((n! + 2 * pad[i]! - [kt, kh, kw][i]!) / stride[i]!) + 1);
  for (let ch = 0; ch < c!; ch++) {
    for (let a = 0; a < ot!; a++) {
      for (let b = 0; b < oh!; b++) {
        for (let d = 0; d < ow!; d++) {
          let s = 0;
          for (let i = 0; i < kt!; i++) {
            for (let j = 0; j < kh!; j++) {
              for (let l = 0; l < kw!; l++) {
                const [p, q, r] = [a * stride[0]! - pad[0]! + i, b * stride[1]! - pad[1]! + j, d * stride[2]! - pad[2]! + l];
                if (p < 0 || p >= t! || q < 0 || q >= h! || r < 0 || r >= w!) continue;
                s += x[((ch * t! + p) * h! + q) * w! + r]! * k[((ch * kt! + i) * kh! + j) * kw! + l]!;
              }
            }
          }
          out.push(s);
        }
      }
    }
  }
  return out;
}

/**
 * pytorchvideo's X3D-S state dict (create_x3d with width factor 2, depth factor 2.2, bottleneck 2.25,
 * SE ratio 1/16 on every other block), name -> shape, written out from the architecture; channels
 * scale as the addon's width multiplier does (at least 4), the head's fc is its 2048.
 */
function pytorchvideoState(width: number, fc: number, classes: number): Map<string, number[]> {
  const scaled = (c: number) => Math.max(4, Math.round(c * width));
  // round_width(w, 1/16): the nearest multiple of 8 (at least 8), up one step below 90%.
  const seWidth = (inner: number) => {
    const w = inner / 16;
    const out = Math.max(8, Math.floor(Math.floor(w + 4) / 8) * 8);
    return out < 0.9 * w ? out + 8 : out;
  };
  const state = new Map<string, number[]>();
  const bn = (prefix: string, c: number) => {
    for (const t of ['weight', 'bias', 'running_mean', 'running_var']) state.set(`${prefix}.${t}`, [c]);
    state.set(`${prefix}.num_batches_tracked`, []);
  };
  let c = scaled(24);
  state.set('blocks.0.conv.conv_t.weight', [c, 3, 1, 3, 3]);
  state.set('blocks.0.conv.conv_xy.weight', [c, 1, 5, 1, 1]);
  bn('blocks.0.norm', c);
  let inner = 0;
  [3, 5, 11, 7].forEach((depth, stage) => {
    const out = scaled(24 << stage);
    inner = Math.floor(2.25 * out);
    for (let b = 0; b < depth; b++) {
      const p = `blocks.${stage + 1}.res_blocks.${b}`;
      const inC = b === 0 ? c : out;
      if (b === 0) state.set(`${p}.branch1_conv.weight`, [out, inC, 1, 1, 1]);
      if (b === 0 && inC !== out) bn(`${p}.branch1_norm`, out);
      state.set(`${p}.branch2.conv_a.weight`, [inner, inC, 1, 1, 1]);
      bn(`${p}.branch2.norm_a`, inner);
      state.set(`${p}.branch2.conv_b.weight`, [inner, 1, 3, 3, 3]);
      bn(`${p}.branch2.norm_b.0`, inner);
      if (b % 2 === 0) {
        const r = seWidth(inner);
        state.set(`${p}.branch2.norm_b.1.block.0.weight`, [r, inner, 1, 1, 1]);
        state.set(`${p}.branch2.norm_b.1.block.0.bias`, [r]);
        state.set(`${p}.branch2.norm_b.1.block.2.weight`, [inner, r, 1, 1, 1]);
        state.set(`${p}.branch2.norm_b.1.block.2.bias`, [inner]);
      }
      state.set(`${p}.branch2.conv_c.weight`, [out, inner, 1, 1, 1]);
      bn(`${p}.branch2.norm_c`, out);
    }
    c = out;
  });
  state.set('blocks.5.pool.pre_conv.weight', [inner, c, 1, 1, 1]);
  bn('blocks.5.pool.pre_norm', inner);
  state.set('blocks.5.pool.post_conv.weight', [fc, inner, 1, 1, 1]);
  state.set('blocks.5.proj.weight', [classes, fc]);
  state.set('blocks.5.proj.bias', [classes]);
  return state;
}

const parameterCount = (state: Map<string, number[]>) =>
  [...state].filter(([name]) => !/running_|num_batches/.test(name)).reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);

/**
 * X3D-S's parameter count with 400 classes, from an independent PyTorch build of the architecture
 * with pytorchvideo's names (`python3 bench/peer_torch.py '{"model":"x3d-s","classes":400,"width":1,
 * "fc":2048,"frames":13,"size":160,"threads":1,"state":true}'` prints it; pytorchvideo's model zoo
 * gives 3.79M for X3D-S).
 */
const X3D_S_PARAMETERS = 3_794_274;

/** 4 frames of 32x32, width 1/8 (stem 4 channels), a 16-wide head: milliseconds a step. */
const tiny = (classes = 3, width = 0.125): ModelConfig => ({ model: 'x3d-s', classes: Array.from({ length: classes }, (_, i) => `c${i}`), frames: 4, size: 32, width, fc: 16 });
const clipLength = (c: ModelConfig) => c.frames * 3 * c.size * c.size;


const dir = tempDir('mvclass-x3d-');

describe('X3D layers against TypeScript references', () => {
  it('depthwise conv3d (groups = channels), 3x3x3 with spatial stride 2 and the stem\'s 5x1x1', () => {
    const x = rand(3 * 5 * 6 * 6, 1);
    const k = rand(3 * 3 * 3 * 3, 2);
    const r = nnAddon().applyLayer({ op: 'conv3d', input: x, inputShape: [1, 3, 5, 6, 6], weight: k, weightShape: [3, 1, 3, 3, 3], bias: new Float32Array(3), stride: [1, 2, 2], padding: [1, 1, 1], groups: 3 });
    expect(r.shape).toEqual([1, 3, 5, 3, 3]);
    expectClose(r.data, depthwiseRef(x, [3, 5, 6, 6], k, [3, 3, 3], [1, 2, 2], [1, 1, 1]));
    const k5 = rand(3 * 5, 3);
    const t = nnAddon().applyLayer({ op: 'conv3d', input: x, inputShape: [1, 3, 5, 6, 6], weight: k5, weightShape: [3, 1, 5, 1, 1], bias: new Float32Array(3), stride: [1, 1, 1], padding: [2, 0, 0], groups: 3 });
    expect(t.shape).toEqual([1, 3, 5, 6, 6]);
    expectClose(t.data, depthwiseRef(x, [3, 5, 6, 6], k5, [5, 1, 1], [1, 1, 1], [2, 0, 0]));
    // Not a full convolution: channel 0's output does not move when channel 1's input does.
    const moved = x.slice();
    for (let i = 5 * 36; i < 2 * 5 * 36; i++) moved[i]! += 1;
    const again = nnAddon().applyLayer({ op: 'conv3d', input: moved, inputShape: [1, 3, 5, 6, 6], weight: k, weightShape: [3, 1, 3, 3, 3], bias: new Float32Array(3), stride: [1, 2, 2], padding: [1, 1, 1], groups: 3 });
    expect(Array.from(again.data.subarray(0, 45))).toEqual(Array.from(r.data.subarray(0, 45)));
    expect(() => nnAddon().applyLayer({ op: 'conv3d', input: x, inputShape: [1, 3, 5, 6, 6], weight: k, weightShape: [3, 1, 3, 3, 3], bias: new Float32Array(3), groups: 0 })).toThrow(
      new TypeError('option groups must be an integer of at least 1'),
    );
  });

  it('squeeze-excitation: x times sigmoid(expand(relu(reduce(mean over T, H, W)))) per channel', () => {
    const [b, c, r, t, h, w] = [2, 4, 2, 3, 2, 3];
    const vol = t * h * w;
    const x = rand(b * c * vol, 4).map((v) => 3 * v);
    const w1 = rand(r * c, 5);
    const b1 = rand(r, 6);
    const w2 = rand(c * r, 7).map((v) => 4 * v);
    const b2 = rand(c, 8);
    const out = nnAddon().applyLayer({ op: 'squeeze_excitation', input: x, inputShape: [b, c, t, h, w], weight: w1, weightShape: [r, c, 1, 1, 1], bias: b1, weight2: w2, weight2Shape: [c, r, 1, 1, 1], bias2: b2 });
    expect(out.shape).toEqual([b, c, t, h, w]);
    const expected: number[] = [];
    for (let n = 0; n < b; n++) {
      const mean = Array.from({ length: c }, (_, ch) => x.subarray((n * c + ch) * vol, (n * c + ch + 1) * vol).reduce((a, v) => a + v, 0) / vol);
      const hidden = Array.from({ length: r }, (_, j) => Math.max(0, b1[j]! + mean.reduce((a, m, ch) => a + w1[j * c + ch]! * m, 0)));
      const gate = Array.from({ length: c }, (_, ch) => sigmoid(b2[ch]! + hidden.reduce((a, v, j) => a + w2[ch * r + j]! * v, 0)));
      for (let ch = 0; ch < c; ch++) for (let i = 0; i < vol; i++) expected.push(x[(n * c + ch) * vol + i]! * gate[ch]!);
    }
    expectClose(out.data, expected);
    // The gates differ by channel and by clip (not a constant scale).
    const ratio = (i: number) => out.data[i]! / x[i]!;
    expect(Math.abs(ratio(0) - ratio(vol))).toBeGreaterThan(1e-3);
    expect(Math.abs(ratio(0) - ratio(c * vol))).toBeGreaterThan(1e-3);
  });

  it('Swish: x * sigmoid(x)', () => {
    const x = new Float32Array([-20, -3, -1, -0.25, 0, 0.25, 1, 3, 20]);
    const out = nnAddon().applyLayer({ op: 'swish', input: x, inputShape: [9] });
    expectClose(out.data, Array.from(x, (v) => v * sigmoid(v)), 1e-6);
    expect(out.data[4]).toBe(0);
    expect(out.data[1]).toBeLessThan(0); // not a ReLU: small negatives pass
  });
});

describe('X3D-S layout', () => {
  it("pytorchvideo's state dict names and shapes (width 1/8 and 1), its parameter count at width 1 with 400 classes, the clip input [T, 3, S, S]", { timeout: 30_000 }, async () => {
    const net = await CnnModel.create(tiny(), { threads: 1 });
    const state = await net.state();
    const expected = pytorchvideoState(0.125, 16, 3);
    expect(new Map(state.map((t) => [t.name, t.shape]))).toEqual(expected);
    expect(state.filter((t) => t.buffer).every((t) => /\.(running_mean|running_var|num_batches_tracked)$/.test(t.name))).toBe(true);
    expect(net.parameters).toBe(parameterCount(expected));
    expect(net.inputShape).toEqual([4, 3, 32, 32]);

    const full = await CnnModel.create({ ...tiny(400, 1), frames: 13, size: 160, fc: 2048 }, { threads: 1 });
    const fullState = pytorchvideoState(1, 2048, 400);
    expect(new Map((await full.state()).map((t) => [t.name, t.shape]))).toEqual(fullState);
    expect(parameterCount(fullState)).toBe(X3D_S_PARAMETERS);
    expect(full.parameters).toBe(X3D_S_PARAMETERS);
    expect(full.inputShape).toEqual([13, 3, 160, 160]);
    // Spot checks against pytorchvideo's x3d_s: stage widths 24/48/96/192, inner 54/108/216/432,
    // SE widths 8/8/16/32, branch1_norm only where the width changes (not in stage 1).
    expect(fullState.get('blocks.1.res_blocks.0.branch2.norm_b.1.block.0.weight')).toEqual([8, 54, 1, 1, 1]);
    expect(fullState.get('blocks.3.res_blocks.10.branch2.norm_b.1.block.2.weight')).toEqual([216, 16, 1, 1, 1]);
    expect(fullState.get('blocks.4.res_blocks.6.branch2.norm_b.1.block.0.weight')).toEqual([32, 432, 1, 1, 1]);
    expect(fullState.has('blocks.4.res_blocks.1.branch2.norm_b.1.block.0.weight')).toBe(false);
    expect(fullState.has('blocks.1.res_blocks.0.branch1_conv.weight')).toBe(true);
    expect(fullState.has('blocks.1.res_blocks.0.branch1_norm.weight')).toBe(false);
    expect(fullState.get('blocks.2.res_blocks.0.branch1_norm.running_var')).toEqual([48]);
    expect(fullState.get('blocks.5.pool.post_conv.weight')).toEqual([2048, 432, 1, 1, 1]);
    expect(MODELS).toContain('x3d-s');
    expect([...CLIP_MODELS]).toEqual(['cnn-lstm', 'x3d-s']);
  });

  it("initialisation: pytorchvideo's, but every residual branch's last batch norm (norm_c) starts at scale 0 (each block starts as its shortcut)", async () => {
    const state = await (await CnnModel.create(tiny(), { threads: 1, seed: 2 })).state();
    // The batch norms: the modules with running statistics (norm_b.1 holds squeeze-excitation's convolutions).
    const norms = state.filter((t) => t.name.endsWith('.running_mean')).map((t) => t.name.slice(0, -'running_mean'.length));
    const scales = state.filter((t) => norms.some((n) => t.name === `${n}weight`));
    const final = scales.filter((t) => t.name.endsWith('.branch2.norm_c.weight'));
    // 3 + 5 + 11 + 7 blocks; every other batch norm (stem, norm_a, norm_b.0, branch1_norm, the head's pre_norm) at 1.
    expect(final.length).toBe(26);
    expect(final.every((t) => t.values.every((v) => v === 0))).toBe(true);
    expect(scales.length).toBeGreaterThan(26);
    expect(scales.filter((t) => !final.includes(t)).every((t) => t.values.every((v) => v === 1))).toBe(true);
    expect(state.filter((t) => norms.some((n) => t.name === `${n}bias`)).every((t) => t.values.every((v) => v === 0))).toBe(true);
    // The convolutions are still He-initialised (not zero).
    expect(state.find((t) => t.name === 'blocks.2.res_blocks.0.branch2.conv_c.weight')!.values.some((v) => v !== 0)).toBe(true);
  });

  it('a clip of another length or side runs too (global pooling); the wrong input size is refused', async () => {
    const model = await CnnModel.create({ ...tiny(), frames: 3, size: 40 }, { threads: 1 });
    const p = await model.predict(rand(2 * 3 * 3 * 40 * 40, 3));
    expect(p.length).toBe(6);
    expect(Math.abs(p[0]! + p[1]! + p[2]! - 1)).toBeLessThan(1e-6);
    await expect(model.predict(rand(3 * 3 * 40 * 40 + 1, 3))).rejects.toThrow(/\[3, 3, 40, 40\]/);
  });
});

describe('X3D-S training maths', () => {
  it('input gradient matches finite differences (eval mode: batch norm from running statistics, no dropout)', { timeout: 30_000 }, async () => {
    const config = tiny();
    const model = await CnnModel.create(config, { seed: 5, threads: 1 });
    // A few steps first, so that batch norm's running statistics and the weights are not their initial ones.
    const warm = rand(4 * clipLength(config), 21).map((v) => 2 * v);
    for (let i = 0; i < 3; i++) await model.trainStep(warm, new Int32Array([0, 1, 2, 0]), 0.05);
    const x = rand(2 * clipLength(config), 12).map((v) => 2 * v);
    const labels = new Int32Array([0, 2]);
    await expectInputGradient(model, x, labels, { count: 10, floor: 1e-4, absolute: 1e-4 });
  });

  it('batch norm: a step updates the running statistics; prediction changes nothing, repeats exactly and does not depend on the batch', { timeout: 30_000 }, async () => {
    const config = tiny();
    const n = clipLength(config);
    const model = await CnnModel.create(config, { threads: 1, seed: 4 });
    const x = rand(4 * n, 11).map((v) => 2 * v);
    const before = await model.state();
    const p1 = await model.predict(x);
    expect(Array.from(await model.predict(x))).toEqual(Array.from(p1));
    expect(valuesOf(await model.state())).toEqual(valuesOf(before));
    for (let i = 0; i < 4; i++) {
      const alone = await model.predict(x.subarray(i * n, (i + 1) * n));
      alone.forEach((v, c) => expect(Math.abs(v - p1[i * 3 + c]!)).toBeLessThan(1e-6));
    }
    await model.trainStep(x, new Int32Array([0, 1, 2, 0]), 0.01);
    const after = byName(await model.state());
    for (const t of before) {
      if (t.name.endsWith('num_batches_tracked')) expect(Array.from(after.get(t.name)!.values), t.name).toEqual([1]);
      else if (/running_(mean|var)$/.test(t.name)) expect(Array.from(after.get(t.name)!.values), t.name).not.toEqual(Array.from(t.values));
    }
    const p2 = await model.predict(x);
    expect(Array.from(p2)).not.toEqual(Array.from(p1));
    expect(Array.from(await model.predict(x))).toEqual(Array.from(p2));
  });

  it('learns: Adam fits a fixed batch of 8 random clips with 4 labels (loss from ln 4 to under 0.5 in 40 steps)', { timeout: 30_000 }, async () => {
    const config = { ...tiny(4, 0.25), fc: 128 };
    const model = await CnnModel.create(config, { threads: 1, seed: 3, optimizer: 'adam' });
    const x = rand(8 * clipLength(config), 31);
    const y = new Int32Array([0, 1, 2, 3, 0, 1, 2, 3]);
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) losses.push((await model.trainStep(x, y, 0.001)).loss);
    expect(Math.abs(losses[0]! - Math.log(4))).toBeLessThan(0.1);
    expect(losses.at(-1)!).toBeLessThan(0.5);
  });

  it('exact resume: N steps, save, load into a fresh network, M steps = N + M steps, bit for bit (running statistics, dropout draws, optimiser)', { timeout: 30_000 }, async () => {
    const config = tiny();
    const x = rand(6 * clipLength(config), 5).map((v) => 2 * v);
    const y = new Int32Array([0, 1, 2, 2, 1, 0]);
    await expectExactResume((seed) => CnnModel.create(config, { threads: 1, seed, optimizer: 'adam' }), x, y, 0.001, path.join(dir, 'x3d.pt'), 'blocks.4.res_blocks.6.branch2.norm_c.num_batches_tracked');
  });
});

describe('pytorchvideo weight files', () => {
  it('export then import into a fresh network: the same state and scores; another class count replaces blocks.5.proj; a wrong shape is refused naming the tensor', { timeout: 30_000 }, async () => {
    const config = tiny();
    const x = rand(3 * clipLength(config), 8).map((v) => 2 * v);
    const a = await CnnModel.create(config, { threads: 1, seed: 1 });
    for (let i = 0; i < 3; i++) await a.trainStep(x, new Int32Array([0, 1, 2]), 0.05);
    const file = path.join(dir, 'x3d_s.pth');
    await a.exportWeights(file);
    const b = await CnnModel.create(config, { threads: 1, seed: 2 });
    expect(Array.from(await b.predict(x))).not.toEqual(Array.from(await a.predict(x)));
    const tensors = (await a.state()).length;
    expect(await b.importWeights(file)).toEqual({ loaded: tensors, skipped: 0 });
    expect(valuesOf(await b.state())).toEqual(valuesOf(await a.state()));
    expect(Array.from(await b.predict(x))).toEqual(Array.from(await a.predict(x)));
    // Fine-tuning from Kinetics-400 weights: every tensor but the projection's weight and bias.
    const c = await CnnModel.create(tiny(5), { threads: 1 });
    expect(await c.importWeights(file)).toEqual({ loaded: tensors - 2, skipped: 2 });

    const wider = await CnnModel.create(tiny(3, 0.25), { threads: 1 });
    const untouched = Array.from(await wider.predict(rand(clipLength(config), 3)));
    await expect(wider.importWeights(file)).rejects.toThrow(
      `${file}: cannot import weights: blocks.0.conv.conv_t.weight is [4, 3, 1, 3, 3] in the file but [6, 3, 1, 3, 3] in this network (another depth, width or input size?)`,
    );
    expect(Array.from(await wider.predict(rand(clipLength(config), 3)))).toEqual(untouched);
    const resnet = await CnnModel.create({ model: 'resnet18', classes: ['a', 'b', 'c'], frames: 1, size: 32, width: 0.125, fc: 1 }, { threads: 1 });
    await expect(resnet.importWeights(file)).rejects.toThrow(`${file}: cannot import weights: ${file}: no tensor matched this network's parameter names`);
  });
});

describe('training from decoded-frame clips', () => {
  // The command line end to end on the synthetic action set's first four classes (40 clips of 1 s
  // each, a quarter held out) prepared with 4-frame clips at short side 64 (86x64 frames): train
  // takes the clips (T from the cache), eval scores them. Not a learning test: in the budgets tried
  // on 2 shared cores (100-200 Adam iterations, 47-90 s) x3d-s stayed at chance on this set
  // (held-out 25-30%, training loss at ln 4; docs/training.md), while the test above shows it fits.
  it('mvclass train --model x3d-s on a cache with clips, then eval: the run records the clip shape, eval scores every held-out clip', { timeout: 180_000 }, async () => {
    const set = await actionSet(); // test/support/actionset.ts
    const cache = path.join(dir, 'clips');
    await prepareDataset(await openDataset(set, { testFraction: 0.25 }), cache, { qp: 30, keySize: '112x112', rgb: 4, shortSide: 64 });
    const out = path.join(dir, 'x3d-run');
    const train = await cli(['train', '--model', 'x3d-s', '--data', cache, '-o', out, '--iterations', String(ITERATIONS), '--batch', '8', '--optimizer', 'adam', '--lr', '0.001', '--seed', '1',
      '--size', '56', '--width', '0.125', '--fc', '64', '--threads', '1', '--val-every', '0', '--json'], 150_000);
    expect(train.stderr).toBe('');
    expect(train.code).toBe(0);
    const result = JSON.parse(train.stdout) as { iterations: number; finalLoss: number };
    expect(result.iterations).toBe(ITERATIONS);
    expect(Number.isFinite(result.finalLoss)).toBe(true);
    const run = await readRun(out);
    expect(run.config).toMatchObject({ model: 'x3d-s', frames: 4, size: 56, width: 0.125, fc: 64 });
    expect(run.config.backbone).toBeUndefined();
    const model = await CnnModel.open(out, { threads: 1 });
    expect(model.inputShape).toEqual([4, 3, 56, 56]);
    const evaluated = await cli(['eval', '--run', out, '--data', cache, '--split', 'test', '--threads', '1', '--json'], 120_000);
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(evaluated.stdout) as { top1: number; videos: number; model: string };
    console.log(`x3d-s on synthetic clips: ${ITERATIONS} iterations, last loss ${result.finalLoss.toFixed(3)}; held-out top-1 ${(100 * report.top1).toFixed(1)}% (${report.videos} clips, chance 25%)`);
    expect(report.model).toBe('x3d-s');
    expect(report.videos).toBe(40);
    expect(report.top1).toBeGreaterThanOrEqual(0);
  });

  it('--backbone is refused for x3d-s (it has none)', async () => {
    const r = await cli(['train', '--model', 'x3d-s', '--backbone', 'resnet18', '--data', path.join(dir, 'clips'), '-o', path.join(dir, 'bb')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("mvclass: --backbone is cnn-lstm's; x3d-s has none");
  });
});
