import os from 'node:os';
import { Command } from 'commander';
import { queueUrl } from '../queue/queue.js';
import { positiveInteger, positiveNumber } from '../util/validate.js';
import { warn } from './output.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description('take jobs from a job queue (Redis) and run them: the videos of prepare, extract and study transcode started with --queue, on any machine')
    .requiredOption('--queue <url>', "the queue's Redis: redis://host:6379[/db]")
    .option('--concurrency <n>', 'jobs at once (default: the cores)')
    .option('--heartbeat <seconds>', "how often the worker renews its jobs' locks; a job whose worker misses two is run again by another", '5')
    .action(async (opts: Record<string, unknown>) => {
      const url = queueUrl(opts.queue);
      const concurrency = opts.concurrency === undefined ? os.availableParallelism() : positiveInteger(opts.concurrency, 'concurrency');
      const heartbeatMs = Math.max(1, Math.round(positiveNumber(opts.heartbeat, 'heartbeat') * 1000));
      const { runWorker } = await import('../app/worker.js'); // loaded on use
      const name = `${os.hostname()}-${process.pid}`;
      const worker = await runWorker(url, { concurrency, heartbeatMs, name, onFailed: (kind, id, reason, final) => warn(`${kind} job ${id} failed${final ? '' : ' (it will be tried again)'}: ${reason}`) });
      process.stderr.write(`mvclass worker ${name}: taking jobs from ${url}, ${concurrency} at once\n`);
      // SIGTERM or Ctrl-C: take no new job and finish the running ones; a second time: hand them back.
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          const force = stopping;
          stopping = true;
          process.stderr.write(force ? 'mvclass worker: handing the running jobs back to the queue\n' : 'mvclass worker: finishing the running jobs (signal again to hand them back)\n');
          void worker.close(force).then(resolve, resolve);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
