// The network's building blocks against direct TypeScript implementations (1e-4), a gradient
// check through a whole network, and weights round-tripped through torchvision's file format.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnnModel } from '../../src/index.js';
import { nnAddon } from '../../src/nn/native.js';
import { tempDir } from '../setup/helpers.js';
import { expectInputGradient } from '../support/gradient.js';

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return new Float32Array(n).map(() => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

function expectClose(actual: Float32Array, expected: number[], tolerance = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i]! - e), `element ${i}`).toBeLessThan(tolerance));
}

/** Direct N-d convolution (cross-correlation) with stride and zero padding, batch 1. */
function convRef(x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array, stride: number[], pad: number[]): number[] {
  const cin = xs[1]!;
  const cout = ws[0]!;
  const inSp = xs.slice(2);
  const k = ws.slice(2);
  const inVol = inSp.reduce((a, n) => a * n, 1);
  const kVol = k.reduce((a, n) => a * n, 1);
  const outSp = inSp.map((n, i) => Math.floor((n + 2 * pad[i]! - k[i]!) / stride[i]!) + 1);
  const flat = (p: number[], dims: number[]) => p.reduce((a, v, i) => a * dims[i]! + v, 0);
  // Every index tuple of `dims`, in row-major order.
  const tuples = (dims: number[]): number[][] =>
    dims.reduce<number[][]>((acc, n) => acc.flatMap((t) => Array.from({ length: n }, (_, v) => [...t, v])), [[]]);
  const out: number[] = [];
  for (let o = 0; o < cout; o++) {
    for (const op of tuples(outSp)) {
      let s = b[o]!;
      for (let c = 0; c < cin; c++) {
        for (const kp of tuples(k)) {
          const ip = op.map((v, i) => v * stride[i]! - pad[i]! + kp[i]!);
          if (ip.some((v, i) => v < 0 || v >= inSp[i]!)) continue;
          s += x[c * inVol + flat(ip, inSp)]! * w[(o * cin + c) * kVol + flat(kp, k)]!;
        }
      }
      out.push(s);
    }
  }
  return out;
}

describe('layers against a TypeScript reference', () => {
  const nn = () => nnAddon();

  it('conv3d with stride (2,1,1) and padding 1, and conv2d with padding 2', () => {
    const x = rand(1 * 2 * 5 * 4 * 4, 1);
    const w = rand(3 * 2 * 3 * 3 * 3, 2);
    const b = rand(3, 3);
    const r = nn().applyLayer({ op: 'conv3d', input: x, inputShape: [1, 2, 5, 4, 4], weight: w, weightShape: [3, 2, 3, 3, 3], bias: b, stride: [2, 1, 1], padding: [1, 1, 1] });
    expect(r.shape).toEqual([1, 3, 3, 4, 4]);
    expectClose(r.data, convRef(x, [1, 2, 5, 4, 4], w, [3, 2, 3, 3, 3], b, [2, 1, 1], [1, 1, 1]));
    const x2 = rand(1 * 3 * 6 * 6, 4);
    const w2 = rand(2 * 3 * 5 * 5, 5);
    const b2 = rand(2, 6);
    const r2 = nn().applyLayer({ op: 'conv2d', input: x2, inputShape: [1, 3, 6, 6], weight: w2, weightShape: [2, 3, 5, 5], bias: b2, stride: [1, 1], padding: [2, 2] });
    expectClose(r2.data, convRef(x2, [1, 3, 6, 6], w2, [2, 3, 5, 5], b2, [1, 1], [2, 2]));
  });

  it("mv3d's own 2x2x2 max-pool (native/nn/kernels.cc) gives libtorch's values and sends the gradient where libtorch's does: ties, NaN, infinities, odd and unit sizes, row ends", () => {
    // Each shape's last axis leaves whole four-window runs (the vector path) and a rest (the scalar one).
    for (const shape of [[2, 3, 6, 24, 24], [1, 2, 5, 7, 19], [1, 1, 1, 1, 1], [2, 1, 3, 1, 9], [1, 2, 4, 6, 8]]) {
      const n = shape.reduce((a, b) => a * b);
      for (const kind of ['random', 'ties', 'special']) {
        // Rounded values give many equal maxima in a window; the first in scan order must win.
        const x = rand(n, n + kind.length).map((v) => (kind === 'random' ? v : Math.round(v * 4)));
        if (kind === 'special') for (let i = 0; i < n; i++) x[i] = i % 7 === 0 ? NaN : i % 11 === 3 ? -Infinity : i % 13 === 5 ? Infinity : x[i]!;
        const ours = nn().applyLayer({ op: 'maxpool2x2x2', input: x, inputShape: shape });
        const torch = nn().applyLayer({ op: 'maxpool3d', input: x, inputShape: shape, kernel: [2, 2, 2], stride: [2, 2, 2] });
        const label = `${shape.join('x')} ${kind}`;
        expect(ours.shape, label).toEqual(torch.shape);
        expect(ours.shape.slice(2), label).toEqual(shape.slice(2).map((d) => Math.ceil(d / 2)));
        expect(Array.from(ours.data), label).toEqual(Array.from(torch.data)); // NaN equals NaN here, and -0 differs from 0
        // A distinct gradient per output: the input's gradient says which element each window chose.
        const upstream = new Float32Array(ours.data.length).map((_, i) => i + 1);
        const g = nn().applyLayer({ op: 'maxpool2x2x2_grad', input: x, inputShape: shape, weight: upstream });
        const gt = nn().applyLayer({ op: 'maxpool3d_grad', input: x, inputShape: shape, kernel: [2, 2, 2], stride: [2, 2, 2], weight: upstream });
        expect(g.shape, label).toEqual(shape);
        expect(Array.from(g.data), label).toEqual(Array.from(gt.data));
        expect(g.data.filter((v) => v !== 0).length, label).toBe(ours.data.length);
      }
    }
    expect(() => nn().applyLayer({ op: 'maxpool2x2x2_grad', input: rand(8, 1), inputShape: [1, 1, 2, 2, 2], weight: new Float32Array(2) })).toThrow(/maxpool2x2x2_grad: weight must hold the output's gradient, 1 values/);
  });

  it("mv3d's PReLU backward (native/nn/kernels.cc) gives libtorch's gradients bit for bit, the input's and the shared weight's: signs, zeros, NaN, infinities, tails", () => {
    for (const shape of [[2, 4, 3, 5, 7], [16, 33], [1, 1, 1, 1, 3], [3, 2, 4, 9, 9], [2, 16, 8, 12, 12]]) {
      const n = shape.reduce((a, b) => a * b);
      for (const kind of ['random', 'special']) {
        const special = [0, -0, NaN, Infinity, -Infinity];
        const x = rand(n, n + kind.length).map((v, i) => (kind === 'special' && i % 9 < special.length ? special[i % 9]! : v * 8));
        const upstream = rand(n, n + 7);
        const weight = new Float32Array([0.25 + n / 1e5]);
        const ours = nn().applyLayer({ op: 'shared_prelu_grad', input: x, inputShape: shape, weight, weight2: upstream });
        const torch = nn().applyLayer({ op: 'prelu_grad', input: x, inputShape: shape, weight, weight2: upstream });
        const label = `${shape.join('x')} ${kind}`;
        expect(ours.data.length, label).toBe(n + 1);
        expect(Array.from(ours.data), label).toEqual(Array.from(torch.data));
        if (kind === 'random') expect(Number.isFinite(ours.data[n]!) && ours.data[n] !== 0, label).toBe(true);
      }
    }
  });

  it("x3d-s's depthwise 3D convolution (native/nn/kernels.cc) gives libtorch's output and gradients up to rounding: its two shapes, strides 1 and 2, odd and unit sizes, kernels wider than the input", () => {
    // [input shape, kernel, stride, padding]: x3d-s's 3x3x3 (stride 1 and (1, 2, 2)) and its stem's
    // 5x1x1 over time, then edges: odd sides (stride 2 leaves the last column out), a 1x1 plane,
    // rows shorter than one vector (4) and longer than several, a kernel wider than the unpadded input.
    const cases: Array<[number[], number[], number[], number[]]> = [
      [[2, 3, 4, 8, 8], [3, 3, 3], [1, 1, 1], [1, 1, 1]],
      [[2, 3, 4, 9, 11], [3, 3, 3], [1, 2, 2], [1, 1, 1]],
      [[3, 5, 6, 7, 13], [5, 1, 1], [1, 1, 1], [2, 0, 0]],
      [[1, 2, 3, 1, 1], [3, 3, 3], [1, 1, 1], [1, 1, 1]],
      [[1, 4, 2, 2, 3], [3, 3, 3], [1, 2, 2], [1, 1, 1]],
      [[2, 2, 5, 6, 37], [3, 3, 3], [2, 1, 3], [0, 1, 2]],
    ];
    for (const [shape, kernel, stride, padding] of cases) {
      const [n, c] = shape as [number, number];
      const x = rand(shape.reduce((a, b) => a * b), shape.length * 7 + shape[4]!).map((v) => v * 4);
      const weightShape = [c, 1, ...kernel];
      const w = rand(weightShape.reduce((a, b) => a * b), 3 + c);
      const label = `${shape.join('x')} k${kernel.join('')} s${stride.join('')} p${padding.join('')}`;
      // The forward alone, against the direct TypeScript convolution of each channel.
      const forward = nn().applyLayer({ op: 'depthwise3d', input: x, inputShape: shape, weight: w, weightShape, stride, padding });
      const out = forward.shape.slice(2);
      expect(out, label).toEqual(shape.slice(2).map((d, i) => Math.floor((d + 2 * padding[i]! - kernel[i]!) / stride[i]!) + 1));
      const vol = shape.slice(2).reduce((a, b) => a * b), outVol = out.reduce((a, b) => a * b), kVol = kernel.reduce((a, b) => a * b);
      const expected: number[] = [];
      for (let s = 0; s < n * c; s++) {
        const ch = s % c;
        expected.push(...convRef(x.subarray(s * vol, (s + 1) * vol), [1, 1, ...shape.slice(2)], w.subarray(ch * kVol, (ch + 1) * kVol), [1, 1, ...kernel], new Float32Array(1), stride, padding));
      }
      expectClose(forward.data, expected);
      // With the gradients: output, input's gradient, weight's gradient, against libtorch's conv3d (groups = C).
      const upstream = rand(n * c * outVol, 11 + c);
      const ours = nn().applyLayer({ op: 'depthwise3d_grad', input: x, inputShape: shape, weight: w, weightShape, weight2: upstream, stride, padding });
      const torch = nn().applyLayer({ op: 'conv3d_grad', input: x, inputShape: shape, weight: w, weightShape, weight2: upstream, stride, padding });
      expect(ours.data.length, label).toBe(n * c * (outVol + vol) + w.length);
      expectClose(ours.data, Array.from(torch.data), 1e-4);
      // Not all zero: every part carries values (the weight's gradient sums over the whole batch).
      for (const [from, to] of [[0, n * c * outVol], [n * c * outVol, n * c * (outVol + vol)], [n * c * (outVol + vol), ours.data.length]]) {
        expect(ours.data.subarray(from, to).some((v) => Math.abs(v) > 1e-3), label).toBe(true);
      }
    }
    expect(() => nn().applyLayer({ op: 'depthwise3d', input: rand(8, 1), inputShape: [1, 1, 2, 2, 2], weight: rand(27, 2), weightShape: [2, 1, 3, 3, 3], stride: [1, 1, 1], padding: [1, 1, 1] })).toThrow(
      /depthwise3d needs inputShape \[N, C, T, H, W\] and weightShape \[C, 1, KT, KH, KW\]/,
    );
  });

  it('max pooling (3D with ceil mode as mv3d uses it, 2D 3x3 stride 2), linear, softmax, PReLU', () => {
    const x = rand(1 * 1 * 3 * 4 * 5, 7);
    const p = nn().applyLayer({ op: 'maxpool3d', input: x, inputShape: [1, 1, 3, 4, 5], kernel: [2, 2, 2], stride: [2, 2, 2] });
    expect(p.shape).toEqual([1, 1, 2, 2, 3]); // ceil mode keeps the partial windows
    const at = (d: number, h: number, w: number) => x[(d * 4 + h) * 5 + w]!;
    const ref: number[] = [];
    for (let d = 0; d < 2; d++) {
      for (let h = 0; h < 2; h++) {
        for (let w = 0; w < 3; w++) {
          let m = -Infinity;
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) if (2 * d + a < 3 && 2 * w + c < 5) m = Math.max(m, at(2 * d + a, 2 * h + b, 2 * w + c));
          ref.push(m);
        }
      }
    }
    expectClose(p.data, ref);
    const x2 = rand(7 * 7, 8);
    const p2 = nn().applyLayer({ op: 'maxpool2d', input: x2, inputShape: [1, 1, 7, 7], kernel: [3, 3], stride: [2, 2] });
    const ref2: number[] = [];
    for (let h = 0; h < 3; h++) for (let w = 0; w < 3; w++) ref2.push(Math.max(...[0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => x2[(2 * h + a) * 7 + 2 * w + b]!))));
    expectClose(p2.data, ref2);
    const xl = rand(2 * 4, 9);
    const wl = rand(3 * 4, 10);
    const bl = rand(3, 11);
    const l = nn().applyLayer({ op: 'linear', input: xl, inputShape: [2, 4], weight: wl, weightShape: [3, 4], bias: bl });
    expectClose(l.data, [0, 1].flatMap((n) => [0, 1, 2].map((o) => bl[o]! + [0, 1, 2, 3].reduce((s, i) => s + xl[n * 4 + i]! * wl[o * 4 + i]!, 0))));
    const s = nn().applyLayer({ op: 'softmax', input: new Float32Array([1, 2, 3, -1]), inputShape: [1, 4] });
    const e = [1, 2, 3, -1].map(Math.exp);
    expectClose(s.data, e.map((v) => v / e.reduce((a, b) => a + b)));
    const pr = nn().applyLayer({ op: 'prelu', input: new Float32Array([-2, -0.5, 0, 1.5]), inputShape: [4], weight: new Float32Array([0.25]) });
    expectClose(pr.data, [-0.5, -0.125, 0, 1.5]);
  });
});

describe('whole networks', () => {
  it('the input gradient of mv3d matches central finite differences', async () => {
    const model = await CnnModel.create({ model: 'mv3d', classes: ['a', 'b', 'c'], frames: 4, size: 8, width: 0.0625, fc: 8 }, { seed: 5, threads: 1 });
    const x = rand(2 * 2 * 4 * 8 * 8, 12).map((v) => v * 4);
    const labels = new Int32Array([0, 2]);
    await expectInputGradient(model, x, labels, { count: 10, floor: 1e-4, absolute: 1e-3 });
  });

  it('vgg16 weights written in torchvision format import into a fresh network', async () => {
    const config = { model: 'vgg16' as const, classes: ['a', 'b'], frames: 1, size: 32, width: 0.125, fc: 16 };
    const a = await CnnModel.create(config, { seed: 1 });
    const b = await CnnModel.create(config, { seed: 2 });
    const file = path.join(tempDir(), 'vgg16.pth');
    await a.exportWeights(file);
    const x = rand(2 * 3 * 32 * 32, 13);
    expect(Array.from(await b.predict(x))).not.toEqual(Array.from(await a.predict(x)));
    expect(await b.importWeights(file)).toEqual({ loaded: 32, skipped: 0 }); // 16 layers x (weight, bias)
    expect(Array.from(await b.predict(x))).toEqual(Array.from(await a.predict(x)));
    // Another class count: every layer but the last is taken (fine-tuning from ImageNet weights).
    const c = await CnnModel.create({ ...config, classes: ['a', 'b', 'c'] });
    expect(await c.importWeights(file)).toEqual({ loaded: 30, skipped: 2 });
  });
});
