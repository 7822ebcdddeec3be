// runRepeats: a repeats study (seeds 000/001 of the project). One network trained `repeats` times
// on each condition (a cache, or a dataset prepared with the condition's settings), seed = base
// seed + k; every run scored on every condition's test split (trained on x tested on); the
// spread of each condition's runs, the matrix and the conditions' bytes (metrics/repeats.ts), a
// report. Resumable stage by stage, as the sweep is: a complete cache is not prepared again, a
// complete run not trained again, a pair whose scores are saved (and newer than the run's last
// checkpoint) not evaluated again.
//
//   <out>/caches/<condition>/             conditions given as a dataset
//   <out>/runs/<condition>/<k>/           run k (a run folder, src/run)
//   <out>/scores/<condition>/<k>/<tested>.json   its scores on <tested>'s test split
//   <out>/repeats.json, report.html and the tables and figure beside it

import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { PreparedCache } from '../cache/read.js';
import { loadRepeatsSpec, checkRepeatsSpec, type RepeatsCondition, type RepeatsSpec } from '../config/study.js';
import { attributeName, type SettingValue } from '../config/schema.js';
import { openDataset } from '../datasets/open.js';
import { classificationReport } from '../metrics/classification.js';
import { summariseRepeats, type RepeatsSummary } from '../metrics/repeats.js';
import { checkDevice, type Device } from '../nn/model.js';
import { hasRun, isFrameModel, readRun, readScores, runPaths, type TrainingRun } from '../run/format.js';
import { writeFileAtomically } from '../util/atomic.js';
import { MvclassError } from '../util/errors.js';
import { testViewsOption } from '../util/validate.js';
import { evaluateRun } from './evaluate.js';
import { otherCacheSettings, prepareDataset, type PrepareOptions } from './prepare.js';
import { buildRepeatsReport } from './repeats-report.js';
import { trainModel } from './train.js';

export type { RepeatsSpec, RepeatsSummary };

export interface RepeatsOptions {
  /** libtorch threads (0: its default). */
  threads?: number;
  /** Where the networks run (default cpu); refused before anything is written when libtorch cannot use it. */
  device?: Device;
  onStage?: (stage: string, state: 'start' | 'done' | 'skipped', seconds: number) => void;
  onWarning?: (message: string) => void;
}

/** The cache folder a condition is read from. */
export function conditionCache(out: string, c: RepeatsCondition): string {
  return 'data' in c ? c.data : path.join(out, 'caches', c.name);
}

/** Runs the study in `spec` (a spec file, or a spec object checked here) into `out`; returns its numbers (also in <out>/repeats.json). */
export async function runRepeats(spec: string | RepeatsSpec, out: string, options: RepeatsOptions = {}): Promise<RepeatsSummary> {
  const study = typeof spec === 'string' ? await loadRepeatsSpec(spec) : checkRepeatsSpec(spec, 'spec');
  const where = typeof spec === 'string' ? spec : 'spec';
  const device = await checkDevice(options.device);
  const threads = options.threads ?? 0;
  const stage = async (name: string, done: boolean, work: () => Promise<unknown>): Promise<void> => {
    if (done) return options.onStage?.(name, 'skipped', 0);
    options.onStage?.(name, 'start', 0);
    const t0 = performance.now();
    await work();
    options.onStage?.(name, 'done', (performance.now() - t0) / 1000);
  };

  // Conditions: the given caches, and the datasets prepared. A cache's manifest is written last
  // into a folder renamed into place (app/prepare), so one that is there is complete.
  const caches = study.conditions.map((c) => conditionCache(out, c));
  // A given cache that is not there fails before any dataset is prepared.
  for (const [i, c] of study.conditions.entries()) {
    if ('data' in c && !existsSync(path.join(c.data, 'manifest.json'))) throw new MvclassError(`${where}: conditions[${i}].data: ${c.data} holds no prepared cache (no manifest.json)`, c.data);
  }
  await fs.mkdir(out, { recursive: true });
  for (const [i, c] of study.conditions.entries()) {
    if ('data' in c) continue;
    const { dataset, prepare } = prepareSettings(c.prepare);
    const ready = existsSync(path.join(caches[i]!, 'manifest.json'));
    // A cache kept from an earlier run must be the one the spec asks for now (another region file, another QP: refused).
    const other = ready ? await otherCacheSettings(await openDataset(c.dataset, dataset), caches[i]!, prepare) : null;
    if (other) throw new MvclassError(`${caches[i]}: the cache there was prepared with ${other}, not as ${where} says: study into another folder, or remove the cache to prepare it again`, caches[i]);
    await stage(`prepare ${c.name}`, ready, async () => {
      await fs.mkdir(path.dirname(caches[i]!), { recursive: true });
      const result = await prepareDataset(await openDataset(c.dataset, dataset), caches[i]!, { ...prepare, ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
      if (result.videos === 0) throw new MvclassError(`${c.dataset}: no video could be prepared for condition ${c.name} (${result.failed.length} failed)`, c.dataset);
    });
  }
  const bytes = await conditionBytes(study, caches, where);

  // Training: a run is complete when its last checkpoint is at the iterations it was asked for.
  const iterations = study.iterations;
  const runDir = (i: number, k: number) => path.join(out, 'runs', study.conditions[i]!.name, String(k));
  for (const [i, c] of study.conditions.entries()) {
    for (let k = 0; k < study.repeats; k++) {
      const run = runDir(i, k);
      const saved = (await hasRun(run)) ? await readRun(run) : null;
      const stale = saved && otherSettings(saved, study, study.seed + k, caches[i]!);
      if (stale) throw new MvclassError(`${run}: the run there was trained with ${stale}, not as ${where} says: study into another folder, or remove the run to train it again`, run);
      const target = iterations ?? saved?.training.iterations;
      const at = saved?.iteration ?? 0;
      await stage(`train ${c.name} #${k}`, saved !== null && typeof target === 'number' && at >= target, () =>
        trainModel({
          model: study.model,
          data: caches[i]!,
          out: run,
          ...(iterations !== undefined ? { iterations } : {}),
          ...(study.batch !== undefined ? { batch: study.batch } : {}),
          ...(study.lr !== undefined ? { lr: study.lr } : {}),
          ...(study.optimizer !== undefined ? { optimizer: study.optimizer } : {}),
          ...(study.frames !== undefined && !isFrameModel(study.model) ? { frames: study.frames } : {}),
          ...(study.size !== undefined ? { size: study.size } : {}),
          ...(study.width !== undefined ? { width: study.width } : {}),
          ...(study.fc !== undefined ? { fc: study.fc } : {}),
          seed: study.seed + k,
          threads,
          device,
          // A run killed after a checkpoint goes on from it; a folder with no run.json starts afresh.
          resume: at > 0,
          force: at === 0,
        }),
      );
    }
  }

  // Every run on every condition's test split. Saved scores are reused unless the run's last
  // checkpoint or the tested cache is newer (a run extended by a larger `iterations`, a cache
  // prepared again: scored again).
  const views = study.views === undefined ? {} : testViewsOption(study.views);
  const top1: number[][][] = [];
  for (const [i, c] of study.conditions.entries()) {
    const row: number[][] = [];
    for (let k = 0; k < study.repeats; k++) {
      const run = runDir(i, k);
      const scores: number[] = [];
      for (const [j, t] of study.conditions.entries()) {
        const file = path.join(out, 'scores', c.name, String(k), `${t.name}.json`);
        await stage(`eval ${c.name} #${k} on ${t.name}`, await newerThan(file, [runPaths(run).last, path.join(caches[j]!, 'manifest.json')]), async () => {
          await fs.mkdir(path.dirname(file), { recursive: true });
          await evaluateRun({ run, data: caches[j]!, split: 'test', ...views, saveScores: file, threads, device });
        });
        const s = await readScores(file);
        scores.push(classificationReport(s.videos.map((v) => v.scores), s.videos.map((v) => v.label), s.classes).top1);
      }
      row.push(scores);
    }
    top1.push(row);
  }

  const summary = summariseRepeats(study.conditions.map((c) => c.name), bytes, top1);
  await writeFileAtomically(path.join(out, 'repeats.json'), JSON.stringify(summary, null, 2) + '\n');
  await stage('report', false, () => buildRepeatsReport(out, { model: study.model, repeats: study.repeats, views: study.views ?? '10x10' /* evaluateRun's default, the paper's */, caches, summary }));
  return summary;
}

/**
 * What a saved run was trained with that the spec now says otherwise (the network's shape, the
 * seed, the cache), or null: a rerun must not pass off runs of other settings as the spec's.
 */
function otherSettings(saved: TrainingRun, study: RepeatsSpec, seed: number, cache: string): string | null {
  const c = saved.config;
  const given: Array<[string, unknown, unknown]> = [
    ['model', c.model, study.model],
    ['frames', c.frames, isFrameModel(study.model) ? undefined : study.frames],
    ['size', c.size, study.size],
    ['width', c.width, study.width],
    ['fc', c.fc, study.fc],
    ['seed', saved.training.seed, seed],
    ['data', saved.training.data, path.resolve(cache)],
  ];
  const differ = given.filter(([, was, wanted]) => wanted !== undefined && was !== wanted);
  return differ.length ? differ.map(([key, was]) => `${key} ${JSON.stringify(was)}`).join(', ') : null;
}

/** A condition's `prepare:` settings (a config section's kebab-case keys) as openDataset's and prepareDataset's options. */
function prepareSettings(settings: Record<string, SettingValue>): { dataset: Parameters<typeof openDataset>[1] & object; prepare: PrepareOptions } {
  const dataset: Record<string, SettingValue> = {};
  const prepare: Record<string, SettingValue> = {};
  for (const [key, value] of Object.entries(settings)) {
    const name = attributeName(key);
    if (name === 'split' || name === 'seed' || name === 'valFraction') dataset[name] = value;
    else prepare[name] = value;
  }
  return { dataset, prepare: prepare as PrepareOptions };
}

/**
 * Checks that every condition's cache has the same classes (a run is scored on every
 * condition), and returns each condition's total video bytes: the sum of its videos' frame
 * packets (the manifest's frameBits, the stream at the condition's settings) over 8.
 */
async function conditionBytes(study: RepeatsSpec, caches: string[], where: string): Promise<number[]> {
  const bytes: number[] = [];
  let first: string[] | null = null;
  for (const [i, dir] of caches.entries()) {
    const cache = await PreparedCache.open(dir);
    try {
      const classes = cache.classes;
      if (first === null) first = classes;
      else if (JSON.stringify(classes) !== JSON.stringify(first)) {
        throw new MvclassError(`${where}: condition ${study.conditions[i]!.name} (${dir}) has the classes ${classes.join(', ')}, ${study.conditions[0]!.name} ${first.join(', ')}: every run is tested on every condition, so they must be the same`);
      }
      if (cache.subset('test').length === 0) throw new MvclassError(`${dir}: condition ${study.conditions[i]!.name} has no test videos`, dir);
      bytes.push(cache.videos.reduce((sum, v) => sum + v.frameBits.reduce((s, b) => s + b, 0), 0) / 8);
    } finally {
      await cache.close();
    }
  }
  return bytes;
}

/** Whether `file` exists and was written no earlier than any of `inputs` (an input that is absent does not count). */
async function newerThan(file: string, inputs: string[]): Promise<boolean> {
  const stat = await fs.stat(file).catch(() => null);
  if (stat === null) return false;
  for (const input of inputs) {
    const other = await fs.stat(input).catch(() => null);
    if (other !== null && other.mtimeMs > stat.mtimeMs) return false;
  }
  return true;
}
