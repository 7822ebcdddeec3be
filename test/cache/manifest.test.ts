// A cache's manifest.json is untrusted: every field is checked when the cache is opened, before
// anything is allocated or read, and every rejection names the manifest, the video and the problem.

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzManifests, sampleManifest } from '../../bench/manifest-fuzz.js';
import type { CacheManifest, CachedVideo } from '../../src/cache/format.js';
import { PreparedCache } from '../../src/cache/read.js';
import { parseCacheManifest } from '../../src/cache/validate.js';
import { MvclassError } from '../../src/util/errors.js';
import { mulberry32 } from '../../src/util/random.js';
import { cli, tempDir } from '../setup/helpers.js';

const root = tempDir('mvclass-manifest-');
let count = 0;

/** A cache folder with one video (4 frames of 2x3 blocks, a 4x4 key frame) and real shard bytes. */
function writeCache(change: (m: CacheManifest, v: CachedVideo) => void = () => {}): { dir: string; file: string } {
  const { manifest } = sampleManifest(mulberry32(3));
  manifest.dataset.classes = ['jump', 'run', 'walk'];
  delete manifest.settings.roiFile; // whole pictures: a test adds regions itself
  const v: CachedVideo = {
    ...manifest.videos[0]!,
    id: 'v_Walk_g01',
    label: 2,
    className: 'walk',
    frames: 4,
    rows: 2,
    cols: 3,
    frameTypes: 'IPPP',
    frameBits: [900, 80, 70, 60],
    motion: { shard: 'motion-000.bin', offset: 0, bytes: 4 * 2 * 2 * 3 * 2 },
    keyFrame: { shard: 'keys-000.bin', offset: 0, bytes: 4 * 4 * 3, width: 4, height: 4, index: 0 },
    cropped: { frameBits: [900, 80, 70, 60], kinds: 'CRRR', parameterSetBits: 200 },
  };
  delete v.roi;
  manifest.shards = ['keys-000.bin', 'motion-000.bin'];
  manifest.videos = [v];
  change(manifest, v);
  const dir = path.join(root, `cache-${count++}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'motion-000.bin'), Uint8Array.from({ length: 96 }, (_, i) => i));
  writeFileSync(path.join(dir, 'keys-000.bin'), Uint8Array.from({ length: 48 }, (_, i) => 200 - i));
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest, null, 1));
  return { dir, file };
}

async function rejection(dir: string): Promise<MvclassError> {
  const error = await PreparedCache.open(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MvclassError);
  return error as MvclassError;
}

describe('PreparedCache.open checks the manifest', () => {
  it('opens a valid cache and reads the clip and key frame bytes the manifest points at', async () => {
    const { dir } = writeCache();
    const cache = await PreparedCache.open(dir);
    const clip = await cache.clip(0);
    expect([clip.frames, clip.rows, clip.cols, clip.data.length]).toEqual([4, 2, 3, 48]);
    expect(clip.data[0]).toBe(0x0100); // bytes 0, 1 little-endian
    const key = await cache.keyFrame(0);
    expect(key!.data.length).toBe(48);
    expect(key!.data[47]).toBe(153);
    await cache.close();
  });

  it('refuses shard names that leave the folder: in the shard list, in a range, through a link', async () => {
    const listed = writeCache((m) => m.shards.push('../../../../etc/passwd'));
    expect((await rejection(listed.dir)).message).toBe(`${listed.file}: Expected a plain file name for shards[2] but received "../../../../etc/passwd"`);
    const ranged = writeCache((_, v) => (v.keyFrame!.shard = '/etc/passwd'));
    expect((await rejection(ranged.dir)).message).toBe(`${ranged.file}: video "v_Walk_g01" (index 0): Expected a plain file name for keyFrame.shard but received "/etc/passwd"`);
    const unlisted = writeCache((_, v) => (v.motion.shard = 'motion-001.bin'));
    expect((await rejection(unlisted.dir)).message).toBe(`${unlisted.file}: video "v_Walk_g01" (index 0): motion.shard "motion-001.bin" is not one of the manifest's shards`);
    const linked = writeCache((m) => m.shards.push('keys-001.bin'));
    symlinkSync('/etc/passwd', path.join(linked.dir, 'keys-001.bin'));
    expect((await rejection(linked.dir)).message).toBe(`${linked.file}: shard keys-001.bin lies outside ${linked.dir} (/etc/passwd)`);
    const missing = writeCache((m) => m.shards.push('keys-002.bin'));
    expect((await rejection(missing.dir)).message).toBe(`${missing.file}: shard keys-002.bin is missing from ${missing.dir}`);
  });

  it('holds every size to the shapes: motion, key frame, and each range to its shard file', async () => {
    const huge = writeCache((_, v) => (v.motion.bytes = 1e12));
    expect((await rejection(huge.dir)).message).toBe(`${huge.file}: video "v_Walk_g01" (index 0): motion.bytes is 1000000000000 but frames*2*rows*cols*2 is 96`);
    // What made eval run vgg16 on /etc/passwd: a key frame whose bytes are not its image.
    const key = writeCache((_, v) => (v.keyFrame!.bytes = 1234));
    expect((await rejection(key.dir)).message).toBe(`${key.file}: video "v_Walk_g01" (index 0): keyFrame.bytes is 1234 but width*height*3 is 48`);
    const past = writeCache((_, v) => (v.motion.offset = 8));
    expect((await rejection(past.dir)).message).toBe(`${past.file}: video "v_Walk_g01" (index 0): motion bytes 8..104 lie beyond the end of motion-000.bin (96 bytes)`);
    const negative = writeCache((_, v) => (v.keyFrame!.offset = -48));
    expect((await rejection(negative.dir)).message).toBe(`${negative.file}: video "v_Walk_g01" (index 0): Expected a non-negative integer for keyFrame.offset but received -48`);
    const frames = writeCache((_, v) => (v.frames = 2 ** 40));
    expect((await rejection(frames.dir)).message).toBe(`${frames.file}: video "v_Walk_g01" (index 0): Expected an integer from 1 to 16777216 for frames but received 1099511627776`);
  });

  it('labels, splits and lists: the reported label 999 and videos: null, each named', async () => {
    const label = writeCache((_, v) => (v.label = 999));
    expect((await rejection(label.dir)).message).toBe(`${label.file}: video "v_Walk_g01" (index 0): Expected an integer from 0 to 2 for label but received 999`);
    const split = writeCache((_, v) => ((v as { split: string }).split = 'holdout'));
    expect((await rejection(split.dir)).message).toBe(`${split.file}: video "v_Walk_g01" (index 0): Expected one of "train", "test", "val", "unused" for split but received "holdout"`);
    const none = writeCache((m) => ((m as { videos: unknown }).videos = null));
    expect((await rejection(none.dir)).message).toBe(`${none.file}: Expected an array for videos but received null`);
    const noId = writeCache((_, v) => ((v as { id: unknown }).id = 7));
    expect((await rejection(noId.dir)).message).toBe(`${noId.file}: video 0: Expected a non-empty string for id but received 7`);
    // classify decodes new videos' key frames at this size: it must not ask for gigabytes.
    const keySize = writeCache((m) => (m.settings.keySize = '100000x100000'));
    expect((await rejection(keySize.dir)).message).toBe(`${keySize.file}: Expected a size WxH up to 16384x16384 for settings.keySize but received "100000x100000"`);
    const bits = writeCache((_, v) => v.frameBits.pop());
    expect((await rejection(bits.dir)).message).toBe(`${bits.file}: video "v_Walk_g01" (index 0): frameBits has 3 entries but frames is 4`);
  });

  it('decoded-frame clips: read when there, every field held to the settings, the shape and the shard', async () => {
    // 2 frames of 4x2 (short side 2) in a 48-byte frames shard.
    const withClip = (change: (m: CacheManifest, v: CachedVideo) => void = () => {}) =>
      writeCache((m, v) => {
        m.settings.rgb = 2;
        m.settings.shortSide = 2;
        m.shards.push('frames-000.bin');
        v.clip = { shard: 'frames-000.bin', offset: 0, bytes: 2 * 2 * 4 * 3, frames: 2, height: 2, width: 4 };
        change(m, v);
      });
    const writeFrames = (dir: string) => writeFileSync(path.join(dir, 'frames-000.bin'), Uint8Array.from({ length: 48 }, (_, i) => 3 * i));
    const good = withClip();
    writeFrames(good.dir);
    const cache = await PreparedCache.open(good.dir);
    const clip = await cache.frames(0);
    expect([clip!.frames, clip!.height, clip!.width, clip!.data.length, clip!.data[47]]).toEqual([2, 2, 4, 48, 141]);
    await cache.close();
    // A cache without clips reads none.
    const plain = await PreparedCache.open(writeCache().dir);
    expect(await plain.frames(0)).toBeNull();
    await plain.close();
    const cases: Array<[(m: CacheManifest, v: CachedVideo) => void, string]> = [
      [(_, v) => (v.clip!.bytes = 1e12), 'clip.bytes is 1000000000000 but frames*height*width*3 is 48'],
      [(_, v) => (v.clip!.offset = 24), 'clip bytes 24..72 lie beyond the end of frames-000.bin (48 bytes)'],
      [(_, v) => (v.clip!.frames = 5000), 'Expected an integer from 1 to 1024 for clip.frames but received 5000'],
      [(_, v) => (v.clip!.width = 1e9), 'Expected an integer from 1 to 16384 for clip.width but received 1000000000'],
      [(_, v) => ((v.clip!.frames = 1), (v.clip!.bytes = 24)), 'clip.frames is 1 but the settings have rgb 2'],
      [(_, v) => (v.clip!.height = 3), 'clip is 4x3 but the settings have shortSide 2'],
      [(_, v) => (v.clip!.shard = 'frames-001.bin'), 'clip.shard "frames-001.bin" is not one of the manifest\'s shards'],
      [(_, v) => delete v.clip, 'has no clip but the settings have rgb 2'],
      [(m) => (delete m.settings.rgb, delete m.settings.shortSide), 'has a clip but the settings have no rgb'],
    ];
    for (const [change, message] of cases) {
      const bad = withClip(change);
      writeFrames(bad.dir);
      expect((await rejection(bad.dir)).message).toBe(`${bad.file}: video "v_Walk_g01" (index 0): ${message}`);
    }
    const settings = withClip((m) => delete m.settings.shortSide);
    expect((await rejection(settings.dir)).message).toBe(`${settings.file}: Expected an integer from 2 to 4096 for settings.shortSide but received undefined`);
  });

  it("source, the input's size and mtime that decide reuse: optional, and checked when there", async () => {
    // A cache from before the field: opens, with no stamp.
    const older = writeCache();
    const opened = await PreparedCache.open(older.dir);
    expect(opened.video(0).source).toBeUndefined();
    await opened.close();
    const stamped = writeCache((_, v) => (v.source = { size: 123456, mtimeMs: 1700000000123.25 }));
    const cache = await PreparedCache.open(stamped.dir);
    expect(cache.video(0).source).toEqual({ size: 123456, mtimeMs: 1700000000123.25 });
    await cache.close();
    const size = writeCache((_, v) => ((v as { source: unknown }).source = { size: -1, mtimeMs: 0 }));
    expect((await rejection(size.dir)).message).toBe(`${size.file}: video "v_Walk_g01" (index 0): Expected a non-negative integer for source.size but received -1`);
    const mtime = writeCache((_, v) => ((v as { source: unknown }).source = { size: 10, mtimeMs: '2024-01-01' }));
    expect((await rejection(mtime.dir)).message).toBe(`${mtime.file}: video "v_Walk_g01" (index 0): Expected a finite number for source.mtimeMs but received "2024-01-01"`);
    const shape = writeCache((_, v) => ((v as { source: unknown }).source = [10, 0]));
    expect((await rejection(shape.dir)).message).toBe(`${shape.file}: video "v_Walk_g01" (index 0): Expected an object for source but received an array of 2`);
  });

  it('regions: a region file\'s digest in the settings and each video\'s region, checked; never both roi and roiFile', async () => {
    const digest = '0123456789abcdef';
    const good = writeCache((m, v) => {
      m.settings.roiFile = digest;
      v.roi = '112,40,96,64';
    });
    const cache = await PreparedCache.open(good.dir);
    expect([cache.manifest.settings.roiFile, cache.video(0).roi]).toEqual([digest, '112,40,96,64']);
    await cache.close();
    const alone = writeCache((_, v) => (v.roi = '0,0,16,16'));
    expect((await rejection(alone.dir)).message).toBe(`${alone.file}: video "v_Walk_g01" (index 0): roi is given but the settings have no roiFile (a region per video)`);
    const both = writeCache((m) => {
      m.settings.roiFile = digest;
      m.settings.roi = '0,0,16,16';
    });
    expect((await rejection(both.dir)).message).toBe(`${both.file}: settings have both roi (one region for all) and roiFile (a region per video)`);
    const short = writeCache((m) => (m.settings.roiFile = 'abc'));
    expect((await rejection(short.dir)).message).toBe(`${short.file}: Expected a digest of 16 hex digits for settings.roiFile but received "abc"`);
    const region = writeCache((m, v) => {
      m.settings.roiFile = digest;
      v.roi = '0,0,16';
    });
    expect((await rejection(region.dir)).message).toBe(`${region.file}: video "v_Walk_g01" (index 0): Expected a region x,y,w,h for roi but received "0,0,16"`);
  });

  it('noMotion: only as true, and only on an as-is cache (a re-encoded one has motion vectors)', async () => {
    const good = writeCache((m) => {
      m.settings.asIs = true;
      m.settings.qp = null;
      m.settings.size = null;
      m.settings.fps = null;
      m.settings.noMotion = true;
    });
    const cache = await PreparedCache.open(good.dir);
    expect(cache.manifest.settings.noMotion).toBe(true);
    await cache.close();
    const plain = writeCache((m) => delete m.settings.noMotion);
    const opened = await PreparedCache.open(plain.dir);
    expect('noMotion' in opened.manifest.settings).toBe(false);
    await opened.close();
    const off = writeCache((m) => ((m.settings.asIs = true), ((m.settings as unknown as Record<string, unknown>).noMotion = false)));
    expect((await rejection(off.dir)).message).toBe(`${off.file}: settings.noMotion is false: absent when the videos have motion vectors`);
    const encoded = writeCache((m) => ((m.settings.asIs = false), (m.settings.noMotion = true)));
    expect((await rejection(encoded.dir)).message).toBe(`${encoded.file}: settings.noMotion goes with asIs: a re-encoded cache has motion vectors`);
  });

  it('the CLI prints the message and exits 1, not a stack trace with exit 2', { timeout: 30_000 }, async () => {
    const { dir, file } = writeCache((_, v) => (v.label = 999));
    const r = await cli(['train', '--model', 'mv3d', '--data', dir, '-o', path.join(root, 'run')]);
    expect(r.stderr).toBe(`mvclass: ${file}: video "v_Walk_g01" (index 0): Expected an integer from 0 to 2 for label but received 999\n`);
    expect(r.code).toBe(1);
  });

  it('parseCacheManifest names the file on text that is not a manifest', () => {
    expect(() => parseCacheManifest('{"format": "mvclass-cache", "version": 1', 'c/manifest.json')).toThrow(/^c\/manifest\.json: damaged manifest: /);
    expect(() => parseCacheManifest('[]', 'c/manifest.json')).toThrow('c/manifest.json: Expected an object for the manifest but received an array of 0');
    expect(() => parseCacheManifest('{"format": "mvclass-cache", "version": 2}', 'c/manifest.json')).toThrow(
      'c/manifest.json: not a cache of this version (format "mvclass-cache" v2; this mvclass reads mvclass-cache v1)',
    );
  });
});

describe('the manifest fuzzer (bench/fuzz-manifest.ts) as a regression check', () => {
  // A count of mutants, not a time: on a busy machine two seconds reached fewer outcomes and failed.
  it('10,000 mutants: no finding, and the mutants reach the size and range checks, the clips\' too', () => {
    const report = fuzzManifests({ seconds: 300, executions: 10_000, seed: 11 });
    expect(report.findings.map((f) => f.error)).toEqual([]);
    expect(report.executions).toBe(10_000);
    expect(report.outcomes).toContain('accepted');
    expect(report.outcomes).toContain(': video S (index N): motion.bytes is N but frames*N*rows*cols*N is N');
    // Clip fields (prepare --rgb) are mutated too.
    expect(report.outcomes.filter((o) => /clip/.test(o)).length).toBeGreaterThan(3);
    // And the regions of prepare --roi-file.
    expect(report.outcomes).toContain(': Expected a digest of N hex digits for settings.roiFile');
  });
});
