// The per-video region file (prepare --roi-file): every kind of bad line named by file and line,
// the size bound, a file matched against a dataset (unlisted videos and paths naming nothing
// refused), the digest that keys caches, and the mutation fuzzer as a regression check.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzRegionFiles, fuzzRegionFileOnce } from '../../bench/regions-fuzz.js';
import { parseConfig } from '../../src/config/file.js';
import { checkRepeatsSpec } from '../../src/config/study.js';
import { datasetRegions, MAX_REGION_FILE_BYTES, parseRegionFile, readRegionFile, sharedRegionSize } from '../../src/config/regions.js';
import type { VideoDataset } from '../../src/datasets/types.js';
import { MvclassError, UsageError } from '../../src/util/errors.js';
import { tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-regions-');

function failure(text: string, file = 'crops.csv'): string {
  try {
    parseRegionFile(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${text}`);
}

/** A folder dataset of these videos (not read: only their paths matter here). */
function dataset(root: string, videos: string[], missing: string[] = []): VideoDataset {
  return {
    kind: 'folder',
    root,
    classes: ['a', 'b'],
    items: videos.map((v) => ({ path: path.join(root, v), label: 0, className: 'a', split: 'train' as const })),
    missing: missing.map((m) => ({ path: path.join(root, m), reason: 'listed but not found' })),
  };
}

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('parsing a region file', () => {
  it('reads lines path,x,y,w,h with an optional header, quoting, CRLF, a BOM and \\ separators', () => {
    const regions = parseRegionFile('\uFEFFpath,x,y,w,h\r\na/one.mp4,0,2,16,32\r\n\r\n"b/two, too.mp4", 10 ,20,64,48\r\nc\\three.avi,4,4,96,96', 'crops.csv');
    expect([...regions]).toEqual([
      ['a/one.mp4', { x: 0, y: 2, width: 16, height: 32 }],
      ['b/two, too.mp4', { x: 10, y: 20, width: 64, height: 48 }],
      ['c/three.avi', { x: 4, y: 4, width: 96, height: 96 }],
    ]);
    // No header: the first line is a video.
    expect([...parseRegionFile('./a/b/../one.mp4,0,0,16,16\n', 'c.csv').keys()]).toEqual(['a/one.mp4']);
    expect(sharedRegionSize(regions.values())).toBeNull();
    expect(sharedRegionSize([{ x: 0, y: 0, width: 16, height: 32 }, { x: 2, y: 2, width: 16, height: 32 }])).toBe('16x32');
  });

  it('names the file and the line of each kind of bad line', () => {
    const head = 'path,x,y,w,h\na.mp4,0,0,16,16\n';
    expect(failure(head + 'b.mp4,a,0,16,16')).toBe('crops.csv:3: Expected a non-negative integer for x but received "a"');
    expect(failure(head + 'b.mp4,0,-2,16,16')).toBe('crops.csv:3: Expected a non-negative integer for y but received "-2"');
    expect(failure(head + 'b.mp4,0,0,0,16')).toBe('crops.csv:3: Expected a positive integer for w but received "0"');
    expect(failure(head + 'b.mp4,0,0,16,1e3')).toBe('crops.csv:3: Expected a positive integer for h but received "1e3"');
    expect(failure(head + 'b.mp4,0,0,16,99999999999999999999')).toBe('crops.csv:3: Expected a positive integer for h but received "99999999999999999999"');
    expect(failure(head + 'b.mp4,1,0,16,16')).toBe('crops.csv:3: Expected a region x,y,w,h of even whole numbers, w and h at least 16 for the region but received "1,0,16,16"');
    expect(failure(head + 'b.mp4,0,0,14,16')).toBe('crops.csv:3: Expected a region x,y,w,h of even whole numbers, w and h at least 16 for the region but received "0,0,14,16"');
    expect(failure(head + 'b.mp4,0,0,16')).toBe('crops.csv:3: expected 5 fields path,x,y,w,h but found 4');
    expect(failure(head + 'b.mp4,0,0,16,16,extra')).toBe('crops.csv:3: expected 5 fields path,x,y,w,h but found 6');
    expect(failure(head + ' ,0,0,16,16')).toBe('crops.csv:3: empty path');
    expect(failure(head + '/data/b.mp4,0,0,16,16')).toBe('crops.csv:3: "/data/b.mp4": expected a path relative to the dataset\'s folder');
    expect(failure(head + 'C:\\data\\b.mp4,0,0,16,16')).toBe('crops.csv:3: "C:\\\\data\\\\b.mp4": expected a path relative to the dataset\'s folder');
    // A duplicate, also when written differently.
    expect(failure(head + 'b.mp4,0,0,16,16\n./a.mp4,2,2,16,16')).toBe('crops.csv:4: "./a.mp4" is listed already on line 2');
    expect(failure(head + '"b.mp4,0,0,16,16')).toBe('crops.csv:3: a quoted field is never closed');
    expect(failure('path,x,y,w,h\n\n')).toBe('crops.csv: no videos listed (expected lines path,x,y,w,h)');
    expect(failure('')).toBe('crops.csv: no videos listed (expected lines path,x,y,w,h)');
  });

  it('reads a regular file within the size bound only, naming it', async () => {
    await expect(readRegionFile(path.join(dir, 'absent.csv'))).rejects.toThrow(`${path.join(dir, 'absent.csv')}: cannot read the region file (ENOENT)`);
    await expect(readRegionFile(dir)).rejects.toThrow(`${dir}: the region file is not a regular file`);
    const big = path.join(dir, 'big.csv');
    writeFileSync(big, '');
    // A sparse file just over the bound: refused by its size, never read.
    const { truncateSync } = await import('node:fs');
    truncateSync(big, MAX_REGION_FILE_BYTES + 1);
    const error = await readRegionFile(big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MvclassError);
    expect((error as Error).message).toBe(`${big}: the region file has ${MAX_REGION_FILE_BYTES + 1} bytes, more than the 64 MiB one may have`);
    const ok = file('ok.csv', 'a.mp4,0,0,16,16\n');
    expect([...(await readRegionFile(ok)).keys()]).toEqual(['a.mp4']);
  });
});

describe('a region file against a dataset', () => {
  const root = path.join(dir, 'set');
  const set = dataset(root, ['run/1.mp4', 'run/2.mp4', 'walk/3.mp4'], ['walk/gone.mp4']);

  it('gives each video its region; lists paths naming no video and videos not listed; the unlisted keep the whole picture only when asked', async () => {
    const all = file('all.csv', 'path,x,y,w,h\nrun/1.mp4,0,0,16,16\nrun\\2.mp4,2,2,32,32\nwalk/3.mp4,4,4,16,16\nwalk/gone.mp4,0,0,16,16\n');
    const r = await datasetRegions(set, all);
    expect([...r.regions]).toEqual([
      [path.join(root, 'run/1.mp4'), { x: 0, y: 0, width: 16, height: 16 }],
      [path.join(root, 'run/2.mp4'), { x: 2, y: 2, width: 32, height: 32 }],
      [path.join(root, 'walk/3.mp4'), { x: 4, y: 4, width: 16, height: 16 }],
    ]);
    expect(r.digest).toMatch(/^[0-9a-f]{16}$/);

    const some = file('some.csv', 'run/1.mp4,0,0,16,16\n');
    await expect(datasetRegions(set, some)).rejects.toThrow(`${some}: 2 video(s) of the dataset ${root} have no region: run/2.mp4, walk/3.mp4 (list them, or keep their whole picture with roi-unlisted full)`);
    const kept = await datasetRegions(set, some, 'full');
    expect([...kept.regions.keys()]).toEqual([path.join(root, 'run/1.mp4')]);

    const typo = file('typo.csv', 'run/1.mp4,0,0,16,16\nRun/2.mp4,0,0,16,16\nwalk/3.mp4,0,0,16,16\nwalk/4.mp4,0,0,16,16\n');
    const error = await datasetRegions(set, typo, 'full').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`${typo}: 2 listed path(s) name no video of the dataset ${root}: Run/2.mp4, walk/4.mp4 (paths are relative to ${root})`);
  });

  it('the digest follows the regions, not the way the file is written', async () => {
    const a = await datasetRegions(set, file('d1.csv', 'run/1.mp4,0,0,16,16\nrun/2.mp4,2,2,32,32\nwalk/3.mp4,4,4,16,16\n'));
    const b = await datasetRegions(set, file('d2.csv', 'path,x,y,w,h\r\nwalk/3.mp4, 4,4,16,16\r\n./run/2.mp4,2,2,32,32\r\nrun/1.mp4,0,0,16,16\r\n'));
    const c = await datasetRegions(set, file('d3.csv', 'run/1.mp4,0,0,16,16\nrun/2.mp4,2,2,32,32\nwalk/3.mp4,4,6,16,16\n'));
    expect(b.digest).toBe(a.digest);
    expect(c.digest).not.toBe(a.digest);
  });

  it("a manifest's paths are relative to its CSV's folder", async () => {
    const csv = path.join(dir, 'm', 'list.csv');
    mkdirSync(path.dirname(csv), { recursive: true });
    const manifest: VideoDataset = { ...dataset(path.dirname(csv), ['v/1.mp4']), kind: 'manifest', root: csv };
    const r = await datasetRegions(manifest, file('m.csv', 'v/1.mp4,0,0,16,16\n'));
    expect([...r.regions.keys()]).toEqual([path.join(dir, 'm', 'v', '1.mp4')]);
  });
});

describe('a region file in a config file', () => {
  it("prepare.roi-file is relative to the config file's folder; roi-unlisted is checked", () => {
    expect(parseConfig('prepare:\n  roi-file: crops.csv\n  roi-unlisted: full\n', '/work/study/config.yaml').prepare).toEqual({ 'roi-file': '/work/study/crops.csv', 'roi-unlisted': 'full' });
    expect(() => parseConfig('prepare:\n  roi-unlisted: all\n', 'config.yaml')).toThrow('config.yaml: Expected one of "refuse", "full" for prepare.roi-unlisted but received "all"');
  });
});

describe('a repeats condition with a region file', () => {
  it('prepare.roi-file is a path relative to the spec, checked with roi and roi-unlisted', () => {
    const spec = (prepare: Record<string, unknown>) => checkRepeatsSpec({ model: 'mv3d', conditions: [{ name: 'full', dataset: 'set' }, { name: 'roi', dataset: 'set', prepare }] }, 'spec.yaml', '/studies');
    expect(spec({ 'roi-file': 'crops.csv', 'roi-unlisted': 'full', size: '112x112' }).conditions[1]).toEqual({ name: 'roi', dataset: '/studies/set', prepare: { 'roi-file': '/studies/crops.csv', 'roi-unlisted': 'full', size: '112x112' } });
    expect(() => spec({ 'roi-file': 'crops.csv', roi: '0,0,16,16' })).toThrow('spec.yaml: conditions[1].prepare: give either roi (one region for every video) or roi-file (a region per video), not both');
    expect(() => spec({ 'roi-unlisted': 'full' })).toThrow('spec.yaml: conditions[1].prepare: roi-unlisted goes with roi-file (the videos that file does not list)');
    expect(() => spec({ 'roi-file': 'crops.csv', 'roi-unlisted': 'crop' })).toThrow('spec.yaml: Expected one of "refuse", "full" for conditions[1].prepare.roi-unlisted but received "crop"');
    expect(() => spec({ 'roi-file': '' })).toThrow('spec.yaml: Expected a non-empty string for conditions[1].prepare.roi-file but received ""');
    expect(() => spec({ roiFile: 'crops.csv' })).toThrow('spec.yaml: unknown key conditions[1].prepare.roiFile (did you mean conditions[1].prepare.roi-file?)');
  });
});

describe('the region file fuzzer (bench/regions-fuzz.ts) as a regression check', () => {
  // A count of mutants, not a time, so a busy machine reaches the same outcomes.
  it('5,000 mutants: no exception other than MvclassError, none slow, and the checks are reached', () => {
    const report = fuzzRegionFiles({ executions: 5000, seed: 3 });
    expect(report.findings.map((f) => f.error)).toEqual([]);
    expect(report.executions).toBe(5000);
    for (const check of ['accepted', ':N: S is listed already on line N', ':N: Expected a non-negative integer for x', ':N: expected N fields path,x,y,w,h but found N', ':N: a quoted field is never closed']) {
      expect(report.outcomes).toContain(check);
    }
    expect(report.outcomes.length).toBeGreaterThanOrEqual(10);
    // The target itself: a non-MvclassError would be a finding.
    expect(fuzzRegionFileOnce('a.mp4,0,0,16,16')).toBe('accepted');
    expect(fuzzRegionFileOnce('a.mp4,0,0,16')).toBe(':N: expected N fields path,x,y,w,h but found N');
  });
});
