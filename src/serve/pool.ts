// A pool of long-lived decoding workers (worker.ts), one job at a time each. A job's worker is
// killed (SIGKILL) when the job's signal aborts (the time limit) or when its resident memory
// passes the limit, polled from /proc; a worker that dies, for whatever reason, fails only its
// job and is replaced. A worker is reused only after a job that succeeded: one whose job failed
// has run native code on a stream it refused, which may have damaged its heap before the refusal,
// so it is retired and replaced. Every job settles only after its worker has answered or exited,
// so the caller may remove the job's files as soon as it settles.

import { fork, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { MvclassError } from '../util/errors.js';
import { ClientError, type UploadJob, type UploadRead } from './upload.js';
import type { WorkerFailure, WorkerMessage, WorkerRequest } from './worker.js';

export interface PoolOptions {
  /** Workers at most: the service's concurrency limit. */
  size: number;
  /** The compiled worker module (worker.js). */
  module: string;
  /** A worker whose resident memory passes this during a job is killed, failing the job with 422. */
  maxJobMemoryBytes: number;
  /** How often a busy worker's memory is read (default 50 ms). */
  pollMs?: number;
  /** Where a worker's death and its last words (stderr) are reported. */
  log?: (message: string) => void;
  /** Called when a worker is killed or dies during a job. */
  onDeath?: (reason: 'crash' | 'timeout' | 'memory') => void;
  /** Held exclusively while a worker is forked (see ForkGate). */
  gate?: ForkGate;
}

/**
 * Forking while libtorch runs BLAS on another thread can hang the process for good: OpenBLAS's
 * pthread_atfork handler shuts its threads down and joins them, and a thread in the middle of a
 * job clears the shutdown request when it finishes, so the join never returns (OpenBLAS 0.3.21:
 * the main thread stuck in blas_thread_shutdown_ under fork(), joining a thread asleep for good).
 * Work that may run BLAS holds this gate shared; a fork waits until none does and holds new such
 * work back until it is done (a fork takes milliseconds; the worker's start after it runs freely).
 * The gate only sees the work it wraps, scoring: a model loading in another server of the process
 * (its size-finding forward pass) or a library user's own calls run outside it, which is how the
 * tests still hung. So the server also makes OpenBLAS single-threaded (singleThreadBlas), which
 * closes the race whatever runs; the gate remains for BLAS libraries that cannot be told so.
 */
export class ForkGate {
  private active = 0;
  private forks = 0;
  private idle: Array<() => void> = [];
  private forked: Array<() => void> = [];

  async shared<T>(work: () => Promise<T>): Promise<T> {
    while (this.forks > 0) await new Promise<void>((resolve) => this.forked.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      if (--this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  async exclusive<T>(fork: () => T): Promise<T> {
    this.forks++;
    try {
      while (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      return fork();
    } finally {
      if (--this.forks === 0) for (const resolve of this.forked.splice(0)) resolve();
    }
  }
}

/**
 * The process's one gate: OpenBLAS's fork handler is process-wide, so every server in a process
 * (several in the tests, or in a program that serves more than one model) must hold the same
 * gate; with one each, a server could fork while another scored.
 */
export const PROCESS_FORK_GATE = new ForkGate();

/** Why a job's worker died under it: the stream crashed the native code. */
export class WorkerCrash extends ClientError {
  constructor(message: string) {
    super(422, message);
    this.name = 'WorkerCrash';
  }
}

const STDERR_TAIL = 4096;

class Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** Set when it has exited: code and signal. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Why we killed it, when we did. */
  killedFor: 'timeout' | 'memory' | 'retired' | 'close' | undefined;
  peakRss = 0;
  stderr = '';

  constructor(module: string) {
    this.child = fork(module, [], {
      serialization: 'advanced',
      execArgv: [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL);
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
    // A failed kill or send is followed by the exit that settles the job: never an unhandled 'error'.
    this.child.on('error', () => undefined);
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: WorkerMessage) => {
        if (m.type !== 'ready') return;
        this.child.off('exit', onExit);
        this.child.off('error', onExit);
        this.child.off('message', onMessage);
        resolve();
      };
      const onExit = (code: number | null | Error, signal?: NodeJS.Signals | null) => {
        this.child.off('message', onMessage);
        const how = code instanceof Error ? code.message : signal ? `died of ${signal}` : `exited with code ${code}`;
        // Its stderr may still be arriving: give it a moment, it names the cause.
        setTimeout(() => reject(new Error(`the service's decoding worker (${module}) could not start: it ${how}${this.stderr ? `: ${this.stderr.trim()}` : ''}`)), 50);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.once('error', onExit);
    });
    // A start failure is reported by whoever awaits ready; never unhandled.
    this.ready.catch(() => undefined);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Kills it at once; resolves when it has exited. */
  async kill(reason: 'timeout' | 'memory' | 'retired' | 'close'): Promise<void> {
    this.killedFor ??= reason;
    if (this.exit) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Resident memory of a process in bytes, from /proc (Linux); undefined where it cannot be read. */
async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'latin1');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const MiB = 1024 * 1024;

export class WorkerPool {
  private readonly all = new Set<Worker>();
  /** Forks waiting for the gate: counted with `all` against the size. */
  private starting = 0;
  private readonly spawning = new Set<Promise<Worker>>();
  private idle: Worker[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;
  private nextId = 1;

  constructor(private readonly options: PoolOptions) {}

  /** Workers alive or starting. */
  get workers(): number {
    return this.all.size + this.starting;
  }

  /** Starts one worker and waits until it is ready: a worker that cannot start fails here, not on a request. */
  async start(): Promise<void> {
    const w = await this.spawn();
    await w.ready;
    this.release(w);
  }

  /** Counts against the size at once (synchronously), forks when the gate allows. */
  private spawn(): Promise<Worker> {
    const spawning = this.fork();
    this.spawning.add(spawning);
    void spawning.finally(() => this.spawning.delete(spawning)).catch(() => undefined);
    return spawning;
  }

  private async fork(): Promise<Worker> {
    this.starting++;
    let w: Worker;
    try {
      w = this.options.gate ? await this.options.gate.exclusive(() => new Worker(this.options.module)) : new Worker(this.options.module);
    } finally {
      this.starting--;
    }
    this.all.add(w);
    w.child.once('exit', () => this.remove(w));
    // A process that could not be started at all has an 'error' and no 'exit'.
    w.child.once('error', () => {
      if (w.child.pid === undefined) this.remove(w);
    });
    if (this.closed) void w.kill('close');
    return w;
  }

  private remove(w: Worker): void {
    if (!this.all.delete(w)) return;
    this.idle = this.idle.filter((x) => x !== w);
    this.waiters.shift()?.();
  }

  private release(w: Worker): void {
    if (w.exit || w.killedFor || this.closed) {
      if (!w.exit) void w.kill('close');
      return;
    }
    this.idle.push(w);
    this.waiters.shift()?.();
  }

  /** A dead worker is replaced at once, so the next job does not wait for a process to start. */
  private replace(): void {
    if (this.closed || this.workers >= this.options.size) return;
    this.spawn()
      .then(async (w) => {
        await w.ready;
        this.release(w);
      })
      .catch((error: Error) => this.options.log?.(error.message));
  }

  private async acquire(): Promise<Worker> {
    for (;;) {
      if (this.closed) throw new Error('the service is closing');
      const w = this.idle.pop();
      if (w && !w.exit) return w;
      if (w) continue;
      if (this.workers < this.options.size) {
        const fresh = await this.spawn();
        await fresh.ready;
        return fresh;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /**
   * Reads an upload in a worker. Rejects with the signal's reason when it aborts (the worker is
   * killed first), with a ClientError(422) when the worker passes the memory limit or dies
   * (WorkerCrash), and with what the worker threw otherwise.
   */
  async run(job: UploadJob, signal: AbortSignal): Promise<UploadRead> {
    signal.throwIfAborted();
    const w = await this.acquire();
    if (signal.aborted) {
      this.release(w);
      signal.throwIfAborted();
    }
    const id = this.nextId++;
    const { child } = w;
    return new Promise<UploadRead>((resolve, reject) => {
      let settled = false;
      let polling = false;
      const poll = setInterval(() => {
        if (polling || w.exit) return;
        polling = true;
        void residentBytes(w.pid).then((rss) => {
          polling = false;
          if (rss === undefined) return;
          w.peakRss = Math.max(w.peakRss, rss);
          if (rss > this.options.maxJobMemoryBytes && !w.killedFor) void w.kill('memory');
        });
      }, this.options.pollMs ?? 50);
      const onAbort = () => void w.kill('timeout');
      const finish = (after: () => void) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        signal.removeEventListener('abort', onAbort);
        child.off('message', onMessage);
        child.off('exit', onExit);
        after();
      };
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'ready' || m.id !== id) return;
        finish(() => {
          if (m.type === 'done') {
            this.release(w);
            resolve(m.result);
          } else {
            void w.kill('retired').then(() => this.replace());
            reject(rebuild(m.error));
          }
        });
      };
      const onExit = (code: number | null, exitSignal: NodeJS.Signals | null) => {
        finish(() => {
          const how = exitSignal ? `died of ${exitSignal}` : `exited with code ${code}`;
          const reason = w.killedFor === 'memory' ? 'memory' : w.killedFor === 'timeout' && signal.aborted ? 'timeout' : 'crash';
          this.options.onDeath?.(reason);
          this.replace();
          if (reason === 'timeout') return reject(signal.reason);
          if (reason === 'memory') {
            return reject(
              new ClientError(
                422,
                `the stream needed more memory to decode than the service allows per stream (over ${Math.round(this.options.maxJobMemoryBytes / MiB)} MiB resident): its decoding was stopped`,
              ),
            );
          }
          // Its last words reach the log once stderr has drained.
          child.stderr!.once('close', () => this.options.log?.(`decoding worker ${w.pid} ${how} on an upload; its stderr: ${w.stderr.trim() || '(nothing)'}`));
          reject(new WorkerCrash(`the stream crashed the decoder (its worker process ${how}); the service is unaffected`));
        });
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      if (w.exit) return onExit(w.exit.code, w.exit.signal);
      child.send({ id, job } satisfies WorkerRequest);
    });
  }

  /** Kills every worker (the server calls this once no job is left) and waits for their exits. */
  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.waiters.splice(0)) resolve();
    await Promise.allSettled([...this.spawning]);
    await Promise.all([...this.all].map((w) => w.kill('close')));
  }
}

function rebuild(error: WorkerFailure): Error {
  if (error.kind === 'client') return new ClientError(error.status, error.message);
  if (error.kind === 'mvclass') return new MvclassError(error.message);
  const e = new Error(`decoding worker: ${error.message}`);
  if (error.stack) e.stack = `decoding worker: ${error.stack}`;
  return e;
}
