// Batches of CNN input volumes from a source of clips: a deterministic (seeded) order per
// epoch, augmentation drawn from a per-clip seed, and bounded prefetch — while the consumer
// works on one batch, the next `prefetch` batches are being loaded and sampled.

import { MvclassError } from '../util/errors.js';
import { checkBoolean, integerInRange, invalid, nonNegativeInteger, oneOf, positiveInteger, positiveNumber } from '../util/validate.js';
import { randomView, validateScales, DEFAULT_SCALES } from './augment.js';
import { mixSeed, mulberry32, shuffleInPlace } from '../util/random.js';
import { LAYOUTS, sampleVolume, scaleInPlace, volumeLength, volumeShape } from './sample.js';
import type { Layout, MotionClip } from './sample.js';
import { centreView } from './views.js';
import { SamplerPool, type WorkerSource } from './workers.js';

/** Where clips come from: `clip(i)` for i in [0, length), each with an integer class label. */
export interface ClipSource {
  readonly length: number;
  clip(index: number): Promise<MotionClip>;
  label(index: number): number;
  /** How a worker thread opens the same source (needed for LoaderOptions.workers). */
  workerSource?(): WorkerSource;
}

export interface LoaderOptions {
  batchSize: number;
  frames: number;
  size: number;
  layout: Layout;
  /** A new seeded order every epoch (default false: index order). */
  shuffle?: boolean;
  /** Seeds the orders and the augmentation (default 0). */
  seed?: number;
  /** randomView per clip (default false: the centre square crop of the first window, not mirrored). */
  augment?: boolean;
  /** Batches prepared ahead of the one the consumer holds (default 2; 0 loads on demand). */
  prefetch?: number;
  /** Drop the final partial batch of an epoch (default false). */
  dropLast?: boolean;
  /** Default true. */
  zeroCentre?: boolean;
  /** Crop scales for augmentation (default [1, 0.833, 0.667, 0.5]). */
  scales?: readonly number[];
  /**
   * Worker threads that sample the batches (default 0: this thread). The batches are the same
   * either way; the source must say how a worker opens it (workerSource). Call close() after.
   */
  workers?: number;
  /** Every value is multiplied by this after sampling (default 1): a network's input normalisation. */
  scale?: number;
}

export interface VolumeBatch {
  /** [batch, ...volume] contiguous. */
  data: Float32Array;
  shape: number[];
  labels: Int32Array;
  /** Source indices of the batch's volumes, in order. */
  indices: number[];
}

interface Settings {
  batchSize: number;
  frames: number;
  size: number;
  layout: Layout;
  shuffle: boolean;
  seed: number;
  augment: boolean;
  prefetch: number;
  dropLast: boolean;
  zeroCentre: boolean;
  scales: readonly number[];
  workers: number;
  scale: number;
}

function flag(value: unknown, name: string, fallback: boolean): boolean {
  return value === undefined ? fallback : checkBoolean(value, name);
}

function settings(options: LoaderOptions): Settings {
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw invalid('an integer', 'seed', seed);
  return {
    batchSize: positiveInteger(options.batchSize, 'batchSize'),
    frames: positiveInteger(options.frames, 'frames'),
    size: positiveInteger(options.size, 'size'),
    layout: oneOf(options.layout, 'layout', LAYOUTS),
    shuffle: flag(options.shuffle, 'shuffle', false),
    seed,
    augment: flag(options.augment, 'augment', false),
    prefetch: options.prefetch === undefined ? 2 : nonNegativeInteger(options.prefetch, 'prefetch'),
    dropLast: flag(options.dropLast, 'dropLast', false),
    zeroCentre: flag(options.zeroCentre, 'zeroCentre', true),
    scales: validateScales(options.scales ?? DEFAULT_SCALES),
    workers: options.workers === undefined ? 0 : integerInRange(options.workers, 'workers', 0, 256),
    scale: options.scale === undefined ? 1 : positiveNumber(options.scale, 'scale'),
  };
}

const ORDER_STREAM = 0x6f726465; // "orde": keeps order draws apart from per-clip augmentation draws

export class VolumeLoader implements AsyncIterable<VolumeBatch> {
  readonly options: Readonly<Settings>;
  /** Shape of one volume. */
  readonly volumeShape: readonly number[];
  private readonly source: ClipSource;
  private nextEpoch = 0;
  private pool: SamplerPool | null = null;

  constructor(source: ClipSource, options: LoaderOptions) {
    if (typeof source !== 'object' || source === null || typeof source.clip !== 'function' || typeof source.label !== 'function') {
      throw invalid('a source with length, clip(i) and label(i)', 'source', source);
    }
    this.source = source;
    this.options = Object.freeze(settings(options));
    this.volumeShape = Object.freeze(volumeShape(this.options.frames, this.options.size, this.options.layout));
    if (this.options.workers > 0 && typeof source.workerSource !== 'function') {
      throw invalid('a source with workerSource() (how a worker thread opens it)', 'source', source);
    }
  }

  /** Stops the sampling workers, if any (a no-op otherwise). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  private samplers(): SamplerPool {
    if (this.pool) return this.pool;
    const { workers, ...options } = this.options;
    this.pool = new SamplerPool(workers, { source: this.source.workerSource!(), options });
    return this.pool;
  }

  private sourceLength(): number {
    return nonNegativeInteger(this.source.length, 'source.length');
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    const n = this.sourceLength();
    return this.options.dropLast ? Math.floor(n / this.options.batchSize) : Math.ceil(n / this.options.batchSize);
  }

  /** The index order of an epoch: seeded by (seed, epoch) when shuffling, else 0..length-1. */
  order(epoch: number): number[] {
    nonNegativeInteger(epoch, 'epoch');
    const indices = Array.from({ length: this.sourceLength() }, (_, i) => i);
    return this.options.shuffle ? shuffleInPlace(indices, mulberry32(mixSeed(this.options.seed, epoch, ORDER_STREAM))) : indices;
  }

  /** The epoch's batches as index lists (the last one partial unless dropLast). */
  plan(epoch: number): number[][] {
    const order = this.order(epoch);
    const { batchSize, dropLast } = this.options;
    const batches: number[][] = [];
    for (let at = 0; at < order.length; at += batchSize) {
      const batch = order.slice(at, at + batchSize);
      if (batch.length < batchSize && dropLast) break;
      batches.push(batch);
    }
    return batches;
  }

  /** Iterating the loader runs the next epoch: 0, then 1, ... */
  [Symbol.asyncIterator](): AsyncIterator<VolumeBatch> {
    return this.epoch(this.nextEpoch++);
  }

  /**
   * One epoch's batches. At most prefetch + 1 batches exist at once: the one being awaited or
   * held by the consumer, and up to `prefetch` being prepared behind it.
   */
  async *epoch(epoch: number): AsyncGenerator<VolumeBatch, void, undefined> {
    yield* this.prefetched(this.plan(epoch).map((indices) => ({ indices, epoch })));
  }

  /**
   * Epoch after epoch from `first`, without end, `skip` batches passed over (a resumed run): the
   * same batches as epoch(first), epoch(first + 1), ..., but the prefetch runs on across the epochs'
   * ends, so that a small set (a few batches per epoch) keeps the samplers busy.
   */
  async *epochs(first = 0, skip = 0): AsyncGenerator<VolumeBatch, void, undefined> {
    nonNegativeInteger(first, 'epoch');
    nonNegativeInteger(skip, 'skip');
    const loader = this;
    function* plans(): Generator<{ indices: number[]; epoch: number }> {
      for (let epoch = first; ; epoch++) {
        const perEpoch = loader.batchesPerEpoch;
        if (perEpoch === 0) return;
        if (skip >= perEpoch) {
          skip -= perEpoch;
          continue;
        }
        for (const indices of loader.plan(epoch).slice(skip)) yield { indices, epoch };
        skip = 0;
      }
    }
    yield* this.prefetched(plans());
  }

  /** The batches of `plans`, at most prefetch + 1 at once: the one awaited or held, and up to `prefetch` behind it. */
  private async *prefetched(plans: Iterable<{ indices: number[]; epoch: number }>): AsyncGenerator<VolumeBatch, void, undefined> {
    const queue: Promise<VolumeBatch>[] = [];
    const iterator = plans[Symbol.iterator]();
    let done = false;
    try {
      for (;;) {
        while (!done && queue.length < this.options.prefetch + 1) {
          const next = iterator.next();
          if (next.done) {
            done = true;
            break;
          }
          const { indices, epoch } = next.value;
          const pending = this.options.workers > 0 ? this.fromWorker(indices, epoch) : this.loadBatch(indices, epoch);
          pending.catch(() => undefined); // surfaced when awaited; never an unhandled rejection
          queue.push(pending);
        }
        if (queue.length === 0) return;
        yield await queue.shift()!;
      }
    } finally {
      queue.length = 0;
    }
  }

  private label(index: number): number {
    const label = this.source.label(index);
    if (typeof label !== 'number' || !Number.isInteger(label) || label < -0x80000000 || label > 0x7fffffff) {
      throw invalid('a 32-bit integer', `label(${index})`, label);
    }
    return label;
  }

  private sample(clip: MotionClip, index: number, epoch: number, out: Float32Array): void {
    const { frames, size, layout, zeroCentre, scales, scale } = this.options;
    if (this.options.augment) {
      randomView(clip, { frames, size, layout, scales, zeroCentre }, mulberry32(mixSeed(this.options.seed, epoch, index)), out);
    } else {
      sampleVolume(clip, { frames, size, layout, zeroCentre, ...centreView(clip) }, out);
    }
    // After sampling, not folded into its weights: the same float32 values training has always had
    // (a fold changes the last bit, and that alone moves a short real-footage run by many points).
    scaleInPlace(out, scale);
  }

  private async fromWorker(indices: number[], epoch: number): Promise<VolumeBatch> {
    const length = volumeLength(this.options.frames, this.options.size);
    // Shared memory: each worker writes its part of the batch in place.
    const data = new Float32Array(new SharedArrayBuffer(indices.length * length * Float32Array.BYTES_PER_ELEMENT));
    const labels = new Int32Array(new SharedArrayBuffer(indices.length * Int32Array.BYTES_PER_ELEMENT));
    await this.samplers().run(indices, epoch, data, labels);
    return { data, shape: [indices.length, ...this.volumeShape], labels, indices };
  }

  /** The batch of `indices` in `epoch`, sampled on this thread. */
  async loadBatch(indices: number[], epoch: number): Promise<VolumeBatch> {
    const length = volumeLength(this.options.frames, this.options.size);
    // Every value is written by sampling, so the memory need not be zeroed first.
    const bytes = Buffer.allocUnsafeSlow(indices.length * length * Float32Array.BYTES_PER_ELEMENT);
    const data = new Float32Array(bytes.buffer, bytes.byteOffset, indices.length * length);
    const labels = new Int32Array(indices.length);
    await this.fill(indices, epoch, data, labels);
    return { data, shape: [indices.length, ...this.volumeShape], labels, indices };
  }

  /** Samples the volumes of `indices` in `epoch` into `data` and their labels into `labels` (what the workers run, each on its part). */
  async fill(indices: number[], epoch: number, data: Float32Array, labels: Int32Array): Promise<void> {
    const length = volumeLength(this.options.frames, this.options.size);
    await Promise.all(
      indices.map(async (index, k) => {
        try {
          labels[k] = this.label(index);
          const clip = await this.source.clip(index);
          this.sample(clip, index, epoch, data.subarray(k * length, (k + 1) * length));
        } catch (cause) {
          if (cause instanceof MvclassError) throw new MvclassError(`Clip ${index}: ${cause.message}`, cause.path);
          throw cause;
        }
      }),
    );
  }
}
