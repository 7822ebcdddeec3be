// FFmpeg's doc/examples/extract_mvs.c, the reference for motion-vector extraction, built from
// Debian's ffmpeg-doc. FFmpeg 5.1's copy prints nine columns; FFmpeg 6 added motion_x,
// motion_y and motion_scale, which we add the same way so both sides print twelve.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const EXTRACT_MVS_SOURCE = '/usr/share/doc/ffmpeg/examples/extract_mvs.c';

export function buildExtractMvs(dir: string): string {
  const out = path.join(dir, 'extract_mvs');
  if (existsSync(out)) return out;
  if (!existsSync(EXTRACT_MVS_SOURCE)) {
    throw new Error(`${EXTRACT_MVS_SOURCE} is missing: install Debian's ffmpeg-doc (scripts/setup.sh does)`);
  }
  mkdirSync(dir, { recursive: true });
  let text = readFileSync(EXTRACT_MVS_SOURCE, 'utf8');
  const edits: Array<[string, string]> = [
    ['dstx,dsty,flags\\n"', 'dstx,dsty,flags,motion_x,motion_y,motion_scale\\n"'],
    ['%4d,0x%"PRIx64"\\n"', '%4d,0x%"PRIx64",%4d,%4d,%4d\\n"'],
    ['mv->dst_x, mv->dst_y, mv->flags);', 'mv->dst_x, mv->dst_y, mv->flags, mv->motion_x, mv->motion_y, mv->motion_scale);'],
  ];
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`extract_mvs.c changed: cannot find ${from}`);
    text = text.replace(from, to);
  }
  const source = path.join(dir, 'extract_mvs.c');
  writeFileSync(source, text);
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libavformat', 'libavcodec', 'libavutil'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  execFileSync('cc', ['-O2', '-o', `${out}.tmp`, source, ...flags], { stdio: 'inherit' });
  renameSync(`${out}.tmp`, out);
  return out;
}
