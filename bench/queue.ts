// bench/queue: `prepare --queue` with 1, 2 and 4 worker processes (one job each at a time, each
// decoding with one thread) against the single-process `prepare --jobs N` with the same number of
// jobs at once, on one machine, in one run (goal: the queue's overhead <= 5% at equal
// parallelism). Both sides are whole CLI processes on the same synthetic set; the workers are
// started before the clock (they are long-running). Also prints the per-job figures that
// docs/scale-out.md turns into the expected scale-out on N machines, and checks that every queued
// cache is the single-process cache byte for byte.
// Each pair is timed `repeat` times, alternating, and the medians compared.
// Run: npm run bench:queue [-- --clips 200 --seconds 2 --workers 1,2,4 --repeat 3]

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { synthesizeActionSet } from '../src/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'mvclass.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function digest(folder: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(folder).sort()) hash.update(name).update(readFileSync(path.join(folder, name)));
  return hash.digest('hex');
}

function folderBytes(folder: string): number {
  return readdirSync(folder).reduce((n, name) => n + statSync(path.join(folder, name)).size, 0);
}

function timed(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: '8' } });
  if (r.status !== 0) throw new Error(`mvclass ${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--concurrency', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('taking jobs')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${text}`)));
  });
  return child;
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGTERM')))));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { clips: { type: 'string', default: '200' }, seconds: { type: 'string', default: '2' }, workers: { type: 'string', default: '1,2,4' }, repeat: { type: 'string', default: '3' } } });
  const repeat = Number(values.repeat);
  const clips = Number(values.clips);
  const counts = values.workers.split(',').map(Number);
  const scratch = path.join(os.tmpdir(), `mvclass-bench-queue-${process.pid}`);
  const set = path.join(scratch, 'set');
  mkdirSync(scratch, { recursive: true });
  await synthesizeActionSet(set, { classes: 8, perClass: Math.ceil(clips / 8), seconds: Number(values.seconds), seed: 7 });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const rows: string[] = [];
  let reference: string | null = null;
  const perVideo: number[] = [];
  let cacheBytes = 0;
  try {
    for (const n of counts) {
      const localOut = path.join(scratch, `local-${n}`);
      const queuedOut = path.join(scratch, `queued-${n}`);
      const workers: ChildProcess[] = [];
      for (let i = 0; i < n; i++) workers.push(await startWorker(url));
      const times: { local: number[]; queued: number[] } = { local: [], queued: [] };
      let same = true;
      try {
        for (let k = 0; k < repeat; k++) {
          rmSync(localOut, { recursive: true, force: true });
          rmSync(queuedOut, { recursive: true, force: true });
          times.local.push(timed(['prepare', set, '-o', localOut, '--jobs', String(n), '--json']));
          times.queued.push(timed(['prepare', set, '-o', queuedOut, '--queue', url, '--json']));
          reference ??= digest(localOut);
          same &&= digest(queuedOut) === reference && digest(localOut) === reference;
        }
      } finally {
        await stop(workers);
      }
      cacheBytes = folderBytes(localOut);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const [local, queued] = [median(times.local), median(times.queued)];
      perVideo.push((local * Math.min(n, os.availableParallelism())) / clips);
      rows.push(`| ${n} | ${local.toFixed(2)} | ${queued.toFixed(2)} | ${((queued / local - 1) * 100).toFixed(1)}% | ${((queued - local) / clips * 1000 * n).toFixed(1)} | ${same ? 'yes' : 'NO'} |`);
      rmSync(localOut, { recursive: true, force: true });
      rmSync(queuedOut, { recursive: true, force: true });
    }
  } finally {
    redis.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`mvclass bench/queue: ${os.availableParallelism()} cores, medians of ${repeat} runs, ${clips} synthetic ${values.seconds} s 320x240 clips at QP 30, Redis ${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.split(' ')[2]}\n`);
  console.log('| jobs at once (N) | prepare --jobs N, s | prepare --queue, N workers, s | queue overhead | overhead per video per worker, ms | same bytes |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  const cpuPerVideo = Math.min(...perVideo);
  console.log(`\nper video: ${(cpuPerVideo * 1000).toFixed(0)} ms of one core (the fastest single-process run, times its busy cores), ${(cacheBytes / clips / 1024).toFixed(0)} KiB written to the cache's parts (goal: overhead <= 5%)`);
}

await main();
