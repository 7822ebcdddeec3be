// mvclass mcnn solve: the Multi-CNN thresholds for rate budgets (the rate-accuracy paper, eq. 1);
// mcnn fit: the Multi-CNN fitted to a cache and three trained runs.

import { Command, Option } from 'commander';
import { frontier, MCNN_PARAM_NAMES, nonNegativeNumber, positiveNumber, type McnnSolution } from '../rate/mcnn/index.js';
import { markdownTable, type Cell } from '../report/table.js';
import { MvclassError, UsageError } from '../util/errors.js';
import { testViewsOption } from '../util/validate.js';
import { parseDevice } from '../nn/device.js';
import { deviceOption, threadsOption, threadsValue } from './device.js';
import { printJson, warn } from './output.js';
import { budgetsFor } from '../rate/mcnn/fit.js';

const FLAGS: Record<(typeof MCNN_PARAM_NAMES)[number], string> = {
  alpha: 'Gamma shape of R_motion over videos',
  beta: 'Gamma RATE of R_motion (mean alpha/beta kbps)',
  a3d: 'slope of R_3D = a3d * R_motion + b3d',
  b3d: 'intercept of R_3D, kbps',
  a2d: 'slope of R_2D = a2d * R_motion + b2d',
  b2d: 'intercept of R_2D, kbps',
  isp: 'I_SP: kbps the spatial CNN alone needs',
  acc3d: 'accuracy of the 3D CNN (fraction)',
  acc2d: 'accuracy of the 2D CNN (fraction)',
  accsp: 'accuracy of the spatial CNN alone (fraction)',
};

export function parseBudgets(value: unknown): number[] {
  if (value === undefined) throw new UsageError('Missing --budget <kbps>[,<kbps>...]: the rate budgets to solve for');
  return String(value)
    .split(',')
    .map((b) => nonNegativeNumber(b.trim(), 'budget'));
}

/** JSON has no Infinity: an unbounded threshold is written "Infinity" (Number() and float() read it). */
const threshold = (x: number | null): number | string | null => (x === Infinity ? 'Infinity' : x);

function jsonRow(s: McnnSolution): Record<string, unknown> {
  const row = { budget: s.budget, rL: threshold(s.rL), rH: threshold(s.rH), accuracy: s.accuracy, rateSent: s.rateSent, feasible: s.feasible };
  return s.feasible ? row : { ...row, cheapestRate: s.cheapestRate };
}

const cell = (x: number | null): Cell => (x === Infinity ? '∞' : x);

function solveCommand(): Command {
  const command = new Command('solve')
    .description('the thresholds {R_L, R_H} that maximise the MCNN accuracy (eq. 6) within each rate budget (eq. 7)')
    .option('--model <mcnn.json>', `JSON object with ${MCNN_PARAM_NAMES.join(', ')}; flags override it`)
    .option('--budget <kbps>', 'rate budgets in kbps, comma-separated (required)');
  for (const [name, help] of Object.entries(FLAGS)) command.option(`--${name} <n>`, help);
  return command
    .option('--json', 'print [{budget, rL, rH, accuracy, rateSent, feasible}] (rL/rH in kbps, "Infinity" when unbounded, null when infeasible)')
    .exitOverride()
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { readMcnnParams } = await import('../app/mcnn.js');
      const budgets = parseBudgets(opts.budget);
      const overrides = Object.fromEntries(MCNN_PARAM_NAMES.map((name) => [name, opts[name]]));
      const params = await readMcnnParams(typeof opts.model === 'string' ? opts.model : undefined, overrides, warn);
      const solutions = frontier(params, budgets);
      for (const s of solutions) {
        if (!s.feasible) warn(`budget ${s.budget} kbps: no selection fits; the cheapest costs ${s.cheapestRate.toFixed(2)} kbps`);
      }
      if (opts.json) {
        printJson(solutions.map(jsonRow));
        return;
      }
      const rows = solutions.map((s): Cell[] => [s.budget, cell(s.rL), cell(s.rH), s.accuracy === null ? null : 100 * s.accuracy, s.rateSent]);
      process.stdout.write(markdownTable(['budget (kbps)', 'R_L (kbps)', 'R_H (kbps)', 'accuracy (%)', 'R_sent (kbps)'], rows, 2));
    });
}

export function mcnnCommand(): Command {
  return new Command('mcnn')
    .description('Multi-CNN selection by R_motion: 3D CNN below R_L, 2D CNN up to R_H, spatial CNN above (the rate-accuracy paper)')
    .addCommand(solveCommand())
    .addCommand(fitCommand())
    .exitOverride();
}

function fitCommand(): Command {
  return new Command('fit')
    .description('fit the MCNN to a prepared cache and three trained runs (accuracies on the validation split), and check it on the test split')
    .option('--run <runs...>', 'the mv3d, mv2d and spatial (vgg16) run folders, in that order (required)')
    .addOption(new Option('--runs <runs...>').hideHelp()) // the old name
    .requiredOption('--data <cache>', 'a cache prepared with --val-fraction')
    .option('-o, --out <file>', 'where the fitted model goes', 'mcnn.json')
    .option('--budget <kbps>', 'budgets in kbps, comma-separated, at which to compare the prediction with the test split')
    .addOption(new Option('--budgets <kbps>').hideHelp()) // the old name
    .option('--views <TxC>', 'temporal views x crops in the evaluations', '10x10')
    .addOption(deviceOption())
    .addOption(threadsOption())
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action(async (opts: { run?: string[]; runs?: string[]; data: string; out: string; budget?: string; budgets?: string; views: string; device: string; threads: string; json?: boolean }) => {
      const device = parseDevice(opts.device, 'device');
      const threads = threadsValue(opts.threads);
      const { fitMcnn, validateMcnn, writeMcnn } = await import('../app/mcnn.js'); // libtorch and the workflows, loaded on use
      const runs = opts.run ?? opts.runs;
      if (!runs) throw new UsageError("required option '--run <runs...>' not specified");
      if (runs.length !== 3) throw new UsageError(`Expected three runs (mv3d, mv2d, spatial) for run but received ${runs.length}`);
      const [mv3d, mv2d, spatial] = runs as [string, string, string];
      const views = { ...testViewsOption(opts.views), device, threads };
      const fit = await fitMcnn({ mv3d, mv2d, spatial }, opts.data, views);
      await writeMcnn(opts.out, fit);
      const budgetText = opts.budget ?? opts.budgets;
      const budgets = budgetText
        ? budgetText.split(',').map((b) => positiveNumber(b.trim(), 'budget'))
        : budgetsFor(fit, [0.5, 0.75, 1, 1.5, 2]);
      const checks = await validateMcnn(fit, budgets, views);
      if (opts.json) return printJson({ fit, checks, out: opts.out });
      const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '–' : Number.isFinite(x) ? x.toFixed(d) : '∞');
      const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
      process.stdout.write(
        `${opts.out}: Gamma alpha ${f(fit.alpha)} beta ${f(fit.beta, 4)} (rate; mean ${f(fit.alpha / fit.beta)} kbps, KL ${f(fit.kl, 3)}); ` +
          `R_3D = ${f(fit.a3d)} R_motion + ${f(fit.b3d)} (R² ${f(fit.r2_3d)}); R_2D = ${f(fit.a2d)} R_motion + ${f(fit.b2d)} (R² ${f(fit.r2_2d)}); ` +
          `I_SP ${f(fit.isp)} kbps; validation accuracies 3D ${pct(fit.acc3d)}, 2D ${pct(fit.acc2d)}, spatial ${pct(fit.accsp)} ` +
          `(${fit.videos.validation} videos)\n\n` +
          markdownTable(
            ['budget (kbps)', 'R_L', 'R_H', 'predicted accuracy', 'measured accuracy', 'predicted rate', 'measured rate', 'test videos 3D / 2D / spatial'],
            checks.map((c) => [
              f(c.budget),
              f(c.rL),
              f(c.rH),
              pct(c.predicted.accuracy),
              pct(c.measured?.accuracy),
              f(c.predicted.rateSent),
              f(c.measured?.rateSent),
              c.measured ? `${c.measured.chosen.mv3d} / ${c.measured.chosen.mv2d} / ${c.measured.chosen.spatial}` : '–',
            ]),
          ),
      );
    });
}
