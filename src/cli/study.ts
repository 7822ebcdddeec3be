// mvclass study repeats <spec> -o <dir>: a network trained several times per condition, every run
// tested on every condition (app/repeats.ts; the spec's format: src/config/study.ts).

import { Command } from 'commander';
import { parseDevice } from '../nn/device.js';
import { deviceOption, threadsOption, threadsValue } from './device.js';
import { fixed, printJson, warn } from './output.js';

function repeatsCommand(): Command {
  return new Command('repeats')
    .description('train one network `repeats` times per condition (seed + k), test every run on every condition; min/mean/max, the train x test matrix, bytes and saving, report.html')
    .argument('<spec>', 'the study spec (JSON or YAML): model, repeats, conditions (each a name and data: <cache> or dataset: <dataset> with prepare settings)')
    .requiredOption('-o, --out <dir>', 'where caches, runs, scores, repeats.json and report.html go (a rerun reuses what is complete)')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .option('--json', 'print the conditions and the matrix as JSON')
    .exitOverride()
    .action(async (spec: string, opts: Record<string, unknown>) => {
      const threads = threadsValue(opts.threads);
      const device = parseDevice(opts.device, 'device');
      // Loaded here: the workflow brings libtorch and the plotting libraries, which other commands never need.
      const { runRepeats } = await import('../app/repeats.js');
      const out = String(opts.out);
      const result = await runRepeats(spec, out, {
        threads,
        device,
        onStage: (stage, state, seconds) => {
          if (state === 'done') process.stderr.write(`mvclass: ${stage}: ${fixed(seconds, 1)} s\n`);
          else if (state === 'skipped') process.stderr.write(`mvclass: ${stage}: reused\n`);
        },
        onWarning: warn,
      });
      if (opts.json) return printJson(result);
      for (const c of result.conditions) {
        process.stdout.write(`${c.name}: top-1 ${fixed(100 * c.mean, 1)}% (${fixed(100 * c.min, 1)}-${fixed(100 * c.max, 1)}) over ${c.runs.length} runs, ${c.bytes} bytes, saving ${fixed(100 * c.saving, 1)}%\n`);
      }
      process.stdout.write(`${out}/report.html\n`);
    });
}

export function studyCommand(): Command {
  return new Command('study').description('studies over many training runs').addCommand(repeatsCommand()).exitOverride();
}
