// trainModel: SGD on a prepared cache, as the paper trains (momentum 0.9, weight decay, LR x0.1
// every lrStep iterations, the volume augmentation of src/volumes), or Adam/AdamW with the same
// schedule and their own default rates (OPTIMIZER_DEFAULTS), made safe on real footage:
// motion inputs divided by the training set's RMS (inputs.ts), a linear learning-rate warm-up,
// gradients clipped to a global norm, and a stop with an error (the last finite checkpoint kept)
// when a loss is not finite. Metrics go to metrics.jsonl, checkpoints (weights, optimiser, random
// state, iteration) are written atomically, the val split is scored every valEvery iterations and
// the best checkpoint kept as best.pt, and a resumed run continues exactly where it left off.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PreparedCache } from '../cache/read.js';
import { MAX_CLIP_FRAMES } from '../codec/clips.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { fraction, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';
import { classificationReport } from '../metrics/classification.js';
import { scoreVideos } from '../nn/score.js';
import { frameShape, loaderWorkers, motionStd, noClips, trainingBatches } from '../nn/inputs.js';
import { IMAGENET } from '../nn/pixels.js';
import { BACKBONES, checkDevice, CnnModel, DEFAULT_CLIP_NORM, OPTIMIZER_DEFAULTS, OPTIMIZERS, PAPER_INPUT, type BackboneName, type ModelConfig, type ModelName, type SessionSettings } from '../nn/model.js';
import { hasBackbone, hasRun, isClipModel, isFrameModel, isMotionModel, readRun, refuseExistingRun, removeRun, runPaths } from '../run/format.js';

export { DEFAULT_CLIP_NORM, refuseExistingRun };

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
  /** Learning-rate warm-up: the rate rises linearly over the first N iterations (default: one epoch, ceil(training videos / batch), at most 500; 0: none). */
  warmup?: number;
  /** Score the cache's val split every N iterations (default: at each checkpoint when there is a val split; 0: never); the best is kept as best.pt. */
  valEvery?: number;
  resume?: boolean;
  /** Replace a run already in `out` (without it, training into a folder that holds a run.json refuses unless resuming). */
  force?: boolean;
  /** mv3d/mv2d: divide the motion volumes by this (default: the training set's RMS, measured; 1: raw pixels as sampled). */
  motionStd?: number;
  /** A frame network (vgg16, the resnets): torchvision-layout weights to start from; cnn-lstm: a torchvision resnet's, into its backbone; x3d-s: pytorchvideo's. */
  weights?: string;
  /** A clip network (cnn-lstm): the ResNet applied to each frame (default resnet18). */
  backbone?: BackboneName;
  /**
   * A trained run to start from (fine-tuning, as seed 000 pre-trains on UCF-101 and then trains on
   * its 4 classes): the same network, its shape by default; its last checkpoint's weights, every
   * tensor but the head when the classes differ (a new head); another shape elsewhere is an error.
   * The motion scale is measured on the new data (the weights learnt unit-RMS inputs); the
   * optimiser starts afresh. cnn-lstm also takes a resnet18…152 frame network's run: its weights
   * start the backbone (that depth and width by default; its fc is not used), the rest as initialised.
   */
  init?: string;
  /** mv3d/mv2d: threads sampling the volumes (default: loaderWorkers(device), none on the CPU); the batches are the same whatever the number. */
  loaderWorkers?: number;
  onProgress?: (step: { iteration: number; iterations: number; loss: number; accuracy: number; perSecond: number }) => void;
  onValidation?: (result: { iteration: number; top1: number; best: boolean }) => void;
}

export interface TrainResult {
  run: string;
  iterations: number;
  resumedFrom: number;
  finalLoss: number;
  finalAccuracy: number;
  /** The best validation top-1 and its iteration (best.pt), when the val split was scored. */
  best: { iteration: number; top1: number } | null;
  /** With `init`: the tensors taken from that run and those left as initialised (the new head). */
  init?: { run: string; loaded: number; skipped: number };
  seconds: number;
}


export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const paper = PAPER_INPUT[options.model];
  const iterations = positiveInteger(options.iterations ?? 90_000, 'iterations');
  const batch = positiveInteger(options.batch ?? 64, 'batch');
  const lrStep = positiveInteger(options.lrStep ?? 30_000, 'lr-step');
  const optimizer = oneOf(options.optimizer ?? 'sgd', 'optimizer', OPTIMIZERS);
  const baseLr = options.lr ?? OPTIMIZER_DEFAULTS[optimizer].lr;
  if (!(baseLr > 0)) throw new MvclassError(`Expected a positive number for lr but received ${JSON.stringify(options.lr)}`);
  const weightDecay = options.weightDecay ?? OPTIMIZER_DEFAULTS[optimizer].weightDecay;
  if (!(weightDecay >= 0)) throw new MvclassError(`Expected a non-negative number for weight-decay but received ${JSON.stringify(options.weightDecay)}`);
  const seed = options.seed ?? 1;
  let warmup = options.warmup === undefined ? undefined : nonNegativeInteger(options.warmup, 'warmup');
  const clipNorm = options.clipNorm ?? DEFAULT_CLIP_NORM;
  if (!(clipNorm >= 0)) throw new MvclassError(`Expected a non-negative number for clip-norm but received ${JSON.stringify(options.clipNorm)}`);
  const backboneLr = fraction(options.backboneLr ?? 1, 'backbone-lr');
  const freezeBackbone = nonNegativeInteger(options.freezeBackbone ?? 0, 'freeze-backbone');
  if ((backboneLr !== 1 || freezeBackbone > 0) && options.init === undefined && options.weights === undefined && !options.resume) {
    const given = [backboneLr !== 1 ? `--backbone-lr ${backboneLr}` : '', freezeBackbone > 0 ? `--freeze-backbone ${freezeBackbone}` : ''].filter(Boolean);
    throw new UsageError(`${given.join(' and ')} ${given.length > 1 ? 'set' : 'sets'} how the weights taken from --init or --weights train: give one of them (a backbone of random weights has nothing to keep)`);
  }
  if (freezeBackbone > 0 && backboneLr === 0) {
    throw new UsageError(`--freeze-backbone ${freezeBackbone} trains the backbone after iteration ${freezeBackbone}, but --backbone-lr 0 keeps it frozen for the whole run: give one of them`);
  }
  if (options.init !== undefined && (options.resume || options.weights)) {
    throw new UsageError(`--init starts a new run from ${options.init}'s weights: it cannot go with ${options.resume ? '--resume' : '--weights'}`);
  }
  const init = options.init === undefined ? null : await readRun(options.init);
  // A network with a ResNet backbone (cnn-lstm) may also start from a ResNet frame network's run:
  // its weights go into the backbone (the torchvision-resnet path of importWeights), the rest as initialised.
  const intoBackbone = init !== null && hasBackbone(options.model) && (BACKBONES as readonly string[]).includes(init.config.model);
  if (init && init.config.model !== options.model && !intoBackbone) {
    const or = hasBackbone(options.model) ? ` or a ${BACKBONES.join('/')} run for the backbone` : '';
    throw new UsageError(`${options.init}: a ${init.config.model} run cannot start a ${options.model} network (give --model ${init.config.model}${or})`);
  }
  if (intoBackbone && options.backbone !== undefined && options.backbone !== init.config.model) {
    throw new UsageError(`${options.init}: a ${init.config.model} run cannot start a ${options.backbone} backbone (drop --backbone, or give --backbone ${init.config.model})`);
  }
  const shape = intoBackbone
    ? { frames: undefined, size: undefined, width: init.config.width, fc: paper.fc, backbone: init.config.model as BackboneName }
    : (init?.config ?? { frames: undefined, size: undefined, width: paper.width ?? 1, fc: paper.fc, backbone: undefined });
  // A device libtorch cannot use is refused before the cache is read (the motion scale is measured on it).
  await checkDevice(options.device);
  const cache = await PreparedCache.open(options.data);
  const train = cache.subset('train');
  if (train.length === 0) throw new MvclassError(`${options.data}: no training videos in the cache`, options.data);
  // One epoch, not a share of the iterations: a run extended with --resume keeps the warm-up it started with.
  warmup ??= Math.min(500, Math.ceil(train.length / batch));
  // What a frame network crops its input from: the clips' frames when the cache has clips, else the key frames.
  const picture = frameShape(cache.video(0));
  // A clip network takes the cache's clips and nothing else.
  const clips = isClipModel(options.model);
  if (clips && (cache.manifest.settings.rgb === undefined || !picture?.clip)) {
    await cache.close();
    throw noClips(options.data, options.model);
  }
  if (options.backbone !== undefined && !hasBackbone(options.model)) {
    await cache.close();
    throw new UsageError(`--backbone is cnn-lstm's; ${options.model} has none`);
  }
  const pixels = isFrameModel(options.model) || clips;
  const config: ModelConfig = {
    model: options.model,
    classes: cache.classes,
    // A clip network: the cache's clip length unless given (more repeats frames by the clip rule).
    frames: isFrameModel(options.model) ? 1 : positiveInteger(options.frames ?? shape.frames ?? (clips ? cache.manifest.settings.rgb : paper.frames), 'frames'),
    size: positiveInteger(options.size ?? shape.size ?? (pixels ? Math.min(paper.size, picture ? (picture.clip ? Math.min(picture.width, picture.height) : picture.width) : paper.size) : paper.size), 'size'),
    width: options.width ?? shape.width,
    fc: positiveInteger(options.fc ?? shape.fc, 'fc'),
    ...(hasBackbone(options.model) ? { backbone: oneOf(options.backbone ?? shape.backbone ?? 'resnet18', 'backbone', BACKBONES) } : {}),
  };
  if (clips && config.frames > MAX_CLIP_FRAMES) {
    await cache.close();
    throw new UsageError(`Expected an integer from 1 to ${MAX_CLIP_FRAMES} for frames but received ${config.frames}`);
  }
  if (pixels && picture && (config.size > picture.width || config.size > picture.height)) {
    await cache.close();
    const what = picture.clip ? "the clips' frames" : 'the key frames';
    throw new UsageError(`${options.data}: ${what} are ${picture.width}x${picture.height}, smaller than the input side ${config.size}: give a smaller --size, or prepare with a larger ${picture.clip ? '--short-side' : '--key-size'}`);
  }
  if (isMotionModel(options.model)) {
    // A resumed run keeps the normalisation it was trained with (none, for runs made before it existed).
    const saved = options.resume && options.motionStd === undefined ? await readRun(options.out).catch(() => null) : null;
    if (saved) {
      if (saved.config.motionStd !== undefined) config.motionStd = saved.config.motionStd;
    } else {
      config.motionStd = options.motionStd ?? (await motionStd(train, config, seed));
    }
  }
  // The network first: a refused device (--device cuda on a CPU build) leaves no run folder behind.
  const model = await CnnModel.create(config, { ...options, optimizer, weightDecay, clipNorm, backboneLr, freezeBackbone });
  // Before the run folder is touched: a start run whose weights do not fit leaves nothing behind.
  const initialised = options.init === undefined ? undefined : await initialiseFrom(model, options.init, options).catch(async (error: unknown) => {
    await cache.close();
    throw error;
  });
  if (!options.resume) {
    await replaceRun(options.out, options.force === true).catch(async (error: unknown) => {
      await cache.close();
      throw error;
    });
  }
  await fs.mkdir(options.out, { recursive: true });
  const files = runPaths(options.out);
  const runFile = files.run;
  const checkpoint = files.last;
  let start = 0;
  let best: TrainResult['best'] = null;
  let initRun = options.init === undefined ? undefined : path.resolve(options.init);
  if (options.resume) {
    const run = (await hasRun(options.out)) ? await readRun(options.out) : null;
    if (run === null || run.iteration === null) throw new MvclassError(`${options.out}: nothing to resume (no run.json with an iteration)`, options.out);
    if (JSON.stringify(run.config) !== JSON.stringify(config)) throw new MvclassError(`${runFile}: the run was made with other model settings`, runFile);
    await model.load(checkpoint);
    start = run.iteration;
    // The best validation so far (beside best.pt), so that a resumed run keeps the better one.
    best = run.best;
    if (typeof run.training.init === 'string') initRun = run.training.init;
    // A resumed run keeps the warm-up it started with.
    const w = run.training.warmup;
    if (options.warmup === undefined && typeof w === 'number' && Number.isSafeInteger(w) && w >= 0) warmup = w;
  } else if (options.weights) {
    await model.importWeights(options.weights);
  }
  const val = cache.subset('val');
  // How the inputs were made, so that classify prepares a new video the same way (motion: divided by config.motionStd).
  const input = { ...cache.manifest.settings, normalisation: pixels ? { mean: [...IMAGENET.mean], std: [...IMAGENET.std] } : config.motionStd === undefined ? null : { std: config.motionStd } };
  const metricsFile = files.metrics;
  if (!options.resume) await fs.writeFile(metricsFile, '');
  const every = options.metricsEvery ?? Math.max(1, Math.min(100, Math.floor(iterations / 20)));
  const saveEvery = options.checkpointEvery ?? Math.max(every, Math.floor(iterations / 10));
  const valEvery = val.length === 0 ? 0 : options.valEvery === undefined ? saveEvery : nonNegativeInteger(options.valEvery, 'val-every');
  // Every setting the run was trained with, so that `train --resume -o <run>` needs nothing else (src/config/run.ts).
  const training = {
    iterations, batch, optimizer, lr: baseLr, lrStep, warmup, backboneLr, freezeBackbone, clipNorm, valEvery, seed, ...(optimizer === 'sgd' ? { momentum: options.momentum ?? 0.9 } : {}), weightDecay,
    data: path.resolve(options.data), threads: options.threads ?? 0, device: options.device ?? 'cpu',
    // The setting as given (auto follows the device on resume) and the number type it gave here.
    precision: options.precision ?? 'auto', numberType: model.precision,
    ...(initRun !== undefined ? { init: initRun } : {}),
  };
  const started = performance.now();
  // overflows: fp16 steps skipped at too large a loss scale (their gradient norm is not finite).
  let window = { loss: 0, correct: 0, count: 0, steps: 0, gradNorm: 0, overflows: 0 };
  let last = { loss: NaN, accuracy: NaN };
  let iteration = start;
  let saved = start;
  const isCheckpoint = (i: number) => i % saveEvery === 0 || i === iterations;
  const batches = trainingBatches(train, config, batch, seed, start, options.loaderWorkers ?? loaderWorkers(options.device ?? 'cpu'));
  try {
    while (iteration < iterations) {
      const next = await batches.next();
      if (next.done) break;
      const { lr, backbone } = learningRates(iteration, { lr: baseLr, warmup, lrStep, backboneLr, freezeBackbone });
      const r = await model.trainStep(next.value.data, next.value.labels, lr, backbone).catch((error: unknown) => {
        throw stepFailed(options.out, iteration + 1, next.value.labels.length, error);
      });
      if (r.overflow) {
        // fp16: the loss scale was too large for these gradients and has been halved; as
        // GradScaler does, the iteration counts and the weights stay as they were.
        window.overflows++;
      } else if (!r.stepped) {
        const what = Number.isFinite(r.loss) ? `the gradients are not finite (loss ${r.loss})` : `the loss is ${r.loss}`;
        await fs.appendFile(metricsFile, JSON.stringify({ iteration: iteration + 1, lr, loss: Number.isFinite(r.loss) ? r.loss : String(r.loss), diverged: true }) + '\n');
        throw new MvclassError(
          `${options.out}: training diverged at iteration ${iteration + 1}: ${what} at learning rate ${lr}; ` +
            (saved > 0 ? `model.pt holds the last finite checkpoint (iteration ${saved})` : 'no checkpoint was written') +
            '. Try a lower --lr, a longer --warmup or a smaller --clip-norm.',
          options.out,
        );
      }
      iteration++;
      window = { ...window, loss: window.loss + r.loss, correct: window.correct + r.correct, count: window.count + r.count, steps: window.steps + 1, gradNorm: window.gradNorm + (r.overflow ? 0 : r.gradNorm) };
      if (iteration % every === 0 || iteration === iterations) {
        last = { loss: window.loss / window.steps, accuracy: window.correct / window.count };
        const stepped = window.steps - window.overflows;
        await fs.appendFile(
          metricsFile,
          JSON.stringify({ iteration, lr, loss: last.loss, accuracy: last.accuracy, gradNorm: stepped > 0 ? window.gradNorm / stepped : null, ...(window.overflows > 0 ? { overflows: window.overflows } : {}) }) + '\n',
        );
        window = { loss: 0, correct: 0, count: 0, steps: 0, gradNorm: 0, overflows: 0 };
      }
      if (valEvery > 0 && (iteration % valEvery === 0 || iteration === iterations)) {
        // One centred view per video (MMAction2's validation does the same): cheap enough to run often.
        const videos = await scoreVideos(model, val, 1, 1);
        const report = classificationReport(videos.map((v) => v.scores), videos.map((v) => v.label), config.classes);
        const improved = best === null || report.top1 > best.top1;
        await fs.appendFile(metricsFile, JSON.stringify({ iteration, split: 'val', videos: report.videos, top1: report.top1, meanClassAccuracy: report.meanClassAccuracy }) + '\n');
        if (improved) {
          best = { iteration, top1: report.top1 };
          // At a checkpoint, best.pt becomes a second name of model.pt below (the same bytes).
          if (!isCheckpoint(iteration)) await model.save(files.best);
        }
        options.onValidation?.({ iteration, top1: report.top1, best: improved });
      }
      if (isCheckpoint(iteration)) {
        await model.save(checkpoint);
        // Validation improved at this very iteration (its files were left for here, above).
        if (best?.iteration === iteration) await model.save(files.best, { sameAs: checkpoint });
        await model.writeRun(options.out, { iteration, training, input, ...(best ? { best } : {}) });
        saved = iteration;
      }
      const seconds = (performance.now() - started) / 1000;
      options.onProgress?.({ iteration, iterations, loss: r.loss, accuracy: r.correct / r.count, perSecond: (iteration - start) / seconds });
    }
  } finally {
    await batches.return(undefined);
    await cache.close();
  }
  return {
    run: options.out, iterations: iteration, resumedFrom: start, finalLoss: last.loss, finalAccuracy: last.accuracy, best, seconds: (performance.now() - started) / 1000,
    ...(initialised ? { init: initialised } : {}),
  };
}

/**
 * A training step libtorch refused, with the run and the step named. Batch norm refuses a batch
 * whose every channel holds one value: a batch of one example whose last feature map is 1x1 (a
 * resnet or x3d-s at an input side of 32 or less), which the last, smaller batch of an epoch can be.
 */
function stepFailed(out: string, step: number, batch: number, error: unknown): unknown {
  // An error that already names its file stays as it is; the addon's (no file) gets the run's.
  if (!(error instanceof Error) || (error instanceof MvclassError && error.path !== undefined)) return error;
  const hint = /more than 1 value per channel when training/.test(error.message)
    ? `: batch norm needs more than one value per channel, and this batch of ${batch} leaves one (the network's last feature map is 1x1): give a larger --size, or a --batch that leaves no batch of one (an epoch's last batch holds the videos left over)`
    : '';
  return new MvclassError(`${out}: training step ${step} failed: ${error.message}${hint}`, out);
}

export interface Schedule {
  lr: number;
  warmup: number;
  lrStep: number;
  /** The backbone's rate as a factor of the rest's. */
  backboneLr: number;
  /** Iterations the backbone is frozen for at the start. */
  freezeBackbone: number;
}

/**
 * The learning rates of iteration `iteration` (from 0): a linear warm-up, then x0.1 every lrStep
 * iterations; the backbone's is backboneLr times that same rate (so the decay and the warm-up
 * scale both), 0 while it is frozen (the first freezeBackbone iterations). No second warm-up
 * when the freeze ends: the backbone's weights are trained ones, and the rate at that point is
 * the schedule's.
 */
export function learningRates(iteration: number, s: Schedule): { lr: number; backbone: number } {
  const lr = s.lr * Math.min(1, (iteration + 1) / (s.warmup + 1)) * 0.1 ** Math.floor(iteration / s.lrStep);
  return { lr, backbone: iteration < s.freezeBackbone ? 0 : lr * s.backboneLr };
}

/** Copies a trained run's weights into `model` (exportWeights' dict, through a temporary file): all but a head of another class count; any other shape that differs (another --width, --fc or --size) is an error naming the tensor. */
async function initialiseFrom(model: CnnModel, run: string, options: TrainOptions): Promise<NonNullable<TrainResult['init']>> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mvclass-init-'));
  const file = path.join(folder, 'weights.pt');
  try {
    const source = await CnnModel.open(run, { threads: options.threads ?? 0 });
    await source.exportWeights(file);
    return { run, ...(await model.importWeights(file)) };
  } catch (error) {
    throw new MvclassError(`${run}: cannot start from its weights: ${(error as Error).message}`, run);
  } finally {
    await fs.rm(folder, { recursive: true, force: true });
  }
}

/** A new run into `out`: refused when a run is there, unless `force`, which removes that run's files. */
async function replaceRun(out: string, force: boolean): Promise<void> {
  if (!force) return refuseExistingRun(out);
  await removeRun(out);
}
