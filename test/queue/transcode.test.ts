// study transcode --queue: worker processes transcode and measure each (cell, video) and the study
// folder is the local run's byte for byte (transcoded files, quality records, transcode.json), on
// a synthetic set and a real-footage clip; a video that cannot be decoded is tried again, then
// listed with the local run's reason while the run completes; a worker killed in the middle of an
// encode leaves its (cell, video) to another and no trace in the folder; a coordinator killed and
// started again finishes the same run; with --models the preparations are queued too; --jpeg's
// JPEG cells are the local run's bytes too. Real parts:
// Debian's redis-server, the CLI in separate processes.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeActionSet } from '../../src/index.js';
import { QUEUE_NAME, queueStatus } from '../../src/queue/queue.js';
import { cli, fixtures, ROOT, tempDir } from '../setup/helpers.js';
import { bytesOf, startQueueWorker, stopQueueWorkers } from '../support/queue.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const dir = tempDir('mvclass-queue-transcode-');
const set = path.join(dir, 'set');
const grid = ['--crf', '20,40', '--gop', '1,12', '--short-side', '144'];
let redis: TestRedis;
const workers: ChildProcess[] = [];
let local: { stdout: string; bytes: Record<string, string> };

/** `mvclass study transcode --queue` in its own process, so that it can be killed. */
function startStudy(out: string): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const args = ['study', 'transcode', set, '-o', out, ...grid, '--queue', redis.url, '--attempts', '2', '--json'];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))) };
}

beforeAll(async () => {
  redis = await startRedis();
  await synthesizeActionSet(set, { classes: 2, perClass: 2, seconds: 1, seed: 5 });
  // Real footage: one second of the cockatoo clip (Debian-shipped), at 320x180.
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', fixtures().real['cockatoo']!, '-t', '1', '-vf', 'scale=320:180', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', path.join(set, 'walk', 'cockatoo.mp4')]);
  expect(r.status, String(r.stderr)).toBe(0);
  // Its container read, its pictures all zeros: it probes, then fails in every cell's job.
  const good = readFileSync(path.join(set, 'run', 'run_000.mp4'));
  const [mdat, moov] = [good.indexOf('mdat'), good.indexOf('moov')];
  const zeroed = Buffer.from(good);
  zeroed.fill(0, mdat + 4, moov - 4);
  writeFileSync(path.join(set, 'run', 'run_zeroed.mp4'), zeroed);
  // Cut short, its index lost: it does not even probe.
  writeFileSync(path.join(set, 'run', 'run_cut.mp4'), good.subarray(0, 2500));
  const out = path.join(dir, 'local');
  const l = await cli(['study', 'transcode', set, '-o', out, ...grid, '--jobs', '2', '--json'], 120_000);
  expect(l.code, l.stderr).toBe(0);
  local = { stdout: l.stdout, bytes: bytesOf(out) };
  for (let i = 0; i < 2; i++) workers.push(await startQueueWorker(redis.url));
}, 180_000);

afterAll(async () => {
  const codes = await stopQueueWorkers(workers);
  await redis?.stop();
  expect(codes.every((c) => c === 0)).toBe(true);
});

describe('study transcode --queue (BullMQ on Redis)', () => {
  it('the local run: five videos in four cells, the two broken ones listed with their reasons', () => {
    const result = JSON.parse(local.stdout) as { cells: Array<{ videos: number }>; failed: Array<{ path: string; reason: string }> };
    expect(result.cells.map((c) => c.videos)).toEqual([5, 5, 5, 5]);
    expect(result.failed.map((f) => path.basename(f.path))).toEqual(['run_cut.mp4', 'run_zeroed.mp4']);
    expect(result.failed[1]!.reason).toBe(`crf20-gop1: ${path.join(set, 'run', 'run_zeroed.mp4')}: no video frame could be decoded`);
    expect(Object.keys(local.bytes)).toContain(path.join('transcoded', 'crf40-gop12', 'walk', 'cockatoo.mp4'));
    expect(Object.keys(local.bytes)).toContain(path.join('quality', 'crf40-gop12', 'walk', 'cockatoo.json'));
    expect(Object.keys(local.bytes).filter((f) => f.includes('run_zeroed') || f.includes('run_cut'))).toEqual([]);
  });

  it('two workers: the same JSON and the same bytes as the local run; the broken video tried twice per cell, then failed', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'queued');
    const r = await startStudy(out).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(local.stdout);
    expect(bytesOf(out)).toEqual(local.bytes);
    const run = (await queueStatus(redis.url)).runs.find((x) => x.run === `transcode ${out}`);
    // 4 good videos + the real clip in 4 cells; the zeroed one failed in each.
    expect(run).toMatchObject({ waiting: 0, active: 0, completed: 20, failed: 4 });
    // Each of the four tried twice (--attempts 2) before it counted as failed.
    const { Queue } = await import('bullmq');
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    try {
      const failed = (await queue.getJobs(['failed'])).filter((j) => (j.data as { run: string }).run === `transcode ${out}`);
      expect(failed.map((j) => j.attemptsMade)).toEqual([2, 2, 2, 2]);
      expect(failed.every((j) => j.failedReason === `${path.join(set, 'run', 'run_zeroed.mp4')}: no video frame could be decoded`)).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('a worker killed in the middle of an encode: another runs its (cell, video), the folder is the local run\'s byte for byte, nothing counted twice', { timeout: 120_000 }, async () => {
    const victim = await startQueueWorker(redis.url);
    const out = path.join(dir, 'killed-worker');
    const run = startStudy(out);
    let ended = false;
    void run.done.then(() => (ended = true));
    // Mid-job: a temporary file of the victim's (its process id in the name) is being encoded.
    const writing = () => readdirSync(out, { recursive: true, encoding: 'utf8' }).find((f) => f.startsWith('transcoded') && path.basename(f).includes(`.tmp-${victim.pid}-`));
    let file: string | undefined;
    while (!ended && !(file = (() => { try { return writing(); } catch { return undefined; } })())) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(file, 'the victim was never seen encoding').toBeDefined();
    victim.kill('SIGKILL');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(local.stdout);
    // Its temporary file is gone too.
    expect(bytesOf(out)).toEqual(local.bytes);
    expect((await queueStatus(redis.url)).runs.find((x) => x.run === `transcode ${out}`)).toMatchObject({ waiting: 0, active: 0, completed: 20, failed: 4 });
    // The killed job (the cell and video of the temporary file) was taken back from the victim
    // once and finished by another worker.
    const [, cell, ...rest] = file!.split(path.sep);
    const video = path.join(...rest.slice(0, -1), path.basename(file!).replace(/^\.(.+)\.tmp-.*$/, '$1'));
    const { Queue } = await import('bullmq');
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url } });
    try {
      type Data = { run: string; data: { task: { folder: string; source: { name: string } } } };
      const killed = (await queue.getJobs(['completed', 'failed'])).filter((j) => {
        const d = j.data as Data;
        return d.run === `transcode ${out}` && d.data.task.folder === cell && d.data.task.source.name === video;
      });
      expect(killed.map((j) => j.stalledCounter)).toEqual([1]);
    } finally {
      await queue.close();
    }
  });

  it('a coordinator killed and started again finishes the same run with the same bytes', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'restarted');
    const first = startStudy(out);
    for (let i = 0; i < 1200; i++) {
      const run = (await queueStatus(redis.url)).runs.find((x) => x.run === `transcode ${out}`);
      if (run && run.completed >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    first.child.kill('SIGKILL');
    await first.done;
    const r = await startStudy(out).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(local.stdout);
    expect(bytesOf(out)).toEqual(local.bytes);
  });

  it('with --models: the accuracy study refuses a run with failed videos, naming them', { timeout: 120_000 }, async () => {
    const r = await cli(['study', 'transcode', set, '-o', path.join(dir, 'queued'), ...grid, '--queue', redis.url, '--models', 'mv3d', '--iterations', '1'], 120_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('2 video(s) could not be transcoded, and the accuracy study needs every video in every cell');
    expect(r.stderr).toContain(`${path.join(set, 'run', 'run_zeroed.mp4')}: crf20-gop1: `);
  });

  it('with --models: the preparations go through the queue, training and evaluation stay here', { timeout: 120_000 }, async () => {
    const clean = path.join(dir, 'clean');
    await synthesizeActionSet(clean, { classes: 2, perClass: 3, seconds: 1, seed: 7 });
    const out = path.join(dir, 'with-models');
    const training = ['--models', 'mv3d', '--iterations', '2', '--batch', '2', '--frames', '8', '--size', '16', '--width', '0.125', '--fc', '16', '--views', '1x1', '--threads', '1'];
    const r = await cli(['study', 'transcode', clean, '-o', out, '--crf', '40', '--gop', '12', '--short-side', '144', '--queue', redis.url, ...training, '--json'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { cells: Array<{ videos: number; accuracy: Record<string, number> }>; original: { accuracy: Record<string, number> } };
    expect(result.cells[0]!.videos).toBe(6);
    expect(Object.keys(result.cells[0]!.accuracy)).toEqual(['mv3d']);
    expect(Object.keys(result.original.accuracy)).toEqual(['mv3d']);
    const runs = (await queueStatus(redis.url)).runs;
    expect(runs.find((x) => x.run === `transcode ${out}`)).toMatchObject({ completed: 6, failed: 0 });
    expect(runs.find((x) => x.run === `prepare ${path.join(out, 'accuracy', 'original', 'cache')}`)).toMatchObject({ completed: 6, failed: 0 });
    expect(runs.find((x) => x.run === `prepare ${path.join(out, 'accuracy', 'cells', 'crf40-gop12', 'cache')}`)).toMatchObject({ completed: 6, failed: 0 });
  });

  it('--jpeg: the JPEG cells are the local run\'s byte for byte; with a pixel model their preparation without motion vectors is queued too', { timeout: 150_000 }, async () => {
    const clean = path.join(dir, 'clean-jpeg');
    await synthesizeActionSet(clean, { classes: 2, perClass: 3, seconds: 1, seed: 7 });
    const cells = ['--crf', '40', '--gop', '12', '--jpeg', '10', '--short-side', '144', '--json'];
    const l = await cli(['study', 'transcode', clean, '-o', path.join(dir, 'jpeg-local'), ...cells, '--jobs', '2'], 120_000);
    expect(l.code, l.stderr).toBe(0);
    const out = path.join(dir, 'jpeg-queued');
    const q = await cli(['study', 'transcode', clean, '-o', out, ...cells, '--queue', redis.url], 120_000);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toBe(l.stdout);
    const bytes = bytesOf(out);
    expect(bytes).toEqual(bytesOf(path.join(dir, 'jpeg-local')));
    expect(Object.keys(bytes).filter((f) => f.startsWith(path.join('transcoded', 'jpeg-q10')) && f.endsWith('.avi'))).toHaveLength(6);
    const training = ['--models', 'resnet18', '--iterations', '2', '--batch', '2', '--size', '16', '--width', '0.125', '--fc', '16', '--views', '1x1', '--threads', '1'];
    const m = await cli(['study', 'transcode', clean, '-o', out, ...cells, '--queue', redis.url, ...training], 120_000);
    expect(m.code, m.stderr).toBe(0);
    const result = JSON.parse(m.stdout) as { jpeg: Array<{ q: number; accuracy: Record<string, number> }> };
    expect(Object.keys(result.jpeg[0]!.accuracy)).toEqual(['resnet18']);
    const runs = (await queueStatus(redis.url)).runs;
    expect(runs.find((x) => x.run === `prepare ${path.join(out, 'accuracy', 'cells', 'jpeg-q10', 'cache')}`)).toMatchObject({ completed: 6, failed: 0 });
  });

  it('refuses --attempts without --queue and a URL that is not Redis', async () => {
    const a = await cli(['study', 'transcode', set, '-o', path.join(dir, 'x'), '--attempts', '2']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--attempts goes with --queue');
    const b = await cli(['study', 'transcode', set, '-o', path.join(dir, 'x'), '--queue', 'http://127.0.0.1:1']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('Expected a Redis URL (redis://host:6379[/db]) for queue but received "http://127.0.0.1:1"');
  });
});
