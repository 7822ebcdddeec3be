// `mvclass demo --study transcode|repeats`: one of the two studies run end to end on the demo's
// synthetic action set (app/demo.ts makes it; the plain demo is unchanged), with schedules sized
// for 2 cores (the full set: under 15 minutes; --quick: under 4). Every stage is reused by a
// second run, as the studies themselves resume.
//
// transcode: the set re-encoded at CRF 20, 30, 40, 50 x GOP 12, an MV network and a pixel network
//   (quick: mv3d, vgg16; full: mv3d, mv2d, vgg16, resnet18) trained on the originals and tested on
//   every cell: the size and quality tables, the MV-vs-pixel comparison and the report
//   (app/transcode-study.ts).
// repeats: mv3d trained several times on the set prepared at QP 30 and at QP 40 (the paper's
//   two settings), every run tested on both: min/mean/max, the train x test matrix, the report
//   (app/repeats.ts).

import path from 'node:path';
import { mergeSection } from '../config/merge.js';
import { PRESETS } from '../config/presets.js';
import { checkRepeatsSpec } from '../config/study.js';
import type { RepeatsSummary } from '../metrics/repeats.js';
import { checkDevice, type Device } from '../nn/model.js';
import { UsageError } from '../util/errors.js';
import { readJsonIfAny } from '../util/json.js';
import { demoActionSet, type DemoOptions } from './demo.js';
import type { TranscodeStudyResult } from './transcode-study.js';

export const DEMO_STUDIES = ['transcode', 'repeats'] as const;
export type DemoStudyName = (typeof DEMO_STUDIES)[number];

/** The grids and schedules, one home for the numbers the summary and the docs quote. */
export const DEMO_STUDY_SETTINGS = {
  transcode: {
    full: { crf: [20, 30, 40, 50], gop: [12], models: ['mv3d', 'mv2d', 'vgg16', 'resnet18'], iterations: 300, views: '3x10' },
    quick: { crf: [20, 30, 40, 50], gop: [12], models: ['mv3d', 'vgg16'], iterations: 200, views: '2x10' },
  },
  repeats: {
    full: { qps: [30, 40], repeats: 5, iterations: 300, views: '3x10' },
    quick: { qps: [30, 40], repeats: 3, iterations: 120, views: '2x10' },
  },
} as const;

export interface DemoStudyOptions extends Omit<DemoOptions, 'onStage'> {
  study: DemoStudyName;
  onStage?: (stage: string, state: 'start' | 'done' | 'skipped', seconds: number) => void;
}

export type DemoStudyResult =
  | { study: 'transcode'; set: { dir: string; classes: number; clips: number; seconds: number }; out: string; report: string; result: TranscodeStudyResult; testVideos: number }
  | { study: 'repeats'; set: { dir: string; classes: number; clips: number; seconds: number }; out: string; report: string; result: RepeatsSummary; testVideos: number };

export async function runDemoStudy(options: DemoStudyOptions): Promise<DemoStudyResult> {
  if (!(DEMO_STUDIES as readonly string[]).includes(options.study)) throw new UsageError(`Expected one of ${DEMO_STUDIES.join(', ')} for study but received ${JSON.stringify(options.study)}`);
  const stage = options.onStage ?? (() => {});
  const device: Device = await checkDevice(options.device);
  const quick = options.quick === true;
  const { set, params } = await demoActionSet(options.out, quick, stage);
  const setInfo = { dir: set, classes: params.classes, clips: params.classes * params.perClass, seconds: params.seconds };
  const suffix = quick ? '-quick' : '';
  const warn = options.onWarning ? { onWarning: options.onWarning } : {};

  if (options.study === 'transcode') {
    const s = DEMO_STUDY_SETTINGS.transcode[quick ? 'quick' : 'full'];
    const out = path.join(options.out, `transcode${suffix}`);
    const { transcodeStudy } = await import('./transcode-study.js');
    stage('transcode study', 'start', 0);
    const t0 = performance.now();
    const result = await transcodeStudy(set, out, {
      crf: s.crf,
      gop: s.gop,
      jobs: 2,
      accuracy: {
        models: s.models,
        iterations: s.iterations,
        views: s.views,
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        device,
        onStage: (name, state, seconds) => stage(name, state, seconds),
      },
      ...warn,
    });
    stage('transcode study', 'done', (performance.now() - t0) / 1000);
    // How many videos each top-1 is over: one video more or less moves it by 100 / testVideos points.
    const record = await readJsonIfAny<{ videos?: number }>(path.join(out, 'accuracy', 'scores', 'original', `${s.models[0]}.json`));
    return { study: 'transcode', set: setInfo, out, report: path.join(out, 'report.html'), result, testVideos: record?.videos ?? 0 };
  }

  const s = DEMO_STUDY_SETTINGS.repeats[quick ? 'quick' : 'full'];
  const out = path.join(options.out, `repeats${suffix}`);
  const shape = mergeSection([PRESETS.cpu], 'train', 'mv3d');
  const keySize = String(mergeSection([PRESETS.cpu], 'prepare')['key-size']);
  const spec = checkRepeatsSpec(
    {
      model: 'mv3d',
      frames: shape.frames,
      size: shape.size,
      width: shape.width,
      fc: shape.fc,
      iterations: s.iterations,
      batch: 16,
      views: s.views,
      repeats: s.repeats,
      conditions: s.qps.map((qp) => ({ name: `qp${qp}`, dataset: path.resolve(set), prepare: { qp, 'key-size': keySize } })),
    },
    'demo repeats spec',
  );
  const { runRepeats } = await import('./repeats.js');
  const result = await runRepeats(spec, out, { ...(options.threads !== undefined ? { threads: options.threads } : {}), device, onStage: stage, ...warn });
  const scores = await readJsonIfAny<{ videos?: unknown[] }>(path.join(out, 'scores', spec.conditions[0]!.name, '0', `${spec.conditions[0]!.name}.json`));
  return { study: 'repeats', set: setInfo, out, report: path.join(out, 'report.html'), result, testVideos: Array.isArray(scores?.videos) ? scores.videos.length : 0 };
}

