// For the tests of the job queue: every file of a folder for byte-for-byte comparison, and
// `mvclass worker` processes of their own.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../setup/helpers.js';

/** Every file under `folder` (relative path → base64), for byte-for-byte comparison. */
export function bytesOf(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(folder, full)] = readFileSync(full).toString('base64');
    }
  };
  walk(folder);
  return out;
}

/** A worker process on the queue at `url` (one job at a time, 1 s heartbeat); resolves once it is taking jobs. */
export async function startQueueWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), 'worker', '--queue', url, '--concurrency', '1', '--heartbeat', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('taking jobs')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}): ${stderr}`)));
  });
  return child;
}

/** Stops `workers` with SIGTERM (each finishes what it runs); their exit codes. */
export async function stopQueueWorkers(workers: ChildProcess[]): Promise<Array<number | null>> {
  return Promise.all(workers.filter((w) => w.exitCode === null && w.signalCode === null).map((w) => new Promise<number | null>((resolve) => (w.once('exit', resolve), w.kill('SIGTERM')))));
}
