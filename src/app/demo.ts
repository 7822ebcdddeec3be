// The main job on built-in data: the rate-accuracy paper end to end. A codec check with known motion, the
// synthetic action set, then the sweep at QP 30 and 40 (prepare, the three CNNs, multi-view
// evaluation and fusion, the Multi-CNN fit and frontier, the report). Every stage is reused by a
// second run.

import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { checkDevice, type Device } from '../nn/model.js';
import { CPU_SCHEDULE, runSweep, type SweepResult } from './sweep.js';
import { synthesizeActionSet } from '../synth/actionset.js';
import { runMotionDemo, type MotionDemoResult } from './motion-demo.js';

export interface DemoOptions {
  out: string;
  /** A smaller set and shorter schedules (a smoke test of a few minutes). */
  quick?: boolean;
  threads?: number;
  /** Where the networks run (default cpu); a device libtorch cannot use is refused before anything is written. */
  device?: Device;
  onStage?: (stage: string, state: 'start' | 'done' | 'skipped', seconds: number) => void;
  onWarning?: (message: string) => void;
}

export interface DemoResult {
  codecCheck: MotionDemoResult;
  set: { dir: string; classes: number; clips: number; seconds: number };
  sweep: SweepResult;
  /** The honest check the demo exists to show: motion (alone or fused) beats a single frame. */
  temporalBeatsSpatial: boolean;
}

export const DEMO_SET = { full: { classes: 8, perClass: 40, seconds: 4 }, quick: { classes: 6, perClass: 12, seconds: 3 } };

/** The demo's synthetic action set under `out` (actions/ or actions-quick/), made unless a complete one with the same parameters is there. */
export async function demoActionSet(out: string, quick: boolean, stage: NonNullable<DemoOptions['onStage']>): Promise<{ set: string; params: (typeof DEMO_SET)['full'] }> {
  const params = quick ? DEMO_SET.quick : DEMO_SET.full;
  const set = path.join(out, quick ? 'actions-quick' : 'actions');
  // The synthesiser writes into `out`, which the study demos (unlike runDemo) had not made yet.
  await fs.mkdir(out, { recursive: true });
  const meta = await fs.readFile(path.join(set, 'synth.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, number>, () => null);
  if (meta && meta.perClass === params.perClass && meta.seconds === params.seconds && meta.seed === 1 && existsSync(set)) {
    stage('synthesize the action set', 'skipped', 0);
  } else {
    stage('synthesize the action set', 'start', 0);
    const t0 = performance.now();
    await synthesizeActionSet(set, { ...params, seed: 1 });
    stage('synthesize the action set', 'done', (performance.now() - t0) / 1000);
  }
  return { set, params };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const stage = options.onStage ?? (() => {});
  const device = await checkDevice(options.device);
  await fs.mkdir(options.out, { recursive: true });
  const t0 = performance.now();
  const codecCheck = await runMotionDemo({ out: path.join(options.out, 'codec-check'), seconds: 2, ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
  stage('codec check', 'done', (performance.now() - t0) / 1000);

  const { set, params } = await demoActionSet(options.out, options.quick === true, stage);
  const schedule = options.quick ? { ...CPU_SCHEDULE, iterations: 240, lrStep: 200, temporal: 2 } : { ...CPU_SCHEDULE, iterations: 600, lrStep: 500 };
  const sweep = await runSweep({
    dataset: set,
    out: path.join(options.out, options.quick ? 'sweep-quick' : 'sweep'),
    qps: [30, 40],
    fitQp: 30,
    schedule,
    valFraction: 0.15,
    title: 'mvclass demo: the rate-accuracy paper on the built-in action set',
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    device,
    onStage: stage,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  const temporalBeatsSpatial = sweep.qps.every((q) => Math.max(q.accuracy.mv3d.top1, q.accuracy['mv3d-F'].top1, q.accuracy['mv2d-F'].top1) > q.accuracy.vgg16.top1);
  return { codecCheck, set: { dir: set, classes: params.classes, clips: params.classes * params.perClass, seconds: params.seconds }, sweep, temporalBeatsSpatial };
}
