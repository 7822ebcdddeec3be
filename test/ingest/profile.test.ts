// One encoding profile, one way in (issue 13): a video that `classify --encode`, `rates` or the
// edge client re-encodes must come out as `prepare` made the networks' training videos. Before the
// ingest step, classify re-encoded an HEVC cache's videos as H.264 and `rates` encoded with the
// machine's core count of threads (other bits, other vectors). Shown on a real Debian clip and a
// generated one.

import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNetworkInputs } from '../../src/app/classify.js';
import { prepareDataset } from '../../src/app/prepare.js';
import { measureRates } from '../../src/app/rates.js';
import { PreparedCache } from '../../src/cache/read.js';
import { openDataset } from '../../src/datasets/open.js';
import { ingestVideo } from '../../src/ingest/ingest.js';
import { encodeOptions, PAPER_PROFILE, profileOfCache, withRate } from '../../src/ingest/profile.js';
import { fixtures, tempDir } from '../setup/helpers.js';

const dir = tempDir('mvclass-profile-');

/** A two-class folder set: a real clip and a generated one. */
function twoClipSet(): { root: string; videos: string[] } {
  const f = fixtures();
  const root = path.join(dir, 'set');
  const videos = [path.join(root, 'real', 'realshort.mp4'), path.join(root, 'generated', 'mpeg1.mpg')];
  mkdirSync(path.dirname(videos[0]!), { recursive: true });
  mkdirSync(path.dirname(videos[1]!), { recursive: true });
  copyFileSync(f.real['realshort']!, videos[0]!);
  copyFileSync(f.clips['mpeg1']!, videos[1]!);
  return { root, videos };
}

describe('the encoding profile', () => {
  it('PAPER_PROFILE is the paper\'s encoding, and a cache gives its own back', () => {
    expect(encodeOptions(PAPER_PROFILE)).toEqual({ codec: 'h264', qp: 30, gop: 0, bframes: 0, meRange: 16, threads: 1, size: '320x240', fps: 25 });
    expect(encodeOptions(withRate(PAPER_PROFILE, { crf: 23 }))).toMatchObject({ crf: 23 });
    expect(encodeOptions(withRate(PAPER_PROFILE, { crf: 23 }))).not.toHaveProperty('qp');
    const settings = { codec: 'hevc' as const, qp: 40, crf: null, asIs: false, size: '160x120', fps: 15, grid: 8, keySize: '112x112' };
    expect(profileOfCache(settings)).toEqual({ ...PAPER_PROFILE, codec: 'hevc', size: '160x120', fps: 15, rate: { qp: 40 } });
    expect(profileOfCache({ ...settings, asIs: true, qp: null, size: null, fps: null })).toBeNull();
  });

  for (const codec of ['h264', 'hevc'] as const) {
    it(`classify --encode and rates re-encode a video exactly as prepare did (${codec})`, { timeout: 300_000 }, async () => {
      const { root, videos } = twoClipSet();
      const cacheDir = path.join(dir, `cache-${codec}`);
      await prepareDataset(await openDataset(root), cacheDir, { codec, qp: 34, jobs: 2 });
      const cache = await PreparedCache.open(cacheDir);
      try {
        const rates = await measureRates(videos, { codec, qps: [34] });
        expect(rates.failed).toEqual([]);
        for (const video of videos) {
          const i = cache.videos.findIndex((v) => v.path === video);
          expect(i).toBeGreaterThanOrEqual(0);
          const cached = cache.video(i);
          // The service and classify: the same grids, value for value.
          const inputs = await readNetworkInputs(video, cache.manifest.settings, { encode: true });
          const clip = await cache.clip(i);
          expect([inputs.clip.frames, inputs.clip.rows, inputs.clip.cols]).toEqual([clip.frames, clip.rows, clip.cols]);
          expect(Buffer.from(inputs.clip.data.buffer, inputs.clip.data.byteOffset, inputs.clip.data.byteLength).equals(Buffer.from(clip.data.buffer, clip.data.byteOffset, clip.data.byteLength))).toBe(true);
          // rates: the same encoding, so the same bits.
          const row = rates.rows.find((r) => r.video === video)!;
          expect(row.codec).toBe(codec);
          expect(row.rOrig).toBe(cached.rates.rOrig);
          expect(row.rMotion).toBe(cached.rates.rMotion);
          expect(row.rCropped).toBe(cached.rates.rCropped);
        }
      } finally {
        await cache.close();
      }
    });
  }

  it('ingestVideo: rates and cropped bits without a decoding pass, and the streams kept where asked', { timeout: 120_000 }, async () => {
    const { videos } = twoClipSet();
    const work = path.join(dir, 'work');
    mkdirSync(work, { recursive: true });
    const r = await ingestVideo(videos[0]!, { profile: PAPER_PROFILE, crop: true, decode: false, workDir: work, names: { stream: 'a.mp4', cropped: 'a.264' } });
    expect(r.decoded).toBeNull();
    expect(r.stream).toBe(path.join(work, 'a.mp4'));
    expect(r.croppedFile).toBe(path.join(work, 'a.264'));
    // The cropped stream's access units add up to what crop wrote, parameter sets included.
    const { statSync } = await import('node:fs');
    expect(r.cropped!.frameBits.reduce((s, b) => s + b, 0) + r.cropped!.parameterSetBits).toBe(statSync(r.croppedFile!).size * 8);
    expect(r.cropped!.kinds).toMatch(/^CR+$/);
    expect(r.rates.rMotion!).toBeGreaterThan(0);
    // An HEVC encoding has no cropped-stream writer: crop: true refuses it by name.
    await expect(ingestVideo(videos[0]!, { profile: { ...PAPER_PROFILE, codec: 'hevc' }, crop: true, decode: false })).rejects.toThrow(/cropped stream is written for H.264 only, not hevc/);
  });
});
