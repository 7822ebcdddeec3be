// bench/gpu: the networks on a CUDA device (issues 14 and 15), as one run that bench/gpu/run.sh
// starts on a GPU machine after building native/nn against that machine's CUDA libtorch:
//   1. checks, each PASS or FAIL: checkpoints on CUDA (round trip, exact resume, CPU <-> CUDA both
//      ways), bf16 against fp32 for every network, fp16's loss scaling, convergence at the paper's sizes;
//   2. train step and inference times at batch 16 and 64 for mv3d, mv2d, vgg16 and the pixel-domain
//      baselines (resnet18, cnn-lstm, x3d-s) in fp32, bf16 (channels-last, the default on a GPU)
//      and bf16 without channels-last (bench/gpu/peer.py then measures PyTorch on the same GPU and
//      prints the ratios);
//   3. an epoch from a prepared cache of real footage (the Debian clips the tests use): clips/s
//      with the real loader (trainingBatches) against the step alone on one fixed batch, for the
//      motion networks and, when the cache holds decoded-frame clips (prepare --rgb), the clip
//      networks (the clip loader must not starve the step);
//   4. training on that cache: mv3d and mv2d with train's defaults, x3d-s (with clips) by the recipe
//      its CPU test uses, each scored on the held-out clips.
// Writes $OUT/results.md (tables) and $OUT/gpu.json (numbers, read by peer.py).
// Knobs: DEVICE (cuda; cpu runs every code path on the CPU, for a local check), CACHE (the prepared
// cache for the epoch; none: skipped), QUICK=1 (small networks, few repetitions), THREADS, WORKERS (the
// loader's sampling threads; default train's), ONLY=epochs (that section alone).

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainedOnClips } from '../src/app/classify.js';
import { evaluateRun } from '../src/app/evaluate.js';
import { trainModel } from '../src/app/train.js';
import { PreparedCache } from '../src/cache/read.js';
import { loaderWorkers, trainingBatches } from '../src/nn/inputs.js';
import { CnnModel, type SessionSettings } from '../src/nn/model.js';
import { isClipModel, type ModelConfig } from '../src/run/format.js';
import { mulberry32 } from '../src/util/random.js';
import { medianSeconds } from './support.js';

const DEVICE = (process.env.DEVICE ?? 'cuda') as 'cuda' | 'cpu';
const OUT = process.env.OUT ?? os.tmpdir();
const QUICK = process.env.QUICK === '1';
const THREADS = Number(process.env.THREADS ?? os.cpus().length);
const RESULTS = path.join(OUT, 'results.md');
const JSON_OUT = path.join(OUT, 'gpu.json');
const onGpu = DEVICE !== 'cpu';
// fp32 is all the CPU runs; on a GPU bf16 and fp16 too.
const LOW = onGpu ? 'bf16' : 'fp32';

const md = (line = '') => {
  console.log(line);
  appendFileSync(RESULTS, line + '\n');
};
const raw: { device: string; checks: unknown[]; timings: unknown[]; epochs: unknown[] } = { device: DEVICE, checks: [], timings: [], epochs: [] };
const save = () => writeFileSync(JSON_OUT, JSON.stringify(raw, null, 1));

const CLASSES = Array.from({ length: 101 }, (_, i) => `c${i}`);
const NETS: ModelConfig[] = QUICK
  ? [
      { model: 'mv3d', classes: CLASSES, frames: 32, size: 24, width: 0.25, fc: 128 },
      { model: 'mv2d', classes: CLASSES, frames: 16, size: 48, width: 0.25, fc: 128 },
      { model: 'vgg16', classes: CLASSES, frames: 1, size: 64, width: 0.125, fc: 128 },
      { model: 'resnet18', classes: CLASSES, frames: 1, size: 64, width: 0.125, fc: 512 },
      { model: 'cnn-lstm', classes: CLASSES, frames: 4, size: 64, width: 0.125, fc: 64, backbone: 'resnet18' },
      { model: 'x3d-s', classes: CLASSES, frames: 4, size: 64, width: 0.125, fc: 128 },
    ]
  : [
      { model: 'mv3d', classes: CLASSES, frames: 160, size: 24, width: 1, fc: 2048 },
      { model: 'mv2d', classes: CLASSES, frames: 60, size: 48, width: 1, fc: 4096 },
      { model: 'vgg16', classes: CLASSES, frames: 1, size: 224, width: 1, fc: 4096 },
      // The pixel-domain baselines (issue 15) at their seeds' sizes: torchvision's resnet18 at 224,
      // seeds 000/001's CNN + LSTM head (fc 1024) on resnet18 over 8 frames of 112, X3D-S's own 13 x 160.
      { model: 'resnet18', classes: CLASSES, frames: 1, size: 224, width: 1, fc: 512 },
      { model: 'cnn-lstm', classes: CLASSES, frames: 8, size: 112, width: 1, fc: 1024, backbone: 'resnet18' },
      { model: 'x3d-s', classes: CLASSES, frames: 13, size: 160, width: 1, fc: 2048 },
    ];
const label = (c: ModelConfig) => `${c.model} [${c.frames === 1 ? '' : `${c.frames}x`}${c.size}${c.width === 1 ? '' : `, width ${c.width}`}]`;

/** Deterministic inputs in [-0.5, 0.5). */
function randomBatch(per: number, batch: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return new Float32Array(per * batch).map(() => rng() - 0.5);
}
const labelsFor = (batch: number, classes = 101) => new Int32Array(batch).map((_, i) => (i * 7) % classes);
const perItem = (m: CnnModel) => m.inputShape.reduce((a, b) => a * b, 1);
const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
function argmaxAgree(a: Float32Array, b: Float32Array, classes: number): number {
  let agree = 0;
  for (let r = 0; r < a.length / classes; r++) {
    let ia = 0;
    let ib = 0;
    for (let k = 1; k < classes; k++) {
      if (a[r * classes + k]! > a[r * classes + ia]!) ia = k;
      if (b[r * classes + k]! > b[r * classes + ib]!) ib = k;
    }
    if (ia === ib) agree++;
  }
  return agree;
}
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** The median of `reps` calls after `warmup`, in ms. */
async function median(fn: () => Promise<unknown>, warmup: number, reps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  return 1000 * (await medianSeconds(reps, fn));
}

const create = (config: ModelConfig, settings: SessionSettings) => CnnModel.create(config, { threads: THREADS, ...settings });

// ---- 1. checks ----
let failures = 0;
function check(name: string, ok: boolean, detail: string): void {
  if (!ok) failures++;
  raw.checks.push({ name, ok, detail });
  save();
  md(`| ${name} | ${detail} | ${ok ? 'PASS' : 'FAIL'} |`);
}
async function guarded(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    check(name, false, `threw: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function checks(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mvclass-gpu-'));
  const small: ModelConfig = { model: 'mv3d', classes: ['a', 'b', 'c'], frames: 8, size: 16, width: 0.25, fc: 64 };
  const batch = (m: CnnModel, n: number, seed: number) => ({ x: randomBatch(perItem(m), n, seed), y: labelsFor(n, 3) });
  md(`### Checks on ${DEVICE}`);
  md();
  md('| check | result | verdict |');
  md('|---|---|---|');
  await guarded('settings resolved for the device', async () => {
    const m = await create(small, { device: DEVICE });
    check('settings resolved for the device', m.precision === LOW && m.channelsLast === onGpu, `auto -> ${m.precision}, channels-last ${m.channelsLast}`);
  });
  for (const precision of onGpu ? (['fp32', 'bf16', 'fp16'] as const) : (['fp32'] as const)) {
    await guarded(`${precision}: checkpoint round trip`, async () => {
      // deterministic: cuDNN's autotuning could pick other algorithms in the second session.
      const a = await create(small, { device: DEVICE, precision, deterministic: true, seed: 3 });
      const { x, y } = batch(a, 4, 1);
      for (let i = 0; i < 3; i++) await a.trainStep(x, y, 0.01);
      await a.save(path.join(dir, `round-${precision}.pt`));
      const b = await create(small, { device: DEVICE, precision, deterministic: true, seed: 99 });
      await b.load(path.join(dir, `round-${precision}.pt`));
      const d = maxAbs(await a.predict(x), await b.predict(x));
      check(`${precision}: checkpoint saved on ${DEVICE} loads into a fresh ${DEVICE} session`, d < 1e-6, `max abs diff ${d.toExponential(2)}`);
    });
    await guarded(`${precision}: exact resume`, async () => {
      // deterministic: cuDNN's deterministic algorithms, so that two runs can be equal at all.
      const s = { device: DEVICE, precision, deterministic: true } as const;
      const whole = await create(small, { ...s, seed: 5 });
      const { x, y } = batch(whole, 4, 2);
      for (let i = 0; i < 6; i++) await whole.trainStep(x, y, 0.01);
      const first = await create(small, { ...s, seed: 5 });
      for (let i = 0; i < 3; i++) await first.trainStep(x, y, 0.01);
      await first.save(path.join(dir, `resume-${precision}.pt`));
      const resumed = await create(small, { ...s, seed: 77 });
      await resumed.load(path.join(dir, `resume-${precision}.pt`));
      for (let i = 0; i < 3; i++) await resumed.trainStep(x, y, 0.01);
      const d = maxAbs(await whole.predict(x), await resumed.predict(x));
      check(`${precision}: a resumed ${DEVICE} run ends exactly where an uninterrupted one does (dropout on the device)`, d === 0, `max abs diff ${d}`);
    });
  }
  await guarded('predict, then train', async () => {
    // The host staging buffer (native/nn/session.cc, Input) is made by whichever call comes first;
    // here a prediction makes it and the training steps after it write into it.
    const m = await create(small, { device: DEVICE, seed: 13 });
    const { x, y } = batch(m, 4, 4);
    const before = await m.predict(x);
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push((await m.trainStep(x, y, 0.01)).loss);
    const after = await m.predict(x);
    check(`a fresh ${DEVICE} session predicts, then trains and predicts again`, losses.every(Number.isFinite) && maxAbs(before, after) > 0, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}; scores moved by ${maxAbs(before, after).toExponential(2)}`);
  });
  if (onGpu) {
    await guarded('cross-load', async () => {
      for (const [from, to] of [
        ['cpu', DEVICE],
        [DEVICE, 'cpu'],
      ] as const) {
        const a = await create(small, { device: from, precision: 'fp32', seed: 11 });
        const { x, y } = batch(a, 4, 3);
        await a.trainStep(x, y, 0.01);
        await a.save(path.join(dir, `${from}-to-${to}.pt`));
        const b = await create(small, { device: to, precision: 'fp32', seed: 12 });
        await b.load(path.join(dir, `${from}-to-${to}.pt`));
        const d = maxAbs(await a.predict(x), await b.predict(x));
        check(`fp32 checkpoint ${from} -> ${to}`, d < 1e-3, `max abs diff ${d.toExponential(2)}`);
      }
    });
    for (const config of NETS) {
      await guarded(`${config.model}: bf16 vs fp32`, async () => {
        const a = await create(config, { device: DEVICE, precision: 'fp32', seed: 7 });
        const b = await create(config, { device: DEVICE, precision: 'bf16', seed: 7 });
        const x = randomBatch(perItem(a), 8, 23);
        const pa = await a.predict(x);
        const pb = await b.predict(x);
        const d = maxAbs(pa, pb);
        const agree = argmaxAgree(pa, pb, 101);
        check(`${label(config)}: softmax, bf16 (channels-last) vs fp32, same seed, 8 clips`, d < 2e-2 && agree >= 7, `max abs diff ${d.toExponential(2)}, argmax agree ${agree}/8`);
      });
    }
  }
  for (const precision of onGpu ? (['bf16', 'fp16'] as const) : (['fp32'] as const)) {
    for (const config of QUICK ? NETS.slice(0, 1) : NETS.slice(0, 2)) {
      await guarded(`${config.model} ${precision}: convergence`, async () => {
        const m = await create(config, { device: DEVICE, precision, seed: 3 });
        const x = randomBatch(perItem(m), 16, 5);
        const y = labelsFor(16);
        const losses: number[] = [];
        let overflows = 0;
        for (let i = 0; i < 30; i++) {
          const r = await m.trainStep(x, y, 0.01);
          losses.push(r.loss);
          if (r.overflow) overflows++;
        }
        const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
        const first = mean(losses.slice(0, 3));
        const last = mean(losses.slice(-3));
        check(
          `${label(config)} ${precision}: 30 steps on one batch of 16, lr 0.01`,
          losses.every(Number.isFinite) && last < 0.9 * first,
          `loss ${first.toFixed(3)} -> ${last.toFixed(3)}${precision === 'fp16' ? `, ${overflows} overflow steps skipped` : ''}`,
        );
      });
    }
  }
  rmSync(dir, { recursive: true, force: true });
  md();
}

// ---- 2. step times ----
const VARIANTS: { name: string; settings: SessionSettings }[] = onGpu
  ? [
      { name: 'fp32', settings: { precision: 'fp32' } },
      { name: 'bf16 + channels-last (default)', settings: { precision: 'bf16' } },
      { name: 'bf16, no channels-last', settings: { precision: 'bf16', channelsLast: false } },
    ]
  : [{ name: 'fp32', settings: { precision: 'fp32' } }];

async function timings(): Promise<void> {
  const [warmup, reps] = QUICK ? [1, 3] : [3, 10];
  md(`### Step times on ${DEVICE}, ${THREADS} CPU threads (median of ${reps} after ${warmup} warm-up; each call includes the host -> device copy of its batch and ends with its result on the host)`);
  md();
  md('| network | batch | mvclass variant | train step ms | train clips/s | inference ms | inference clips/s |');
  md('|---|---|---|---|---|---|---|');
  for (const config of NETS) {
    for (const batch of QUICK ? [4] : [16, 64]) {
      for (const variant of VARIANTS) {
        try {
          const m = await create(config, { device: DEVICE, ...variant.settings });
          const x = randomBatch(perItem(m), batch, 11);
          const y = labelsFor(batch);
          const train = await median(() => m.trainStep(x, y, 0.001), warmup, reps);
          const infer = await median(() => m.predict(x), warmup, reps);
          raw.timings.push({ model: config.model, batch, variant: variant.name, precision: m.precision, channelsLast: m.channelsLast, train, infer });
          save();
          md(`| ${label(config)} | ${batch} | ${variant.name} | ${ms(train)} | ${((1000 * batch) / train).toFixed(0)} | ${ms(infer)} | ${((1000 * batch) / infer).toFixed(0)} |`);
        } catch (error) {
          md(`| ${label(config)} | ${batch} | ${variant.name} | failed: ${(error as Error).message.split('\n')[0]} | | | |`);
        }
      }
    }
  }
  md();
}

// ---- 3. an epoch from the prepared cache ----
/**
 * What an epoch is timed for: the motion networks, and the clip networks when the cache holds
 * decoded-frame clips (prepare --rgb T): T frames each, at most the clips' short side.
 */
function epochNets(cache: PreparedCache): ModelConfig[] {
  const motion = NETS.slice(0, 2);
  const settings = cache.manifest.settings;
  if (!trainedOnClips(settings)) return motion;
  return [...motion, ...NETS.filter((c) => isClipModel(c.model)).map((c) => ({ ...c, frames: settings.rgb, size: Math.min(c.size, settings.shortSide) }))];
}

async function epochs(cacheDir: string): Promise<void> {
  const cache = (await PreparedCache.open(cacheDir)).subset('train');
  const steps = QUICK ? 4 : 30;
  // What train uses on this device (src/nn/inputs.ts), unless WORKERS says otherwise.
  const workers = process.env.WORKERS === undefined ? loaderWorkers(DEVICE) : Number(process.env.WORKERS);
  md(`### Training from the prepared cache on ${DEVICE} (${cache.length} real-footage videos, ${cache.classes.length} classes; ${steps} steps after a warm-up epoch; ${workers} sampling worker threads)`);
  md();
  md('| network | batch | clips/s, real loader (trainingBatches) | clips/s, the step alone (one fixed batch) | loader / step-bound | verdict (goal >= 0.9) |');
  md('|---|---|---|---|---|---|');
  try {
    for (const base of epochNets(cache)) {
      const config: ModelConfig = { ...base, classes: cache.classes, ...(isClipModel(base.model) ? {} : { motionStd: 1 }) };
      for (const batch of QUICK ? [4] : [16, 64]) {
        const m = await create(config, { device: DEVICE });
        const batches = trainingBatches(cache, config, batch, 1, 0, workers);
        let fixed: { data: Float32Array; labels: Int32Array } | undefined;
        // Clips trained on: an epoch's last batch is smaller when the batch size does not divide it.
        const run = async (n: number) => {
          let clips = 0;
          for (let i = 0; i < n; i++) {
            const next = await batches.next();
            if (next.done) throw new Error('the loader ended');
            if (next.value.labels.length === batch) fixed ??= next.value;
            clips += next.value.labels.length;
            await m.trainStep(next.value.data, next.value.labels, 0.001);
          }
          return clips;
        };
        // Warm-up: a whole epoch, so that cuDNN has tuned both batch shapes and the prefetch is full.
        await run(Math.ceil(cache.length / batch) + 1);
        const t0 = performance.now();
        const clips = await run(steps);
        const loaderMs = performance.now() - t0;
        await batches.return(undefined);
        const stepMs = await median(() => m.trainStep(fixed!.data, fixed!.labels, 0.001), 3, steps);
        const loaderRate = (1000 * clips) / loaderMs;
        const stepRate = (1000 * batch) / stepMs;
        raw.epochs.push({ model: config.model, batch, loaderRate, stepRate });
        save();
        md(`| ${label(config)} | ${batch} | ${loaderRate.toFixed(0)} | ${stepRate.toFixed(0)} | ${(loaderRate / stepRate).toFixed(2)} | ${loaderRate >= 0.9 * stepRate ? 'met' : 'NOT met'} |`);
      }
    }
  } finally {
    await cache.close();
  }
  md();
}

// ---- 4. train on real footage with the defaults, on the device ----
async function realTraining(cacheDir: string): Promise<void> {
  const cache = await PreparedCache.open(cacheDir);
  const classes = cache.classes.length;
  const clips = trainedOnClips(cache.manifest.settings);
  await cache.close();
  type Run = { model: ModelConfig['model']; iterations: number; recipe: Partial<Parameters<typeof trainModel>[0]>; settings: string };
  const defaults = "train's defaults (the paper's input sizes, SGD), batch 16";
  // x3d-s: the recipe its held-out test on real footage uses on the CPU (test/nn/cnn-lstm-train.test.ts).
  const x3d: Run = { model: 'x3d-s', iterations: 400, recipe: { batch: 8, optimizer: 'adam', lr: 0.001, lrStep: 100_000, width: 0.125, size: 64, fc: 128, valEvery: 0 }, settings: 'Adam 1e-3, width 1/8, 64 px, batch 8' };
  const runs: Run[] = QUICK
    ? [{ model: 'mv3d', iterations: 10, recipe: { frames: 16, width: 0.25, fc: 64 }, settings: defaults }, ...(clips ? [{ ...x3d, iterations: 10 }] : [])]
    : [{ model: 'mv3d', iterations: 600, recipe: {}, settings: defaults }, { model: 'mv2d', iterations: 400, recipe: {}, settings: defaults }, ...(clips ? [x3d] : [])];
  md(`### Training on real footage on ${DEVICE}, then held-out top-1 (the best checkpoint when validated, else the last; 2x10 views for motion, the centre crop for clips); chance ${(100 / classes).toFixed(1)}%`);
  md();
  md('| network | settings | iterations | seconds (with validation) | best validation top-1 | held-out top-1 | x chance |');
  md('|---|---|---|---|---|---|---|');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mvclass-gpu-train-'));
  for (const { model, iterations, recipe, settings } of runs) {
    try {
      const out = path.join(dir, model);
      const r = await trainModel({ model, data: cacheDir, out, iterations, batch: 16, device: DEVICE, threads: THREADS, ...recipe });
      const views = isClipModel(model) ? { temporal: 1, crops: 1 as const } : { temporal: 2, crops: 10 as const };
      const report = await evaluateRun({ run: out, data: cacheDir, checkpoint: r.best ? 'best' : 'last', ...views, device: DEVICE, threads: THREADS });
      raw.epochs.push({ model, training: true, iterations, seconds: r.seconds, best: r.best, top1: report.top1 });
      save();
      md(`| ${model} | ${settings} | ${iterations} | ${r.seconds.toFixed(1)} | ${r.best ? (100 * r.best.top1).toFixed(1) + '%' : '-'} | ${(100 * report.top1).toFixed(1)}% of ${report.videos} | ${(report.top1 * classes).toFixed(2)} |`);
    } catch (error) {
      md(`| ${model} | ${settings} | ${iterations} | failed: ${(error as Error).message.split('\n')[0]} | | | |`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  md();
}

async function main(): Promise<void> {
  md(`## mvclass on ${DEVICE}: node ${process.version}, ${os.cpus().length} cores`);
  md();
  // ONLY=epochs: the epoch from the cache alone (a short rerun after a loader change).
  const only = process.env.ONLY;
  if (!only) {
    await checks();
    await timings();
  }
  if (process.env.CACHE) {
    await epochs(process.env.CACHE);
    if (!only) await realTraining(process.env.CACHE);
  } else md('(no CACHE given: the epoch and the training from a prepared cache were skipped)');
  md(`checks failed: ${failures}`);
  process.exitCode = failures === 0 ? 0 : 1;
}

await main();
