// The suite's one trained fixture: a small synthetic action set (4 classes of 16 clips), the
// paper's sweep on it at QP 30 and 40 on a short CPU schedule (prepared caches with a val split,
// mv3d, mv2d and vgg16 runs of 150 iterations per QP, multi-view test scores, mcnn.json fitted at
// QP 30, the report) and one clip of the set with its cropped stream. Used by
// test/pipeline/sweep.test.ts (the sweep's tables, figures and report, and a rerun on a copy), by
// test/nn/train.test.ts (the QP 30 networks: learning, evaluation, fusion, the Multi-CNN fit,
// classify; its QP 30 cache for its own small runs) and by the service tests of test/serve (the
// sweep's folder is what `mvclass serve` takes).
//
// Trained once per code version: the folder under .cache/test is named by a hash of what the
// training depends on (every src/**/*.ts, the native addons, and this file). vitest runs test
// files in separate processes, so the first to take the lock (a folder holding its pid) trains
// and the others wait for it; a later run with the same code reuses the folder. Folders of other
// code versions are removed 15 minutes after their last use (a test file holds it for less).
//
// The demo (test/demo/demo.test.ts) stays the one test that runs everything end to end from
// nothing on every run; the tests of training itself (resume, safety, real footage) train their
// own small runs.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crop, synthesizeActionSet } from '../../src/index.js';
import { CPU_SCHEDULE, runSweep, type SweepOptions, type SweepResult } from '../../src/app/sweep.js';
import { processAlive } from '../../src/util/process.js';
import { CACHE, ROOT } from '../setup/fixtures.js';
import { infinityAsText, infinityFromText } from '../../src/util/json.js';

/** The set: 4 classes of 16 clips of 2 s (seed 4). */
export const TRAINED_SET = { classes: 4, perClass: 16, seconds: 2, seed: 4 } as const;

/**
 * The sweep's settings (dataset and out are the fixture's folders). Each network trains as
 * trainModel({ model, data, out, iterations: 150, batch: 16, lrStep: 120, threads: 2, seed: 1,
 * ...shape }) with the shapes mv3d { frames: 32, width: 0.25, fc: 128 }, mv2d { frames: 16,
 * size: 32, width: 0.25, fc: 128 }, vgg16 { size: 96, width: 0.125, fc: 128 } (lr 0.01, mv3d's
 * size 24), and is evaluated on the test split with 3 x 10 views.
 */
export const TRAINED_SWEEP = {
  qps: [30, 40],
  schedule: {
    ...CPU_SCHEDULE,
    iterations: 150,
    lrStep: 120,
    mv3d: { ...CPU_SCHEDULE.mv3d, frames: 32 },
    mv2d: { ...CPU_SCHEDULE.mv2d, frames: 16 },
    temporal: 3,
    crops: 10,
  },
  threads: 2,
  valFraction: 0.2,
} satisfies Omit<SweepOptions, 'dataset' | 'out'>;

export interface Trained {
  /** The fixture's folder. */
  dir: string;
  /** The synthetic action set (a folder per class). */
  set: string;
  /** runSweep's out folder: qp30/ and qp40/ (cache, runs, scores), mcnn.json (fitted at QP 30), the report. */
  sweep: string;
  /** What runSweep returned when it made `sweep` (all stages run), as JSON. */
  first: SweepResult;
  /** A clip of the set (H.264 without B-frames). */
  clip: string;
  /** The clip cropped: what an edge device sends. */
  cropped: Buffer;
}

const SELF = fileURLToPath(import.meta.url);
const PREFIX = 'trained-';

function key(): string {
  const hash = createHash('sha256').update(readFileSync(SELF));
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (name.endsWith('.ts')) hash.update(`${path.relative(ROOT, file)}\n`).update(readFileSync(file));
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

function firstClip(set: string): string {
  const first = readdirSync(set)
    .filter((name) => statSync(path.join(set, name)).isDirectory())
    .sort()[0]!;
  return path.join(set, first, readdirSync(path.join(set, first)).sort()[0]!);
}

function loaded(dir: string): Trained {
  const set = path.join(dir, 'set');
  const now = new Date();
  utimesSync(path.join(dir, 'ready'), now, now); // in use: not pruned for 15 minutes
  return {
    dir,
    set,
    sweep: path.join(dir, 'sweep'),
    first: JSON.parse(readFileSync(path.join(dir, 'first.json'), 'utf8'), infinityFromText) as SweepResult,
    clip: firstClip(set),
    cropped: readFileSync(path.join(dir, 'one.264')),
  };
}

async function train(dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const set = path.join(dir, 'set');
  await synthesizeActionSet(set, TRAINED_SET);
  const first = await runSweep({ dataset: set, out: path.join(dir, 'sweep'), ...TRAINED_SWEEP });
  // JSON has no Infinity (an unbounded MCNN threshold): util/json.ts keeps it as text.
  writeFileSync(path.join(dir, 'first.json'), JSON.stringify(first, infinityAsText, 1));
  // The synthetic source is H.264 without B-frames: it crops as it is.
  await crop(firstClip(set), path.join(dir, 'one.264'));
  writeFileSync(path.join(dir, 'ready'), '');
}

/**
 * Fixtures of other code versions (about 80 MB each) go 15 minutes after their last use (and not
 * while being made); so do the service models the suite used to train into the temp folder
 * (mvclass-test-serve-model-*).
 */
function prune(keep: string): void {
  for (const [root, prefix] of [
    [CACHE, PREFIX],
    [os.tmpdir(), 'mvclass-test-serve-model-'],
  ] as const) {
    for (const name of readdirSync(root)) {
      if (!name.startsWith(prefix) || name.endsWith('.lock') || name === keep || existsSync(path.join(root, `${name}.lock`))) continue;
      const ready = path.join(root, name, 'ready');
      const used = statSync(existsSync(ready) ? ready : path.join(root, name), { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - used > 15 * 60_000) rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
}

let cached: Promise<Trained> | undefined;

/** The trained fixture of this code version: made here if no process has made it, else waited for. */
export function trained(): Promise<Trained> {
  cached ??= make().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function make(): Promise<Trained> {
  const name = `${PREFIX}${key()}`;
  mkdirSync(CACHE, { recursive: true });
  prune(name);
  const dir = path.join(CACHE, name);
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
      const stale = owner === 0 && Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 60_000;
      if ((owner > 0 && !processAlive(owner)) || stale) rmSync(lock, { recursive: true, force: true });
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
