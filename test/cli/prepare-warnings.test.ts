// mvclass prepare on a dataset whose videos are partly missing: each missing video is warned about
// once (not again among prepare's failures), and a long list is cut to ten examples and a count.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-missing-');

function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('mvclass: warning: '));
}

describe('mvclass prepare: missing and failed videos', () => {
  it('warns about each missing video once and about a broken one once', { timeout: 60_000 }, async () => {
    const root = path.join(dir, 'small');
    mkdirSync(root);
    writeFileSync(path.join(root, 'broken.mp4'), Buffer.alloc(3000, 7));
    writeFileSync(path.join(root, 'list.csv'), 'path,label\ngone1.mp4,a\nbroken.mp4,a\ngone2.mp4,b\ngone3.mp4,b\n');
    const r = await cli(['prepare', path.join(root, 'list.csv'), '-o', path.join(root, 'cache'), '--jobs', '1']);
    expect(r.code).toBe(1); // nothing prepared
    const lines = warnings(r.stderr);
    expect(lines.slice(0, 3)).toEqual(['gone1', 'gone2', 'gone3'].map((g) => `mvclass: warning: ${path.join(root, `${g}.mp4`)}: listed in list.csv but not found`));
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(new RegExp(`^mvclass: warning: ${path.join(root, 'broken.mp4')}: `));
    expect(r.stdout).toBe(`${path.join(root, 'cache')}: 0 videos prepared, 4 failed\n`);
  });

  it('a CSV of 3000 missing videos prints ten of them and a count', { timeout: 60_000 }, async () => {
    const root = path.join(dir, 'large');
    mkdirSync(root);
    const rows = Array.from({ length: 3000 }, (_, i) => `clips/v${String(i).padStart(4, '0')}.mp4,${i % 2 ? 'run' : 'walk'}`);
    writeFileSync(path.join(root, 'big.csv'), ['path,label', ...rows, ''].join('\n'));
    const r = await cli(['prepare', path.join(root, 'big.csv'), '-o', path.join(root, 'cache')]);
    const lines = warnings(r.stderr);
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe(`mvclass: warning: ${path.join(root, 'clips', 'v0000.mp4')}: listed in big.csv but not found`);
    expect(lines[9]).toBe(`mvclass: warning: ${path.join(root, 'clips', 'v0009.mp4')}: listed in big.csv but not found`);
    expect(lines[10]).toBe(`mvclass: warning: … and 2990 more missing videos (the cache's manifest.json lists every one under "failed")`);
    expect(r.stdout).toBe(`${path.join(root, 'cache')}: 0 videos prepared, 3000 failed\n`);
  });
});
