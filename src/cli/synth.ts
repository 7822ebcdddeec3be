import { Command } from 'commander';
import { synthesizeActionSet } from '../synth/actionset.js';
import { progressBar } from '../util/progress.js';
import { integerInRange, positiveInteger } from '../util/validate.js';
import { fixed, printJson } from './output.js';

export function synthCommand(): Command {
  return new Command('synth')
    .description('generate the built-in labelled action set: a folder per class of 320x240 H.264 clips')
    .requiredOption('-o, --out <dir>', 'where the set goes (replaced only when complete)')
    .option('--classes <n>', 'number of action classes (2..8)', '8')
    .option('--per-class <n>', 'clips per class', '40')
    .option('--seconds <n>', 'clip length', '4')
    .option('--seed <n>', 'random seed (same seed, same bytes)', '1')
    .option('--jobs <n>', 'clips made at once (default: the number of cores)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const classes = integerInRange(opts.classes, 'classes', 2, 8);
      const perClass = positiveInteger(opts.perClass, 'per-class');
      const bar = progressBar('synth', classes * perClass, 'clips');
      const result = await synthesizeActionSet(String(opts.out), {
        classes,
        perClass,
        seconds: positiveInteger(opts.seconds, 'seconds'),
        seed: positiveInteger(opts.seed, 'seed'),
        ...(opts.jobs !== undefined ? { jobs: positiveInteger(opts.jobs, 'jobs') } : {}),
        onProgress: (done) => bar.update(done),
      }).finally(() => bar.stop());
      if (opts.json) return printJson(result);
      process.stdout.write(`${result.out}: ${result.clips} clips of ${result.classes.join(', ')} in ${fixed(result.seconds, 1)} s\n`);
    });
}
