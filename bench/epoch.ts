// bench/epoch: one training epoch of mv3d from the prepared cache, loading and augmentation
// included (VolumeLoader prefetching while libtorch steps), against a PyTorch script reading the
// same number of volumes from .npy files through a DataLoader with 2 workers (goal <= 0.8x its
// time). Both sides use the same threads. Run: npm run bench:epoch (after bench:nn's peers).

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CnnModel, openDataset, PreparedCache, prepareDataset, synthesizeActionSet, VolumeLoader, randomView, mulberry32 } from '../src/index.js';
import { npyHeader } from '../src/util/npy.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const THREADS = Number(process.env.THREADS ?? os.cpus().length);
const spec = { classes: 8, frames: 160, size: 24, width: 1, fc: 2048, batch: 16 };

async function main(): Promise<void> {
  const scratch = path.join(os.tmpdir(), `mvclass-bench-epoch-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  await synthesizeActionSet(path.join(scratch, 'set'), { classes: 8, perClass: 8, seconds: 4, seed: 5 });
  await prepareDataset(await openDataset(path.join(scratch, 'set'), { testFraction: 0.01 }), path.join(scratch, 'cache'), { qp: 30 });
  const cache = (await PreparedCache.open(path.join(scratch, 'cache'))).subset('train');

  // The peer's inputs: the same number of augmented volumes, one .npy file each.
  const npy = path.join(scratch, 'npy');
  mkdirSync(npy);
  const rng = mulberry32(1);
  for (let i = 0; i < cache.length; i++) {
    const v = randomView(await cache.clip(i), { frames: spec.frames, size: spec.size, layout: '3d' }, rng);
    writeFileSync(path.join(npy, `${cache.label(i)}_${i}.npy`), Buffer.concat([npyHeader('<f4', [2, spec.frames, spec.size, spec.size]), Buffer.from(v.buffer, v.byteOffset, v.byteLength)]));
  }

  const model = await CnnModel.create({ model: 'mv3d', classes: cache.classes, frames: spec.frames, size: spec.size, width: spec.width, fc: spec.fc }, { threads: THREADS });
  const loader = new VolumeLoader(cache, { batchSize: spec.batch, frames: spec.frames, size: spec.size, layout: '3d', shuffle: true, seed: 1, augment: true, dropLast: true });
  const t0 = performance.now();
  for await (const b of loader.epoch(0)) await model.trainStep(b.data, b.labels, 0.01);
  const ours = (performance.now() - t0) / 1000;
  const peer = JSON.parse(
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'peer_epoch.py'), JSON.stringify({ ...spec, threads: THREADS, folder: npy })], { encoding: 'utf8' }),
  ) as { seconds: number };
  console.log(`mvclass bench/epoch — ${cache.length} training volumes [2,${spec.frames},${spec.size},${spec.size}], batch ${spec.batch}, ${THREADS} threads\n`);
  console.log(`mvclass epoch (cache + VolumeLoader + libtorch steps): ${ours.toFixed(2)} s`);
  console.log(`PyTorch epoch (.npy + DataLoader, 2 workers):          ${peer.seconds.toFixed(2)} s`);
  console.log(`\nratio ${(ours / peer.seconds).toFixed(2)}x (goal <= 0.8x)`);
  await cache.close();
  rmSync(scratch, { recursive: true, force: true });
}

await main();
