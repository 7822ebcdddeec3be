// Stacking equally shaped volumes into one contiguous batch tensor.

import { MvclassError } from '../util/errors.js';

export interface Stacked {
  data: Float32Array;
  /** [batch, ...volumeShape], or [batch, length] when no volume shape was given. */
  shape: number[];
}

/** Copies the volumes one after another; `volumeShape`, when given, must multiply to their length. */
export function stackBatch(volumes: readonly Float32Array[], volumeShape?: readonly number[]): Stacked {
  const first = volumes[0];
  if (first === undefined) throw new MvclassError('Cannot stack an empty list of volumes');
  const length = first.length;
  if (volumeShape !== undefined) {
    const product = volumeShape.reduce((a, b) => a * b, 1);
    if (!volumeShape.every((d) => Number.isSafeInteger(d) && d > 0) || product !== length) {
      throw new MvclassError(`Volume shape [${volumeShape.join(', ')}] does not match volumes of ${length} values`);
    }
  }
  const data = new Float32Array(volumes.length * length);
  volumes.forEach((volume, i) => {
    if (volume.length !== length) {
      throw new MvclassError(`Cannot stack volumes of different sizes: volume ${i} has ${volume.length} values, volume 0 has ${length}`);
    }
    data.set(volume, i * length);
  });
  return { data, shape: [volumes.length, ...(volumeShape ?? [length])] };
}
