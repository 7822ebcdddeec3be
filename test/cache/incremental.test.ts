// prepare is incremental: a rerun into a prepared folder ingests only the videos that are new or
// changed (by path, size and mtime), reuses the rest from the cache that is there, and writes the
// same bytes as a fresh run on the same dataset. Ingest calls are counted by wrapping ingestVideo,
// not taken from prepare's own report; no assertion is timed.

import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { prepareDataset, type PrepareOptions } from '../../src/app/prepare.js';
import { PreparedCache } from '../../src/cache/read.js';
import { openDataset } from '../../src/datasets/open.js';
import { ingestVideo } from '../../src/ingest/ingest.js';
import { synthesizeActionSet } from '../../src/synth/actionset.js';
import { fixtures } from '../setup/fixtures.js';
import { tempDir } from '../setup/helpers.js';

vi.mock('../../src/ingest/ingest.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/ingest/ingest.js')>();
  return { ...original, ingestVideo: vi.fn(original.ingestVideo) };
});

const dir = tempDir('mvclass-incremental-');
const base = path.join(dir, 'base');
const extra = path.join(dir, 'extra');
let count = 0;

beforeAll(async () => {
  await synthesizeActionSet(base, { classes: 2, perClass: 3, seconds: 1, seed: 7, jobs: 2 });
  await synthesizeActionSet(extra, { classes: 2, perClass: 1, seconds: 1, seed: 8, jobs: 2 });
}, 120_000);

/** A fresh copy of the small synthetic set (new files, new mtimes). */
function copyOfBase(): string {
  const set = path.join(dir, `set-${count++}`);
  cpSync(base, set, { recursive: true });
  return set;
}

/** Every video file of a folder dataset, sorted. */
function videosIn(set: string): string[] {
  return readdirSync(set, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(mp4|avi)$/.test(f))
    .map((f) => path.join(set, f))
    .sort();
}

/** Prepares `set` into `out`, and says which videos went through ingestVideo. */
async function prepare(set: string, out: string, options: PrepareOptions = {}) {
  vi.mocked(ingestVideo).mockClear();
  const warnings: string[] = [];
  const result = await prepareDataset(await openDataset(set), out, { size: '160x120', jobs: 2, onWarning: (m) => warnings.push(m), ...options });
  const ingested = vi
    .mocked(ingestVideo)
    .mock.calls.map((c) => c[0])
    .sort();
  return { result, ingested, warnings };
}

/** The cache's bytes: the manifest's text and each shard's digest. */
function bytesOf(cache: string): { manifest: string; shards: Record<string, string> } {
  const files = readdirSync(cache).sort();
  return {
    manifest: readFileSync(path.join(cache, 'manifest.json'), 'utf8'),
    shards: Object.fromEntries(files.filter((f) => f !== 'manifest.json').map((f) => [f, createHash('sha256').update(readFileSync(path.join(cache, f))).digest('hex')])),
  };
}

/** Sets a file's modification time `seconds` later than it is, leaving its bytes alone. */
function touch(file: string, seconds = 10): void {
  const { atime, mtime } = statSync(file);
  utimesSync(file, atime, new Date(mtime.getTime() + seconds * 1000));
}

describe('prepare into a prepared folder', () => {
  it('a rerun with the same settings on an unchanged dataset ingests nothing and writes the same bytes', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'rerun');
    const first = await prepare(set, out);
    expect(first.ingested).toEqual(videosIn(set));
    const before = bytesOf(out);
    const files = () => readdirSync(out).sort().map((f) => [f, statSync(path.join(out, f)).ino, statSync(path.join(out, f)).mtimeMs]);
    const written = files();

    const again = await prepare(set, out);
    expect(again.ingested).toEqual([]);
    // The cache there already held the bytes a fresh run writes: nothing was written.
    expect(files()).toEqual(written);
    expect(first.result).toMatchObject({ videos: 6, prepared: 6, skipped: 0, reused: 0, failed: [] });
    expect(again.result).toMatchObject({ videos: 6, prepared: 0, skipped: 6, reused: 6, failed: [] });
    expect(again.warnings).toEqual([]);
    expect(bytesOf(out)).toEqual(before);
    // Nothing left beside the output.
    expect(readdirSync(dir).filter((f) => f.startsWith('.rerun'))).toEqual([]);
    // Each video records its input as it was read.
    const cache = await PreparedCache.open(out);
    for (const v of cache.videos) expect(v.source).toEqual({ size: statSync(v.path).size, mtimeMs: statSync(v.path).mtimeMs });
    await cache.close();
  });

  it('an unchanged dataset over a cache with extra bytes or files: nothing ingested, the folder written again as a fresh run writes it', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'tampered');
    await prepare(set, out);
    const before = bytesOf(out);
    const shard = path.join(out, 'motion-000.bin');
    writeFileSync(shard, Buffer.concat([readFileSync(shard), Buffer.from('trailing bytes no range covers')]));
    writeFileSync(path.join(out, 'notes.txt'), 'not part of a cache');
    const again = await prepare(set, out);
    expect(again.ingested).toEqual([]);
    expect(again.result).toMatchObject({ videos: 6, prepared: 0, reused: 6 });
    expect(bytesOf(out)).toEqual(before);
  });

  it('videos added to a prepared set are the only ones prepared, with the bytes of a fresh run on the enlarged set', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'added');
    await prepare(set, out);
    const added = videosIn(extra).map((from) => {
      const to = path.join(set, path.basename(path.dirname(from)), `added_${path.basename(from)}`);
      copyFileSync(from, to);
      return to;
    });
    expect(added).toHaveLength(2);
    const grown = await prepare(set, out);
    expect(grown.ingested).toEqual(added.sort());
    expect(grown.result).toMatchObject({ videos: 8, prepared: 2, skipped: 6, reused: 6, failed: [] });
    const fresh = await prepare(set, path.join(dir, 'added-fresh'));
    expect(fresh.ingested).toHaveLength(8);
    expect(bytesOf(out)).toEqual(bytesOf(path.join(dir, 'added-fresh')));
  });

  it('small shards: videos added ahead of the others move them across shards, the same bytes as a fresh run', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'shards');
    // About two clips' motion per shard (1 s at 25 fps of 20x15 blocks: 30000 bytes), one key frame.
    const options = { shardBytes: 70_000 };
    await prepare(set, out, options);
    const added = videosIn(extra).map((from) => {
      const to = path.join(set, path.basename(path.dirname(from)), `0_${path.basename(from)}`);
      copyFileSync(from, to);
      return to;
    });
    const grown = await prepare(set, out, options);
    expect(grown.ingested).toEqual(added.sort());
    expect(grown.result).toMatchObject({ videos: 8, prepared: 2, reused: 6 });
    const cache = await PreparedCache.open(out);
    expect(cache.manifest.shards).toEqual([...['000', '001', '002', '003'].map((n) => `motion-${n}.bin`), ...Array.from({ length: 8 }, (_, i) => `keys-00${i}.bin`)].sort());
    // The added clips lead their classes: every reused clip's bytes moved.
    expect(cache.videos.filter((v) => added.includes(v.path)).map((v) => v.motion.offset)).toEqual([0, 0]);
    await cache.close();
    await prepare(set, path.join(dir, 'shards-fresh'), options);
    expect(bytesOf(out)).toEqual(bytesOf(path.join(dir, 'shards-fresh')));
  });

  it('a file whose mtime or size changed is prepared again; a removed one leaves the cache', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'changed');
    await prepare(set, out);
    const [touched, replaced, removed] = videosIn(set) as [string, string, string];
    touch(touched);
    // Other content, other size: another clip of the same class written over it.
    const other = videosIn(extra).find((f) => path.basename(path.dirname(f)) === path.basename(path.dirname(replaced)))!;
    expect(statSync(other).size).not.toBe(statSync(replaced).size);
    writeFileSync(replaced, readFileSync(other));
    rmSync(removed);

    const again = await prepare(set, out);
    expect(again.ingested).toEqual([touched, replaced].sort());
    expect(again.result).toMatchObject({ videos: 5, prepared: 2, skipped: 3, reused: 3, failed: [] });
    const cache = await PreparedCache.open(out);
    expect(cache.videos.map((v) => v.path)).not.toContain(removed);
    expect(cache.videos.find((v) => v.path === replaced)!.source!.size).toBe(statSync(other).size);
    await cache.close();
    await prepare(set, path.join(dir, 'changed-fresh'));
    expect(bytesOf(out)).toEqual(bytesOf(path.join(dir, 'changed-fresh')));
  });

  it('other settings (another QP) prepare every video again', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'other-qp');
    await prepare(set, out, { qp: 30 });
    const other = await prepare(set, out, { qp: 36 });
    expect(other.ingested).toEqual(videosIn(set));
    expect(other.result).toMatchObject({ videos: 6, prepared: 6, skipped: 0, reused: 0 });
    const cache = await PreparedCache.open(out);
    expect(cache.manifest.settings.qp).toBe(36);
    await cache.close();
    // And back: the QP 36 cache is not a QP 30 one either.
    expect((await prepare(set, out, { qp: 30 })).ingested).toEqual(videosIn(set));
  });

  it('a part a killed run left is made again when its input changed since', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'killed');
    // An exception once every part is written stands for a kill before assembly: the parts stay.
    const killed = prepare(set, out, {
      onProgress: (done, total) => {
        if (done === total) throw new Error('killed');
      },
    });
    await expect(killed).rejects.toThrow('killed');
    const [changed] = videosIn(set) as [string];
    touch(changed);
    const resumed = await prepare(set, out);
    expect(resumed.ingested).toEqual([changed]);
    expect(resumed.result).toMatchObject({ videos: 6, prepared: 1, skipped: 5, reused: 0 });
    await prepare(set, path.join(dir, 'killed-fresh'));
    expect(bytesOf(out)).toEqual(bytesOf(path.join(dir, 'killed-fresh')));
  });

  it('an older cache without source stamps opens and is prepared again; a damaged one is named in a warning', { timeout: 120_000 }, async () => {
    const set = copyOfBase();
    const out = path.join(dir, 'older');
    await prepare(set, out);
    const manifest = path.join(out, 'manifest.json');
    const fresh = readFileSync(manifest, 'utf8');
    const older = JSON.parse(fresh) as { videos: Array<{ source?: unknown }> };
    for (const v of older.videos) delete v.source;
    writeFileSync(manifest, JSON.stringify(older, null, 1) + '\n');
    await (await PreparedCache.open(out)).close(); // still a cache
    const again = await prepare(set, out);
    expect(again.ingested).toEqual(videosIn(set));
    expect(readFileSync(manifest, 'utf8')).toBe(fresh);
    expect(again.result).toMatchObject({ prepared: 6, reused: 0 });

    // A manifest that fails its checks is not trusted for anything: every video again, and a warning.
    const damaged = JSON.parse(fresh) as { videos: Array<{ motion: { bytes: number } }> };
    damaged.videos[0]!.motion.bytes += 2;
    writeFileSync(manifest, JSON.stringify(damaged, null, 1) + '\n');
    const repaired = await prepare(set, out);
    expect(repaired.ingested).toEqual(videosIn(set));
    expect(repaired.warnings).toHaveLength(1);
    expect(repaired.warnings[0]).toMatch(new RegExp(`^${out}: the cache there is not reused, every video is prepared again: ${manifest}: video .*motion.bytes is`));
    expect(readFileSync(manifest, 'utf8')).toBe(fresh);
  });
});

describe('prepare into a prepared folder, real footage', () => {
  it('two real clips added to a prepared set of three: only those prepared, the bytes of a fresh run', { timeout: 600_000 }, async () => {
    const { cockatoo, realshort, balle, inertie, vp9 } = fixtures().real;
    const set = path.join(dir, 'real');
    const put = (file: string, cls: string) => {
      mkdirSync(path.join(set, cls), { recursive: true });
      const to = path.join(set, cls, path.basename(file));
      copyFileSync(file, to);
      return to;
    };
    put(cockatoo!, 'birds');
    put(realshort!, 'birds');
    put(balle!, 'balls');
    const out = path.join(dir, 'real-cache');
    // The paper's settings (320x240, QP 30, 25 fps).
    const options = { size: '320x240' };
    const first = await prepare(set, out, options);
    expect(first.ingested).toHaveLength(3);
    const added = [put(inertie!, 'balls'), put(vp9!, 'balls')];
    const grown = await prepare(set, out, options);
    expect(grown.ingested).toEqual(added.sort());
    expect(first.result).toMatchObject({ videos: 3, prepared: 3, failed: [] });
    expect(grown.result).toMatchObject({ videos: 5, prepared: 2, skipped: 3, reused: 3, failed: [] });
    const fresh = await prepare(set, path.join(dir, 'real-fresh'), options);
    expect(fresh.ingested).toHaveLength(5);
    expect(bytesOf(out)).toEqual(bytesOf(path.join(dir, 'real-fresh')));
    const cache = await PreparedCache.open(out);
    expect(cache.videos.map((v) => [path.basename(v.path), v.frames > 20, v.rates.rMotion! > 0])).toEqual([
      ['Principe_inertie.avi', true, true],
      ['balle-jbart.mp4', true, true],
      ['balle1-vp9.avi', true, true],
      ['cockatoo.mp4', true, true],
      ['realshort.mp4', true, true],
    ]);
    await cache.close();
  });
});
