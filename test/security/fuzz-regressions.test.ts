// The inputs the fuzzers found problems with (test/fuzz/<target>/), run through the public API
// in the ordinary (uninstrumented) build: each is read or refused with an error that names the
// file, and none takes the process down. scripts/fuzz.sh regress runs them under ASan/UBSan.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crop, decodeVideo } from '../../src/index.js';
import { ROOT, tempDir } from '../setup/helpers.js';

const dir = tempDir();
const inputs = (target: string) => readdirSync(path.join(ROOT, 'test', 'fuzz', target)).map((f) => path.join(ROOT, 'test', 'fuzz', target, f));

async function readAll(file: string): Promise<number> {
  let frames = 0;
  for await (const batch of decodeVideo(file, { vectors: true, grid: 8, units: 'quarter-pel', keyFrames: true, keyFrameWidth: 32, keyFrameHeight: 24, onWarning: () => {} })) {
    frames += batch.frames.length;
  }
  return frames;
}

describe('fuzz regression inputs through the public API', () => {
  it.each(inputs('reader'))('reader: %s', async (file) => {
    const outcome = await readAll(file).then(
      (frames) => `read ${frames} frames`,
      (e: Error) => e.message,
    );
    if (!outcome.startsWith('read ')) expect(outcome).toContain(file);
  });

  it('a 9-bit HEVC key frame (which made swscale abort the process) is refused with a reason', async () => {
    const file = path.join(ROOT, 'test', 'fuzz', 'reader', 'hevc-9bit-key-frame.hevc');
    await expect(readAll(file)).rejects.toThrow(`${file}: cannot convert a key frame of pixel format (none swscale reads) to RGB`);
  });

  it.each(inputs('crop'))('crop: %s', async (file) => {
    const messages = await crop(file, path.join(dir, `${path.basename(file)}.out.264`)).then(
      (r) => r.warnings,
      (e: Error) => [e.message],
    );
    for (const m of messages) expect(m).toContain(file);
  });
});
