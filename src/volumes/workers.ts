// Batches sampled on worker threads: each worker opens its own copy of the clip source (the
// source says how: ClipSource.workerSource) and runs the very code the loader runs in-thread
// (VolumeLoader.fill), so a batch is the same wherever it was made. A batch is split between the
// workers, each writing its clips into the batch's shared memory in place: no copy, and a batch
// is ready in the time of its share. Used by VolumeLoader when `workers` > 0: on a GPU the network
// steps faster than one JavaScript thread samples.

import { Worker } from 'node:worker_threads';
import { MvclassError } from '../util/errors.js';
import { compiledModule } from '../util/package.js';

/** How a worker opens a clip source: `(await import(module))[name](args)` (module: a compiled file's path). */
export interface WorkerSource {
  module: string;
  name: string;
  args: unknown;
}

/** What a worker is given when it starts. */
export interface SamplerSetup {
  source: WorkerSource;
  /** The loader's settings (LoaderOptions), without workers. */
  options: Record<string, unknown>;
}

/** A worker's part of a batch: `indices` into data/labels (shared memory) from volume `first` on. */
export interface SampleRequest {
  id: number;
  indices: number[];
  epoch: number;
  data: Float32Array;
  labels: Int32Array;
  first: number;
}

interface Reply {
  id: number;
  error?: { message: string; path?: string; mvclass: boolean };
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The sources the worker's compiled code comes from (tests run the TypeScript; the worker runs dist/). */
const WORKER_SOURCES = ['src/volumes/loader-worker.ts', 'src/volumes/loader.ts', 'src/volumes/sample.ts', 'src/volumes/augment.ts', 'src/volumes/views.ts', 'src/cache/read.ts'];

export class SamplerPool {
  private readonly workers: Worker[] = [];
  private readonly pending: Map<number, Pending>[] = [];
  private nextId = 0;
  private turn = 0;
  private broken: Error | null = null;

  constructor(count: number, setup: SamplerSetup) {
    const entry = compiledModule(import.meta.url, 'volumes/loader-worker.js', WORKER_SOURCES, "the loader's sampling worker");
    for (let i = 0; i < count; i++) {
      const worker = new Worker(entry, { workerData: setup });
      const pending = new Map<number, Pending>();
      worker.on('message', (reply: Reply) => {
        const job = pending.get(reply.id);
        if (!job) return;
        pending.delete(reply.id);
        if (pending.size === 0) worker.unref();
        if (reply.error) job.reject(reply.error.mvclass ? new MvclassError(reply.error.message, reply.error.path) : new Error(reply.error.message));
        else job.resolve();
      });
      const fail = (error: Error) => {
        this.broken ??= new MvclassError(`a sampling worker stopped: ${error.message}`);
        for (const job of pending.values()) job.reject(this.broken);
        pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`it exited with code ${code}`)));
      // Idle workers do not keep the process alive; a worker with a job does.
      worker.unref();
      this.workers.push(worker);
      this.pending.push(pending);
    }
  }

  /**
   * Samples the batch of `indices` in `epoch` into `data` and `labels`, views of SharedArrayBuffers
   * (one volume after another), split in contiguous parts between the workers.
   */
  async run(indices: number[], epoch: number, data: Float32Array, labels: Int32Array): Promise<void> {
    const parts = Math.min(this.workers.length, indices.length);
    const jobs: Promise<void>[] = [];
    for (let p = 0, first = 0; p < parts; p++) {
      const count = Math.floor(indices.length / parts) + (p < indices.length % parts ? 1 : 0);
      jobs.push(this.send({ id: this.nextId++, indices: indices.slice(first, first + count), epoch, data, labels, first }));
      first += count;
    }
    await Promise.all(jobs);
  }

  private send(request: SampleRequest): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const at = this.turn++ % this.workers.length;
    const worker = this.workers[at]!;
    return new Promise<void>((resolve, reject) => {
      this.pending[at]!.set(request.id, { resolve, reject });
      worker.ref();
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.broken ??= new MvclassError('the sampling workers were closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
