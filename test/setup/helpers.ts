import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './fixtures.js';

export { fixtures, ROOT } from './fixtures.js';

const execFileAsync = promisify(execFile);

/**
 * libtorch threads for the long learning tests (the demo, the ResNets', the clip networks'). The
 * suite runs two files at once on CI's two cores, so a training with two threads shares its cores
 * with the other file's work: two such trainings side by side took 35-40% more CPU time with two
 * threads each than with one (each parallel region waits for a thread the other process has
 * preempted). One thread per worker. Two of the real-footage motion trainings keep two, mv2d and
 * mv3d with SGD: their bars were measured with two, and with one they scored exactly their bar (mv2d,
 * 18 of 60 clips) or 2 clips above it (mv3d).
 */
export const LEARNING_THREADS = 1;

/** The folders tempDir made in this test file; test/setup/cleanup.ts removes them after it. */
export const madeTempDirs = new Set<string>();

/** A fresh folder in the system's temp directory, removed when the test file ends. */
export function tempDir(prefix = 'mvclass-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  madeTempDirs.add(dir);
  return dir;
}

/** Runs an external tool synchronously and returns its stdout as a Buffer. */
export function runTool(cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (bin/mvclass.js) and never throws on a non-zero exit. */
export async function cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(ROOT, 'bin', 'mvclass.js'), ...args], {
      maxBuffer: 1 << 30,
      timeout: timeoutMs,
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; killed?: boolean };
    if (e.killed) throw new Error(`mvclass ${args.join(' ')} timed out after ${timeoutMs} ms`);
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** First differing line of two texts, for readable failures. */
export function firstDifference(a: string, b: string): string | null {
  if (a === b) return null;
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: expected ${JSON.stringify(la[i])} got ${JSON.stringify(lb[i])} (${la.length} vs ${lb.length} lines)`;
  }
  return 'texts differ';
}

/** A TCP port nothing listens on now (the kernel's choice on 127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
