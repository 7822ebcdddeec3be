// The nn addon checks what JavaScript hands it: an option or argument of the wrong type is a
// TypeError and one out of range a RangeError, naming it, instead of a silent default or a
// typed array read as another element type.

import { describe, expect, it } from 'vitest';
import { nnAddon, type NativeSession } from '../../src/nn/native.js';

const base = { model: 'mv3d', classes: 2, frames: 4, size: 8, width: 0.125, fc: 8, threads: 1, seed: 1 };

describe('nn addon arguments', () => {
  it('createSession refuses wrong-typed and out-of-range options, naming them', () => {
    const nn = nnAddon();
    expect(() => nn.createSession({ ...base, classes: '3' })).toThrow(new TypeError('option classes must be a number'));
    expect(() => nn.createSession({ ...base, seed: 'x' })).toThrow(new TypeError('option seed must be a number'));
    expect(() => nn.createSession({ ...base, device: 1 })).toThrow(new TypeError('option device must be a string'));
    expect(() => nn.createSession({ ...base, momentum: true })).toThrow(new TypeError('option momentum must be a number'));
    expect(() => nn.createSession({ ...base, frames: 2.5 })).toThrow(RangeError);
    expect(() => nn.createSession({ ...base, frames: 2.5 })).toThrow(/option frames must be an integer from 1 to 65536, got 2\.5/);
    expect(() => nn.createSession({ ...base, seed: -1 })).toThrow(/option seed must be an integer from 0 to 9007199254740991, got -1/);
    expect(() => nn.createSession({ ...base, threads: 2000 })).toThrow(/option threads must be an integer from 0 to 1024/);
    expect(() => nn.createSession({ ...base, clipNorm: Number.NaN })).toThrow(/option clipNorm must be a finite number of at least 0, got NaN/);
    expect(() => nn.createSession({ ...base, weightDecay: -0.1 })).toThrow(RangeError);
    expect(() => nn.createSession({ ...base, width: 0 })).toThrow(/option width must be above 0/);
  });

  it('session methods check their arguments before queuing any work', async () => {
    const session: NativeSession = await nnAddon().createSession(base);
    const x = new Float32Array(2 * 4 * 8 * 8);
    const y = new Int32Array([0]);
    const call = (name: string, ...args: unknown[]) => () => (session as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
    expect(call('save', 42)).toThrow(new TypeError('save(path: string)'));
    expect(call('save', '')).toThrow(new TypeError('save(path: string)'));
    expect(call('load')).toThrow(new TypeError('load(path: string)'));
    expect(call('load', { toString: () => '/etc/passwd' })).toThrow(new TypeError('load(path: string)'));
    expect(call('importWeights', null)).toThrow(new TypeError('importWeights(path: string)'));
    expect(call('exportWeights', 1)).toThrow(new TypeError('exportWeights(path: string)'));
    expect(call('inputGradient', x)).toThrow(new TypeError('inputGradient(data: Float32Array, labels: Int32Array)'));
    expect(call('inputGradient', x, new Float32Array([0]))).toThrow(new TypeError('inputGradient(data: Float32Array, labels: Int32Array)'));
    expect(call('inputGradient', new Float64Array(x.length), y)).toThrow(TypeError);
    expect(call('inputGradient', x, new Int32Array([0, 1]))).toThrow(new RangeError('a batch of 1 inputs needs as many labels, got 2'));
    expect(call('inputGradient', x, new Int32Array([5]))).toThrow(new RangeError('label 5 is outside 0..1'));
    expect(call('trainStep', new Float64Array(x.length), y, 0.1)).toThrow(TypeError);
    expect(call('trainStep', x, new Uint32Array([0]), 0.1)).toThrow(TypeError);
    expect(call('trainStep', x, y, Number.NaN)).toThrow(RangeError);
    expect(call('predict', new Uint8Array(x.length * 4))).toThrow(new TypeError('predict(data: Float32Array)'));
    // None of the refusals left the session busy.
    const gradient = await session.inputGradient(x, y);
    expect(gradient.gradient.length).toBe(x.length);
    expect((await session.predict(x)).length).toBe(2);
  });

  it('applyLayer refuses tensors whose values do not fill their shapes', () => {
    const nn = nnAddon();
    const input = new Float32Array(4);
    expect(() => nn.applyLayer({ op: 'linear', input, inputShape: [1, 4], weight: new Float32Array(8), weightShape: [3, 4], bias: new Float32Array(3) })).toThrow(
      new RangeError('weight: 8 values do not fill its shape'),
    );
    expect(() => nn.applyLayer({ op: 'softmax', input, inputShape: [2, 4] })).toThrow(new RangeError('input: 4 values do not fill its shape'));
    expect(() => nn.applyLayer({ op: 'linear', input, inputShape: [1, 4], weight: new Float32Array(12), weightShape: [3, 4], bias: new Float32Array(2) })).toThrow(
      new RangeError('bias: 2 values do not fill its shape'),
    );
    expect(() => nn.applyLayer({ op: 'softmax', input: [1, 2] as unknown as Float32Array, inputShape: [2] })).toThrow(new TypeError('option input must be a Float32Array'));
    expect(nn.applyLayer({ op: 'softmax', input: new Float32Array([0, 0]), inputShape: [1, 2] }).data).toEqual(new Float32Array([0.5, 0.5]));
  });
});
