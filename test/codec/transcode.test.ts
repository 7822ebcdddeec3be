// encode(): any video re-encoded at seed 004's settings, with the encoder's bit split.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encode, probe, readMotion } from '../../src/index.js';
import { fixtures, runTool, tempDir } from '../setup/helpers.js';

const f = fixtures();
const dir = tempDir();
const paper = { size: '320x240', fps: 25, qp: 30, gop: 0, bframes: 0, meRange: 16 } as const;

describe('encode (transcode)', () => {
  it('real 720p footage at 20 fps -> 320x240, 25 fps, IDR then P at QP 30; the bits add up', async () => {
    const out = path.join(dir, 'cockatoo.264');
    const r = await encode(f.real['cockatoo']!, out, { ...paper, threads: 1 });
    expect([r.width, r.height, r.fps]).toEqual([320, 240, 25]);
    expect(r.frames).toBe(350); // 14 s at 25 fps from 280 frames at 20 fps
    expect(r.frameStats.map((s) => s.type).join('')).toBe('I' + 'P'.repeat(349));
    expect(new Set(r.frameStats.map((s) => s.qp))).toEqual(new Set([30]));
    // Raw Annex-B: the file is the packets, and the encoder's split covers every bit.
    expect(r.bytes * 8).toBe(r.streamBits);
    const counted = r.frameStats.reduce((s, x) => s + x.texture + x.motion + x.encoderOther, 0);
    expect(Math.abs(counted - r.streamBits)).toBeLessThanOrEqual(8);
    for (const s of r.frameStats.slice(1)) expect(s.texture + s.motion + s.encoderOther).toBe(s.bits);
    expect(r.frameStats.every((s) => s.motion > 0 || s.type === 'I')).toBe(true);
    const info = await probe(out);
    expect(info).toMatchObject({ codec: 'h264', width: 320, height: 240, frameCount: 350, hasBFrames: false });
    // libx264 records its effective settings in an SEI message of the stream itself.
    const sei = readFileSync(out).toString('latin1');
    for (const setting of ['me_range=16', 'bframes=0', 'keyint=infinite', 'scenecut=0', 'rc=cqp', 'qp=30', 'ip_ratio=1.00', 'aq=0']) {
      expect(sei).toContain(setting);
    }
    let vectors = 0;
    for await (const frame of readMotion(out)) vectors += frame.vectors.length;
    expect(vectors).toBeGreaterThan(349 * 100);
  });

  it('MP4 output: packets plus avcC account for the stream; B-frames and GOP when asked', async () => {
    const out = path.join(dir, 'gop.mp4');
    const r = await encode(f.clips['h264-p-cavlc']!, out, { qp: 35, gop: 25, bframes: 2, threads: 1 });
    expect(r.parameterSetBits).toBeGreaterThan(0);
    expect(r.frameStats.filter((s) => s.type === 'I')).toHaveLength(3);
    expect(r.frameStats.some((s) => s.type === 'B')).toBe(true);
    expect(r.bytes * 8).toBeGreaterThan(r.streamBits); // the container adds its boxes
    const keys = runTool('ffprobe', ['-v', 'error', '-show_entries', 'packet=flags', '-of', 'csv=p=0', out]).toString().match(/K/g);
    expect(keys).toHaveLength(3);
  });

  it('HEVC through libx265, with its statistics', async () => {
    const out = path.join(dir, 'clip.hevc');
    const r = await encode(f.clips['mpeg1']!, out, { codec: 'hevc', qp: 30, threads: 1 });
    expect(r.codec).toBe('hevc');
    expect(r.frameStats.map((s) => s.type).join('')).toMatch(/^IP+$/);
    expect(new Set(r.frameStats.map((s) => s.qp))).toEqual(new Set([30]));
    expect(r.frameStats.slice(1).every((s) => s.motion > 0 && s.other >= 0)).toBe(true);
    expect(readFileSync(out).length * 8).toBe(r.streamBits);
  });

  it('a file cut in half: what was read, and warnings that name the file', async () => {
    const full = readFileSync(f.clips['h264-faststart']!);
    const cut = path.join(dir, 'cut.mp4');
    writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
    const warnings: string[] = [];
    const r = await encode(cut, path.join(dir, 'cut-enc.mp4'), { qp: 30, threads: 1, onWarning: (w) => warnings.push(w) });
    expect(r.frames).toBeGreaterThan(10);
    expect(r.frames).toBeLessThan(100);
    expect(warnings.join('\n')).toMatch(/cut\.mp4: .*(partial file|corrupt|could not be decoded)/);
  });

  it('bad input and bad settings: clear errors, nothing written', async () => {
    await expect(encode(f.clips['audio-only']!, path.join(dir, 'a.mp4'))).rejects.toThrow(/audio-only\.m4a: no video stream/);
    await expect(encode(f.clips['mpeg1']!, path.join(dir, 'b.mp4'), { size: '321x240' })).rejects.toThrow(
      'Expected an even frame size for size but received "321x240"',
    );
    await expect(encode(f.clips['mpeg1']!, path.join(dir, 'c.264'), { codec: 'hevc' })).rejects.toThrow(/holds H\.264, not hevc/);
    await expect(encode(f.clips['mpeg1']!, f.clips['mpeg1']!.replace(/\.mpg$/, '.mpg'))).rejects.toThrow(/unknown output container|overwrite the input/);
    const copy = path.join(dir, 'self.mp4');
    await encode(f.clips['mpeg1']!, copy, { qp: 40 });
    await expect(encode(copy, copy)).rejects.toThrow(/would overwrite the input/);
  });
});
