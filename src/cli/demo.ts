import path from 'node:path';
import { Command } from 'commander';
import { parseDevice } from '../nn/device.js';
import { deviceOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson, warn } from './output.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('the main job on built-in data: the rate-accuracy paper end to end (motion vectors, cropped streams, three CNNs, fusion, the Multi-CNN frontier, the report)')
    .option('-o, --out <dir>', 'where everything goes (a second run reuses finished stages)', 'mvclass-demo')
    .option('--quick', 'a smaller set and shorter schedules (a few minutes)')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out: string; quick?: boolean; threads: string; device: string; json?: boolean }) => {
      const started = performance.now();
      const threads = threadsValue(opts.threads);
      const device = parseDevice(opts.device, 'device');
      const { runDemo } = await import('../app/demo.js'); // the whole pipeline, loaded on use
      const result = await runDemo({
        out: opts.out,
        quick: opts.quick === true,
        threads,
        device,
        onStage: (stage, state, seconds) => {
          if (state === 'start') process.stderr.write(`mvclass demo: ${stage} ...\n`);
          else process.stderr.write(`mvclass demo: ${stage}: ${state === 'skipped' ? 'reused' : `${fixed(seconds, 1)} s`}\n`);
        },
        onWarning: warn,
      });
      if (opts.json) return printJson(result);
      const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${fixed(100 * x, 1)}%`);
      const kbps = (x: number | null | undefined) => (x === null || x === undefined ? '–' : fixed(x, 1));
      const s = result.sweep;
      const c = result.codecCheck;
      const pan = c.extract.summary.dominant;
      const lines = [
        `mvclass demo — the rate-accuracy paper on the built-in action set (${result.set.classes} classes, ${result.set.clips} clips of ${result.set.seconds} s at 320x240)`,
        '',
        `codec check    dominant H.264 vector (${pan?.dx}, ${pan?.dy}) px, rendered pan (${c.truePan.dx}, ${c.truePan.dy}) px: ${c.panRecovered ? 'recovered exactly' : 'NOT recovered'}`,
        '',
        'rates (kbps, mean per video)        R_orig   R_cropped   R_motion   motion share of R_cropped',
        ...s.qps.map((q) => `  QP ${String(q.qp).padEnd(33)}${kbps(q.rates.rOrig).padStart(6)}   ${kbps(q.rates.rCropped).padStart(9)}   ${kbps(q.rates.rMotion).padStart(8)}   ${pct((q.rates.motionPctCropped ?? 0) / 100).padStart(8)}`),
        '',
        'held-out top-1                       3D CNN   2D CNN   spatial   3D-CNN-F   2D-CNN-F',
        ...s.qps.map((q) => `  QP ${String(q.qp).padEnd(33)}${pct(q.accuracy.mv3d.top1).padStart(6)}   ${pct(q.accuracy.mv2d.top1).padStart(6)}   ${pct(q.accuracy.vgg16.top1).padStart(7)}   ${pct(q.accuracy['mv3d-F'].top1).padStart(8)}   ${pct(q.accuracy['mv2d-F'].top1).padStart(8)}`),
        `  ${result.temporalBeatsSpatial ? 'motion beats a single frame at every QP, as the set is built to show' : 'WARNING: the spatial network matched the motion networks'}`,
        '',
        `Multi-CNN at QP ${s.fitQp}: Gamma alpha ${fixed(s.mcnn.alpha, 2)}, beta ${fixed(s.mcnn.beta, 3)}/kbps; R_3D = ${fixed(s.mcnn.a3d, 2)} R_motion + ${fixed(s.mcnn.b3d, 2)}; R_2D = ${fixed(s.mcnn.a2d, 2)} R_motion + ${fixed(s.mcnn.b2d, 2)}`,
        '  budget (kbps)   R_L     R_H     predicted          measured on the test split',
        ...s.checks
          .filter((_, i) => i % 2 === 1)
          .map((k) => {
            const th = (x: number | null) => (x === null ? '–' : Number.isFinite(x) ? fixed(x, 1) : '∞');
            return `  ${fixed(k.budget, 1).padStart(13)}   ${th(k.rL).padStart(5)}   ${th(k.rH).padStart(5)}   ${pct(k.predicted.accuracy).padStart(6)} @ ${kbps(k.predicted.rateSent).padStart(5)}   ${k.measured ? `${pct(k.measured.accuracy).padStart(6)} @ ${kbps(k.measured.rateSent).padStart(5)}` : 'no selection fits'}`;
          }),
        '',
        `report         ${path.resolve(s.report)}`,
        `models         ${path.resolve(path.dirname(s.qps.find((q) => q.qp === s.fitQp)!.runs.mv3d))} (mv3d, mv2d, vgg16), ${path.resolve(s.out, 'mcnn.json')}`,
        `time           ${fixed((performance.now() - started) / 1000, 1)} s`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
      if (!c.panRecovered || !result.temporalBeatsSpatial) process.exitCode = 1;
    });
}
