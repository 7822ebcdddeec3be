// Batches of decoded-frame clips for the clip networks (cnn-lstm), as VolumeLoader makes motion
// volumes: a seeded order per epoch, each example's augmentation drawn from its own seed
// (seed, epoch, index), and bounded prefetch, so the batches are the same whatever the prefetch.
//
// An example is T frames of the video's stored clip, chosen by the clip rule (clipIndices: the
// centres of T equal spans; T above the stored count repeats frames), all with one crop and flip.
// Short-side jitter: the frames are first scaled down (bilinear) so that their short side is a
// uniform integer in [S, stored short side], then an S x S square is cropped at random: the crop
// covers between S / short and all of the short side. Without jitter the crop is at the stored size.

import { clipIndices } from '../codec/clips.js';
import { MvclassError } from '../util/errors.js';
import { mixSeed, mulberry32, randomInt, shuffleInPlace, type Rng } from '../util/random.js';
import { checkBoolean, invalid, nonNegativeInteger, positiveInteger } from '../util/validate.js';
import { clipTensor, scaledSize, type ClipCrop, type FrameImages } from './pixels.js';

/** Where the clips come from: `frames(i)` for i in [0, length), each with an integer class label. */
export interface FrameClipSource {
  readonly length: number;
  frames(index: number): Promise<FrameImages>;
  label(index: number): number;
}

export interface ClipLoaderOptions {
  batchSize: number;
  /** T: frames per example. */
  frames: number;
  /** S: the square side the network takes. */
  size: number;
  /** Seeds the orders and the augmentation (default 0). */
  seed?: number;
  /** A new seeded order every epoch (default true). */
  shuffle?: boolean;
  /** Short-side jitter before the random crop (default true). */
  jitter?: boolean;
  /** Batches prepared ahead of the one the consumer holds (default 2; 0 loads on demand). */
  prefetch?: number;
}

export interface ClipBatch {
  /** [batch, T, 3, S, S] contiguous. */
  data: Float32Array;
  labels: Int32Array;
  indices: number[];
}

const ORDER_STREAM = 0x6f726465; // "orde", as VolumeLoader: orders apart from per-example draws
const CLIP_STREAM = 0x636c6970; // "clip": the per-example crop draws

/**
 * The crop of one training example of a `width` x `height` clip: with `jitter` the short side is
 * scaled to a uniform integer in [size, short side] first; then a uniform position and a coin flip.
 */
export function randomClipCrop(width: number, height: number, size: number, jitter: boolean, rng: Rng): ClipCrop {
  const short = Math.min(width, height);
  if (size > short) throw new MvclassError(`a ${width}x${height} clip is smaller than the input side ${size}`);
  const target = jitter ? size + randomInt(rng, short - size + 1) : short;
  const scale = target === short ? 1 : target / short;
  const scaled = scale === 1 ? { width, height } : scaledSize(width, height, scale);
  const x = randomInt(rng, scaled.width - size + 1);
  const y = randomInt(rng, scaled.height - size + 1);
  return { scale, x, y, flip: rng() < 0.5 };
}

export class ClipLoader {
  readonly options: Readonly<Required<ClipLoaderOptions>>;

  constructor(
    private readonly source: FrameClipSource,
    options: ClipLoaderOptions,
  ) {
    const seed = options.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw invalid('an integer', 'seed', seed);
    this.options = Object.freeze({
      batchSize: positiveInteger(options.batchSize, 'batchSize'),
      frames: positiveInteger(options.frames, 'frames'),
      size: positiveInteger(options.size, 'size'),
      seed,
      shuffle: options.shuffle === undefined ? true : checkBoolean(options.shuffle, 'shuffle'),
      jitter: options.jitter === undefined ? true : checkBoolean(options.jitter, 'jitter'),
      prefetch: options.prefetch === undefined ? 2 : nonNegativeInteger(options.prefetch, 'prefetch'),
    });
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.source.length / this.options.batchSize);
  }

  /** The epoch's index order: seeded by (seed, epoch) when shuffling. */
  order(epoch: number): number[] {
    const indices = Array.from({ length: this.source.length }, (_, i) => i);
    return this.options.shuffle ? shuffleInPlace(indices, mulberry32(mixSeed(this.options.seed, epoch, ORDER_STREAM))) : indices;
  }

  /** Epoch after epoch from 0, without end, `skip` batches passed over (a resumed run). */
  async *epochs(skip = 0): AsyncGenerator<ClipBatch, void, undefined> {
    nonNegativeInteger(skip, 'skip');
    const perEpoch = this.batchesPerEpoch;
    if (perEpoch === 0) return;
    const { batchSize, prefetch } = this.options;
    const queue: Promise<ClipBatch>[] = [];
    let epoch = Math.floor(skip / perEpoch);
    let b = skip % perEpoch;
    let order = this.order(epoch);
    try {
      for (;;) {
        while (queue.length < prefetch + 1) {
          const pending = this.loadBatch(order.slice(b * batchSize, (b + 1) * batchSize), epoch);
          pending.catch(() => undefined); // surfaced when awaited
          queue.push(pending);
          if (++b === perEpoch) {
            b = 0;
            order = this.order(++epoch);
          }
        }
        yield await queue.shift()!;
      }
    } finally {
      queue.length = 0;
    }
  }

  /** The batch of `indices` in `epoch`. */
  async loadBatch(indices: number[], epoch: number): Promise<ClipBatch> {
    const { frames, size, seed, jitter } = this.options;
    const per = frames * 3 * size * size;
    const data = new Float32Array(indices.length * per);
    const labels = new Int32Array(indices.length);
    await Promise.all(
      indices.map(async (index, k) => {
        labels[k] = this.source.label(index);
        const images = await this.source.frames(index);
        const crop = randomClipCrop(images.width, images.height, size, jitter, mulberry32(mixSeed(seed, epoch, index, CLIP_STREAM)));
        clipTensor(images, clipIndices(images.frames, frames), crop, size, data, k * per);
      }),
    );
    return { data, labels, indices };
  }
}

/** Test views of a clip, [views, T, 3, S, S]: the centre crop (crops 1), or 4 corners + centre, each also mirrored (crops 10); no scaling. */
export function clipViews(images: FrameImages, frames: number, size: number, crops: 1 | 10): Float32Array {
  if (size > images.width || size > images.height) throw new MvclassError(`a ${images.width}x${images.height} clip is smaller than the input side ${size}`);
  const mx = images.width - size;
  const my = images.height - size;
  const places: Array<[number, number]> = crops === 10 ? [[0, 0], [mx, 0], [0, my], [mx, my], [mx >> 1, my >> 1]] : [[mx >> 1, my >> 1]];
  const flips = crops === 10 ? [false, true] : [false];
  const indices = clipIndices(images.frames, frames);
  const per = frames * 3 * size * size;
  const out = new Float32Array(places.length * flips.length * per);
  let k = 0;
  for (const flip of flips) for (const [x, y] of places) clipTensor(images, indices, { scale: 1, x, y, flip }, size, out, per * k++);
  return out;
}
