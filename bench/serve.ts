// bench/serve: the service under load on loopback, 4 s 320x240 clips at QP 40, cropped stream
// vs the full stream (which the service crops itself to measure R_motion): requests/s and
// p50/p99 latency on this machine's cores, and the kbps each sends. Models are trained first on
// a small synthetic set (CPU schedule). Run: npm run bench:serve

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crop, encode, synthesizeActionSet } from '../src/index.js';
import { CPU_SCHEDULE, runSweep } from '../src/app/sweep.js';
import { createServer } from '../src/serve/server.js';

async function load(url: string, body: Buffer, requests: number, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < requests) {
      next++;
      const s = performance.now();
      const res = await fetch(`${url}/v1/classify`, { method: 'POST', body, headers: { 'content-type': 'video/h264' } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rps: requests / seconds, p50: q(0.5), p99: q(0.99) };
}

async function main(): Promise<void> {
  const dir = path.join(os.tmpdir(), `mvclass-bench-serve-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const set = path.join(dir, 'set');
  await synthesizeActionSet(set, { classes: 4, perClass: 10, seconds: 4, seed: 3 });
  await runSweep({ dataset: set, out: path.join(dir, 'models'), qps: [40], schedule: { ...CPU_SCHEDULE, iterations: 60, temporal: 2 }, valFraction: 0.2 });
  const full = (await encode(path.join(set, 'run', 'run_000.mp4'), path.join(dir, 'full.mp4'), { qp: 40, size: '320x240', fps: 25, gop: 0, bframes: 0, threads: 1 })).output;
  await crop(full, path.join(dir, 'cropped.264'));
  const bodies = { cropped: readFileSync(path.join(dir, 'cropped.264')), full: readFileSync(full) };
  const app = await createServer({ modelDir: path.join(dir, 'models') });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`mvclass bench/serve — ${os.cpus().length} cores, 4 s 320x240 clips at QP 40, 64 requests, 4 at a time\n`);
  console.log('| stream | kbps sent | requests/s | p50 latency (ms) | p99 latency (ms) |\n|---|---|---|---|---|');
  for (const [name, body] of Object.entries(bodies)) {
    await load(url, body, 4, 2); // warm up
    const r = await load(url, body, 64, 4);
    console.log(`| ${name} | ${((body.length * 8) / 4 / 1000).toFixed(1)} | ${r.rps.toFixed(2)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} |`);
  }
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
