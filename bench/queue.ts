// bench/queue: `prepare --queue` with 1, 2 and 4 worker processes (one job each at a time, each
// decoding with one thread) against the single-process `prepare --jobs N` with the same number of
// jobs at once, on one machine, in one run (goal: the queue's overhead <= 5% at equal
// parallelism). Both sides are whole CLI processes on the same synthetic set, with the same
// environment; the workers are started before the clock (they are long-running: a user starts
// them once, not per run). Also prints the per-job figures that docs/scale-out.md turns into the
// expected scale-out on N machines, and checks that every queued cache is the single-process
// cache byte for byte.
// Each pair is timed `repeat` times, alternating, and the medians compared. Besides the wall
// time, each side's CPU time (Linux /proc): the local process's against the coordinator's plus the
// workers' plus Redis's during the run. On a machine that other work also loads, the wall times
// move by more than the overhead; the CPU times much less, and their difference is what the queue
// costs in work.
// A second section times `study transcode --queue` with 1 and 2 workers against the local study
// (`--jobs N`) on the same grid, and checks the study folders are the same bytes.
// Run: npm run bench:queue [-- --clips 200 --seconds 2 --workers 1,2,4 --repeat 3
//                           --study-clips 16 --study-workers 1,2 (--study-clips 0: no study)]

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
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else hash.update(path.relative(folder, full)).update(readFileSync(full));
    }
  };
  walk(folder);
  return hash.digest('hex');
}

function folderBytes(folder: string): number {
  return readdirSync(folder).reduce((n, name) => n + statSync(path.join(folder, name)).size, 0);
}

/** The environment of every process the bench starts, local, coordinator and worker alike. */
const ENV = { ...process.env, UV_THREADPOOL_SIZE: '8' };

/** CPU seconds of process `pid` so far (user + system), or with `children`, of its waited-for children. */
function cpuOf(pid: number | 'self', children = false): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const [u, s] = children ? [fields[13], fields[14]] : [fields[11], fields[12]];
  return (Number(u) + Number(s)) / 100; // clock ticks (CLK_TCK 100 on Linux)
}

/** One CLI run: its wall time and its CPU time, plus that of the processes in `others` meanwhile. */
function timed(args: string[], others: number[] = []): { wall: number; cpu: number } {
  const before = cpuOf('self', true) + others.reduce((s, pid) => s + cpuOf(pid), 0);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: ENV, maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`mvclass ${args.join(' ')} failed: ${r.stderr}`);
  return { wall, cpu: cpuOf('self', true) + others.reduce((s, pid) => s + cpuOf(pid), 0) - before };
}

async function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--concurrency', '1'], { stdio: ['ignore', 'ignore', 'pipe'], env: ENV });
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (a: number, b: number) => `${((a / b - 1) * 100).toFixed(1)}%`;

interface Pair {
  local: Array<{ wall: number; cpu: number }>;
  queued: Array<{ wall: number; cpu: number }>;
  same: boolean;
}

/**
 * Runs `local(out)` and `queued(out)` (CLI arguments) `repeat` times each, alternating, with `n`
 * workers started before the clock; `check` compares each pair's outputs.
 */
async function pair(url: string, redisPid: number, n: number, repeat: number, scratch: string, local: (out: string) => string[], queued: (out: string) => string[]): Promise<Pair> {
  const localOut = path.join(scratch, `local-${n}`);
  const queuedOut = path.join(scratch, `queued-${n}`);
  const workers: ChildProcess[] = [];
  for (let i = 0; i < n; i++) workers.push(await startWorker(url));
  const result: Pair = { local: [], queued: [], same: true };
  try {
    for (let k = 0; k < repeat; k++) {
      rmSync(localOut, { recursive: true, force: true });
      rmSync(queuedOut, { recursive: true, force: true });
      result.local.push(timed(local(localOut)));
      result.queued.push(timed(queued(queuedOut), [...workers.map((w) => w.pid!), redisPid]));
      result.same &&= digest(queuedOut) === digest(localOut);
    }
  } finally {
    await stop(workers);
  }
  return result;
}

function row(n: number, p: Pair, jobs: number): string {
  const [lw, qw] = [median(p.local.map((r) => r.wall)), median(p.queued.map((r) => r.wall))];
  const [lc, qc] = [median(p.local.map((r) => r.cpu)), median(p.queued.map((r) => r.cpu))];
  const runs = (xs: Array<{ wall: number }>) => xs.map((r) => r.wall.toFixed(2)).join(', ');
  return `| ${n} | ${lw.toFixed(2)} (${runs(p.local)}) | ${qw.toFixed(2)} (${runs(p.queued)}) | ${pct(qw, lw)} | ${lc.toFixed(2)} | ${qc.toFixed(2)} | ${pct(qc, lc)} | ${(((qc - lc) / jobs) * 1000).toFixed(1)} | ${p.same ? 'yes' : 'NO'} |`;
}

const HEADER = [
  '| jobs at once (N) | local, s (runs) | queued, N workers, s (runs) | wall overhead | local CPU, s | queued CPU (coordinator + workers + Redis), s | CPU overhead | CPU overhead per job, ms | same bytes |',
  '|---|---|---|---|---|---|---|---|---|',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clips: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1,2,4' },
      repeat: { type: 'string', default: '3' },
      'study-clips': { type: 'string', default: '16' },
      'study-workers': { type: 'string', default: '1,2' },
    },
  });
  const repeat = Number(values.repeat);
  const clips = Number(values.clips);
  const counts = values.workers.split(',').map(Number);
  const studyClips = Number(values['study-clips']);
  const studyCounts = values['study-workers'].split(',').map(Number);
  const studyGrid = ['--crf', '20,40', '--gop', '1,12', '--short-side', '144'];
  const scratch = path.join(os.tmpdir(), `mvclass-bench-queue-${process.pid}`);
  const set = path.join(scratch, 'set');
  const studySet = path.join(scratch, 'study-set');
  mkdirSync(scratch, { recursive: true });
  await synthesizeActionSet(set, { classes: 8, perClass: Math.ceil(clips / 8), seconds: Number(values.seconds), seed: 7 });
  if (studyClips > 0) await synthesizeActionSet(studySet, { classes: 8, perClass: Math.ceil(studyClips / 8), seconds: Number(values.seconds), seed: 11 });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const rows: string[] = [];
  const studyRows: string[] = [];
  const perVideo: number[] = [];
  let cacheBytes = 0;
  try {
    for (const n of counts) {
      const p = await pair(url, redis.pid!, n, repeat, scratch, (out) => ['prepare', set, '-o', out, '--jobs', String(n), '--json'], (out) => ['prepare', set, '-o', out, '--queue', url, '--json']);
      cacheBytes = folderBytes(path.join(scratch, `local-${n}`));
      perVideo.push(median(p.local.map((r) => r.cpu)) / clips);
      rows.push(row(n, p, clips));
    }
    const cells = 4;
    for (const n of studyClips > 0 ? studyCounts : []) {
      const p = await pair(url, redis.pid!, n, repeat, path.join(scratch, 'study'), (out) => ['study', 'transcode', studySet, '-o', out, ...studyGrid, '--jobs', String(n), '--json'], (out) => ['study', 'transcode', studySet, '-o', out, ...studyGrid, '--queue', url, '--json']);
      studyRows.push(row(n, p, studyClips * cells));
    }
  } finally {
    redis.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`mvclass bench/queue: ${os.availableParallelism()} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end, medians of ${repeat} runs, Redis ${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.split(' ')[2]}\n`);
  console.log(`prepare: ${clips} synthetic ${values.seconds} s 320x240 clips at QP 30 (local: prepare --jobs N)\n`);
  for (const line of [...HEADER, ...rows]) console.log(line);
  const cpuPerVideo = Math.min(...perVideo);
  console.log(`\nper video: ${(cpuPerVideo * 1000).toFixed(0)} ms of CPU (the local runs' CPU time over the videos, process start included), ${(cacheBytes / clips / 1024).toFixed(0)} KiB written to the cache's parts (goal: overhead <= 5%)`);
  if (studyRows.length > 0) {
    console.log(`\nstudy transcode: ${studyClips} synthetic ${values.seconds} s 320x240 clips, ${studyGrid.join(' ')} (${studyClips * 4} jobs; local: study transcode --jobs N)\n`);
    for (const line of [...HEADER, ...studyRows]) console.log(line);
  }
}

await main();
