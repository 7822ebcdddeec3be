// Seeing what the service did (issue 12): the OpenAPI description at /docs, one access-log line
// per request, --device, only the chosen network scoring, R_motion of streams that are not as
// long as the Multi-CNN's fit videos (a real Debian clip re-encoded by the ffmpeg tool), and an
// edge client that names why it could not reach the service.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFromEdge } from '../../src/serve/edge.js';
import { createServer } from '../../src/serve/server.js';
import { cli, fixtures, ROOT, tempDir } from '../setup/helpers.js';
import { serveModel, type ServeModel } from './model.js';

const dir = tempDir();
const temp = path.join(dir, 'tmp');
let model: ServeModel;
let app: FastifyInstance;
let url: string;
const logged: string[] = [];

interface Answer {
  top5: Array<{ class: string; probability: number }>;
  chosen: 'mv3d' | 'mv2d' | 'spatial';
  mcnn: { rMotion: number; rL: number | string | null; rH: number | string | null };
  streams: Record<string, { top1: string; probability: number; scores: number[] }>;
  seconds: Record<string, number>;
}

const post = async (body: Buffer, query = '') => {
  const res = await fetch(`${url}/v1/classify${query}`, { method: 'POST', body, headers: { 'content-type': 'video/h264' } });
  return { status: res.status, body: (await res.json()) as Answer };
};

/** A port nothing listens on (just freed). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  model = await serveModel();
  mkdirSync(temp);
  app = await createServer({ modelDir: model.modelDir, tempDir: temp, concurrency: 2, threads: 1, logger: { level: 'info', stream: { write: (line) => logged.push(line) } } });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
}, 300_000);

afterAll(async () => {
  await app?.close();
});

describe('mvclass serve: what it did, and why', () => {
  it('describes its API (OpenAPI) at /docs/json, with a page at /docs whose assets it serves itself', async () => {
    const spec = (await (await fetch(`${url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>;
    };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths).sort()).toEqual(['/healthz', '/metrics', '/v1/classify']);
    const classify = spec.paths['/v1/classify']!.post!;
    expect(classify.parameters!.map((p) => `${p.in} ${p.name}`).sort()).toEqual(['query budget', 'query fuse']);
    expect(Object.keys(classify.requestBody!.content)).toEqual(['application/octet-stream']);
    expect(Object.keys(classify.responses).sort()).toEqual(['200', '400', '408', '413', '415', '422', '429', '500', '503']);
    expect(JSON.stringify(classify.responses['422'])).toContain('"required":["error"]');
    expect(spec.paths['/healthz']!.get!.responses['200']).toBeDefined();
    expect(spec.paths['/metrics']!.get!.responses['200']).toBeDefined();

    // The page and everything it loads come from this server (the swagger-ui package's files):
    // relative addresses only, each one served, and no online validator.
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset, asset).not.toMatch(/^(https?:)?\/\//);
      const res = await fetch(new URL(asset, page.url));
      expect(res.status, asset).toBe(200);
      await res.arrayBuffer(); // read to the end: its log line is written when it is sent
    }
    const initializer = await (await fetch(`${url}/docs/static/swagger-initializer.js`)).text();
    expect(initializer).toMatch(/validatorUrl: null/);
  });

  it('writes one access-log line per request: method, url, status, time, bytes, the chosen network, the request id', { timeout: 60_000 }, async () => {
    const before = logged.length;
    const { status, body } = await post(model.cropped, '?budget=20');
    expect(status).toBe(200);
    const lines = logged.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines, logged.slice(before).join('')).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'request', method: 'POST', url: '/v1/classify?budget=20', status: 200, bytesIn: model.cropped.length, network: body.chosen });
    expect(lines[0]!.reqId).toMatch(/^req-/);
    expect(lines[0]!.ms).toBeGreaterThan(0);
    expect(lines[0]!.bytesOut).toBeGreaterThan(100);
    expect(logged.at(-1)!.endsWith('\n')).toBe(true);

    // A refused request and another route: a line each, no network.
    const at = logged.length;
    expect((await fetch(`${url}/v1/classify`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const more = logged.slice(at).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(more.map((l) => [l.method, l.url, l.status, l.network, l.bytesIn])).toEqual([
      ['POST', '/v1/classify', 415, null, 5],
      ['GET', '/healthz', 200, null, 0],
    ]);
    expect(new Set([lines[0]!.reqId, ...more.map((l) => l.reqId)]).size).toBe(3);
  });

  it('scores the stream with the chosen network only; fuse=1 adds the spatial network and ranks by the mean', { timeout: 60_000 }, async () => {
    const one = await post(model.cropped);
    expect(one.status).toBe(200);
    expect(Object.keys(one.body.streams)).toEqual([one.body.chosen]);
    const timed = Object.keys(one.body.seconds).filter((k) => k.startsWith('infer '));
    expect(timed).toEqual([`infer ${one.body.chosen === 'spatial' ? 'vgg16' : one.body.chosen}`]);
    expect(one.body.top5[0]!.class).toBe(one.body.streams[one.body.chosen]!.top1);

    // A still picture (no motion, so a temporal network is chosen wherever R_H > 0), fused.
    const stillFile = path.join(dir, 'still.264');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-vf', 'trim=end_frame=1,loop=loop=49:size=1,setpts=N/25/TB', '-t', '2', '-c:v', 'libx264', '-bf', '0', '-qp', '40', '-f', 'h264', stillFile]);
    const still = await post(readFileSync(stillFile), '?fuse=1');
    expect(still.status).toBe(200);
    expect(still.body.mcnn.rMotion).toBeLessThan(1);
    if (still.body.mcnn.rH === 0) {
      expect(Object.keys(still.body.streams)).toEqual(['spatial']); // chosen spatial: nothing to fuse with
    } else {
      expect(still.body.chosen).not.toBe('spatial');
      expect(Object.keys(still.body.streams).sort()).toEqual([still.body.chosen, 'spatial'].sort());
      const mean = still.body.streams[still.body.chosen]!.scores.map((s, c) => (s + still.body.streams.spatial!.scores[c]!) / 2);
      expect(still.body.top5[0]!.probability).toBeCloseTo(Math.max(...mean), 6);
      expect(Object.keys(still.body.seconds).filter((k) => k.startsWith('infer ')).sort()).toEqual([`infer ${still.body.chosen}`, 'infer vgg16']);
    }
    const bad = await post(model.cropped, '?fuse=maybe');
    expect(bad.status).toBe(400);
    expect((bad.body as unknown as { error: string }).error).toMatch(/Expected 1, true, 0 or false for fuse but received "maybe"/);
  });

  it('R_motion of a real clip re-encoded by ffmpeg and sent as it is does not depend on its length (it read 1.4 kbps over 10 s and 0 over 30 s against 39 over 2 s)', { timeout: 120_000 }, async () => {
    // balle-jbart (Debian's python3-mecavideo), re-encoded by the ffmpeg tool with x264's own
    // settings (CRF 23, an IDR every 100 frames, no B-frames, so edge --as-is sends it as it is):
    // its first 2 s, the whole 10.2 s, and the whole clip three times over (30.6 s).
    const balle = fixtures().real['balle']!;
    const encode = (input: string[], out: string) => {
      execFileSync('ffmpeg', ['-v', 'error', '-y', ...input, '-an', '-vf', 'scale=320:240', '-r', '25', '-c:v', 'libx264', '-bf', '0', '-g', '100', out]);
      return out;
    };
    const clips = {
      '2 s': encode(['-i', balle, '-t', '2'], path.join(dir, 'balle-2s.mp4')),
      '10.2 s': encode(['-i', balle], path.join(dir, 'balle-all.mp4')),
      '30.6 s': encode(['-stream_loop', '2', '-i', balle], path.join(dir, 'balle-x3.mp4')),
    };
    const rMotion: Record<string, number> = {};
    for (const [name, video] of Object.entries(clips)) {
      const r = await sendFromEdge(video, { server: url, asIs: true });
      rMotion[name] = (r.answer as unknown as Answer).mcnn.rMotion;
    }
    console.log(`R_motion of balle-jbart sent as it is, kbps: ${Object.entries(rMotion).map(([k, v]) => `${v.toFixed(2)} over ${k}`).join(', ')}`);
    const short = rMotion['2 s']!;
    expect(short).toBeGreaterThan(0);
    for (const long of [rMotion['10.2 s']!, rMotion['30.6 s']!]) {
      expect(long / short).toBeGreaterThan(0.5);
      expect(long / short).toBeLessThan(2);
    }
    expect(readdirSync(temp)).toEqual([]);
  });

  it('--device: cuda is refused before anything listens where libtorch has no CUDA device; an unknown device is a usage error', { timeout: 60_000 }, async () => {
    const cuda = await createServer({ modelDir: model.modelDir, tempDir: temp, concurrency: 1, threads: 1, device: 'cuda' }).then(
      (server) => server,
      (error: Error) => error,
    );
    if (cuda instanceof Error) {
      expect(cuda.message).toMatch(/--device cuda: this libtorch has no usable CUDA device/);
      const r = await cli(['serve', model.modelDir, '--port', '0', '--device', 'cuda']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^mvclass: .*--device cuda: this libtorch has no usable CUDA device/);
      expect(r.stderr).not.toMatch(/listening/);
    } else {
      const address = await cuda.listen({ port: 0, host: '127.0.0.1' });
      expect(await (await fetch(`${address}/healthz`)).json()).toMatchObject({ device: 'cuda' });
      await cuda.close();
    }
    const tpu = await cli(['serve', model.modelDir, '--device', 'tpu']);
    expect(tpu.code).toBe(2);
    expect(tpu.stderr).toMatch(/device/);
  });

  it('edge against a dead server says what failed and where', { timeout: 60_000 }, async () => {
    const port = await deadPort();
    await expect(sendFromEdge(model.clip, { server: `http://127.0.0.1:${port}`, asIs: true })).rejects.toThrow(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}: cannot reach the service \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`),
    );
    const r = await cli(['edge', model.clip, '--server', `http://127.0.0.1:${port}`, '--as-is']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mvclass: http://127.0.0.1:${port}: cannot reach the service (connect ECONNREFUSED 127.0.0.1:${port})\n`);
  });

  it('the CLI logs a line per request on standard output; --quiet none', { timeout: 90_000 }, async () => {
    const run = async (extra: string[]) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'serve', model.modelDir, '--port', '0', '--concurrency', '1', ...extra], {
        env: { ...process.env, TMPDIR: temp },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        const address = await new Promise<string>((resolve, reject) => {
          child.stderr.setEncoding('utf8').on('data', (d: string) => {
            stderr += d;
            const m = /listening on (\S+)/.exec(stderr);
            if (m) resolve(m[1]!);
          });
          child.on('exit', (code) => reject(new Error(`mvclass serve exited with ${code}: ${stderr}`)));
        });
        expect((await fetch(`${address}/healthz`)).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 300)); // pino writes asynchronously
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'request');
    };
    const lines = await run([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'GET', url: '/healthz', status: 200 });
    expect(await run(['--quiet'])).toEqual([]);
  });
});
