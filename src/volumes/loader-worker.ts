// A sampling worker (src/volumes/workers.ts): opens the clip source it is given and fills its part
// of each batch in the batch's shared memory, with VolumeLoader.fill, the loader's own sampling.

import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { MvclassError } from '../util/errors.js';
import { volumeLength } from './sample.js';
import { VolumeLoader, type ClipSource, type LoaderOptions } from './loader.js';
import type { SampleRequest, SamplerSetup } from './workers.js';

const setup = workerData as SamplerSetup;
const module = (await import(pathToFileURL(setup.source.module).href)) as Record<string, (args: unknown) => Promise<ClipSource>>;
const source = await module[setup.source.name]!(setup.source.args);
const loader = new VolumeLoader(source, { ...(setup.options as unknown as LoaderOptions), workers: 0 });

const length = volumeLength(loader.options.frames, loader.options.size);

parentPort!.on('message', (request: SampleRequest) => {
  const { first, indices } = request;
  const data = request.data.subarray(first * length, (first + indices.length) * length);
  const labels = request.labels.subarray(first, first + indices.length);
  loader.fill(indices, request.epoch, data, labels).then(
    () => parentPort!.postMessage({ id: request.id }),
    (error: Error) => parentPort!.postMessage({ id: request.id, error: { message: error.message, path: error instanceof MvclassError ? error.path : undefined, mvclass: error instanceof MvclassError } }),
  );
});
