// prepare --rgb: decoded-frame clips in the cache. Each stored frame is the frame of the cache's
// own encoding at the index the sampling rule gives (codec/clips.ts), checked byte for byte
// against a separate decode of a re-encoding at the cache's profile and against FFmpeg's CLI as
// an independent oracle (`-vf select=...,scale=W:H:flags=bicubic`, rgb24): exact, because the
// reader converts with the same libswscale settings the scale filter uses (bicubic, the stream's
// matrix). A wrong index would show: neighbouring frames of these clips differ (about 26 dB PSNR).
// A clip shorter than T repeats frames as the rule says; a rerun writes the same bytes; a
// tampered clip range is refused.

import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyVideo, CnnModel, decodeVideo, ingestVideo, openDataset, prepareDataset, PreparedCache, profileOfCache, synthesizeActionSet } from '../../src/index.js';
import { evaluateRun } from '../../src/app/evaluate.js';
import { trainModel } from '../../src/app/train.js';
import { framesViews } from '../../src/nn/inputs.js';
import { clipIndices, distinctIndices } from '../../src/codec/clips.js';
import { MvclassError } from '../../src/util/errors.js';
import { fixtures } from '../setup/fixtures.js';
import { cli, runTool, tempDir } from '../setup/helpers.js';
import { motionSet } from '../support/motionset.js';

const dir = tempDir('mvclass-rgb-');
const set = path.join(dir, 'set');
const out = path.join(dir, 'cache');

function bytesOf(cache: string): Record<string, string> {
  return Object.fromEntries(readdirSync(cache).sort().map((f) => [f, readFileSync(path.join(cache, f)).toString('base64')]));
}

beforeAll(async () => {
  await synthesizeActionSet(set, { classes: 2, perClass: 2, seconds: 2, seed: 5 });
  // A 3-frame video (fewer than T = 4): the rule repeats its middle frame.
  runTool('ffmpeg', ['-v', 'error', '-i', path.join(set, 'walk', 'walk_000.mp4'), '-frames:v', '3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path.join(set, 'walk', 'walk_short.mp4')]);
  const r = await cli(['prepare', set, '-o', out, '--rgb', '4', '--short-side', '64', '--jobs', '2', '--json'], 120_000);
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

describe('prepare --rgb 4 --short-side 64', () => {
  it('stores T frames per video: shapes, byte counts, settings, shards', async () => {
    const cache = await PreparedCache.open(out);
    expect(cache.manifest.settings).toMatchObject({ rgb: 4, shortSide: 64, size: '320x240' });
    expect(cache.length).toBe(5);
    let offset = 0;
    for (let i = 0; i < cache.length; i++) {
      const v = cache.video(i);
      // 320x240 at short side 64: 64 * 320 / 240 = 85.3, rounded to the even 86.
      expect(v.clip).toEqual({ shard: 'frames-000.bin', offset, bytes: 4 * 64 * 86 * 3, frames: 4, height: 64, width: 86 });
      offset += v.clip!.bytes;
      const f = (await cache.frames(i))!;
      expect([f.frames, f.height, f.width, f.data.length]).toEqual([4, 64, 86, 66048]);
    }
    expect(readFileSync(path.join(out, 'frames-000.bin')).length).toBe(5 * 66048);
    await cache.close();
  });

  it('each frame is the decoded frame at the sampled index: exact against a separate decode and against ffmpeg select + scale', { timeout: 60_000 }, async () => {
    const cache = await PreparedCache.open(out);
    for (let i = 0; i < cache.length; i++) {
      const v = cache.video(i);
      const stored = (await cache.frames(i))!;
      // The cache's encoding made again (the encoder is deterministic: same settings, same bytes).
      const work = path.join(dir, `oracle-${i}`);
      mkdirSync(work);
      const encoded = await ingestVideo(v.path, { profile: profileOfCache(cache.manifest.settings)!, workDir: work, decode: false });
      expect(encoded.encoded!.frames).toBe(v.frames);
      const indices = clipIndices(v.frames, 4);
      const distinct = distinctIndices(indices);
      const frames = new Map<number, Uint8Array>();
      for await (const batch of decodeVideo(encoded.stream, { vectors: false, clipIndices: distinct, clipShortSide: 64 })) for (const c of batch.clipFrames ?? []) frames.set(c.index, c.data);
      const frameBytes = 64 * 86 * 3;
      const select = distinct.map((k) => `eq(n\\,${k})`).join('+');
      const reference = runTool('ffmpeg', ['-v', 'error', '-i', encoded.stream, '-vf', `select='${select}',scale=86:64:flags=bicubic`, '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
      expect(reference.length).toBe(distinct.length * frameBytes);
      indices.forEach((index, k) => {
        const frame = stored.data.subarray(k * frameBytes, (k + 1) * frameBytes);
        expect(Buffer.from(frame).equals(Buffer.from(frames.get(index)!)), `video ${i} frame ${k}`).toBe(true);
        const j = distinct.indexOf(index);
        expect(Buffer.from(frame).equals(reference.subarray(j * frameBytes, (j + 1) * frameBytes)), `video ${i} frame ${k} against ffmpeg`).toBe(true);
      });
    }
    await cache.close();
  });

  it('HEVC: libde265 decodes the clip in the vectors pass, equal to ffmpeg on the same encoding', { timeout: 60_000 }, async () => {
    const work = path.join(dir, 'hevc');
    mkdirSync(work);
    const cache = await PreparedCache.open(out);
    const profile = { ...profileOfCache(cache.manifest.settings)!, codec: 'hevc' as const };
    await cache.close();
    const r = await ingestVideo(path.join(set, 'run', 'run_000.mp4'), { profile, grid: 8, clip: { frames: 4, shortSide: 64 }, workDir: work });
    const clip = r.decoded!.clip!;
    expect([clip.frames, clip.height, clip.width, clip.indices]).toEqual([4, 64, 86, [6, 18, 31, 43]]);
    const reference = runTool('ffmpeg', ['-v', 'error', '-i', r.stream, '-vf', "select='eq(n\\,6)+eq(n\\,18)+eq(n\\,31)+eq(n\\,43)',scale=86:64:flags=bicubic", '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    expect(Buffer.from(clip.data).equals(reference)).toBe(true);
  });

  it('a frame count that was wrong before decoding (here a probe saying 10 of 50 frames): the clip is decoded again from the true count', { timeout: 30_000 }, async () => {
    const file = path.join(set, 'run', 'run_001.mp4');
    const options = { grid: 8, clip: { frames: 4, shortSide: 64 } };
    const right = await ingestVideo(file, options);
    const info = right.info!;
    expect(info.frameCount).toBe(50);
    const wrong = await ingestVideo(file, { ...options, probed: { ...info, frameCount: 10 } });
    expect(wrong.decoded!.clip!.indices).toEqual([6, 18, 31, 43]); // not clipIndices(10, 4) = [1, 3, 6, 8]
    expect(Buffer.from(wrong.decoded!.clip!.data).equals(Buffer.from(right.decoded!.clip!.data))).toBe(true);
  });

  it('pads a clip shorter than T by the rule: frames 0 1 1 2 of a 3-frame video', async () => {
    expect(clipIndices(3, 4)).toEqual([0, 1, 1, 2]);
    expect(clipIndices(50, 4)).toEqual([6, 18, 31, 43]);
    expect(clipIndices(3, 8)).toEqual([0, 0, 0, 1, 1, 2, 2, 2]);
    const cache = await PreparedCache.open(out);
    const i = cache.videos.findIndex((v) => v.path.endsWith('walk_short.mp4'));
    expect(cache.video(i).frames).toBe(3);
    const f = (await cache.frames(i))!;
    const frame = (k: number) => Buffer.from(f.data.subarray(k * 64 * 86 * 3, (k + 1) * 64 * 86 * 3));
    expect(frame(1).equals(frame(2))).toBe(true);
    expect(frame(0).equals(frame(1))).toBe(false); // the figure moves between frames
    expect(frame(2).equals(frame(3))).toBe(false);
    await cache.close();
  });

  it('a rerun is incremental and writes the same bytes; a cache without clips is not reused for --rgb', { timeout: 120_000 }, async () => {
    const before = bytesOf(out);
    const again = await prepareDataset(await openDataset(set), out, { rgb: 4, shortSide: 64, jobs: 2 });
    expect([again.reused, again.prepared]).toEqual([5, 0]);
    expect(bytesOf(out)).toEqual(before);
    const plain = path.join(dir, 'plain');
    await prepareDataset(await openDataset(set), plain, { jobs: 2 });
    const plainManifest = readFileSync(path.join(plain, 'manifest.json'), 'utf8');
    expect(plainManifest).not.toContain('"rgb"'); // a cache without clips is as it was before clips
    const upgraded = await prepareDataset(await openDataset(set), plain, { rgb: 4, shortSide: 64, jobs: 2 });
    expect([upgraded.reused, upgraded.prepared]).toEqual([0, 5]);
    expect(bytesOf(plain)).toEqual(before);
  });

  it('refuses a tampered clip range, and bad --rgb / --short-side values with a message', async () => {
    const tampered = path.join(dir, 'tampered');
    cpSync(out, tampered, { recursive: true });
    const file = path.join(tampered, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.videos[4].clip.offset += 1;
    writeFileSync(file, JSON.stringify(manifest));
    const error = await PreparedCache.open(tampered).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MvclassError);
    expect((error as Error).message).toBe(`${file}: video ${JSON.stringify(manifest.videos[4].id)} (index 4): clip bytes ${4 * 66048 + 1}..${5 * 66048 + 1} lie beyond the end of frames-000.bin (${5 * 66048} bytes)`);
    const bad = await cli(['prepare', set, '-o', path.join(dir, 'bad'), '--rgb', 'x']);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'mvclass: Expected a positive integer for rgb but received "x"']);
    const odd = await cli(['prepare', set, '-o', path.join(dir, 'bad'), '--rgb', '4', '--short-side', '63']);
    expect([odd.code, odd.stderr.trim()]).toEqual([2, 'mvclass: Expected an even integer from 2 to 4096 for short-side but received "63"']);
  });
});

describe('a frame network on the clips', () => {
  it("classify (re-encoding as the cache was made) scores the clip's frames as eval does: the mean of the per-frame scores", { timeout: 60_000 }, async () => {
    const run = path.join(dir, 'run');
    await trainModel({ model: 'resnet18', data: out, out: run, iterations: 2, batch: 4, size: 64, width: 0.0625, threads: 2, seed: 1, valEvery: 0 });
    const cache = await PreparedCache.open(out);
    const v = cache.video(0);
    const report = await evaluateRun({ run, data: out, split: v.split === 'test' ? 'test' : 'train', checkpoint: 'last', temporal: 1, crops: 1, threads: 2, keepScores: true });
    const evaluated = report.scores!.videos.find((s) => s.id === v.id)!;
    // By hand: each frame's softmax, averaged.
    const model = await CnnModel.open(run, { threads: 2 });
    const frames = (await cache.frames(0))!;
    const per = await model.predict(framesViews(frames, model.config, 1));
    const k = model.config.classes.length;
    const mean = Array.from({ length: k }, (_, c) => Array.from({ length: 4 }, (_, t) => per[t * k + c]!).reduce((a, b) => a + b) / 4);
    // The frames score differently, so the mean is not any one frame's score (nor the key frame's).
    const spread = Math.max(...Array.from({ length: 4 }, (_, t) => Math.abs(per[t * k]! - mean[0]!)));
    expect(spread).toBeGreaterThan(1e-3);
    const classified = await classifyVideo(v.path, [run], { encode: true, crops: 1, threads: 2 });
    for (let c = 0; c < k; c++) {
      expect(evaluated.scores[c]!).toBeCloseTo(mean[c]!, 5);
      expect(classified.streams[0]!.scores[c]!).toBeCloseTo(mean[c]!, 5);
    }
    await cache.close();
  });
});

describe('prepare --rgb 8 on real footage', () => {
  it('a few clips cut from real video: 8 frames of 170x128 each, 522240 bytes', { timeout: 120_000 }, async () => {
    const { cockatoo, realshort, balle, inertie, vp9 } = fixtures().real;
    const real = await motionSet({ sources: { cockatoo: cockatoo!, realshort: realshort!, balle: balle!, inertie: inertie!, vp9: vp9! }, perClass: 50 });
    const few = path.join(dir, 'real');
    for (const cls of ['still', 'zoom-in']) {
      mkdirSync(path.join(few, cls), { recursive: true });
      for (const name of readdirSync(path.join(real, cls)).sort().slice(0, 2)) copyFileSync(path.join(real, cls, name), path.join(few, cls, name));
    }
    const cache = path.join(dir, 'real-cache');
    const r = await prepareDataset(await openDataset(few), cache, { rgb: 8, jobs: 2 });
    expect([r.videos, r.failed.length]).toEqual([4, 0]);
    const opened = await PreparedCache.open(cache);
    for (let i = 0; i < opened.length; i++) {
      const f = (await opened.frames(i))!;
      expect([f.frames, f.height, f.width, f.data.length]).toEqual([8, 128, 170, 522240]);
      // Real pixels: not a flat frame.
      const values = new Set(f.data.subarray(0, 128 * 170 * 3));
      expect(values.size).toBeGreaterThan(100);
    }
    await opened.close();
  });
});
