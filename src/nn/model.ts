// CnnModel: one of the paper's networks (mv3d, mv2d, vgg16), a ResNet frame network or a clip network (cnn-lstm, x3d-s) in the nn addon, with the settings
// that a checkpoint needs to rebuild it.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { linkAtomically, writeAtomically, writeFileAtomically } from '../util/atomic.js';
import { BACKBONES, backboneSettingsOf, hasBackbone, MODELS, readRun, runPaths, writeRun, type ModelConfig, type ModelName } from '../run/format.js';
import { MvclassError, UsageError, withCallerStack } from '../util/errors.js';
import { checkBoolean, fraction, integerInRange, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';
import { parseDevice, parsePrecision, type Device, type Precision } from './device.js';
import { nnAddon, type NativeSession, type StateTensor } from './native.js';

export { parseDevice, parsePrecision, PRECISIONS, type Device, type Precision } from './device.js';

export { BACKBONES, CLIP_MODELS, FRAME_MODELS, hasBackbone, isClipModel, isFrameModel, isMotionModel, MODELS, readRun, type BackboneName, type ClipModelName, type FrameModelName, type ModelConfig, type ModelName, type TrainingRun } from '../run/format.js';

/** The gradient-norm clip when none is given: measured on real footage (docs/training.md). */
export const DEFAULT_CLIP_NORM = 10;

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * Each optimiser's learning rate and weight decay when none is given. SGD's are the paper's
 * (momentum 0.9 too). Adam's rate is seed 003's, 1e-4: on the real-footage set (docs/training.md)
 * it gave mv3d 75% and mv2d 52% held out, where seed 000's 1e-3 left mv2d at chance-level 25%
 * (mv3d 77%). Adam's decay is none (L2, added to the gradient as torch.optim.Adam does); AdamW's
 * is torch.optim.AdamW's default, 0.01, decoupled.
 */
export const OPTIMIZER_DEFAULTS: Record<OptimizerName, { lr: number; weightDecay: number }> = {
  sgd: { lr: 0.01, weightDecay: 0.005 },
  adam: { lr: 0.0001, weightDecay: 0 },
  adamw: { lr: 0.0001, weightDecay: 0.01 },
};

export interface SessionSettings {
  /** cpu (the default), cuda or cuda:N (src/nn/device.ts). */
  device?: Device;
  threads?: number;
  seed?: number;
  /** sgd (default), adam or adamw; a checkpoint loads only into a model with the optimiser that wrote it. */
  optimizer?: OptimizerName;
  /** SGD's momentum (default 0.9). */
  momentum?: number;
  /** Default: the optimiser's (OPTIMIZER_DEFAULTS). */
  weightDecay?: number;
  /** Clip the gradients to this global L2 norm (0 or absent: no clipping). */
  clipNorm?: number;
  /** auto (default: bf16 autocast on a GPU, fp32 on the CPU), fp32, bf16 or fp16; bf16 and fp16 need a GPU. */
  precision?: Precision;
  /** Convolutions channels-last (default: on a GPU with bf16 or fp16). Refused on the CPU, where libtorch 1.13's channels-last convolutions corrupt memory. */
  channelsLast?: boolean;
  /** On a GPU: cuDNN's deterministic algorithms and no autotuning, so that runs repeat bit for bit (default false). */
  deterministic?: boolean;
  /**
   * The backbone's learning rate as a factor of the rest's (default 1; 0: frozen). The backbone is
   * what fine-tuning takes from a trained network: cnn-lstm's ResNet, every other network's all
   * but its class-score layer (native/nn Network::inBackbone). With this or `freezeBackbone` the
   * optimiser has two parameter groups, and a checkpoint loads only into a model with the same two settings.
   */
  backboneLr?: number;
  /** Steps the backbone is frozen for at the start (default 0): recorded with the checkpoint; trainModel's schedule (backboneRate) applies it. */
  freezeBackbone?: number;
}

/**
 * The smallest input side of the networks that have one: their unpadded max-pools shrink the side
 * to nothing below it (libtorch would only say "Output size is too small", and vgg16's only at the
 * first step). The other networks pad or pool adaptively and take any side.
 */
export const MIN_INPUT_SIZE: Partial<Record<ModelName, { size: number; why: string }>> = {
  mv2d: { size: 15, why: 'three 3x3 max-pools of stride 2' },
  vgg16: { size: 32, why: 'five 2x2 max-pools' },
};

/**
 * The paper's input for each network; the resnets' is torchvision's ImageNet one (224). A resnet has
 * no hidden fully connected layers (its head `fc` maps the pooled features to the classes), so
 * `fc` does not change it: its default is the pooled feature count at width 1, for the record.
 */
export const PAPER_INPUT: Record<ModelName, { frames: number; size: number; fc: number; width?: number }> = {
  mv3d: { frames: 160, size: 24, fc: 2048 },
  mv2d: { frames: 60, size: 48, fc: 4096 },
  vgg16: { frames: 1, size: 224, fc: 4096 },
  resnet18: { frames: 1, size: 224, fc: 512 },
  resnet34: { frames: 1, size: 224, fc: 512 },
  resnet50: { frames: 1, size: 224, fc: 2048 },
  resnet101: { frames: 1, size: 224, fc: 2048 },
  resnet152: { frames: 1, size: 224, fc: 2048 },
  // Not a paper's input: sized for a CPU (the seeds' network is fc 1024 on resnet152 at 224, width 1;
  // the paper preset's). frames: when not given, the cache's clip length is used instead.
  'cnn-lstm': { frames: 8, size: 112, fc: 256, width: 0.25 },
  // X3D-S's: 13 frames at 160x160; fc is its head's width before the class projection.
  'x3d-s': { frames: 13, size: 160, fc: 2048 },
};

/**
 * Refuses a device the networks cannot run on (cuda on a libtorch without CUDA, cuda:N beyond the
 * devices), with the addon's message, before a command writes anything: a workflow that reaches
 * its first network only after long work (the sweep prepares its caches first) calls this at the
 * start. The cpu is always there; on another device a tiny network is built there and dropped.
 */
export async function checkDevice(device: unknown = 'cpu'): Promise<Device> {
  const checked = parseDevice(device, 'device');
  if (checked !== 'cpu') await CnnModel.create({ model: 'mv2d', classes: ['a', 'b'], frames: 1, size: 16, width: 0.125, fc: 8 }, { device: checked, threads: 1 });
  return checked;
}

export interface StepResult {
  loss: number;
  correct: number;
  count: number;
  gradNorm: number;
  stepped: boolean;
  overflow: boolean;
}

export class CnnModel {
  // The native session runs one job at a time; callers (a service's concurrent requests) queue here.
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly config: ModelConfig,
    private readonly session: NativeSession,
  ) {}

  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job, job);
    this.tail = run.catch(() => undefined);
    return run;
  }

  static async create(config: ModelConfig, settings: SessionSettings = {}): Promise<CnnModel> {
    const model = oneOf(config.model, 'model', MODELS);
    const size = positiveInteger(config.size, 'size');
    const least = MIN_INPUT_SIZE[model];
    if (least !== undefined && size < least.size) {
      throw new UsageError(`Expected an integer of at least ${least.size} for size but received ${JSON.stringify(config.size)}: ${model}'s ${least.why} leave nothing of a smaller input side`);
    }
    const optimizer = oneOf(settings.optimizer ?? 'sgd', 'optimizer', OPTIMIZERS);
    if (config.classes.length < 2) throw new MvclassError(`a classifier needs at least 2 classes, got ${config.classes.length}`);
    if (config.backbone !== undefined && !hasBackbone(model)) throw new MvclassError(`only cnn-lstm has a backbone; ${model} has none`);
    const backbone = hasBackbone(model) ? oneOf(config.backbone ?? 'resnet18', 'backbone', BACKBONES) : undefined;
    const session = await withCallerStack(undefined, () =>
      nnAddon().createSession({
        model,
        classes: config.classes.length,
        frames: positiveInteger(config.frames, 'frames'),
        size,
        width: config.width,
        fc: positiveInteger(config.fc, 'fc'),
        ...(backbone ? { backbone } : {}),
        device: parseDevice(settings.device ?? 'cpu', 'device'),
        threads: integerInRange(settings.threads ?? 0, 'threads', 0, 1024),
        seed: settings.seed ?? 1,
        optimizer,
        momentum: settings.momentum ?? 0.9,
        weightDecay: settings.weightDecay ?? OPTIMIZER_DEFAULTS[optimizer].weightDecay,
        clipNorm: settings.clipNorm ?? 0,
        precision: parsePrecision(settings.precision ?? 'auto', 'precision'),
        channelsLast: settings.channelsLast === undefined ? 'auto' : checkBoolean(settings.channelsLast, 'channelsLast') ? 'on' : 'off',
        deterministic: settings.deterministic === undefined ? false : checkBoolean(settings.deterministic, 'deterministic'),
        backboneLr: fraction(settings.backboneLr ?? 1, 'backbone-lr'),
        freezeBackbone: nonNegativeInteger(settings.freezeBackbone ?? 0, 'freeze-backbone'),
      }),
    );
    return new CnnModel({ ...config, model }, session);
  }

  /** Rebuilds the model a run folder holds (run.json + model.pt); fails if they disagree. */
  static async open(runDir: string, settings: SessionSettings = {}, checkpoint = 'model.pt'): Promise<CnnModel> {
    const { config, training } = await readRun(runDir);
    // Its checkpoints hold the state of the optimiser it was trained with (runs before Adam: SGD),
    // in the parameter groups it was trained with.
    const optimizer = (OPTIMIZERS as readonly unknown[]).includes(training.optimizer) ? (training.optimizer as OptimizerName) : 'sgd';
    const groups = backboneSettingsOf(training, runPaths(runDir).run);
    const described = `the network run.json describes (${config.model}${config.backbone ? ` on ${config.backbone}` : ''}, ${config.classes.length} classes, frames ${config.frames}, size ${config.size}, width ${config.width}, fc ${config.fc})`;
    const model = await CnnModel.create(config, { optimizer, ...groups, ...settings }).catch((error: Error) => {
      throw new MvclassError(`${runDir}: cannot build ${described}: ${error.message}`, runDir);
    });
    const file = path.join(runDir, checkpoint);
    await model.loadCheckpoint(file, (reason) => `${file}: cannot load the checkpoint into ${described}: ${reason}`);
    return model;
  }

  get inputShape(): number[] {
    return this.session.inputShape;
  }

  get parameters(): number {
    return this.session.parameters;
  }

  /** The number type the forward pass runs in: fp32, bf16 or fp16 (auto resolved for the device). */
  get precision(): Exclude<Precision, 'auto'> {
    return this.session.precision;
  }

  /** Whether the convolutions run channels-last. */
  get channelsLast(): boolean {
    return this.session.channelsLast;
  }

  /**
   * One optimiser step; `stepped` is false (and the weights unchanged) when the loss or the gradients
   * were not finite. With fp16, `overflow` says the gradients overflowed at the loss scale, which
   * was halved: a skipped step, not a divergence. `backboneLearningRate` (a model created with
   * `backboneLr` or `freezeBackbone` only; default `learningRate`): the backbone's rate this step,
   * 0 to hold it frozen (no change to its weights, optimiser state or batch-norm statistics).
   */
  trainStep(data: Float32Array, labels: Int32Array, learningRate: number, backboneLearningRate?: number): Promise<StepResult> {
    return withCallerStack(undefined, () => this.exclusive(() => this.session.trainStep(data, labels, learningRate, backboneLearningRate)));
  }

  /** Softmax probabilities, [batch, classes]. */
  predict(data: Float32Array): Promise<Float32Array> {
    return withCallerStack(undefined, () => this.exclusive(() => this.session.predict(data)));
  }

  /**
   * Weights, optimiser state and random generator, written atomically. `sameAs`: a checkpoint this
   * model wrote with no step since; as equal states give equal bytes, `file` becomes a second name
   * of it (a hard link) instead of a second write, or is written where links are refused.
   */
  async save(file: string, options: { sameAs?: string } = {}): Promise<void> {
    const write = (temp: string) => withCallerStack(file, () => this.exclusive(() => this.session.save(temp)));
    if (options.sameAs !== undefined) await linkAtomically(options.sameAs, file, write);
    else await writeAtomically(file, write);
  }

  async load(file: string): Promise<void> {
    await this.loadCheckpoint(file, (reason) => `${file}: cannot load the checkpoint (damaged, or another network?): ${reason}`);
  }

  /** The native load refuses a checkpoint whose tensors have other shapes than this network's. */
  private async loadCheckpoint(file: string, message: (reason: string) => string): Promise<void> {
    await fs.access(file).catch(() => {
      throw new MvclassError(`${file}: no such checkpoint`, file);
    });
    await withCallerStack(file, () => this.exclusive(() => this.session.load(file))).catch((error: Error) => {
      throw new MvclassError(message(error.message), file);
    });
  }

  /**
   * torchvision-layout weights saved as torch.save(dict(model.state_dict())): parameters and batch
   * norm's buffers by name. Only the class-score layer may differ in shape (skipped: a new class
   * count); any other mismatch, or a tensor missing on either side, is an error naming it.
   */
  async importWeights(file: string): Promise<{ loaded: number; skipped: number }> {
    return withCallerStack(file, () => this.exclusive(() => this.session.importWeights(file))).catch((error: Error) => {
      throw new MvclassError(`${file}: cannot import weights: ${error.message}`, file);
    });
  }

  /** The state dict (parameters and buffers) in torch.save(dict(model.state_dict())) format (what importWeights reads). */
  async exportWeights(file: string): Promise<void> {
    await writeAtomically(file, (temp) => withCallerStack(file, () => this.exclusive(() => this.session.exportWeights(temp))));
  }

  /** The state dict (parameters, then buffers such as batch norm's running statistics), copied out: for checks. */
  state(): Promise<StateTensor[]> {
    return withCallerStack(undefined, () => this.exclusive(() => this.session.state()));
  }

  /** Loss (no dropout) and its gradient with respect to the input: for gradient checks. */
  inputGradient(data: Float32Array, labels: Int32Array): Promise<{ loss: number; gradient: Float32Array }> {
    return withCallerStack(undefined, () => this.exclusive(() => this.session.inputGradient(data, labels)));
  }

  async writeRun(runDir: string, extra: { iteration?: number; input?: unknown; training?: unknown; best?: unknown }): Promise<void> {
    await writeRun(runDir, this.config, extra);
  }
}
