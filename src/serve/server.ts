// The cloud side of the rate-accuracy paper, over HTTP: classify the few-kbps cropped streams
// edge devices send. The workflow is src/app/stream.ts (R_motion, the Multi-CNN's choice, only
// the chosen network scoring); this file adds what a service needs around it: the native work on
// each upload in a worker process, limits, timeouts, metrics, the access log (one line per
// request) and the OpenAPI description at /docs.

import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { compiledModule, packageRoot } from '../util/package.js';
import { chooseForStream, loadStreamModel, scoreStream, scoringNetworks, type Network } from '../app/stream.js';
import { parseDevice, parsePrecision, type Device, type Precision } from '../nn/device.js';
import { MvclassError } from '../util/errors.js';
import { ConcurrencyLimit, QueueFullError } from './limit.js';
import { API_DESCRIPTION, classifySchema, healthSchema, metricsSchema } from './openapi.js';
import { nnAddon } from '../nn/native.js';
import { PROCESS_FORK_GATE, WorkerPool } from './pool.js';
import { checkUploadRead, ClientError } from './upload.js';
import { processAlive } from '../util/process.js';
import { isMotionModel } from '../run/format.js';

/** Where the access log and the service's warnings go: pino's level, and a stream other than stdout. */
export interface ServeLogger {
  /** pino's levels: fatal, error, warn, info (one access-log line per request), debug, trace, silent. */
  level?: string;
  /** Where the JSON lines go (default: standard output). */
  stream?: { write(line: string): void };
}

export type { Network };

export interface ServeOptions {
  /** What `demo` or `sweep` writes: mcnn.json, with the runs it names. */
  modelDir: string;
  maxBodyBytes?: number;
  /** Streams read and classified at once, and decoding worker processes (default: the cores). */
  concurrency?: number;
  queue?: number;
  /** Per request, from when it gets a slot: on expiry its worker is killed and it answers 503. */
  timeoutMs?: number;
  threads?: number;
  tempDir?: string;
  /** The access log (one line per request) and warnings, through Fastify's pino logger: true is
   * level info on standard output; off (false) unless asked. */
  logger?: boolean | ServeLogger;
  /** Where the networks run (default cpu); cuda on a CPU-only libtorch is refused before anything listens. */
  device?: Device;
  /** The networks' number type there (default auto: bf16 autocast on a GPU, fp32 on the CPU). */
  precision?: Precision;
  /** A decoding worker whose resident memory passes this is killed; the request answers 422 (default 1 GiB). */
  maxJobMemoryBytes?: number;
  /** The largest picture accepted (default 1920x1088); larger streams answer 422. */
  maxPicture?: { width: number; height: number };
  /** A client's request headers must have arrived within this (default 10 s), or it gets 408 and is closed. */
  headersTimeoutMs?: number;
  /** A client's whole request, headers and body, must have arrived within this (default 30 s), or it gets 408 and is closed. */
  bodyTimeoutMs?: number;
}

/** JSON has no Infinity: an unbounded threshold is written "Infinity", as mcnn solve does. */
const finite = (x: number | null): number | string | null => (x === null || Number.isFinite(x) ? x : 'Infinity');

/** H.264 in MP4 ("ftyp" box) or Annex-B (a start code first); anything else is refused. */
function containerOf(body: Buffer, contentType: string | undefined): '.mp4' | '.264' {
  if (body.length >= 12 && body.subarray(4, 8).toString('latin1') === 'ftyp') return '.mp4';
  if (body.length >= 4 && body[0] === 0 && body[1] === 0 && (body[2] === 1 || (body[2] === 0 && body[3] === 1))) return '.264';
  if (body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) || (body[0] === 0xff && body[1] === 0xd8)) {
    throw new ClientError(415, 'a still image is not a video: send an H.264 stream (Annex-B or MP4)');
  }
  const type = contentType?.split(';')[0]!.trim().toLowerCase();
  if (type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded') {
    throw new ClientError(415, `not an H.264 stream: a ${type} form was sent; send the stream itself as the request body (Annex-B or MP4)`);
  }
  throw new ClientError(415, `not an H.264 stream${type ? ` (the body sent as ${type})` : ''}: send Annex-B (starting with a start code) or MP4`);
}

/** The compiled worker module (from dist/ when the tests run the TypeScript sources). */
function workerModule(): string {
  const sources = ['src/serve/worker.ts', 'src/serve/upload.ts', 'src/app/classify.ts', 'src/ingest/ingest.ts', 'src/ingest/profile.ts', 'src/codec/crop.ts', 'src/codec/probe.ts', 'src/codec/decode.ts', 'src/codec/clips.ts'];
  return compiledModule(import.meta.url, 'serve/worker.js', sources, "the service's decoding worker");
}

/** A boolean query parameter: absent, 1/true or 0/false. */
function flag(text: string | undefined, name: string): boolean {
  if (text === undefined || text === '0' || text === 'false') return false;
  if (text === '1' || text === 'true' || text === '') return true;
  throw new ClientError(400, `Expected 1, true, 0 or false for ${name} but received ${JSON.stringify(text)}`);
}

const TEMP_PREFIX = 'mvclass-serve-';

/** Removes the job folders of servers whose process is gone (killed, or crashed, mid-job). */
async function removeStaleFolders(tempDir: string): Promise<void> {
  const names = await fs.readdir(tempDir).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const pid = new RegExp(`^${TEMP_PREFIX}(\\d+)-[0-9a-f]{8}-`).exec(name)?.[1];
      if (pid !== undefined && !processAlive(Number(pid))) await fs.rm(path.join(tempDir, name), { recursive: true, force: true });
    }),
  );
}

export async function createServer(options: ServeOptions): Promise<FastifyInstance> {
  const mcnnFile = path.join(options.modelDir, 'mcnn.json');
  const device = parseDevice(options.device ?? 'cpu', 'device');
  const model = await loadStreamModel(options.modelDir, { threads: options.threads ?? 0, device, precision: parsePrecision(options.precision ?? 'auto', 'precision') });
  const { classifier, mcnn, fitVideo } = model;
  const concurrency = options.concurrency ?? os.cpus().length;
  const limit = new ConcurrencyLimit(concurrency, options.queue ?? 16);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const tempDir = options.tempDir ?? os.tmpdir();
  const maxPicture = options.maxPicture ?? { width: 1920, height: 1088 };
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  if (!(headersTimeoutMs > 0 && bodyTimeoutMs >= headersTimeoutMs)) {
    throw new MvclassError(`the body timeout (${bodyTimeoutMs} ms) counts from the request's start, so it must be at least the headers timeout (${headersTimeoutMs} ms), and both positive`);
  }

  const registry = new Registry();
  const requests = new Counter({ name: 'mvclass_requests_total', help: 'classify requests by HTTP status', labelNames: ['status'], registers: [registry] });
  const latency = new Histogram({ name: 'mvclass_request_duration_seconds', help: 'classify latency', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [registry] });
  const bitsReceived = new Counter({ name: 'mvclass_bits_received_total', help: 'bits of the streams received', registers: [registry] });
  const choices = new Counter({ name: 'mvclass_classifier_choice_total', help: 'network chosen by the Multi-CNN', labelNames: ['network'], registers: [registry] });
  const deaths = new Counter({
    name: 'mvclass_worker_deaths_total',
    help: 'decoding workers lost during a job: crash (the stream crashed native code), timeout or memory (killed at the limit)',
    labelNames: ['reason'],
    registers: [registry],
  });

  // Job folders: <tempDir>/mvclass-serve-<pid>-<server>-<job>, one per request, removed when the
  // job ends (after its worker has answered or exited); those of a server process that died are
  // removed here, at the next start.
  await fs.mkdir(tempDir, { recursive: true });
  await removeStaleFolders(tempDir);
  const serverId = randomBytes(4).toString('hex');
  let jobs = 0;

  // On close: idle keep-alive sockets are closed, requests in flight are finished first.
  // Slow clients: the headers must arrive within headersTimeoutMs and the whole request within
  // bodyTimeoutMs of its start, or Node answers 408 and closes the connection; connections are
  // checked often enough for those limits to hold within a quarter of the shorter one.
  // Logging: Fastify's two lines per request are replaced by one access-log line (onResponse).
  const logger = options.logger === true ? { level: 'info' } : options.logger || false;
  const app = Fastify({
    logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes ?? 64 * 1024 * 1024,
    forceCloseConnections: 'idle',
    requestTimeout: bodyTimeoutMs,
    http: { headersTimeout: headersTimeoutMs, connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))) },
  });
  // This process forks decoding workers, and OpenBLAS's threads do not survive a fork made while
  // any thread runs BLAS (see ForkGate): BLAS runs on its caller's thread here; concurrent
  // requests and libtorch's own threads use the cores.
  nnAddon().singleThreadBlas();
  // Scoring and forking a worker never overlap, in any server of this process: see ForkGate.
  const gate = PROCESS_FORK_GATE;
  const pool = new WorkerPool({
    gate,
    size: concurrency,
    module: workerModule(),
    maxJobMemoryBytes: options.maxJobMemoryBytes ?? 1024 * 1024 * 1024,
    log: (message) => app.log.warn(message),
    onDeath: (reason) => deaths.inc({ reason }),
  });
  await pool.start();
  if (!fitVideo) {
    app.log.warn(
      `${mcnnFile} does not say how long its fit videos were and its cache (${mcnn.data}) cannot be read: R_motion is measured over each stream's own length, which reads streams longer than the fit videos low; run mvclass mcnn fit again`,
    );
  }
  // The API's description, at /docs (Swagger UI, its assets served from the package) and
  // /docs/json. The route schemas document; they do not check or rewrite: the handlers check
  // what they are sent (every body is raw bytes, with the answers' own error shape) and the
  // answers are written with JSON.stringify, so no field is dropped by a serializer.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'mvclass serve', version: (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version, description: API_DESCRIPTION },
      tags: [{ name: 'classify' }, { name: 'operations' }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // The access log: one line per request, with the network the Multi-CNN chose for a classify request.
  const chosenFor = new WeakMap<FastifyRequest, Network>();
  app.addHook('onResponse', async (req, reply) => {
    const length = reply.getHeader('content-length');
    req.log.info(
      {
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        bytesIn: Buffer.isBuffer(req.body) ? req.body.length : Number(req.headers['content-length'] ?? 0) || 0,
        bytesOut: Number(length ?? 0) || 0,
        network: chosenFor.get(req) ?? null,
      },
      'request',
    );
  });
  // Every body is raw bytes, whatever its Content-Type says (Fastify's JSON and text parsers
  // would hand the route an object or a string): the route judges the bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // A request that finishes during shutdown closes its connection, or the keep-alive socket it
  // returns to would hold close() open.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.get('/healthz', { schema: healthSchema }, async () => ({ status: 'ok', classes: classifier.classes, device, inFlight: limit.inFlight, queued: limit.queued, workers: pool.workers }));
  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  app.post('/v1/classify', { schema: classifySchema }, async (req, reply) => {
    const started = performance.now();
    const body = req.body as Buffer | undefined;
    const send = (status: number, payload: object) => {
      requests.inc({ status: String(status) });
      latency.observe((performance.now() - started) / 1000);
      return reply.code(status).send(payload);
    };
    const query = req.query as Record<string, string | undefined>;
    const budgetText = query.budget;
    const budget = budgetText === undefined ? undefined : Number(budgetText);
    if (budget !== undefined && !(budget > 0)) return send(400, { error: `Expected a positive number of kbps for budget but received ${JSON.stringify(budgetText)}` });
    let fuse: boolean;
    try {
      fuse = flag(query.fuse, 'fuse');
    } catch (error) {
      return send(400, { error: (error as Error).message });
    }
    if (!body || body.length === 0) return send(400, { error: 'empty body: send an H.264 stream' });
    const folder = path.join(tempDir, `${TEMP_PREFIX}${process.pid}-${serverId}-${++jobs}`);
    let status = 200;
    let payload: object;
    try {
      const input = path.join(folder, `in${containerOf(body, req.headers['content-type'])}`);
      const result = await runTracked(body, folder, input, budget, fuse);
      bitsReceived.inc(body.length * 8);
      choices.inc({ network: result.chosen });
      chosenFor.set(req, result.chosen);
      payload = { ...result, seconds: { ...result.seconds, total: (performance.now() - started) / 1000 } };
    } catch (error) {
      // The codec layer names the (temporary) files; the client knows the input as "the stream".
      const message = (error instanceof Error ? error.message : String(error)).replaceAll(`${folder}/in.264`, 'the stream').replaceAll(`${folder}/in.mp4`, 'the stream').replaceAll(`${folder}/`, '');
      status = error instanceof QueueFullError ? 429 : error instanceof ClientError ? error.status : error instanceof MvclassError ? 422 : 500;
      if (status === 500) req.log.error(error);
      payload = { error: message };
    }
    return send(status, payload);
  });

  // Work that outlives its answer: a request that timed out is answered 503 at once. Its worker
  // is killed then, and its slot and files go as soon as the worker has exited; when the limit
  // strikes while the networks score (in this process, bounded work), the scoring finishes first.
  // close() waits for all of it, so a closed server leaves nothing behind in tempDir.
  const unfinished = new Set<Promise<unknown>>();
  app.addHook('onClose', async () => {
    await Promise.allSettled([...unfinished]);
    await pool.close();
    // Nothing should be left; a folder would be a bug's leftover, and ours to remove.
    const own = `${TEMP_PREFIX}${process.pid}-${serverId}-`;
    const names = await fs.readdir(tempDir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(own)).map((n) => fs.rm(path.join(tempDir, n), { recursive: true, force: true })));
  });

  function runTracked(body: Buffer, folder: string, input: string, budget: number | undefined, fuse: boolean) {
    const abort = new AbortController();
    const work = limit.run(async () => {
      // The clock starts when the request gets a slot, not while it waits in the queue.
      const timer = setTimeout(() => abort.abort(new ClientError(503, `timed out after ${timeoutMs} ms`)), timeoutMs);
      try {
        return await classifyStream(body, folder, input, budget, fuse, abort.signal);
      } finally {
        clearTimeout(timer);
        // Temporary files go before the answer does: a client never sees them behind it. The
        // worker has answered or exited by now, so nothing writes here any more.
        await fs.rm(folder, { recursive: true, force: true });
      }
    });
    const tracked = work.then(
      () => undefined,
      () => undefined,
    );
    unfinished.add(tracked);
    void tracked.finally(() => unfinished.delete(tracked));
    const timedOut = new Promise<never>((_, reject) => {
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
    });
    // The work's own rejection after a timeout is the same abort: ignored.
    timedOut.catch(() => undefined);
    return Promise.race([work, timedOut]);
  }

  async function classifyStream(body: Buffer, folder: string, input: string, budget: number | undefined, fuse: boolean, signal: AbortSignal) {
    await fs.mkdir(folder);
    await fs.writeFile(input, body);
    signal.throwIfAborted();
    // Probe, crop and decoding (the grids, the key frame, and the clip when the spatial network
    // learnt clips) run in a worker process: a stream that crashes native code costs
    // this request only; on the time limit or the memory limit the worker is killed.
    const read = await pool.run({ input, folder, settings: classifier.settings, clip: classifier.clip, maxWidth: maxPicture.width, maxHeight: maxPicture.height }, signal);
    signal.throwIfAborted();
    checkUploadRead(read, classifier.settings, classifier.clip);
    for (const warning of read.warnings) app.log.warn(`decoding an upload: ${warning.replaceAll(input, 'the stream')}`);
    const { info, cropped } = read;
    const duration = info.duration > 0 ? info.duration : read.croppedDuration;
    // R_motion from the stream's rewritten P frames, counted as a fit video would carry them
    // (streamMotionRate: not over this stream's own length, which read long streams as 0).
    const choice = chooseForStream(model, cropped, duration, budget);
    const { chosen } = choice;
    // Only the chosen network scores the stream, and the spatial one too when the client asks
    // for the two streams' fusion (their mean scores, as classify's "-F").
    const result = await gate.shared(() => scoreStream('the stream', model, read.inputs, scoringNetworks(chosen, fuse), { temporal: 3, crops: 10 }));
    return {
      top5: result.top5,
      chosen,
      mcnn: { budget: choice.budget, feasible: choice.feasible, rL: finite(choice.rL), rH: finite(choice.rH), rMotion: choice.rMotion },
      streams: Object.fromEntries(result.streams.map((s) => [isMotionModel(s.model) ? s.model : 'spatial', { top1: s.top1, probability: s.probability, scores: s.scores }])),
      stream: { bits: body.length * 8, duration, kbps: (body.length * 8) / duration / 1000, frames: info.frameCount },
      seconds: { measure: read.measureSeconds, ...read.inputs.seconds, ...result.seconds },
    };
  }

  return app;
}
