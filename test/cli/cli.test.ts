// The CLI as a user runs it: extract in every format, probe, demo, and argument errors.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMotion, readNpy } from '../../src/index.js';
import { cli, fixtures, tempDir } from '../setup/helpers.js';

const f = fixtures();
const dir = tempDir();

describe('mvclass extract', () => {
  it('--format npy writes motion, mask, key frames and frame metadata that agree with readMotion', async () => {
    const file = f.clips['h264-b-cabac']!;
    const out = path.join(dir, 'bundle');
    const result = await cli(['extract', file, '--format', 'npy', '--out', out, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.summary.frames).toBe(75);
    const motion = await readNpy(path.join(out, 'motion.npy'));
    const mask = await readNpy(path.join(out, 'mask.npy'));
    const keys = await readNpy(path.join(out, 'keyframes.npy'));
    expect(motion).toMatchObject({ descr: '<f4', shape: [75, 2, 30, 40] });
    expect(mask).toMatchObject({ descr: '|u1', shape: [75, 30, 40] });
    expect(keys.descr).toBe('|u1');
    expect(keys.shape.slice(1)).toEqual([240, 320, 3]);
    const meta = JSON.parse(readFileSync(path.join(out, 'frames.json'), 'utf8'));
    expect(meta.frames).toHaveLength(75);
    expect(meta.keyFrames).toHaveLength(keys.shape[0]!);
    let vectors = 0;
    for await (const frame of readMotion(file)) {
      expect(meta.frames[frame.index]).toMatchObject({ index: frame.index, type: frame.type, bits: frame.bits, vectors: frame.vectors.length });
      vectors += frame.vectors.length;
    }
    expect(summary.summary.vectors).toBe(vectors);
    // I frames are all holes; P frames have coded blocks.
    const cells = 30 * 40;
    const maskOf = (t: number) => mask.data.subarray(t * cells, (t + 1) * cells);
    const firstP = meta.frames.findIndex((fr: { type: string }) => fr.type === 'P');
    expect(maskOf(0).every((m) => m === 0)).toBe(true);
    expect(maskOf(firstP).some((m) => m === 1)).toBe(true);
  });

  it('--units quarter-pel writes int16 grids; --no-keyframes leaves them out', async () => {
    const out = path.join(dir, 'q');
    const result = await cli(['extract', f.clips['mpeg4-b']!, '-f', 'npy', '-o', out, '--units', 'quarter-pel', '--grid', '16', '--no-keyframes']);
    expect(result.code).toBe(0);
    expect(await readNpy(path.join(out, 'motion.npy'))).toMatchObject({ descr: '<i2', shape: [75, 2, 15, 20] });
    expect(result.stdout).not.toContain('keyframes.npy');
  });

  it('--format json holds the same rows as the CSV', async () => {
    const file = f.clips['mpeg2']!;
    const json = JSON.parse((await cli(['extract', file, '--format', 'json'])).stdout);
    const csv = (await cli(['extract', file])).stdout.trim().split('\n').slice(1);
    const rows = json.frames.flatMap((frame: { index: number; vectors: number[][] }) => frame.vectors.map((v) => [frame.index + 1, ...v]));
    expect(rows.length).toBe(csv.length);
    expect(rows.map((r: number[]) => r.join(','))).toEqual(csv.map((line) => line.replace(/ /g, '').replace(',0x0,', ',0,')));
    expect(json.stream).toMatchObject({ codec: 'mpeg2video', width: 320, height: 240 });
  });

  it('argument errors name the argument and the value', async () => {
    const file = f.clips['mpeg1']!;
    const cases: Array<[string[], string]> = [
      [['--grid', 'x'], 'Expected a positive integer for grid but received "x"'],
      [['--grid', '0'], 'Expected a positive integer for grid but received "0"'],
      [['--format', 'xml'], 'Expected one of "csv", "json", "npy" for format but received "xml"'],
      [['--units', 'px'], 'Expected one of "pixels", "quarter-pel" for units but received "px"'],
      [['-f', 'npy', '--keyframe-size', 'big'], 'Expected a size WxH (0 keeps the aspect ratio) for keyframe-size but received "big"'],
      [['--json'], '--json prints a summary on stdout, where the csv would go: add --out <file>'],
    ];
    for (const [args, message] of cases) {
      const result = await cli(['extract', file, ...args]);
      expect(result.code, args.join(' ')).toBe(2); // a usage error (README, "Exit codes")
      expect(result.stderr.trim()).toBe(`mvclass: ${message}`);
    }
  });
});

describe('mvclass probe', () => {
  it('probe --json', async () => {
    const result = await cli(['probe', f.real['balle']!, '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ codec: 'h264', width: 720, height: 576, hasBFrames: true });
  });
});
