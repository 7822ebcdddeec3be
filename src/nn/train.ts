// trainModel: SGD on a prepared cache, as seed 004 trains (momentum 0.9, weight decay, LR x0.1
// every lrStep iterations, the volume augmentation of src/volumes). Metrics go to metrics.jsonl,
// checkpoints (weights, optimiser, random state, iteration) are written atomically, and a resumed
// run continues exactly where the checkpoint left it.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PreparedCache } from '../cache/read.js';
import { MvclassError } from '../util/errors.js';
import { positiveInteger } from '../util/validate.js';
import { motionStd, trainingBatches } from './inputs.js';
import { CnnModel, PAPER_INPUT, readRun, type ModelConfig, type ModelName, type SessionSettings } from './model.js';

export interface TrainOptions extends SessionSettings {
  model: ModelName;
  data: string;
  out: string;
  iterations?: number;
  batch?: number;
  lr?: number;
  lrStep?: number;
  frames?: number;
  size?: number;
  width?: number;
  fc?: number;
  /** Checkpoint every N iterations (and at the end). */
  checkpointEvery?: number;
  /** A metrics.jsonl line every N iterations. */
  metricsEvery?: number;
  resume?: boolean;
  /** mv3d/mv2d: divide the motion volumes by this (default: the training set's RMS, measured; 1: raw pixels as sampled). */
  motionStd?: number;
  /** vgg16: torchvision-layout weights to start from. */
  weights?: string;
  onProgress?: (step: { iteration: number; iterations: number; loss: number; accuracy: number; perSecond: number }) => void;
}

export interface TrainResult {
  run: string;
  iterations: number;
  resumedFrom: number;
  finalLoss: number;
  finalAccuracy: number;
  seconds: number;
}

export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const paper = PAPER_INPUT[options.model];
  const iterations = positiveInteger(options.iterations ?? 90_000, 'iterations');
  const batch = positiveInteger(options.batch ?? 64, 'batch');
  const lrStep = positiveInteger(options.lrStep ?? 30_000, 'lr-step');
  const baseLr = options.lr ?? 0.01;
  if (!(baseLr > 0)) throw new MvclassError(`Expected a positive number for lr but received ${JSON.stringify(options.lr)}`);
  const seed = options.seed ?? 1;
  const cache = await PreparedCache.open(options.data);
  const train = cache.subset('train');
  if (train.length === 0) throw new MvclassError(`${options.data}: no training videos in the cache`, options.data);
  const config: ModelConfig = {
    model: options.model,
    classes: cache.classes,
    frames: options.model === 'vgg16' ? 1 : positiveInteger(options.frames ?? paper.frames, 'frames'),
    size: positiveInteger(options.size ?? (options.model === 'vgg16' ? Math.min(paper.size, cache.video(0).keyFrame?.width ?? paper.size) : paper.size), 'size'),
    width: options.width ?? 1,
    fc: positiveInteger(options.fc ?? paper.fc, 'fc'),
  };
  if (options.model !== 'vgg16') config.motionStd = options.motionStd ?? (await motionStd(train, config, seed));
  await fs.mkdir(options.out, { recursive: true });
  const model = await CnnModel.create(config, options);
  const runFile = path.join(options.out, 'run.json');
  const checkpoint = path.join(options.out, 'model.pt');
  let start = 0;
  if (options.resume) {
    const run = (await fs.access(runFile).then(() => true, () => false)) ? await readRun(options.out) : null;
    if (run === null || run.iteration === null) throw new MvclassError(`${options.out}: nothing to resume (no run.json with an iteration)`, options.out);
    if (JSON.stringify(run.config) !== JSON.stringify(config)) throw new MvclassError(`${runFile}: the run was made with other model settings`, runFile);
    await model.load(checkpoint);
    start = run.iteration;
  } else if (options.weights) {
    await model.importWeights(options.weights);
  }
  const training = { iterations, batch, lr: baseLr, lrStep, seed, momentum: options.momentum ?? 0.9, weightDecay: options.weightDecay ?? 0.005, data: path.resolve(options.data) };
  // How the inputs were made, so that classify prepares a new video the same way.
  const input = { ...cache.manifest.settings, normalisation: options.model === 'vgg16' ? { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } : null };
  const metricsFile = path.join(options.out, 'metrics.jsonl');
  if (!options.resume) await fs.writeFile(metricsFile, '');
  const every = options.metricsEvery ?? Math.max(1, Math.min(100, Math.floor(iterations / 20)));
  const saveEvery = options.checkpointEvery ?? Math.max(every, Math.floor(iterations / 10));
  const started = performance.now();
  let window = { loss: 0, correct: 0, count: 0, steps: 0 };
  let last = { loss: NaN, accuracy: NaN };
  let iteration = start;
  const batches = trainingBatches(train, config, batch, seed, start);
  try {
    while (iteration < iterations) {
      const next = await batches.next();
      if (next.done) break;
      const lr = baseLr * 0.1 ** Math.floor(iteration / lrStep);
      const r = await model.trainStep(next.value.data, next.value.labels, lr);
      iteration++;
      window = { loss: window.loss + r.loss, correct: window.correct + r.correct, count: window.count + r.count, steps: window.steps + 1 };
      if (iteration % every === 0 || iteration === iterations) {
        last = { loss: window.loss / window.steps, accuracy: window.correct / window.count };
        await fs.appendFile(metricsFile, JSON.stringify({ iteration, lr, loss: last.loss, accuracy: last.accuracy }) + '\n');
        window = { loss: 0, correct: 0, count: 0, steps: 0 };
      }
      if (iteration % saveEvery === 0 || iteration === iterations) {
        await model.save(checkpoint);
        await model.writeRun(options.out, { iteration, training, input });
      }
      const seconds = (performance.now() - started) / 1000;
      options.onProgress?.({ iteration, iterations, loss: r.loss, accuracy: r.correct / r.count, perSecond: (iteration - start) / seconds });
    }
  } finally {
    await batches.return(undefined);
    await cache.close();
  }
  return { run: options.out, iterations: iteration, resumedFrom: start, finalLoss: last.loss, finalAccuracy: last.accuracy, seconds: (performance.now() - started) / 1000 };
}
