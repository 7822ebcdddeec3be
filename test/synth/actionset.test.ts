// The synthetic action set: deterministic, laid out as a folder-per-class dataset, and built so
// that motion separates classes that share their poses.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMotionGrids, synthesizeActionSet } from '../../src/index.js';
import { cli, tempDir } from '../setup/helpers.js';

const dir = tempDir();

describe('synthesizeActionSet', () => {
  it('same seed, same bytes; another seed, other bytes', { timeout: 120_000 }, async () => {
    const a = await synthesizeActionSet(path.join(dir, 'a'), { classes: 3, perClass: 2, seconds: 1, seed: 5, jobs: 2 });
    await synthesizeActionSet(path.join(dir, 'b'), { classes: 3, perClass: 2, seconds: 1, seed: 5, jobs: 1 });
    await synthesizeActionSet(path.join(dir, 'c'), { classes: 3, perClass: 2, seconds: 1, seed: 6 });
    expect(a.classes).toEqual(['walk', 'run', 'jump']);
    const files = (root: string) =>
      a.classes.flatMap((c) => readdirSync(path.join(root, c)).map((f) => readFileSync(path.join(root, c, f)).toString('base64')));
    expect(files(path.join(dir, 'a'))).toHaveLength(6);
    expect(files(path.join(dir, 'b'))).toEqual(files(path.join(dir, 'a')));
    expect(files(path.join(dir, 'c'))).not.toEqual(files(path.join(dir, 'a')));
    expect(JSON.parse(readFileSync(path.join(dir, 'a', 'synth.json'), 'utf8'))).toMatchObject({ seed: 5, perClass: 2, seconds: 1 });
  });

  it('walk and run share poses but run moves faster', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'gait');
    await synthesizeActionSet(out, { classes: 2, perClass: 4, seconds: 2, seed: 9 });
    // The figure covers a few percent of the frame; the camera's pan and jitter move the rest
    // alike in every class. So compare the fastest 2% of coded blocks, frame by frame.
    const meanMotion = async (cls: string) => {
      const tops: number[] = [];
      for (const f of readdirSync(path.join(out, cls))) {
        for await (const frame of readMotionGrids(path.join(out, cls, f))) {
          const { dx, dy, mask } = frame.grid;
          const m: number[] = [];
          for (let i = 0; i < mask.length; i++) if (mask[i] === 1) m.push(Math.hypot(dx[i]!, dy[i]!));
          if (m.length < 100) continue;
          m.sort((x, y) => y - x);
          tops.push(m.slice(0, Math.ceil(m.length * 0.02)).reduce((a, b) => a + b, 0) / Math.ceil(m.length * 0.02));
        }
      }
      return tops.reduce((a, b) => a + b, 0) / tops.length;
    };
    expect(await meanMotion('run')).toBeGreaterThan(1.2 * (await meanMotion('walk')));
  });

  it('the CLI names bad arguments', async () => {
    const r = await cli(['synth', '--out', path.join(dir, 'x'), '--classes', '9']);
    expect(r.stderr.trim()).toBe('mvclass: Expected an integer from 2 to 8 for classes but received "9"');
  });
});
