import path from 'node:path';
import { Command } from 'commander';
import { parseDevice } from '../nn/device.js';
import { deviceOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson, warn } from './output.js';
import { oneOf } from '../util/validate.js';
import type { DemoStudyName } from '../app/demo-study.js';
import type { Device } from '../nn/model.js';
import { comparisonLines } from './study.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('the main job on built-in data: the rate-accuracy paper end to end (motion vectors, cropped streams, three CNNs, fusion, the Multi-CNN frontier, the report)')
    .option('-o, --out <dir>', 'where everything goes (a second run reuses finished stages)', 'mvclass-demo')
    .option('--quick', 'a smaller set and shorter schedules (a few minutes)')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .option('--study <name>', 'instead: a study on the same built-in set, transcode (CRF x GOP re-encoding, MV vs pixel networks) or repeats (mv3d trained several times at QP 30 and 40)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out: string; quick?: boolean; threads: string; device: string; json?: boolean; study?: string }) => {
      const started = performance.now();
      const threads = threadsValue(opts.threads);
      const device = parseDevice(opts.device, 'device');
      if (opts.study !== undefined) return demoStudy(oneOf(opts.study, 'study', ['transcode', 'repeats'] as const), { ...opts, threads, device, started });
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

const stageLine = (stage: string, state: 'start' | 'done' | 'skipped', seconds: number) => {
  if (state === 'start') process.stderr.write(`mvclass demo: ${stage} ...\n`);
  else process.stderr.write(`mvclass demo: ${stage}: ${state === 'skipped' ? 'reused' : `${fixed(seconds, 1)} s`}\n`);
};

/** `mvclass demo --study <name>`: the study on the built-in set, and what it showed. */
async function demoStudy(study: DemoStudyName, opts: { out: string; quick?: boolean; json?: boolean; threads: number | undefined; device: Device | undefined; started: number }): Promise<void> {
  const { runDemoStudy, DEMO_STUDY_SETTINGS } = await import('../app/demo-study.js');
  const r = await runDemoStudy({ study, out: opts.out, quick: opts.quick === true, ...(opts.threads !== undefined ? { threads: opts.threads } : {}), ...(opts.device !== undefined ? { device: opts.device } : {}), onStage: stageLine, onWarning: warn });
  if (opts.json) return printJson(r);
  const pct = (x: number) => `${fixed(100 * x, 1)}%`;
  const head = `mvclass demo --study ${study} — on the built-in action set (${r.set.classes} classes, ${r.set.clips} clips of ${r.set.seconds} s at 320x240)`;
  const lines = [head, ''];
  if (r.study === 'transcode') {
    const s = DEMO_STUDY_SETTINGS.transcode[opts.quick ? 'quick' : 'full'];
    const o = r.result.original;
    const models = Object.keys(o.accuracy ?? {});
    lines.push(`grid           CRF ${s.crf.join(', ')} x GOP ${s.gop.join(', ')} (x264 preset medium); ${models.join(', ')} trained on the originals (${s.iterations} iterations), tested on every cell`);
    lines.push('', `${'cell'.padEnd(15)}${'size %'.padStart(8)}${'SSIM'.padStart(8)}${'MAE'.padStart(7)}${models.map((m) => m.padStart(10)).join('')}`);
    lines.push(`${'original'.padEnd(15)}${'100.0'.padStart(8)}${''.padStart(8)}${''.padStart(7)}${models.map((m) => pct(o.accuracy![m]!).padStart(10)).join('')}`);
    for (const c of r.result.cells) {
      lines.push(`${`CRF ${c.crf} GOP ${c.gop}`.padEnd(15)}${fixed((100 * c.bytes) / o.bytes, 1).padStart(8)}${fixed(c.ssim, 4).padStart(8)}${fixed(c.mae, 2).padStart(7)}${models.map((m) => pct(c.accuracy![m]!).padStart(10)).join('')}`);
    }
    lines.push(
      '',
      `what the data showed (a loss: more than 1 point of top-1 below the same network on the originals; the test split has ${r.testVideos} videos, so one video is ${fixed(100 / Math.max(1, r.testVideos), 1)} points)`,
      ...comparisonLines(r.result).map((l) => `  ${l}`),
    );
    // A network no better than guessing on the originals has nothing to lose: say so rather than let "within 1 point" read as robustness.
    const chance = 1 / r.set.classes + 1 / Math.max(1, r.testVideos);
    const guessing = models.filter((m) => o.accuracy![m]! <= chance);
    if (guessing.length) lines.push(`  ${guessing.join(', ')} ${guessing.length > 1 ? 'are' : 'is'} at chance on the originals (1/${r.set.classes} = ${pct(1 / r.set.classes)}, give or take a video): ${guessing.length > 1 ? 'their' : 'its'} lines say nothing about re-encoding`);
  } else {
    const s = DEMO_STUDY_SETTINGS.repeats[opts.quick ? 'quick' : 'full'];
    const { conditions, matrix } = r.result;
    lines.push(`study          mv3d trained ${s.repeats} times (${s.iterations} iterations, seeds 1..${s.repeats}) on each of ${conditions.map((c) => c.name).join(', ')}; every run tested on every condition`);
    lines.push('');
    for (const c of conditions) lines.push(`  ${c.name.padEnd(8)} top-1 min ${pct(c.min)}, mean ${pct(c.mean)}, max ${pct(c.max)}; ${c.bytes} bytes, saving ${pct(c.saving)} against ${conditions[0]!.name}`);
    lines.push('', '  trained on \\ tested on (mean over the runs, max)');
    matrix.forEach((row, i) => lines.push(`  ${conditions[i]!.name.padEnd(8)} ${row.map((m, j) => `${conditions[j]!.name} ${pct(m.mean)} (${pct(m.max)})`).join('   ')}`));
    const spread = conditions.map((c) => `${c.name} ${fixed(100 * (c.max - c.min), 1)} points`).join(', ');
    const gap = 100 * (conditions[1]!.mean - conditions[0]!.mean);
    lines.push(
      '',
      `what the data showed: run-to-run spread (max - min) ${spread}; ${conditions[1]!.name}'s mean top-1 is ${fixed(Math.abs(gap), 1)} points ${gap >= 0 ? 'above' : 'below'} ${conditions[0]!.name}'s for a ${pct(conditions[1]!.saving)} saving in bytes`,
      `  (the test split has ${r.testVideos} videos, so one video is ${fixed(100 / Math.max(1, r.testVideos), 1)} points)`,
    );
  }
  lines.push('', `report         ${path.resolve(r.report)}`, `time           ${fixed((performance.now() - opts.started) / 1000, 1)} s`);
  process.stdout.write(lines.join('\n') + '\n');
}
