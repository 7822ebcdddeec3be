// The service tests' model: a small synthetic action set, a CPU sweep at QP 40 (what `serve`
// takes), one clip of it and its cropped stream. Trained once and shared by the test files of
// test/serve, which vitest runs in separate processes: the first to get the lock trains into a
// folder named by a hash of what the training depends on (the sources and the native addons),
// the others wait for it; a later run with the same code reuses it.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crop, synthesizeActionSet } from '../../src/index.js';
import { CPU_SCHEDULE, runSweep } from '../../src/pipeline/sweep.js';
import { ROOT } from '../setup/helpers.js';
import { processAlive } from '../../src/util/process.js';

export interface ServeModel {
  /** What createServer takes: holds mcnn.json. */
  modelDir: string;
  /** A clip of the set (H.264 without B-frames). */
  clip: string;
  /** The clip cropped: what an edge device sends. */
  cropped: Buffer;
}

const VERSION = 1; // bump when the recipe below changes

function key(): string {
  const hash = createHash('sha256').update(`recipe ${VERSION}\n`);
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (name.endsWith('.ts')) hash.update(`${file}\n`).update(readFileSync(file));
    }
  };
  walk(path.join(ROOT, 'src'));
  for (const addon of ['build/Release/mvclass_codec.node', 'build-nn/Release/mvclass_nn.node']) {
    const file = path.join(ROOT, addon);
    if (existsSync(file)) {
      const s = statSync(file);
      hash.update(`${addon} ${s.size} ${s.mtimeMs}\n`);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function loaded(dir: string): ServeModel {
  const set = path.join(dir, 'set');
  return { modelDir: path.join(dir, 'models'), clip: path.join(set, 'run', readdirSync(path.join(set, 'run')).sort()[0]!), cropped: readFileSync(path.join(dir, 'one.264')) };
}

async function train(dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const set = path.join(dir, 'set');
  await synthesizeActionSet(set, { classes: 3, perClass: 10, seconds: 2, seed: 8 });
  const schedule = { ...CPU_SCHEDULE, iterations: 60, mv3d: { ...CPU_SCHEDULE.mv3d, frames: 32 }, temporal: 2 };
  await runSweep({ dataset: set, out: path.join(dir, 'models'), qps: [40], schedule, threads: 2, valFraction: 0.2 });
  // The synthetic source is H.264 without B-frames: it crops as it is.
  const clip = path.join(set, 'run', readdirSync(path.join(set, 'run')).sort()[0]!);
  await crop(clip, path.join(dir, 'one.264'));
  writeFileSync(path.join(dir, 'ready'), '');
}

const PREFIX = 'mvclass-test-serve-model-';

/** Models of other code versions are removed once they are an hour old (and not being made). */
function prune(keep: string): void {
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith(PREFIX) || name.endsWith('.lock') || name === keep || existsSync(path.join(os.tmpdir(), `${name}.lock`))) continue;
    const ready = path.join(os.tmpdir(), name, 'ready');
    if (existsSync(ready) && Date.now() - statSync(ready).mtimeMs > 3600_000) rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

export async function serveModel(): Promise<ServeModel> {
  const name = `${PREFIX}${key()}`;
  prune(name);
  const dir = path.join(os.tmpdir(), name);
  const ready = path.join(dir, 'ready');
  const lock = `${dir}.lock`;
  for (;;) {
    if (existsSync(ready)) return loaded(dir);
    try {
      mkdirSync(lock);
    } catch {
      // Another test process trains: wait for it, unless it died holding the lock.
      let owner = 0; // 0: not written yet (or the lock just went): wait and look again
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
      } catch {
        owner = 0;
      }
      if (owner > 0 && !processAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      if (!existsSync(ready)) await train(dir);
      return loaded(dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
