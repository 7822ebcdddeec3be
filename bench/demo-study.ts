// bench/demo-study: `mvclass demo --study transcode|repeats --quick` (and with --full the full
// sets) timed from an empty folder, against their goals on 2 cores: --quick at most 4 minutes,
// the full sets at most 15. Too slow for the test suite; the load average is printed beside, as
// a loaded machine stretches the wall time while the CPU time stays.
// Run: npm run bench:demo-study [-- --full]

import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDemoStudy, DEMO_STUDIES } from '../src/app/demo-study.js';

async function main(): Promise<void> {
  const sizes = process.argv.includes('--full') ? [true, false] : [true];
  const rows: string[] = [];
  for (const quick of sizes) {
    for (const study of DEMO_STUDIES) {
      const scratch = path.join(os.tmpdir(), `mvclass-bench-demo-study-${process.pid}-${study}-${quick ? 'quick' : 'full'}`);
      mkdirSync(scratch, { recursive: true });
      const load = os.loadavg()[0]!;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await runDemoStudy({ study, out: scratch, quick, threads: 2, onWarning: () => {} });
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const goal = quick ? 240 : 900;
      rows.push(`| ${study} | ${quick ? 'quick' : 'full'} | ${wall.toFixed(1)} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} | ${goal} | ${wall <= goal ? 'yes' : 'NO'} | ${load.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)} |`);
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  console.log(`mvclass bench/demo-study — ${os.cpus().length} cores, --threads 2, from an empty folder (the set made too)\n`);
  console.log('| study | set | wall s | CPU s (this process) | goal s | within | load average (1 min) |\n|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
