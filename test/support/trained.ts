// The suite's one trained fixture: a small synthetic action set (4 classes of 16 clips), the
// paper's sweep on it at QP 30 and 40 on a short CPU schedule (prepared caches with a val split,
// mv3d, mv2d and vgg16 runs of 150 iterations per QP, multi-view test scores, mcnn.json fitted at
// QP 30, the report) and one clip of the set with its cropped stream. Used by
// test/pipeline/sweep.test.ts (the sweep's tables, figures and report, and a rerun on a copy), by
// test/nn/train.test.ts (the QP 30 networks: learning, evaluation, fusion, the Multi-CNN fit,
// classify; its QP 30 cache for its own small runs) and by the service tests of test/serve (the
// sweep's folder is what `mvclass serve` takes).
//
// Trained once per code version (test/support/shared.ts: one folder under .cache/test per hash
// of the code and this recipe, made by the first test process that needs it, waited for by the
// others).
//
// The demo (test/demo/demo.test.ts) stays the one test that runs everything end to end from
// nothing on every run; the tests of training itself (resume, safety, real footage) train their
// own small runs.

import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crop, synthesizeActionSet } from '../../src/index.js';
import { CPU_SCHEDULE, runSweep, type SweepOptions, type SweepResult } from '../../src/app/sweep.js';
import { sharedFolder } from './shared.js';
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

function firstClip(set: string): string {
  const first = readdirSync(set)
    .filter((name) => statSync(path.join(set, name)).isDirectory())
    .sort()[0]!;
  return path.join(set, first, readdirSync(path.join(set, first)).sort()[0]!);
}

function loaded(dir: string): Trained {
  const set = path.join(dir, 'set');
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
  const set = path.join(dir, 'set');
  await synthesizeActionSet(set, TRAINED_SET);
  const first = await runSweep({ dataset: set, out: path.join(dir, 'sweep'), ...TRAINED_SWEEP });
  // JSON has no Infinity (an unbounded MCNN threshold): util/json.ts keeps it as text.
  writeFileSync(path.join(dir, 'first.json'), JSON.stringify(first, infinityAsText, 1));
  // The synthetic source is H.264 without B-frames: it crops as it is.
  await crop(firstClip(set), path.join(dir, 'one.264'));
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
  return loaded(await sharedFolder({ prefix: 'trained-', maker: SELF, recipe: { set: TRAINED_SET, sweep: TRAINED_SWEEP }, make: train }));
}
