// bench/prepare: `prepare --as-is` of a folder of videos (grids + key frames + rates, all cores)
// against extracting the same videos one by one with FFmpeg's extract_mvs (goal >= 2x faster),
// measured in one run. Run: npm run bench:prepare

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDataset, prepareDataset, synthesizeActionSet } from '../src/index.js';
import { buildExtractMvs } from './oracle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(ROOT, '.cache', 'bench');

async function main(): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const oracle = buildExtractMvs(CACHE);
  const scratch = path.join(os.tmpdir(), `mvclass-bench-prepare-${process.pid}`);
  const set = path.join(scratch, 'set');
  mkdirSync(scratch, { recursive: true });
  await synthesizeActionSet(set, { classes: 8, perClass: 8, seconds: 4, seed: 2 });
  const dataset = await openDataset(set);
  const files = dataset.items.map((i) => i.path);

  let t0 = process.hrtime.bigint();
  for (const file of files) {
    const r = spawnSync('bash', ['-c', '"$0" "$1" > /dev/null 2>&1', oracle, file]);
    if (r.status !== 0) throw new Error(`extract_mvs ${file} failed`);
  }
  const tOracle = Number(process.hrtime.bigint() - t0) / 1e9;

  t0 = process.hrtime.bigint();
  const result = await prepareDataset(dataset, path.join(scratch, 'cache'), { asIs: true, onWarning: () => {} });
  const tPrepare = Number(process.hrtime.bigint() - t0) / 1e9;

  console.log(`mvclass bench/prepare — ${os.cpus().length} cores, ${files.length} synthetic 4 s 320x240 clips\n`);
  console.log('| task | seconds |\n|---|---|');
  console.log(`| extract_mvs, one file after another (CSV to /dev/null) | ${tOracle.toFixed(3)} |`);
  console.log(`| mvclass prepare --as-is (grids, key frames, crop for R_cropped, all cores) | ${tPrepare.toFixed(3)} |`);
  console.log(`\nprepare --as-is is ${(tOracle / tPrepare).toFixed(2)}x faster end to end (goal >= 2x); ${result.videos} videos, ${result.failed.length} failed`);
  rmSync(scratch, { recursive: true, force: true });
}

await main();
