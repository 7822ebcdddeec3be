// The job queue that spreads work over machines: BullMQ on Redis. This module knows jobs only as
// a kind, an id and JSON data; what a job does is the application's (app/worker.ts runs them,
// app/prepare.ts and app/extract.ts hand them out). See docs/scale-out.md.
//
// A coordinator (`runJobs`) adds one job per unit of work under an id that names the run, the
// unit and its settings, so a coordinator started again adds nothing twice; it waits for every
// job to finish (retried with backoff, up to `attempts`) and reports each result or failure.
// A worker (`startWorker`) holds a lock on each job it runs and renews it every heartbeat; a
// worker that dies stops renewing, and another worker's stalled-job check puts the job back.
//
// BullMQ and ioredis are loaded on first use: checking a URL, or a command that takes one, does
// not load them. They are CommonJS packages, loaded with require: an ESM import of them also
// scans each of their modules for named exports, which doubled their load time (about 0.3 s of
// CPU instead of 0.13 s), paid by every coordinator before its first job.

import { createRequire } from 'node:module';
import os from 'node:os';
import type { Job } from 'bullmq';
import { MvclassError } from '../util/errors.js';
import { invalid, positiveInteger } from '../util/validate.js';

/** Every mvclass job goes through one BullMQ queue of this name. */
export const QUEUE_NAME = 'mvclass';

/** Finished jobs are kept this long (for `queue status` and a coordinator's rerun), then dropped. */
const KEEP_FINISHED_S = 7 * 24 * 3600;

/** Jobs added (and checked against an earlier coordinator's) per Redis round. */
const ADD_SLICE = 1000;

/** What a job carries: the run it belongs to (for `queue status`) and the work's own data. */
export interface JobEnvelope<D> {
  run: string;
  data: D;
}

/**
 * A queue URL checked: redis:// or rediss://, a host, an optional port and database number.
 * Credentials may be given in it (redis://:password@host:port).
 */
export function queueUrl(value: unknown, name = 'queue'): string {
  const expected = 'a Redis URL (redis://host:6379[/db])';
  if (typeof value !== 'string') throw invalid(expected, name, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(expected, name, value);
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') throw invalid(expected, name, value);
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) throw invalid(expected, name, value);
  if (url.port !== '' && !(Number(url.port) > 0 && Number(url.port) < 65536)) throw invalid(expected, name, value);
  return value;
}

const require = createRequire(import.meta.url);
const bullmq = () => require('bullmq') as typeof import('bullmq');
const ioredis = () => require('ioredis') as typeof import('ioredis');

/** The URL without its password, for messages. */
function shown(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** BullMQ's connection options for `url`. Its blocking connections must retry without limit. */
function connectionOf(url: string) {
  return { url, maxRetriesPerRequest: null };
}

/**
 * Fails within seconds, naming the URL, when no Redis answers there: BullMQ itself would retry
 * for ever, and a user who mistyped a host should not watch a progress bar that never moves.
 */
export async function assertReachable(url: string, timeoutMs = 5000): Promise<void> {
  (await connect(url, timeoutMs)).disconnect();
}

/** A plain client of the Redis at `url`, answering; the error names the URL. */
async function connect(url: string, timeoutMs = 5000) {
  const { Redis } = ioredis();
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than connect()'s "Connection is closed".
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    const reason = (cause ?? error) instanceof Error ? (cause ?? (error as Error)).message : String(error);
    throw new MvclassError(`Cannot reach the job queue's Redis at ${shown(url)}: ${reason}`);
  }
}

export interface QueuedJob<D> {
  /** Unique per run, unit of work and settings; no ":" (BullMQ's separator). */
  id: string;
  data: D;
}

export interface RunJobsOptions<R> {
  /** Tries per job before it counts as failed (default 3). */
  attempts?: number;
  /** First retry after this many ms, doubling after each failure (default 1000). */
  backoffMs?: number;
  onResult: (id: string, result: R) => void;
  onFailure: (id: string, reason: string) => void;
  /** The warnings a job's handler gave, as if given here, and one when no worker is connected as
   * the jobs are added. */
  onWarning?: (message: string) => void;
}

/** What a worker hands back for a job: the handler's value and the warnings it gave on the way. */
interface JobOutcome<R> {
  value: R;
  warnings: string[];
}

/**
 * Adds `jobs` of `kind` for `run` and waits until every one has finished. A job of an earlier
 * coordinator with the same id is waited for when it is waiting or running, and run again when it
 * has finished (a rerun retries what failed; a unit whose output has gone is made again).
 */
export async function runJobs<D, R>(url: string, run: string, kind: string, jobs: Array<QueuedJob<D>>, options: RunJobsOptions<R>): Promise<void> {
  const attempts = positiveInteger(options.attempts ?? 3, 'attempts');
  const backoffMs = positiveInteger(options.backoffMs ?? 1000, 'backoff');
  for (const job of jobs) if (job.id.includes(':')) throw new MvclassError(`job id ${job.id} contains ":"`);
  const client = await connect(url);
  const { Job, Queue, QueueEvents } = bullmq();
  const connection = connectionOf(url);
  const queue = new Queue<JobEnvelope<D>, JobOutcome<R>>(QUEUE_NAME, { connection });
  // The events are read from the last one there now: every outcome of a job this run adds or
  // keeps comes after it, none of an earlier job of the same id that is removed below.
  let events: InstanceType<typeof QueueEvents> | undefined;
  try {
    const lastEventId = (await client.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    events = new QueueEvents(QUEUE_NAME, { connection, lastEventId });
  } catch (error) {
    client.disconnect();
    await queue.close();
    throw error;
  }
  // One listener per outcome for the whole run (not one per job): each job is settled once, by
  // its event or, for a job kept from an earlier coordinator that had finished, by its state.
  const pending = new Map(jobs.map((job) => [job.id, job]));
  let settle: (error?: unknown) => void = () => {};
  const allSettled = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
  const finish = (id: string, outcome: { result: JobOutcome<R> } | { reason: string }) => {
    if (!pending.delete(id)) return;
    try {
      if ('result' in outcome) {
        for (const w of outcome.result.warnings) options.onWarning?.(w);
        options.onResult(id, outcome.result.value);
      }
      else options.onFailure(id, failureReason(outcome.reason));
    } catch (error) {
      settle(error); // a callback that throws (a progress bar's owner stopping the run) ends the wait
      return;
    }
    if (pending.size === 0) settle();
  };
  events.on('completed', ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => finish(jobId, { result: returnvalue as JobOutcome<R> }));
  events.on('failed', ({ jobId, failedReason }: { jobId: string; failedReason: string }) => finish(jobId, { reason: failedReason }));
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    if (jobs.length > 0 && (await queue.getWorkersCount()) === 0) {
      options.onWarning?.(`no worker is connected to ${shown(url)} yet: the jobs wait until one is (mvclass worker --queue ${shown(url)})`);
    }
    // In slices, so that a run of 240k videos is not one Redis transaction or 240k promises at once.
    for (let start = 0; start < jobs.length; start += ADD_SLICE) {
      const slice = jobs.slice(start, start + ADD_SLICE);
      // The ids an earlier coordinator added, in one round trip for the whole slice (a first run
      // has none, and so costs no round trip per job). Such a job is kept when waiting or running
      // and made again when finished.
      const present = await client.pipeline(slice.map((job) => ['exists', queue.toKey(job.id)])).exec();
      const earlier = slice.filter((_, i) => present?.[i]?.[1] === 1);
      const kept: string[] = [];
      await Promise.all(
        earlier.map(async (job) => {
          const state = await queue.getJobState(job.id);
          if (state === 'completed' || state === 'failed') await queue.remove(job.id);
          else if (state !== 'unknown') kept.push(job.id);
        }),
      );
      await queue.addBulk(
        slice.map((job) => ({
          name: kind,
          data: { run, data: job.data },
          opts: { jobId: job.id, attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: { age: KEEP_FINISHED_S }, removeOnFail: { age: KEEP_FINISHED_S } },
        })),
      );
      // A kept job that finished before the events were read from (a safety net: its outcome
      // normally comes as an event). Jobs added afresh here report every outcome as an event.
      await Promise.all(
        kept.map(async (id) => {
          const state = await queue.getJobState(id);
          if (state !== 'completed' && state !== 'failed') return;
          const now = await Job.fromId<JobEnvelope<D>, JobOutcome<R>>(queue, id);
          if (!now) return;
          if (state === 'completed') finish(id, { result: now.returnvalue });
          else finish(id, { reason: now.failedReason });
        }),
      );
    }
    if (jobs.length > 0) await allSettled;
  } finally {
    client.disconnect();
    await events.close();
    await queue.close();
  }
}

/** BullMQ's reason for a job whose workers died, in words that say what happened. */
function failureReason(reason: string): string {
  return /stalled more than allowable limit/.test(reason) ? `the workers running it stopped (killed or crashed) too many times: ${reason}` : reason;
}

/** A job failure that a retry cannot fix (another mvclass version, a job kind this worker lacks). */
export class PermanentJobError extends MvclassError {}

export function permanentFailure(message: string): Error {
  return new PermanentJobError(message);
}

/**
 * Refuses, for good, a job made by other software versions than the worker's (`mine`): the
 * outputs must be the bytes the coordinator's own machine would write.
 */
export function assertSameVersions(theirs: unknown, mine: Record<string, string>): void {
  const given = (typeof theirs === 'object' && theirs !== null ? theirs : {}) as Record<string, unknown>;
  const differ = Object.keys(mine).filter((k) => given[k] !== mine[k]);
  if (differ.length > 0) {
    throw permanentFailure(`the job was made with ${differ.map((k) => `${k} ${String(given[k])}`).join(', ')} and this worker has ${differ.map((k) => `${k} ${mine[k]}`).join(', ')}: run the same versions on every machine`);
  }
}

/** Runs one job's data; what it passes to `warn` reaches the coordinator's onWarning. */
export type JobHandler = (data: unknown, warn: (message: string) => void) => Promise<unknown>;

export interface WorkerOptions {
  /** Jobs run at once (default 1). */
  concurrency?: number;
  /** Lock renewal and stalled-job check interval in ms (default 5000); a lock lapses after two. */
  heartbeatMs?: number;
  /** Shown by `queue status` (default host name and process id). */
  name?: string;
  /** Told each failed try: `final` when no try is left. */
  onFailed?: (kind: string, id: string, reason: string, final: boolean) => void;
  onCompleted?: (kind: string, id: string) => void;
}

export interface QueueWorker {
  /** Stops taking jobs and waits for the running ones to finish; `force` returns them instead. */
  close(force?: boolean): Promise<void>;
}

/** Runs jobs of the kinds in `handlers` until closed. */
export async function startWorker(url: string, handlers: Record<string, JobHandler>, options: WorkerOptions = {}): Promise<QueueWorker> {
  const concurrency = positiveInteger(options.concurrency ?? 1, 'concurrency');
  const heartbeatMs = positiveInteger(options.heartbeatMs ?? 5000, 'heartbeat');
  await assertReachable(url);
  const { UnrecoverableError, Worker } = bullmq();
  const worker = new Worker<JobEnvelope<unknown>>(
    QUEUE_NAME,
    async (job: Job<JobEnvelope<unknown>>) => {
      const handler = Object.hasOwn(handlers, job.name) ? handlers[job.name] : undefined;
      if (!handler) throw new UnrecoverableError(`this worker cannot run jobs of kind "${job.name}" (it runs ${Object.keys(handlers).join(', ')})`);
      try {
        const warnings: string[] = [];
        const value = await handler(job.data.data, (m) => warnings.push(m));
        return { value, warnings } satisfies JobOutcome<unknown>;
      } catch (error) {
        // BullMQ fails an UnrecoverableError at once, without the tries left.
        if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
        throw error;
      }
    },
    {
      connection: connectionOf(url),
      concurrency,
      lockDuration: 2 * heartbeatMs,
      lockRenewTime: heartbeatMs,
      stalledInterval: heartbeatMs,
      maxStalledCount: 1,
      name: options.name ?? `${os.hostname()}-${process.pid}`,
      autorun: false,
    },
  );
  worker.on('failed', (job, error) => job && options.onFailed?.(job.name, job.id ?? '', error.message, job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError));
  worker.on('completed', (job) => options.onCompleted?.(job.name, job.id ?? ''));
  worker.on('error', () => {}); // connection trouble: ioredis reconnects; a job's failure comes through 'failed'
  void worker.run();
  await worker.waitUntilReady();
  return { close: (force = false) => worker.close(force) };
}

export interface RunStatus {
  run: string;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface QueueStatus {
  url: string;
  runs: RunStatus[];
  workers: Array<{ name: string; address: string; ageSeconds: number }>;
}

/** Jobs per run by state, and the workers connected now. */
export async function queueStatus(url: string): Promise<QueueStatus> {
  await assertReachable(url);
  const { Queue } = bullmq();
  const queue = new Queue<JobEnvelope<unknown>>(QUEUE_NAME, { connection: connectionOf(url) });
  try {
    const runs = new Map<string, RunStatus>();
    const states = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;
    for (const state of states) {
      const page = 1000;
      for (let start = 0; ; start += page) {
        const jobs = await queue.getJobs(state === 'waiting' ? ['waiting', 'prioritized'] : state, start, start + page - 1, true);
        for (const job of jobs) {
          const run = typeof job?.data?.run === 'string' ? job.data.run : '(unknown)';
          const row = runs.get(run) ?? { run, waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
          row[state]++;
          runs.set(run, row);
        }
        if (jobs.length < page) break;
      }
    }
    // BullMQ names a worker's connection <prefix>:<queue in base64>:w:<name>.
    const workers = (await queue.getWorkers()).map((w) => ({ name: String(w.name ?? '').replace(/^.*?:w:/, ''), address: String(w.addr ?? ''), ageSeconds: Number(w.age ?? 0) }));
    return { url: shown(url), runs: [...runs.values()].sort((a, b) => a.run.localeCompare(b.run)), workers };
  } finally {
    await queue.close();
  }
}
