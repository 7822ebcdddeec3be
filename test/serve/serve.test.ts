// The edge -> cloud service on loopback, with the suite's trained models (test/support/trained.ts):
// edge sends a cropped stream and gets it classified; 32 concurrent requests agree; bad input gets
// 4xx with a reason; a full queue gets 429; shutdown lets a request in flight finish; no temporary
// file is left behind.

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFromEdge } from '../../src/serve/edge.js';
import { createServer } from '../../src/serve/server.js';
import { fixtures, ROOT, tempDir } from '../setup/helpers.js';
import { serveModel } from './model.js';

const dir = tempDir();
const temp = path.join(dir, 'tmp');
let app: FastifyInstance;
let url: string;
let clip: string;
let cropped: Buffer;
let modelDir: string;

beforeAll(async () => {
  ({ modelDir, clip, cropped } = await serveModel());
  mkdirSync(temp);
  app = await createServer({ modelDir, tempDir: temp, concurrency: 2, queue: 64, threads: 1 });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
}, 300_000);

afterAll(async () => {
  await app?.close();
});

const post = (body: Buffer | Uint8Array, query = '') => fetch(`${url}/v1/classify${query}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });

describe('mvclass serve', () => {
  it('edge encodes at the paper settings, crops, sends a few kbps, and gets top-5 and the MCNN choice', { timeout: 60_000 }, async () => {
    const r = await sendFromEdge(clip, { server: url, qp: 40, budget: 20 });
    expect(r.sentKbps).toBeLessThan(r.originalKbps);
    const a = r.answer as { top5: Array<{ class: string; probability: number }>; chosen: string; mcnn: { budget: number; rMotion: number }; streams: Record<string, unknown>; stream: { bits: number } };
    expect(a.top5).toHaveLength(4); // the model's four classes (test/support/trained.ts), all ranked
    expect(a.top5[0]!.probability).toBeGreaterThanOrEqual(a.top5[1]!.probability);
    expect(['mv3d', 'mv2d', 'spatial']).toContain(a.chosen);
    expect(a.mcnn.budget).toBe(20);
    expect(a.mcnn.rMotion).toBeGreaterThanOrEqual(0);
    // Only the network the Multi-CNN chose scores the stream (it was all three, one kept).
    expect(Object.keys(a.streams)).toEqual([a.chosen]);
    expect(a.stream.bits).toBe(r.sentBytes * 8);
  });

  it('stateless: another serve process, as behind a load balancer, answers every request alike', { timeout: 120_000 }, async () => {
    const other = spawn(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'serve', modelDir, '--port', '0', '--threads', '1', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const otherUrl = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        other.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /listening on (\S+)/.exec(stderr);
          if (m) resolve(m[1]!);
        });
        other.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
      });
      // Every network the Multi-CNN can choose (budgets from none to all), and fusion; each asked
      // of both processes twice, in an interleaved order. Everything but the stage timings agrees.
      for (const query of ['', '?budget=1', '?budget=20', '?budget=100000', '?fuse=1', '?budget=20&fuse=1']) {
        const ask = (base: string) => fetch(`${base}/v1/classify${query}`, { method: 'POST', body: cropped, headers: { 'content-type': 'application/octet-stream' } }).then(async (res) => {
          const body = (await res.json()) as Record<string, unknown>;
          expect(Object.keys(body.seconds as object)).toContain('total');
          return { status: res.status, body: { ...body, seconds: Object.keys(body.seconds as object).sort() } };
        });
        const answers = [await ask(url), await ask(otherUrl), await ask(otherUrl), await ask(url)];
        expect(answers[0]!.status, JSON.stringify(answers[0]!.body)).toBe(200);
        for (const a of answers.slice(1)) expect(a).toEqual(answers[0]);
      }
    } finally {
      other.kill('SIGTERM');
    }
  });

  it('32 concurrent requests are all answered, and alike', { timeout: 120_000 }, async () => {
    const answers = await Promise.all(Array.from({ length: 32 }, () => post(cropped).then(async (res) => ({ status: res.status, body: (await res.json()) as { top5: unknown; chosen: string } }))));
    expect(answers.map((a) => a.status)).toEqual(new Array(32).fill(200));
    for (const a of answers) {
      expect(a.body.top5).toEqual(answers[0]!.body.top5);
      expect(a.body.chosen).toBe(answers[0]!.body.chosen);
    }
  });

  it('bad input: 4xx with a reason, and the service keeps serving', { timeout: 60_000 }, async () => {
    const f = fixtures();
    const truncated = cropped.subarray(0, Math.floor(cropped.length * 0.6));
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 251));
    const cases: Array<[string, Buffer, number, RegExp]> = [
      ['empty', Buffer.alloc(0), 400, /empty body/],
      ['random bytes', random, 415, /not an H\.264 stream/],
      ['truncated', truncated, 422, /damaged or truncated stream/],
      ['HEVC', readFileSync(f.clips['hevc']!), 415, /codec hevc/],
      ['a still image', png, 415, /still image/],
    ];
    for (const [name, body, status, reason] of cases) {
      const res = await post(body);
      expect(res.status, name).toBe(status);
      expect(((await res.json()) as { error: string }).error, name).toMatch(reason);
    }
    expect((await post(cropped, '?budget=abc')).status).toBe(400);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/mvclass_requests_total\{status="415"\} 3/);
    expect(metrics).toMatch(/mvclass_classifier_choice_total\{network="\w+"\} \d+/);
    expect(metrics).toMatch(/mvclass_request_duration_seconds_bucket/);
    expect(readdirSync(temp)).toEqual([]);
  });

  it('a request over the time limit answers 503', { timeout: 60_000 }, async () => {
    const slow = await createServer({ modelDir, tempDir: temp, timeoutMs: 1, threads: 1 });
    const address = await slow.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${address}/v1/classify`, { method: 'POST', body: cropped, headers: { 'content-type': 'video/h264' } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/timed out after 1 ms/);
    // The work behind the 503 stops at its next stage; close() waits for it and its files go.
    await slow.close();
    expect(readdirSync(temp)).toEqual([]);
  });

  it('a full queue answers 429; closing waits for the request in flight', { timeout: 60_000 }, async () => {
    const small = await createServer({ modelDir, tempDir: temp, concurrency: 1, queue: 0, threads: 1 });
    const address = await small.listen({ port: 0, host: '127.0.0.1' });
    const send = () => fetch(`${address}/v1/classify`, { method: 'POST', body: cropped, headers: { 'content-type': 'video/h264' } });
    const statuses = (await Promise.all(Array.from({ length: 4 }, send))).map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    expect(statuses).toContain(429);
    const inFlight = send();
    // Close once the request is being worked on (it takes a few hundred ms).
    for (let t = 0; t < 100; t++) {
      const h = (await (await fetch(`${address}/healthz`)).json()) as { inFlight: number };
      if (h.inFlight > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await small.close();
    expect((await inFlight).status).toBe(200);
    expect(readdirSync(temp)).toEqual([]);
  });
});
