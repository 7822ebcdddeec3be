// The cloud side of seed 004: classify the few-kbps cropped streams edge devices send. A stream
// comes in; its motion rate R_motion is measured from its P frames; the Multi-CNN thresholds for
// the requested budget pick the network to trust; the answer says which and why.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { crop, croppedBits } from '../codec/crop.js';
import { probe } from '../codec/probe.js';
import { classifyLoaded, loadClassifier, type LoadedClassifier } from '../nn/classify.js';
import { temporalBits, type McnnFit } from '../rate/mcnn/fit.js';
import { solve } from '../rate/mcnn/optimise.js';
import { MvclassError } from '../util/errors.js';
import { ConcurrencyLimit, QueueFullError } from './limit.js';

export interface ServeOptions {
  /** What `demo` or `sweep` writes: mcnn.json, with the runs it names. */
  modelDir: string;
  maxBodyBytes?: number;
  concurrency?: number;
  queue?: number;
  timeoutMs?: number;
  threads?: number;
  tempDir?: string;
  logger?: boolean;
}

class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** JSON has no Infinity: an unbounded threshold is written "Infinity", as mcnn solve does. */
const finite = (x: number | null): number | string | null => (x === null || Number.isFinite(x) ? x : 'Infinity');

/** H.264 in MP4 ("ftyp" box) or Annex-B (a start code first); anything else is refused. */
function containerOf(body: Buffer): '.mp4' | '.264' {
  if (body.length >= 12 && body.subarray(4, 8).toString('latin1') === 'ftyp') return '.mp4';
  if (body.length >= 4 && body[0] === 0 && body[1] === 0 && (body[2] === 1 || (body[2] === 0 && body[3] === 1))) return '.264';
  if (body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) || (body[0] === 0xff && body[1] === 0xd8)) {
    throw new ClientError(415, 'a still image is not a video: send an H.264 stream (Annex-B or MP4)');
  }
  throw new ClientError(415, 'not an H.264 stream: send Annex-B (starting with a start code) or MP4');
}

export async function createServer(options: ServeOptions): Promise<FastifyInstance> {
  const mcnnFile = path.join(options.modelDir, 'mcnn.json');
  const mcnn = JSON.parse(
    await fs.readFile(mcnnFile, 'utf8').catch(() => {
      throw new MvclassError(`${options.modelDir}: no mcnn.json (serve takes the folder mvclass demo or sweep writes)`, options.modelDir);
    }),
  ) as McnnFit;
  const classifier: LoadedClassifier = await loadClassifier([mcnn.runs.mv3d, mcnn.runs.mv2d, mcnn.runs.spatial], { threads: options.threads ?? 0 });
  const limit = new ConcurrencyLimit(options.concurrency ?? os.cpus().length, options.queue ?? 16);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const tempDir = options.tempDir ?? os.tmpdir();

  const registry = new Registry();
  const requests = new Counter({ name: 'mvclass_requests_total', help: 'classify requests by HTTP status', labelNames: ['status'], registers: [registry] });
  const latency = new Histogram({ name: 'mvclass_request_duration_seconds', help: 'classify latency', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [registry] });
  const bitsReceived = new Counter({ name: 'mvclass_bits_received_total', help: 'bits of the streams received', registers: [registry] });
  const choices = new Counter({ name: 'mvclass_classifier_choice_total', help: 'network chosen by the Multi-CNN', labelNames: ['network'], registers: [registry] });

  // On close: idle keep-alive sockets are closed, requests in flight are finished first.
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.maxBodyBytes ?? 64 * 1024 * 1024, forceCloseConnections: 'idle' });
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

  app.get('/healthz', async () => ({ status: 'ok', classes: classifier.classes, inFlight: limit.inFlight, queued: limit.queued }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  app.post('/v1/classify', async (req, reply) => {
    const started = performance.now();
    const body = req.body as Buffer | undefined;
    const send = (status: number, payload: object) => {
      requests.inc({ status: String(status) });
      latency.observe((performance.now() - started) / 1000);
      return reply.code(status).send(payload);
    };
    const budgetText = (req.query as Record<string, string | undefined>).budget;
    const budget = budgetText === undefined ? undefined : Number(budgetText);
    if (budget !== undefined && !(budget > 0)) return send(400, { error: `Expected a positive number of kbps for budget but received ${JSON.stringify(budgetText)}` });
    if (!body || body.length === 0) return send(400, { error: 'empty body: send an H.264 stream' });
    const temp = path.join(tempDir, `mvclass-serve-${randomBytes(8).toString('hex')}`);
    let status = 200;
    let payload: object;
    try {
      const result = await runTracked(body, temp, budget);
      bitsReceived.inc(body.length * 8);
      choices.inc({ network: result.chosen });
      payload = { ...result, seconds: { ...result.seconds, total: (performance.now() - started) / 1000 } };
    } catch (error) {
      // The codec layer names the (temporary) file; the client knows it as "the stream".
      const message = (error instanceof Error ? error.message : String(error)).replaceAll(`${temp}.in`, 'the stream');
      status = error instanceof QueueFullError ? 429 : error instanceof ClientError ? error.status : error instanceof MvclassError ? 422 : 500;
      if (status === 500) req.log.error(error);
      payload = { error: message };
    }
    return send(status, payload);
  });

  // Work that outlives its answer: a request that timed out is answered 503 at once, but its
  // native jobs cannot be interrupted, so it keeps its slot and its temporary files until it
  // reaches the next stage and stops there. close() waits for these too, so a closed server
  // leaves nothing behind in tempDir.
  const unfinished = new Set<Promise<unknown>>();
  app.addHook('onClose', async () => {
    await Promise.allSettled([...unfinished]);
  });

  function runTracked(body: Buffer, temp: string, budget: number | undefined) {
    const abort = new AbortController();
    const work = limit.run(async () => {
      // The clock starts when the request gets a slot, not while it waits in the queue.
      const timer = setTimeout(() => abort.abort(new ClientError(503, `timed out after ${timeoutMs} ms`)), timeoutMs);
      try {
        return await classifyStream(body, temp, budget, abort.signal);
      } finally {
        clearTimeout(timer);
        // Temporary files go before the answer does: a client never sees them behind it.
        await Promise.all(['.in.mp4', '.in.264', '.cropped.264'].map((suffix) => fs.rm(temp + suffix, { force: true })));
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
    // The work's own rejection after a timeout is the abort noticed at a stage boundary: ignored.
    timedOut.catch(() => undefined);
    return Promise.race([work, timedOut]);
  }

  async function classifyStream(body: Buffer, temp: string, budget: number | undefined, signal: AbortSignal) {
    // Native jobs run to their end; between them, a timed-out request stops (with the 503).
    const input = `${temp}.in${containerOf(body)}`;
    await fs.writeFile(input, body);
    signal.throwIfAborted();
    const t0 = performance.now();
    const info = await probe(input);
    signal.throwIfAborted();
    if (info.codec !== 'h264') throw new ClientError(415, `codec ${info.codec}: the service classifies H.264 streams`);
    // R_motion of the stream: its P frames as crop writes them (modes and vectors only).
    const damage: string[] = [];
    const cropped = await crop(input, `${temp}.cropped.264`, { onWarning: (w) => damage.push(w) });
    signal.throwIfAborted();
    if (damage.length > 0) throw new ClientError(422, `damaged or truncated stream: ${damage[0]!.replace(input, 'the stream')}`);
    const duration = info.duration > 0 ? info.duration : cropped.duration;
    // What the stream carries for the 3D CNN (as fitMcnn's R_3D counts it), turned back into
    // R_motion through the fitted line R_3D = a3D R_motion + b3D: the thresholds are in R_motion.
    const r3d = temporalBits(croppedBits(cropped), mcnn.frames3d) / duration / 1000;
    const rMotion = mcnn.a3d > 0 ? Math.max(0, (r3d - mcnn.b3d) / mcnn.a3d) : 0;
    const measureSeconds = (performance.now() - t0) / 1000;
    const selection = solve(mcnn, budget ?? 1e9);
    const rL = selection.rL ?? 0;
    const rH = selection.rH ?? 0;
    const chosen: 'mv3d' | 'mv2d' | 'spatial' = rMotion < rL ? 'mv3d' : rMotion < rH ? 'mv2d' : 'spatial';
    const result = await classifyLoaded(input, classifier, { temporal: 3, crops: 10 });
    const stream = result.streams[chosen === 'mv3d' ? 0 : chosen === 'mv2d' ? 1 : 2]!;
    const order = stream.scores.map((_, c) => c).sort((a, b) => stream.scores[b]! - stream.scores[a]!);
    return {
      top5: order.slice(0, 5).map((c) => ({ class: classifier.classes[c]!, probability: stream.scores[c]! })),
      chosen,
      mcnn: { budget: budget ?? null, feasible: selection.feasible, rL: finite(selection.rL), rH: finite(selection.rH), rMotion },
      streams: Object.fromEntries(result.streams.map((s) => [s.model === 'vgg16' ? 'spatial' : s.model, { top1: s.top1, probability: s.probability, scores: s.scores }])),
      stream: { bits: body.length * 8, duration, kbps: (body.length * 8) / duration / 1000, frames: info.frameCount },
      seconds: { measure: measureSeconds, ...result.seconds },
    };
  }

  return app;
}
