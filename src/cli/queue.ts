import { Command } from 'commander';
import { queueStatus, queueUrl } from '../queue/queue.js';
import { printJson } from './output.js';

export function queueCommand(): Command {
  const command = new Command('queue').description('the job queue that prepare/extract --queue and mvclass worker share');
  command
    .command('status')
    .description('jobs per run (waiting, active, delayed for a retry, done, failed) and the workers connected')
    .argument('<url>', "the queue's Redis: redis://host:6379[/db]")
    .option('--json', 'print JSON')
    .action(async (url: string, opts: Record<string, unknown>) => {
      const status = await queueStatus(queueUrl(url, 'url'));
      if (opts.json) return printJson(status);
      const rows = status.runs.map((r) => [r.run, r.waiting, r.active, r.delayed, r.completed, r.failed].map(String));
      const head = ['run', 'waiting', 'active', 'delayed', 'done', 'failed'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + '\n';
      process.stdout.write(`${status.url}: ${status.runs.length} runs, ${status.workers.length} workers connected\n`);
      if (rows.length > 0) process.stdout.write(line(head) + rows.map(line).join(''));
      for (const w of status.workers) process.stdout.write(`worker ${w.name} at ${w.address}, connected ${w.ageSeconds} s\n`);
    });
  return command;
}
