// The mvclass command sizes libuv's thread pool for the machine (cores + 4, at least 4) before
// anything starts it, so that prepare's cores + 1 jobs and serve's request per core all run at
// once; a UV_THREADPOOL_SIZE the user set is kept. Measured: a child process blocks pool threads
// one by one (each opens a FIFO for reading, which waits for a writer) until a file stat no longer
// gets a thread; the number blocked then is the pool's size. The child is CommonJS, as the command's
// entry is: an ES module is itself read through the pool, which then starts with the default.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../setup/helpers.js';

const run = promisify(execFile);

const measure = `
if (process.env.PREAMBLE) require(process.env.PREAMBLE);
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
(async () => {
const dir = fs.mkdtempSync(os.tmpdir() + '/mvclass-pool-');
const fifos = [];
const waiting = [];
let size = 0;
for (let n = 1; n <= 1030; n++) {
  const fifo = dir + '/f' + n;
  execFileSync('mkfifo', [fifo]);
  fifos.push(fifo);
  waiting.push(fs.promises.open(fifo, 'r')); // holds a pool thread until a writer comes
  const answered = await Promise.race([
    fs.promises.stat(dir).then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), 3000)),
  ]);
  if (!answered) { size = n; break; }
}
// Every blocked open has its reader waiting, so a non-blocking writer releases it.
for (const fifo of fifos) { try { fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch {} }
for (const handle of await Promise.all(waiting)) await handle.close();
fs.rmSync(dir, { recursive: true });
process.stdout.write(JSON.stringify({ size, env: process.env.UV_THREADPOOL_SIZE ?? null }));
})();
`;

async function poolSize(env: Record<string, string | undefined>): Promise<{ size: number; env: string | null }> {
  const childEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const { stdout } = await run(process.execPath, ['-e', measure], { env: childEnv, timeout: 60_000 });
  return JSON.parse(stdout) as { size: number; env: string | null };
}

describe("libuv's thread pool", () => {
  const preamble = path.join(ROOT, 'bin', 'threadpool.js');
  const expected = Math.max(4, os.availableParallelism() + 4);

  it('is 4 threads in a plain Node process (what the command had before)', { timeout: 60_000 }, async () => {
    expect(await poolSize({ UV_THREADPOOL_SIZE: undefined, PREAMBLE: undefined })).toEqual({ size: 4, env: null });
  });

  it("is the cores + 4 after the command's preamble, and a size the user set is kept", { timeout: 60_000 }, async () => {
    expect(expected).toBeGreaterThan(4);
    expect(await poolSize({ UV_THREADPOOL_SIZE: undefined, PREAMBLE: preamble })).toEqual({ size: expected, env: String(expected) });
    expect(await poolSize({ UV_THREADPOOL_SIZE: '5', PREAMBLE: preamble })).toEqual({ size: 5, env: '5' });
  });

  it('bin/mvclass.js is CommonJS and requires the preamble before anything else', () => {
    expect(JSON.parse(readFileSync(path.join(ROOT, 'bin', 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    const code = readFileSync(path.join(ROOT, 'bin', 'mvclass.js'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#!') && !line.trim().startsWith('//'));
    expect(code.slice(0, 2)).toEqual(["'use strict';", "require('./threadpool.js');"]);
  });
});
