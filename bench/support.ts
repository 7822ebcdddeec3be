// Small pieces the benches share: timing and running a peer tool.

import { spawnSync } from 'node:child_process';

/** The median wall-clock time of `repeat` runs of `work`, in seconds. */
export async function medianSeconds(repeat: number, work: () => unknown | Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    await work();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** Runs a tool with its output discarded (errors still show); throws if it fails. */
export function runQuietly(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
}
