// The in-process encoder at seed 004's settings, checked through our own reader and ffprobe.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFrames, readMotion, renderMovingPattern } from '../../src/index.js';
import { runTool, tempDir } from '../setup/helpers.js';

const dir = tempDir();
const pattern = (frames: number, seed = 3) => renderMovingPattern({ width: 160, height: 96, frames, panX: 3, panY: -1, seed });

describe('encodeFrames', () => {
  it('one IDR then only P frames at one fixed QP, as the paper encodes', async () => {
    const out = path.join(dir, 'qp30.mp4');
    const result = await encodeFrames(out, pattern(30), { width: 160, height: 96, qp: 30, gop: 0, threads: 1 });
    expect(result.frames).toBe(30);
    expect(result.frameStats).toHaveLength(30);
    expect(result.frameStats.map((f) => f.type).join('')).toBe('I' + 'P'.repeat(29));
    expect(new Set(result.frameStats.map((f) => f.qp))).toEqual(new Set([30]));
    const types = runTool('ffprobe', ['-v', 'error', '-show_entries', 'frame=pict_type,key_frame', '-of', 'csv=p=0', out]).toString();
    expect(types.replace(/[\s,01]/g, '')).toBe('I' + 'P'.repeat(29));
    expect(types.match(/1,I/g)).toHaveLength(1);
  });

  it('the pan rendered into the clip is the dominant vector read back', async () => {
    const out = path.join(dir, 'pan.264');
    await encodeFrames(out, pattern(20), { width: 160, height: 96, qp: 20, threads: 1 });
    const counts = new Map<string, number>();
    for await (const frame of readMotion(out)) {
      const v = frame.vectors;
      for (let i = 0; i < v.length; i++) {
        const key = `${v.motionX[i]! / v.motionScale[i]!},${v.motionY[i]! / v.motionScale[i]!}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const [best] = [...counts].sort((a, b) => b[1] - a[1]);
    expect(best![0]).toBe('3,-1');
  });

  it('is deterministic with one thread: same frames, same bytes', async () => {
    const a = path.join(dir, 'a.mp4');
    const b = path.join(dir, 'b.mp4');
    await encodeFrames(a, pattern(12), { width: 160, height: 96, qp: 30, threads: 1 });
    await encodeFrames(b, pattern(12), { width: 160, height: 96, qp: 30, threads: 1 });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('refuses bad arguments with messages naming them, and leaves no file behind', async () => {
    const out = path.join(dir, 'bad.mp4');
    await expect(encodeFrames(out, pattern(2), { width: 160, height: 96, qp: 60 })).rejects.toThrow(
      'Expected an integer from 0 to 51 for qp but received 60',
    );
    await expect(encodeFrames(out, [new Uint8Array(10)], { width: 160, height: 96 })).rejects.toThrow(
      /bad\.mp4: frame 0 has 10 bytes, a 160x96 YUV 4:2:0 frame has 23040/,
    );
    await expect(encodeFrames(path.join(dir, 'x.gif'), pattern(2), { width: 160, height: 96 })).rejects.toThrow(/unknown output container/);
    await expect(encodeFrames(path.join(dir, 'missing', 'x.mp4'), pattern(2), { width: 160, height: 96 })).rejects.toThrow(
      /folder .*missing does not exist/,
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
