// The transcode studies' small real-footage set: six 1.5 s clips cut from Debian-shipped footage,
// two classes with three each (birds: the cockatoo clip from 0, 4 and 8 s at 320x180; ball: the
// balle clip from 0, 3 and 6 s at 320x256), H.264 at CRF 16, so that a quarter split leaves one
// test video per class. The ffmpeg tool cuts them (a tool of the tests), once per code version
// (test/support/shared.ts); each test file gets its own copy.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures } from '../setup/fixtures.js';
import { sharedFolder } from './shared.js';

/** The six clips, copied into `root` (a folder per class). */
export async function cutSixRealClips(root: string): Promise<void> {
  const shared = await sharedFolder({ prefix: 'real-clips-', maker: fileURLToPath(import.meta.url), recipe: 'six', make: async (dir) => cutInto(path.join(dir, 'set')) });
  cpSync(path.join(shared, 'set'), root, { recursive: true });
}

function cutInto(root: string): void {
  const real = fixtures().real;
  const cut = (source: string, start: number, scale: string, out: string) => {
    const args = ['-hide_banner', '-nostats', '-v', 'error', '-i', source, '-ss', String(start), '-t', '1.5', '-vf', `scale=${scale}`, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '16', '-an', out];
    const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
    if (r.status !== 0 || r.stderr.trim()) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
  };
  mkdirSync(path.join(root, 'birds'), { recursive: true });
  mkdirSync(path.join(root, 'ball'), { recursive: true });
  for (const [k, start] of [0, 4, 8].entries()) cut(real['cockatoo']!, start, '320:180', path.join(root, 'birds', `cockatoo-${k}.mp4`));
  for (const [k, start] of [0, 3, 6].entries()) cut(real['balle']!, start, '320:256', path.join(root, 'ball', `balle-${k}.mp4`));
}
