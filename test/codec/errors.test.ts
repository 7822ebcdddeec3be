// Bad input: a clear error naming the file, within seconds, no crash, no hang, no half-written
// output; a cut file gives the frames before the cut plus a warning.

import { closeSync, copyFileSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probe, readMotion, seededBytes } from './errors.helpers.js';
import { cli, fixtures, tempDir } from '../setup/helpers.js';

const f = fixtures();
const dir = tempDir();
const empty = path.join(dir, 'empty.mp4');
writeFileSync(empty, '');
const random = path.join(dir, 'random.mp4');
writeFileSync(random, seededBytes(256 * 1024, 7));

function cut(source: string, name: string): string {
  const data = readFileSync(source);
  const target = path.join(dir, name);
  const fd = openSync(target, 'w');
  writeSync(fd, data, 0, Math.floor(data.length / 2));
  closeSync(fd);
  return target;
}
const cutFaststart = cut(f.clips['h264-faststart']!, 'cut-faststart.mp4');
const cutMoovAtEnd = cut(f.clips['h264-p-cavlc']!, 'cut-moov-at-end.mp4');

async function drain(file: string, warnings: string[] = []): Promise<number> {
  let n = 0;
  for await (const _ of readMotion(file, { onWarning: (w) => warnings.push(w) })) n++;
  return n;
}

const failures: Array<[string, string, RegExp]> = [
  ['a missing file', path.join(dir, 'missing.mp4'), /missing\.mp4: no such file/],
  ['a directory', dir, /is a directory, not a video file/],
  ['an empty file', empty, /empty\.mp4: is empty \(0 bytes\)/],
  ['random bytes', random, /random\.mp4: /],
  ['an MP4 cut before its index (moov at the end)', cutMoovAtEnd, /cut-moov-at-end\.mp4: cannot (open|read)/],
  ['an audio-only file', f.clips['audio-only']!, /audio-only\.m4a: no video stream \(found audio\)/],
  ['Motion JPEG', f.clips['mjpeg']!, /mjpeg\.avi: codec mjpeg has no motion vectors that mvclass can read/],
  ['real VP9 footage (balle1-vp9.avi)', f.real['vp9']!, /balle1-vp9\.avi: codec vp9 has no motion vectors/],
];

describe('bad input', () => {
  it.each(failures)('%s: readMotion rejects with the file and the problem', { timeout: 10_000 }, async (_name, file, pattern) => {
    await expect(drain(file)).rejects.toThrow(pattern);
  });

  it('the error carries the caller stack and the path', async () => {
    const error = await drain(f.clips['mjpeg']!).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'MvclassError', path: f.clips['mjpeg'] });
    expect((error as Error).stack).toContain('errors.test.ts');
  });

  it('probe names the file too', async () => {
    await expect(probe(random)).rejects.toThrow(/random\.mp4: /);
    await expect(probe(dir)).rejects.toThrow(/is a directory/);
  });

  it('a file cut at half its length: the frames before the cut and a warning', { timeout: 10_000 }, async () => {
    const warnings: string[] = [];
    const full = await drain(f.clips['h264-faststart']!);
    const frames = await drain(cutFaststart, warnings);
    expect(full).toBe(100);
    expect(frames).toBeGreaterThan(10);
    expect(frames).toBeLessThan(full);
    expect(warnings.join('\n')).toMatch(/cut-faststart\.mp4: the file ends early: decoded \d+ of the 100 frames/);
  });

  it('the CLI answers each failure with one line and exit code 1, leaving no output behind', { timeout: 60_000 }, async () => {
    for (const [, file, pattern] of failures) {
      const out = path.join(dir, 'out');
      for (const format of ['csv', 'npy']) {
        const result = await cli(['extract', file, '--format', format, '--out', out]);
        expect(result.code, `${file} ${format}`).toBe(1);
        // extract takes a folder (every video under it) since scale-out: into itself it is refused.
        expect(result.stderr).toMatch(file === dir ? /the output folder must not be inside/ : pattern);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(existsSync(out)).toBe(false);
      }
    }
    // Nothing temporary is left beside the outputs either.
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('the CLI extracts what a cut file holds and warns on stderr', async () => {
    const out = path.join(dir, 'cut.csv');
    const result = await cli(['extract', cutFaststart, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/mvclass: warning: .*ends early/);
    expect(readFileSync(out, 'utf8').startsWith('framenum,source')).toBe(true);
  });

  it('a failed run never replaces a good output', async () => {
    const out = path.join(dir, 'keep.csv');
    copyFileSync(f.clips['mpeg1']!, path.join(dir, 'good.mpg'));
    expect((await cli(['extract', path.join(dir, 'good.mpg'), '--out', out])).code).toBe(0);
    const good = readFileSync(out);
    expect((await cli(['extract', f.clips['mjpeg']!, '--out', out])).code).toBe(1);
    expect(readFileSync(out).equals(good)).toBe(true);
  });
});
