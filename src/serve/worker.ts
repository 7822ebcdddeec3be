// The service's decoding worker: a child process the server forks (pool.ts) that runs the native
// work on one upload at a time (readUpload: probe, crop, decode) and sends the networks' inputs
// back over IPC ('advanced' serialization, so typed arrays travel as they are). A stream that
// crashes or hangs the native code takes this process down, never the server.

import { readFileSync } from 'node:fs';
import { codecAddon } from '../codec/native.js';
import { MvclassError } from '../util/errors.js';
import { ClientError, readUpload, type UploadJob, type UploadRead } from './upload.js';

export interface WorkerRequest {
  id: number;
  job: UploadJob;
}

export interface WorkerFailure {
  /** client: a refusal with its status; mvclass: the codec named a problem with the stream; internal: our bug. */
  kind: 'client' | 'mvclass' | 'internal';
  status: number;
  message: string;
  stack?: string;
}

export type WorkerMessage = { type: 'ready' } | { type: 'done'; id: number; result: UploadRead } | { type: 'failed'; id: number; error: WorkerFailure };

/**
 * Test hooks, for proving the server survives a worker that crashes, hangs or grows without
 * relying on a particular native bug. Only when MVCLASS_SERVE_WORKER_TEST_HOOKS=1 is in the
 * server's environment (the worker inherits it), an upload that starts with a 4-byte start code
 * and then the ASCII marker makes the worker:
 *   "mvclass-test:crash"  abort (SIGABRT), as a native crash does;
 *   "mvclass-test:hang"   spin without returning to the event loop, as a native hang does;
 *   "mvclass-test:grow"   allocate and touch 16 MiB every 10 ms until it is killed.
 * Without the variable the markers are ordinary (invalid) stream bytes.
 */
export const TEST_HOOKS_ENV = 'MVCLASS_SERVE_WORKER_TEST_HOOKS';
export const TEST_MARKERS = { crash: 'mvclass-test:crash', hang: 'mvclass-test:hang', grow: 'mvclass-test:grow' } as const;

async function testHook(input: string): Promise<void> {
  const head = readFileSync(input).subarray(4, 40).toString('latin1');
  if (head.startsWith(TEST_MARKERS.crash)) process.abort();
  if (head.startsWith(TEST_MARKERS.hang)) for (;;);
  if (head.startsWith(TEST_MARKERS.grow)) {
    const held: Buffer[] = [];
    for (;;) {
      held.push(Buffer.allocUnsafe(16 * 1024 * 1024).fill(1));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function failure(error: unknown): WorkerFailure {
  if (error instanceof ClientError) return { kind: 'client', status: error.status, message: error.message };
  if (error instanceof MvclassError) return { kind: 'mvclass', status: 422, message: error.message };
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'internal', status: 500, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
}

async function handle(request: WorkerRequest): Promise<WorkerMessage> {
  try {
    if (process.env[TEST_HOOKS_ENV] === '1') await testHook(request.job.input);
    return { type: 'done', id: request.id, result: await readUpload(request.job) };
  } catch (error) {
    return { type: 'failed', id: request.id, error: failure(error) };
  }
}

if (!process.send) {
  process.stderr.write('mvclass: src/serve/worker is the service\'s decoding worker: "mvclass serve" forks it\n');
  process.exit(2);
}
const send = process.send.bind(process);
// The server going away (or closing the channel) ends the worker.
process.on('disconnect', () => process.exit(0));
process.on('message', (request: WorkerRequest) => {
  void handle(request).then((reply) => send(reply));
});
// Loaded now, so a worker that cannot load the addon fails at start, not on a client's upload.
codecAddon();
send({ type: 'ready' } satisfies WorkerMessage);
