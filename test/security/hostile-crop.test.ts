// The reproducers of issue 11 against crop: every crafted stream is refused with an error that
// names the file and the problem, and never crashes or hangs the process. The streams are made
// from valid ones at test time (test/support/hostile.ts).

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crop, readMotion } from '../../src/index.js';
import { hostileStreams } from '../support/hostile.js';
import { fixtures, runTool, tempDir } from '../setup/helpers.js';

const dir = tempDir();
const f = fixtures();

function generated(name: string, x264: string): Buffer {
  const file = path.join(dir, `${name}.264`);
  runTool('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1', '-c:v', 'libx264', '-bf', '0', '-x264-params', x264, '-f', 'h264', file]);
  return readFileSync(file);
}

const sources: Record<string, () => Buffer> = {
  cabac: () => generated('cabac', 'qp=30'),
  'cavlc-4-slices': () => readFileSync(f.clips['crop-cavlc-slices']!),
};

describe.each(Object.keys(sources))('crop refuses hostile streams made from %s', (source) => {
  const streams = hostileStreams(sources[source]!());
  it.each(streams.map((s) => [s.name, s] as const))('%s', async (name, s) => {
    const file = path.join(dir, `${source}-${name}.264`);
    writeFileSync(file, s.bytes);
    // Refused with an error, or (a stream FFmpeg decodes with damage) cropped with warnings;
    // either way the message names the file and the problem.
    const messages = await crop(file, path.join(dir, `${source}-${name}.out.264`)).then(
      (r) => r.warnings,
      (e: Error) => [e.message],
    );
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => m.includes(file))).toBe(true);
    expect(messages.some((m) => s.expect.test(m)), messages.join('\n')).toBe(true);
    // The reader takes the same bytes without crashing (it may refuse them or read what decodes).
    await (async () => {
      for await (const _ of readMotion(file)) void _;
    })().catch((e: Error) => expect(e.message).toContain(file));
  });
});
