// CNN input volumes from per-frame motion grids: sampling, augmentation, test views, batching
// and a prefetching loader.

export { mulberry32, mixSeed, randomInt, shuffleInPlace, toRng } from '../util/random.js';
export type { Rng } from '../util/random.js';
export { axisWeights, LAYOUTS, sampleVolume, scaleInPlace, validateClip, validateCrop, volumeLength, volumeShape } from './sample.js';
export type { AxisWeights, CropRect, Layout, MotionClip, SampleOptions } from './sample.js';
export { DEFAULT_SCALES, randomView, randomViewSpec, validateScales } from './augment.js';
export type { AugmentOptions } from './augment.js';
export { centreView, temporalStarts, tenCrops, testViews, testViewSpecs } from './views.js';
export type { TestView, TestViewOptions, View, ViewCrop } from './views.js';
export { stackBatch } from './batch.js';
export type { Stacked } from './batch.js';
export { VolumeLoader } from './loader.js';
export type { ClipSource, LoaderOptions, VolumeBatch } from './loader.js';
