// CnnModel: one of seed 004's networks (mv3d, mv2d, vgg16) in the nn addon, with the settings
// that a checkpoint needs to rebuild it.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomically, writeFileAtomically } from '../util/atomic.js';
import { MvclassError, withCallerStack } from '../util/errors.js';
import { integerInRange, oneOf, positiveInteger } from '../util/validate.js';
import { nnAddon, type NativeSession } from './native.js';

export type ModelName = 'mv3d' | 'mv2d' | 'vgg16';
export const MODELS = ['mv3d', 'mv2d', 'vgg16'] as const;

export interface ModelConfig {
  model: ModelName;
  classes: string[];
  /** T: frames per volume (mv3d 160, mv2d 60 in the paper). */
  frames: number;
  /** N: input side (mv3d 24, mv2d 48; vgg16 its image side). */
  size: number;
  /** Channel multiplier (1 = the paper's networks). */
  width: number;
  /** Hidden units of the first two fully connected layers. */
  fc: number;
}

export interface SessionSettings {
  device?: 'cpu' | 'cuda';
  threads?: number;
  seed?: number;
  momentum?: number;
  weightDecay?: number;
}

/** The paper's input for each network. */
export const PAPER_INPUT: Record<ModelName, { frames: number; size: number; fc: number }> = {
  mv3d: { frames: 160, size: 24, fc: 2048 },
  mv2d: { frames: 60, size: 48, fc: 4096 },
  vgg16: { frames: 1, size: 224, fc: 4096 },
};

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
    if (config.classes.length < 2) throw new MvclassError(`a classifier needs at least 2 classes, got ${config.classes.length}`);
    const session = await withCallerStack(undefined, () =>
      nnAddon().createSession({
        model,
        classes: config.classes.length,
        frames: positiveInteger(config.frames, 'frames'),
        size: positiveInteger(config.size, 'size'),
        width: config.width,
        fc: positiveInteger(config.fc, 'fc'),
        device: oneOf(settings.device ?? 'cpu', 'device', ['cpu', 'cuda'] as const),
        threads: integerInRange(settings.threads ?? 0, 'threads', 0, 1024),
        seed: settings.seed ?? 1,
        momentum: settings.momentum ?? 0.9,
        weightDecay: settings.weightDecay ?? 0.005,
      }),
    );
    return new CnnModel({ ...config, model }, session);
  }

  /** Rebuilds the model a run folder holds (run.json + model.pt). */
  static async open(runDir: string, settings: SessionSettings = {}): Promise<CnnModel> {
    const file = path.join(runDir, 'run.json');
    const text = await fs.readFile(file, 'utf8').catch(() => {
      throw new MvclassError(`${runDir}: not a training run (no run.json)`, runDir);
    });
    let run: { config: ModelConfig };
    try {
      run = JSON.parse(text) as { config: ModelConfig };
    } catch (error) {
      throw new MvclassError(`${file}: damaged: ${(error as Error).message}`, file);
    }
    const model = await CnnModel.create(run.config, settings);
    await model.load(path.join(runDir, 'model.pt'));
    return model;
  }

  get inputShape(): number[] {
    return this.session.inputShape;
  }

  get parameters(): number {
    return this.session.parameters;
  }

  trainStep(data: Float32Array, labels: Int32Array, learningRate: number): Promise<{ loss: number; correct: number; count: number }> {
    return withCallerStack(undefined, () => this.exclusive(() => this.session.trainStep(data, labels, learningRate)));
  }

  /** Softmax probabilities, [batch, classes]. */
  predict(data: Float32Array): Promise<Float32Array> {
    return withCallerStack(undefined, () => this.exclusive(() => this.session.predict(data)));
  }

  /** Weights, optimiser state and random generator, written atomically. */
  async save(file: string): Promise<void> {
    await writeAtomically(file, (temp) => withCallerStack(file, () => this.exclusive(() => this.session.save(temp))));
  }

  async load(file: string): Promise<void> {
    await fs.access(file).catch(() => {
      throw new MvclassError(`${file}: no such checkpoint`, file);
    });
    await withCallerStack(file, () => this.exclusive(() => this.session.load(file))).catch((error: Error) => {
      throw new MvclassError(`${file}: cannot load the checkpoint (damaged, or another network?): ${error.message}`, file);
    });
  }

  /** torchvision-layout weights saved as torch.save(dict(model.state_dict())). */
  async importWeights(file: string): Promise<{ loaded: number; skipped: number }> {
    return withCallerStack(file, () => this.exclusive(() => this.session.importWeights(file))).catch((error: Error) => {
      throw new MvclassError(`${file}: cannot import weights: ${error.message}`, file);
    });
  }

  /** The parameters in torch.save(dict(model.state_dict())) format (what importWeights reads). */
  async exportWeights(file: string): Promise<void> {
    await writeAtomically(file, (temp) => withCallerStack(file, () => this.exclusive(() => this.session.exportWeights(temp))));
  }

  /** Loss (no dropout) and its gradient with respect to the input: for gradient checks. */
  inputGradient(data: Float32Array, labels: Int32Array): Promise<{ loss: number; gradient: Float32Array }> {
    return withCallerStack(undefined, () => this.exclusive(() => this.session.inputGradient(data, labels)));
  }

  async writeRun(runDir: string, extra: Record<string, unknown>): Promise<void> {
    await writeFileAtomically(path.join(runDir, 'run.json'), JSON.stringify({ config: this.config, ...extra }, null, 1) + '\n');
  }
}
