// bench/x3d-reference: x3d-s against an independent PyTorch build of the same network
// (bench/x3d_reference.py, on peer_torch.py's X3d), on the same batches from the same weights.
// This side writes, into <out>:
//   init.pt                 our initial weights (exportWeights: torch.save(dict(state_dict())) format)
//   batches.npy, labels.npy the first <steps> training batches of our clip loader, as trainModel
//                           draws them (trainingBatches: jitter, crop, flip, ImageNet normalisation),
//                           concatenated; steps.json gives each step's batch size and learning rate
//   views-{train,test}.npy  the centre-crop test view of every training and test clip (what
//                           `eval --views 1x1` scores), labels-{train,test}.npy
//   sgd1.pt                 the weights after one plain SGD step (momentum and weight decay 0) at
//                           learning rate GRAD_LR from init.pt on the first batch: (init - sgd1) /
//                           GRAD_LR is our gradient of every parameter, and its buffers our batch
//                           norm statistics after one training-mode forward
//   adam20.pt, final.pt     the weights after 20 and after <steps> Adam steps on the batches
//   ours.json               our losses, gradient norms, times and the final top-1 on both view sets
// Then bench/x3d_reference.py (run by this script) repeats all of it in PyTorch and compares.
// Run: npm run build:ts && node dist/bench/x3d-reference.js <cache> <out> [steps] [seed]
// Settings from the environment: WIDTH (0.125), FC (128), SIZE (64), BATCH (8), LR (0.001),
// CLIP (10, the default clip norm), THREADS (2; 1 makes both sides sum in the same order),
// MVX3D_DROPOUT: the head dropout of the addon under test, which PyTorch's head then uses (0.5,
// x3d-s's). Each side draws its own dropout masks, so steps 1 and 2 match exactly only at 0: the
// checks in docs/training.md ("X3D-S from scratch") ran on a scratch build of native/nn that read
// its dropout from this variable, set to 0.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PreparedCache } from '../src/cache/read.js';
import { CnnModel } from '../src/nn/model.js';
import { testBatch, trainingBatches } from '../src/nn/inputs.js';
import type { ModelConfig } from '../src/run/format.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const GRAD_LR = 1e4;

/** A .npy file (format 1.0) of a little-endian float32 or int32 array. */
function writeNpy(file: string, data: Float32Array | Int32Array, shape: number[]): void {
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix.writeUInt8(1, 6);
  prefix.writeUInt8(0, 7);
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function views(cache: PreparedCache, config: ModelConfig, out: string, name: string): Promise<{ data: Float32Array; labels: Int32Array }> {
  const parts: Float32Array[] = [];
  const labels = new Int32Array(cache.length);
  for (let i = 0; i < cache.length; i++) {
    parts.push(await testBatch(cache, i, config, 1, 1));
    labels[i] = cache.label(i);
  }
  const data = concat(parts);
  writeNpy(path.join(out, `views-${name}.npy`), data, [cache.length, config.frames, 3, config.size, config.size]);
  writeNpy(path.join(out, `labels-${name}.npy`), labels, [cache.length]);
  return { data, labels };
}

async function top1(model: CnnModel, set: { data: Float32Array; labels: Int32Array }, classes: number): Promise<number> {
  const p = await model.predict(set.data);
  let correct = 0;
  for (let i = 0; i < set.labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[i * classes + c]! > p[i * classes + best]!) best = c;
    if (best === set.labels[i]) correct++;
  }
  return correct / set.labels.length;
}

async function main(): Promise<void> {
  const [data, out, stepsArg, seedArg] = process.argv.slice(2);
  if (!data || !out) throw new Error('usage: node dist/bench/x3d-reference.js <cache> <out> [steps] [seed]');
  const steps = Number(stepsArg ?? 400);
  const seed = Number(seedArg ?? 1);
  const env = (name: string, fallback: number) => (process.env[name] === undefined ? fallback : Number(process.env[name]));
  const threads = env('THREADS', 2);
  const batch = env('BATCH', 8);
  const lr = env('LR', 0.001);
  const clipNorm = env('CLIP', 10);
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
    throw new Error("the PyTorch side needs Debian's python3-torch: apt-get install python3-torch (or npm run bench:nn, which installs it)");
  }
  mkdirSync(out, { recursive: true });
  const cache = await PreparedCache.open(data);
  const train = cache.subset('train');
  const test = cache.subset('test');
  const config: ModelConfig = { model: 'x3d-s', classes: cache.classes, frames: cache.manifest.settings.rgb!, size: env('SIZE', 64), width: env('WIDTH', 0.125), fc: env('FC', 128) };
  // trainModel's schedule: a linear warm-up over one epoch, then the base rate (no decay in this many steps).
  const warmup = Math.min(500, Math.ceil(train.length / batch));
  const rates = Array.from({ length: steps }, (_, i) => lr * Math.min(1, (i + 1) / (warmup + 1)));
  const batches: Array<{ data: Float32Array; labels: Int32Array }> = [];
  const loader = trainingBatches(train, config, batch, seed);
  for (let i = 0; i < steps; i++) batches.push((await loader.next()).value!);
  await loader.return(undefined);
  writeNpy(path.join(out, 'batches.npy'), concat(batches.map((b) => b.data)), [batches.reduce((n, b) => n + b.labels.length, 0), config.frames, 3, config.size, config.size]);
  const labels = new Int32Array(batches.reduce((n, b) => n + b.labels.length, 0));
  batches.reduce((at, b) => (labels.set(b.labels, at), at + b.labels.length), 0);
  writeNpy(path.join(out, 'labels.npy'), labels, [labels.length]);
  const trainViews = await views(train, config, out, 'train');
  const testViews = await views(test, config, out, 'test');
  await cache.close();

  // One plain SGD step at a large rate: the weights move by GRAD_LR times the gradient.
  const sgd = await CnnModel.create(config, { optimizer: 'sgd', momentum: 0, weightDecay: 0, clipNorm: 0, seed, threads });
  await sgd.exportWeights(path.join(out, 'init.pt'));
  const sgdStep = await sgd.trainStep(batches[0]!.data, batches[0]!.labels, GRAD_LR);
  await sgd.exportWeights(path.join(out, 'sgd1.pt'));

  const model = await CnnModel.create(config, { optimizer: 'adam', weightDecay: 0, clipNorm, seed, threads });
  const losses: number[] = [];
  const gradNorms: number[] = [];
  const started = performance.now();
  for (let i = 0; i < steps; i++) {
    const r = await model.trainStep(batches[i]!.data, batches[i]!.labels, rates[i]!);
    losses.push(r.loss);
    gradNorms.push(r.gradNorm);
    if (i + 1 === 20) await model.exportWeights(path.join(out, 'adam20.pt'));
  }
  const seconds = (performance.now() - started) / 1000;
  await model.exportWeights(path.join(out, 'final.pt'));
  const result = {
    config: { ...config, classes: config.classes.length }, seed, steps, batch, threads, clipNorm, gradLr: GRAD_LR, rates, sizes: batches.map((b) => b.labels.length),
    sgdLoss: sgdStep.loss, losses, gradNorms, seconds,
    top1: { train: await top1(model, trainViews, config.classes.length), test: await top1(model, testViews, config.classes.length) },
    dropout: Number(process.env.MVX3D_DROPOUT ?? 0.5),
  };
  writeFileSync(path.join(out, 'ours.json'), JSON.stringify(result));
  console.log(`ours: ${steps} Adam steps in ${seconds.toFixed(1)} s, loss ${losses.slice(0, 10).reduce((a, b) => a + b, 0) / 10} (first 10) -> ${losses.slice(-20).reduce((a, b) => a + b, 0) / 20} (last 20); top-1 training clips ${(100 * result.top1.train).toFixed(1)}%, held out ${(100 * result.top1.test).toFixed(1)}%`);
  const py = spawnSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'x3d_reference.py'), out], { stdio: 'inherit', env: { ...process.env, THREADS: String(threads) } });
  process.exitCode = py.status ?? 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
