// One form for each option across commands, required options marked in help, honest defaults,
// and mcnn solve reading what mcnn fit writes.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAPER_MCNN_FIT, writeMcnn, type McnnFit } from '../../src/index.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { cli, tempDir } from '../setup/helpers.js';

const dir = tempDir();

describe('CLI options', () => {
  it('help marks every required option', async () => {
    for (const [args, option] of [
      [['crop', '--help'], '-o, --out <file>'],
      [['train', '--help'], '--data <cache>'],
      [['mcnn', 'fit', '--help'], '--run <runs...>'],
      [['mcnn', 'solve', '--help'], '--budget <kbps>'],
      [['classify', '--help'], '--run <run...>'],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code).toBe(0);
      const text = r.stdout.replace(/\s+/g, ' ');
      const start = text.indexOf(option);
      expect(start, `${args.join(' ')}: ${option}`).toBeGreaterThanOrEqual(0);
      const next = text.indexOf(' -', start + option.length);
      expect(text.slice(start, next < 0 ? undefined : next), args.join(' ')).toContain('(required)');
    }
  });

  it('the program\'s help lists every command, though a command loads only its own module: an unknown name gets the nearest, help <command> its help', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    const listed = [...help.stdout.matchAll(/^ {2}(\w+)(?: \[options\]| <|$| {2,})/gm)].map((m) => m[1]);
    expect(listed).toEqual(['demo', 'extract', 'probe', 'encode', 'crop', 'rates', 'synth', 'prepare', 'train', 'eval', 'fuse', 'classify', 'mcnn', 'sweep', 'study', 'plot', 'serve', 'edge', 'worker', 'queue']);
    const typo = await cli(['extrct', 'v.mp4']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain("unknown command 'extrct'");
    expect(typo.stderr).toContain('Did you mean extract?');
    const sub = await cli(['help', 'fuse']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/^Usage: mvclass fuse \[options\] <scores\.\.\.>/);
    // The name a command is found by before its module loads is the name that module gives it.
    const loaded = await Promise.all(COMMANDS.map(async ([name, load]) => [name, (await load()).name()]));
    expect(loaded.filter(([name, given]) => name !== given)).toEqual([]);
    expect(loaded.map(([name]) => name)).toEqual(listed);
  });

  it('--views takes <temporal>x<crops> in classify, eval and mcnn fit alike', async () => {
    for (const args of [['classify', 'v.mp4', '--run', 'r'], ['eval', '--run', 'r', '--data', 'd'], ['mcnn', 'fit', '--run', 'a', 'b', 'c', '--data', 'd']]) {
      const r = await cli([...args, '--views', '10']);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toMatch(/Expected .*<temporal>x<crops>.* for views but received "10"/);
    }
  });

  it('encode says its default rate control is CRF 23, and --qp is the paper setting', async () => {
    const help = (await cli(['encode', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('CRF 23 unless --qp');
    const both = await cli(['encode', 'in.mp4', '-o', path.join(dir, 'x.mp4'), '--qp', '30', '--crf', '20']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe('mvclass: Give either --qp or --crf, not both');
  });

  it('mcnn solve --model reads what mcnn fit writes, without a warning', async () => {
    const fit: McnnFit = {
      ...PAPER_MCNN_FIT,
      isp: 40,
      acc3d: 0.72,
      acc2d: 0.6,
      accsp: 0.45,
      kl: 0.01,
      r2_3d: 0.99,
      r2_2d: 0.98,
      frames3d: 160,
      frames2d: 60,
      videos: { fit: 100, validation: 20 },
      runs: { mv3d: 'a', mv2d: 'b', spatial: 'c' },
      data: 'cache',
      fitVideo: { frames: 175, seconds: 7 },
    };
    const file = path.join(dir, 'mcnn.json');
    await writeMcnn(file, fit);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toContain('runs');
    const r = await cli(['mcnn', 'solve', '--model', file, '--budget', '25', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as Array<{ budget: number; feasible: boolean }>)[0]).toMatchObject({ budget: 25 });
  });
});
