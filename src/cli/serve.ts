import { Command, Option } from 'commander';
import { frameSize, integerInRange, oneOf, positiveInteger } from '../util/validate.js';
import { invalid } from '../util/validate.js';
import { parseDevice, parsePrecision } from '../nn/device.js';
import { deviceOption, precisionOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson } from './output.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'the cloud service: POST /v1/classify an H.264 (cropped) stream (only the network the Multi-CNN chooses runs), GET /healthz, GET /metrics, the API described at /docs; one access-log line per request (JSON) on standard output',
    )
    .argument('<model-dir>', 'what mvclass demo or sweep writes (holds mcnn.json)')
    .option('--port <n>', 'TCP port', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--concurrency <n>', 'streams classified at once (default: the cores)')
    .option('--queue <n>', 'requests that may wait; beyond: 429', '16')
    .option('--max-body <MiB>', 'largest stream accepted', '64')
    .option('--timeout <s>', "per-request time limit; on expiry the request's decoding worker is killed and it answers 503", '60')
    .option('--max-job-memory <MiB>', 'resident memory a decoding worker may reach on one stream; beyond: killed, 422', '1024')
    .option('--max-picture <WxH>', 'largest picture accepted; beyond: 422', '1920x1088')
    .option('--headers-timeout <s>', "a client's request headers must arrive within this; beyond: 408, connection closed", '10')
    .option('--body-timeout <s>', "a client's whole request (headers and body) must arrive within this; beyond: 408, connection closed", '30')
    .addOption(threadsOption())
    .addOption(deviceOption('refused before listening when libtorch has no such CUDA device'))
    .addOption(precisionOption())
    .addOption(new Option('--log-level <level>', 'fatal, error, warn, info (an access-log line per request), debug, trace or silent').default('info'))
    .option('--quiet', 'no access log: warnings and errors only (--log-level warn)')
    .action(async (modelDir: string, opts: Record<string, string | boolean | undefined>) => {
      const device = parseDevice(opts.device, 'device');
      const level = opts.quiet === true ? 'warn' : oneOf(opts.logLevel, 'log-level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const);
      const { createServer } = await import('../serve/server.js'); // Fastify, loaded on use
      const app = await createServer({
        modelDir,
        device,
        precision: parsePrecision(opts.precision, 'precision'),
        logger: { level },
        maxBodyBytes: positiveInteger(opts.maxBody, 'max-body') * 1024 * 1024,
        ...(opts.concurrency !== undefined ? { concurrency: positiveInteger(opts.concurrency, 'concurrency') } : {}),
        queue: integerInRange(opts.queue, 'queue', 0, 100_000),
        timeoutMs: positiveInteger(opts.timeout, 'timeout') * 1000,
        maxJobMemoryBytes: positiveInteger(opts.maxJobMemory, 'max-job-memory') * 1024 * 1024,
        maxPicture: frameSize(opts.maxPicture, 'max-picture'),
        headersTimeoutMs: positiveInteger(opts.headersTimeout, 'headers-timeout') * 1000,
        bodyTimeoutMs: positiveInteger(opts.bodyTimeout, 'body-timeout') * 1000,
        threads: threadsValue(opts.threads),
      });
      const address = await app.listen({ port: integerInRange(opts.port, 'port', 0, 65535), host: String(opts.host) });
      process.stderr.write(`mvclass serve: listening on ${address}\n`);
      // Graceful: stop accepting, finish what is in flight, then exit.
      const stop = () => {
        process.stderr.write('mvclass serve: shutting down after the requests in flight\n');
        void app.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await new Promise(() => {}); // serve until a signal
    });
}

export function edgeCommand(): Command {
  return new Command('edge')
    .description("the edge side: encode at the paper's settings, crop, send the cropped stream to a service")
    .argument('<video>')
    .requiredOption('--server <url>', 'the service, e.g. http://127.0.0.1:8080')
    .option('--qp <n>', 'QP of the stream sent', '40')
    .option('--budget <kbps>', 'the rate budget the Multi-CNN selects for')
    .option('--as-is', 'send the input as it is when it is already H.264 without B-frames')
    .option('--json', 'print the answer as JSON')
    .action(async (video: string, opts: Record<string, string | boolean | undefined>) => {
      let budget: number | undefined;
      if (opts.budget !== undefined) {
        budget = Number(opts.budget);
        if (!(budget > 0)) throw invalid('a positive number of kbps', 'budget', opts.budget);
      }
      const { sendFromEdge } = await import('../serve/edge.js');
      const r = await sendFromEdge(video, { server: String(opts.server), qp: integerInRange(opts.qp, 'qp', 0, 51), ...(budget !== undefined ? { budget } : {}), asIs: opts.asIs === true });
      if (opts.json) return printJson(r);
      const top5 = (r.answer.top5 as Array<{ class: string; probability: number }>).map((t, i) => `  ${i + 1}. ${t.class.padEnd(12)} ${fixed(100 * t.probability, 1)}%`);
      process.stdout.write(
        [`${video}: sent ${fixed(r.sentKbps, 1)} kbps (${r.sentBytes} bytes) instead of ${fixed(r.originalKbps, 1)} kbps; the service chose ${String(r.answer.chosen)}`, ...top5].join('\n') + '\n',
      );
    });
}
