// Scale-out on BullMQ + Redis: worker processes take the videos a coordinator (prepare or extract
// with --queue) hands out, and the result is the single-process result byte for byte, through a
// killed worker, a killed coordinator and a broken video. Real parts: Debian's redis-server on a
// port of the test's own, the CLI in separate processes.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeActionSet } from '../../src/index.js';
import { queueStatus } from '../../src/queue/queue.js';
import { cli, freePort, ROOT, tempDir } from '../setup/helpers.js';
import { bytesOf, startQueueWorker, stopQueueWorkers } from '../support/queue.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const dir = tempDir();
const set = path.join(dir, 'set');
let redis: TestRedis;
const workers: ChildProcess[] = [];
let local: { summary: Record<string, unknown>; bytes: Record<string, string> };

/** A worker process; resolves once it is taking jobs. */
async function startWorker(): Promise<ChildProcess> {
  const child = await startQueueWorker(redis.url);
  workers.push(child);
  return child;
}

/** A coordinator that can be killed: `mvclass prepare --queue` in its own process. */
function startPrepare(out: string): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'prepare', set, '-o', out, '--queue', redis.url, '--attempts', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))) };
}

/** Waits until the run of `out` has `n` jobs in `state`. */
async function until(out: string, state: 'active' | 'completed', n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const run = (await queueStatus(redis.url)).runs.find((r) => r.run === `prepare ${out}`);
    if (run && run[state] >= n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the run of ${out} never had ${n} ${state} jobs`);
}

const withoutOut = (summary: Record<string, unknown>) => ({ ...summary, out: undefined });

beforeAll(async () => {
  redis = await startRedis();
  await synthesizeActionSet(set, { classes: 3, perClass: 3, seconds: 2, seed: 5 });
  writeFileSync(path.join(set, 'run', 'run_broken.mp4'), readFileSync(path.join(set, 'run', 'run_000.mp4')).subarray(0, 2500));
  const out = path.join(dir, 'local');
  const r = await cli(['prepare', set, '-o', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  local = { summary: JSON.parse(r.stdout) as Record<string, unknown>, bytes: bytesOf(out) };
}, 120_000);

afterAll(async () => {
  // SIGTERM: each worker finishes what it runs and exits 0.
  const codes = await stopQueueWorkers(workers);
  await redis?.stop();
  expect(codes.every((c) => c === 0)).toBe(true);
});

describe('prepare --queue (BullMQ on Redis)', () => {
  it('a worker killed mid-job: another runs its video, the cache is the single-process one byte for byte', { timeout: 120_000 }, async () => {
    expect(local.summary).toMatchObject({ videos: 9, prepared: 9 });
    expect((local.summary.failed as unknown[]).length).toBe(1);
    const victim = await startWorker();
    const out = path.join(dir, 'killed-worker');
    const run = startPrepare(out);
    await until(out, 'active', 1);
    victim.kill('SIGKILL');
    for (let i = 0; i < 3; i++) await startWorker();
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    // No video counted twice, the broken one failed with the reason the local run gives.
    expect(withoutOut(JSON.parse(r.stdout))).toEqual(withoutOut(local.summary));
    expect(bytesOf(out)).toEqual(local.bytes);
  });

  it('queue status: the run done, the broken video failed, three workers connected', async () => {
    const status = await queueStatus(redis.url);
    expect(status.workers).toHaveLength(3);
    expect(status.runs.find((r) => r.run === `prepare ${path.join(dir, 'killed-worker')}`)).toMatchObject({ waiting: 0, active: 0, completed: 9, failed: 1 });
    const r = await cli(['queue', 'status', redis.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 workers connected');
  });

  it('a coordinator killed and started again finishes the same run with the same bytes', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'killed-coordinator');
    const first = startPrepare(out);
    await until(out, 'completed', 3);
    first.child.kill('SIGKILL');
    await first.done;
    const again = startPrepare(out);
    const r = await again.done;
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { videos: number; prepared: number; skipped: number };
    expect(summary.videos).toBe(9);
    expect(summary.prepared + summary.skipped).toBe(9);
    expect(summary.skipped).toBeGreaterThanOrEqual(3);
    expect(bytesOf(out)).toEqual(local.bytes);
  });

  it('extract <folder> --queue writes the bundles a local extract writes', { timeout: 120_000 }, async () => {
    const alone = path.join(dir, 'mv-local');
    const queued = path.join(dir, 'mv-queued');
    const a = await cli(['extract', set, '-f', 'npy', '-o', alone, '--json']);
    const b = await cli(['extract', set, '-f', 'npy', '-o', queued, '--queue', redis.url, '--attempts', '1', '--json']);
    expect(b.code, b.stderr).toBe(0);
    type Summary = { videos: Array<{ path: string }>; failed: Array<{ path: string; reason: string }> };
    const ja = JSON.parse(a.stdout) as Summary;
    const jb = JSON.parse(b.stdout) as Summary;
    expect(jb.videos.map((v) => v.path)).toEqual(ja.videos.map((v) => v.path));
    expect(ja.videos).toHaveLength(9);
    expect(jb.failed).toEqual(ja.failed);
    expect(jb.failed[0]!.path).toContain('run_broken.mp4');
    expect(Object.keys(bytesOf(queued))).toContain(path.join('walk', 'walk_000.mv', 'motion.npy'));
    expect(bytesOf(queued)).toEqual(bytesOf(alone));
  });

  it('clear errors: an unreachable Redis within seconds naming the URL, a URL that is not Redis, --queue on one video, a folder without --out or into itself', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await cli(['prepare', set, '-o', path.join(dir, 'nowhere'), '--queue', `redis://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot reach the job queue's Redis at redis://127.0.0.1:${port}`);
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(10_000);
    const bad = await cli(['worker', '--queue', 'http://127.0.0.1:6379']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected a Redis URL (redis://host:6379[/db]) for queue but received "http://127.0.0.1:6379"');
    const one = await cli(['extract', path.join(set, 'walk', 'walk_000.mp4'), '--queue', redis.url]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('--queue spreads the videos of a folder');
    const noOut = await cli(['extract', set, '-f', 'npy']);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain(`${set} is a folder: give --out <folder>`);
    const inside = await cli(['extract', set, '-f', 'npy', '-o', path.join(set, 'mv')]);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toContain('the output folder must not be inside');
  });
});
