// What each network eats, from a prepared cache: motion volumes for mv3d/mv2d (src/volumes),
// T-frame clips for the clip networks (cnn-lstm: clip-loader.ts, short-side jitter + one crop and
// flip for all frames when training; centre or 10 crops of every frame when testing),
// key frames for the frame networks (vgg16, resnet*: random crop + flip when training, centre and
// corner crops for testing), or, when the cache has decoded-frame clips (prepare --rgb), the
// clip's frames instead: a random frame per example when training, every frame when testing (the
// video's score is then the mean of its frames' scores); normalised with ImageNet's statistics as
// torchvision's networks expect. Motion volumes are divided
// by the training set's RMS (ModelConfig.motionStd, measured by motionStd when training starts):
// sampled grids are pixels times the resize factor N / crop side, so mv2d's 48x48 inputs reach
// tens to hundreds, and a network He-initialised for unit inputs diverges or dies on them.

import os from 'node:os';
import type { CachedVideo } from '../cache/format.js';
import type { PreparedCache } from '../cache/read.js';
import { mulberry32, mixSeed, randomInt, randomView, sampleVolume, scaleInPlace, testViewSpecs, volumeLength, VolumeLoader, type Layout, type MotionClip } from '../volumes/index.js';
import { isClipModel, isFrameModel, type ModelConfig } from '../run/format.js';
import { MvclassError } from '../util/errors.js';
import { ClipLoader, clipViews } from './clip-loader.js';
import { frameOf, imageTensor, type FrameImages } from './pixels.js';

export { imageTensor, type FrameImages } from './pixels.js';

export function layoutOf(config: ModelConfig): Layout {
  return config.model === 'mv3d' ? '3d' : '2d';
}

/** What motion volumes are multiplied by before the network sees them (1 for runs made before motionStd). */
export function motionScale(config: ModelConfig): number {
  return config.motionStd ? 1 / config.motionStd : 1;
}

/**
 * The root mean square of the training volumes (augmented as in training, zero-centred) over
 * up to `clips` clips spread over the set: the motion normalisation. 1 when every vector is zero.
 */
export async function motionStd(cache: PreparedCache, config: Pick<ModelConfig, 'model' | 'frames' | 'size'>, seed: number, clips = 64): Promise<number> {
  const n = cache.length;
  const count = Math.min(n, clips);
  let sum = 0;
  let values = 0;
  for (let k = 0; k < count; k++) {
    const index = Math.floor((k * n) / count);
    const clip = await cache.clip(index);
    const v = randomView(clip, { frames: config.frames, size: config.size, layout: config.model === 'mv3d' ? '3d' : '2d' }, mulberry32(mixSeed(seed, 0x73746420, index)));
    for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
    values += v.length;
  }
  const rms = Math.sqrt(sum / Math.max(1, values));
  return rms > 0 && Number.isFinite(rms) ? Number(rms.toPrecision(6)) : 1;
}

/** The picture a frame network sees of a cached video: its clip's frames when the cache has clips, else its key frame. */
export function frameShape(v: CachedVideo): { width: number; height: number; clip: boolean } | null {
  if (v.clip) return { width: v.clip.width, height: v.clip.height, clip: true };
  return v.keyFrame ? { width: v.keyFrame.width, height: v.keyFrame.height, clip: false } : null;
}

/** A clip network's videos: the cache's decoded-frame clips, or a clear error when it has none. */
function clipCache(cache: PreparedCache, config: ModelConfig): { length: number; frames(i: number): Promise<FrameImages>; label(i: number): number } {
  if (cache.manifest.settings.rgb === undefined) throw noClips(cache.dir, config.model);
  return {
    length: cache.length,
    label: (i) => cache.label(i),
    frames: async (i) => {
      const clip = await cache.frames(i);
      if (!clip) throw noClips(cache.dir, config.model);
      return clip;
    },
  };
}

/** The refusal of a cache without clips to a clip network. */
export function noClips(dir: string, model: string): MvclassError {
  return new MvclassError(`${dir}: ${model} takes decoded-frame clips and this cache has none: prepare it with --rgb T (and --short-side S)`, dir);
}

/** A motion network's cache: refused when it was read without motion vectors (prepare's noMotion: JPEG frames), whose grids are all holes. */
function assertMotion(cache: PreparedCache, model: string): void {
  if (cache.manifest.settings.noMotion) {
    throw new MvclassError(`${cache.dir}: ${model} reads motion vectors and this cache was prepared without them (noMotion: its videos carry none, e.g. JPEG frames); test a pixel network on it`, cache.dir);
  }
}

/** What frameShape names, read: the clip (clip: true) or the key frame. */
async function frameImages(cache: PreparedCache, index: number): Promise<FrameImages & { clip: boolean }> {
  const clip = await cache.frames(index);
  if (clip) return { ...clip, clip: true };
  const key = await cache.keyFrame(index);
  if (!key) throw new Error(`${cache.dir}: video ${index} has no key frame`);
  return { frames: 1, width: key.width, height: key.height, data: key.data, clip: false };
}

export interface Batch {
  data: Float32Array;
  labels: Int32Array;
}

/**
 * How many worker threads sample the motion volumes while a network trains on `device`: none on
 * the CPU, whose cores the network's own threads use; on a GPU, which steps faster than one
 * JavaScript thread samples, one per core but two (for the main thread and libtorch's), at most 8.
 */
export function loaderWorkers(device: string): number {
  return device === 'cpu' ? 0 : Math.max(1, Math.min(8, os.availableParallelism() - 2));
}

/**
 * Training batches, epoch after epoch, deterministic from the seed; `skip` batches are passed over
 * (resume). Each epoch is every training video once in a new order, in ceil(n / batchSize)
 * batches: the last one smaller when batchSize does not divide n (one batch of all n videos when
 * batchSize > n). A cache without videos is an error. Motion volumes are sampled on `workers`
 * threads (the batches are the same whatever the number).
 */
export async function* trainingBatches(cache: PreparedCache, config: ModelConfig, batchSize: number, seed: number, skip = 0, workers = 0): AsyncGenerator<Batch> {
  if (cache.length === 0) throw new Error(`${cache.dir}: no videos to train on`);
  if (isClipModel(config.model)) {
    const clips = clipCache(cache, config);
    const loader = new ClipLoader(clips, { batchSize, frames: config.frames, size: config.size, seed, jitter: true });
    for await (const batch of loader.epochs(skip)) yield { data: batch.data, labels: batch.labels };
    return;
  }
  if (!isFrameModel(config.model)) {
    assertMotion(cache, config.model);
    const loader = new VolumeLoader(cache, {
      batchSize, frames: config.frames, size: config.size, layout: layoutOf(config), shuffle: true, seed, augment: true,
      scale: motionScale(config), workers, prefetch: Math.max(2, workers + 1),
    });
    try {
      for await (const batch of loader.epochs(0, skip)) yield { data: batch.data, labels: batch.labels };
    } finally {
      await loader.close();
    }
  }
  const per = 3 * config.size * config.size;
  const n = cache.length;
  const perEpoch = Math.ceil(n / batchSize);
  for (let epoch = 0, step = 0; ; epoch++) {
    const order = Array.from({ length: n }, (_, i) => i);
    const rng = mulberry32(mixSeed(seed, epoch));
    for (let i = n - 1; i > 0; i--) {
      const j = randomInt(rng, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let b = 0; b < perEpoch; b++, step++) {
      if (step < skip) continue;
      const size = Math.min(batchSize, n - b * batchSize);
      const data = new Float32Array(size * per);
      const labels = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        const index = order[b * batchSize + k]!;
        const images = await frameImages(cache, index);
        const r = mulberry32(mixSeed(seed, epoch, index));
        // A clip's frame is drawn first; a key frame draws nothing here, so its crops are as they were before clips.
        const t = images.clip ? randomInt(r, images.frames) : 0;
        imageTensor(frameOf(images, t), images.width, randomInt(r, images.width - config.size + 1), randomInt(r, images.height - config.size + 1), config.size, r() < 0.5, data, k * per);
        labels[k] = cache.label(index);
      }
      yield { data, labels };
    }
  }
}

/** Test-time views of a motion clip as one batch: `temporal` positions x 10 crops (or the centre one). */
export function volumeViews(clip: MotionClip, config: ModelConfig, temporal: number, crops: 1 | 10): Float32Array {
  // testViewSpecs gives the ten crops per temporal position; only the centre one is sampled when
  // asked for alone (classify --rolling samples a window per frame). Zero-centred as testViews does.
  const specs = testViewSpecs(clip, config.frames, temporal);
  const chosen = crops === 10 ? specs : specs.filter((_, i) => i % 10 === 4);
  const per = volumeLength(config.frames, config.size);
  const out = new Float32Array(chosen.length * per);
  const layout = layoutOf(config);
  chosen.forEach((v, i) => sampleVolume(clip, { frames: config.frames, size: config.size, layout, start: v.start, crop: v.crop, flip: v.flip, zeroCentre: true }, out.subarray(i * per, (i + 1) * per)));
  return scaleInPlace(out, motionScale(config));
}

/** Test-time views of a key frame: 4 corners + centre, each also mirrored (or the centre one). */
export function imageViews(key: { width: number; height: number; data: Uint8Array }, config: ModelConfig, crops: 1 | 10): Float32Array {
  const s = config.size;
  const mx = key.width - s;
  const my = key.height - s;
  const places: Array<[number, number]> = crops === 10 ? [[0, 0], [mx, 0], [0, my], [mx, my], [mx >> 1, my >> 1]] : [[mx >> 1, my >> 1]];
  const per = 3 * s * s;
  const flips = crops === 10 ? [false, true] : [false];
  const out = new Float32Array(places.length * flips.length * per);
  let k = 0;
  for (const flip of flips) for (const [x, y] of places) imageTensor(key.data, key.width, x, y, s, flip, out, per * k++);
  return out;
}

/**
 * Test-time views of every frame of `images`, frame after frame (imageViews each): the same number
 * of views per frame, so the mean over all of them is the mean of the per-frame scores.
 */
export function framesViews(images: FrameImages, config: ModelConfig, crops: 1 | 10): Float32Array {
  if (images.frames === 1) return imageViews({ width: images.width, height: images.height, data: images.data }, config, crops);
  const views = Array.from({ length: images.frames }, (_, t) => imageViews({ width: images.width, height: images.height, data: frameOf(images, t) }, config, crops));
  const out = new Float32Array(views.reduce((n, v) => n + v.length, 0));
  views.forEach((v, t) => out.set(v, t * v.length));
  return out;
}

/** The test-time views of one cached video as one batch. */
export async function testBatch(cache: PreparedCache, index: number, config: ModelConfig, temporal: number, crops: 1 | 10): Promise<Float32Array> {
  if (isClipModel(config.model)) return clipViews((await clipCache(cache, config).frames(index)), config.frames, config.size, crops);
  if (!isFrameModel(config.model)) {
    assertMotion(cache, config.model);
    return volumeViews(await cache.clip(index), config, temporal, crops);
  }
  return framesViews(await frameImages(cache, index), config, crops);
}
