// `mcnn solve` through commander (the command is not registered in bin/mvclass.js yet), with stdout
// and stderr captured.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mcnnCommand } from '../../../src/cli/mcnn.js';
import { solve } from '../../../src/rate/mcnn/index.js';
import { tempDir } from '../../setup/helpers.js';

// The paper's fits plus our accuracies and I_SP (see optimise.test.ts).
const PARAMS = { alpha: 2.43, beta: 0.13, a3d: 2.21, b3d: 9.04, a2d: 0.83, b2d: 4.27, isp: 40, acc3d: 0.881, acc2d: 0.85, accsp: 0.8 };
const FLAGS = Object.entries(PARAMS).flatMap(([k, v]) => [`--${k}`, String(v)]);

async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  await mcnnCommand().parseAsync(args, { from: 'user' });
  return { stdout, stderr };
}

afterEach(() => vi.restoreAllMocks());

describe('mvclass mcnn solve', () => {
  it('--json prints one object per budget, infeasible ones with null thresholds', async () => {
    const { stdout, stderr } = await run(['solve', ...FLAGS, '--budget', '10,25,50,60', '--json']);
    const rows = JSON.parse(stdout);
    const s25 = solve(PARAMS, 25);
    expect(rows).toEqual([
      { budget: 10, rL: null, rH: null, accuracy: null, rateSent: null, feasible: false, cheapestRate: expect.closeTo(19.441368, 5) },
      { budget: 25, rL: s25.rL, rH: s25.rH, accuracy: s25.accuracy, rateSent: s25.rateSent, feasible: true },
      { budget: 50, rL: expect.closeTo(67.53, 1), rH: 'Infinity', accuracy: expect.closeTo(0.8809015, 6), rateSent: expect.closeTo(50, 9), feasible: true },
      { budget: 60, rL: 'Infinity', rH: 'Infinity', accuracy: 0.881, rateSent: expect.closeTo(50.35, 12), feasible: true },
    ]);
    expect(stderr).toBe('mvclass: warning: budget 10 kbps: no selection fits; the cheapest costs 19.44 kbps\n');
  });

  it('reads --model and lets flags override it; prints a Markdown table without --json', async () => {
    const file = path.join(tempDir(), 'mcnn.json');
    writeFileSync(file, JSON.stringify({ ...PARAMS, isp: 99, note: 'x' }));
    const { stdout, stderr } = await run(['solve', '--model', file, '--isp', '40', '--budget', '25, 60']);
    const s25 = solve(PARAMS, 25);
    expect(stdout.split('\n')).toEqual([
      '| budget (kbps) | R_L (kbps) | R_H (kbps) | accuracy (%) | R_sent (kbps) |',
      '|---|---|---|---|---|',
      `| 25 | ${s25.rL!.toFixed(2)} | ${s25.rH!.toFixed(2)} | ${(100 * s25.accuracy!).toFixed(2)} | 25.00 |`,
      '| 60 | ∞ | ∞ | 88.10 | 50.35 |',
      '',
    ]);
    expect(stderr).toBe(`mvclass: warning: ${file}: ignoring unknown field "note"\n`);
  });

  it('rejects bad values and a missing budget with exact messages', async () => {
    const without = (name: string) => FLAGS.filter((_, i) => FLAGS[i - (i % 2)] !== `--${name}`);
    await expect(run(['solve', ...FLAGS, '--alpha', 'x', '--budget', '10'])).rejects.toThrow('Expected a positive number for alpha but received "x"');
    await expect(run(['solve', ...FLAGS, '--acc2d', '85', '--budget', '10'])).rejects.toThrow('Expected a fraction from 0 to 1 for acc2d but received "85"');
    await expect(run(['solve', ...FLAGS])).rejects.toThrow('Missing --budget <kbps>[,<kbps>...]: the rate budgets to solve for');
    await expect(run(['solve', ...FLAGS, '--budget', '10,abc'])).rejects.toThrow('Expected a non-negative number for budget but received "abc"');
    await expect(run(['solve', ...without('isp'), '--budget', '10'])).rejects.toThrow('Missing MCNN parameter isp: give --model <mcnn.json> or --isp');
    const missing = path.join(tempDir(), 'none.json');
    await expect(run(['solve', '--model', missing, '--budget', '10'])).rejects.toThrow(`${missing}: cannot read the model (ENOENT)`);
  });
});
