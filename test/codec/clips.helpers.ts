// Clips encoded by the ffmpeg tool at test time for the codec tests, cached under
// .cache/test/codecs (the tool is an oracle here; src/ never runs it).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CACHE } from '../setup/fixtures.js';

const CLIPS = path.join(CACHE, 'codecs');

export interface ClipSpec {
  /** ffmpeg's encoder name. */
  encoder: string;
  size: string;
  ext: string;
  seconds?: number;
  /** Encoder arguments (default -q:v 4). */
  args?: string[];
}

/** Encodes a moving picture with `spec`; ffmpeg's error text when it cannot. Cached on disk. */
export function makeClip(name: string, spec: ClipSpec): { file: string } | { error: string } {
  mkdirSync(CLIPS, { recursive: true });
  const file = path.join(CLIPS, `${name}.${spec.ext}`);
  if (existsSync(file)) return { file };
  const temp = path.join(CLIPS, `.tmp-${process.pid}-${name}.${spec.ext}`);
  const input = ['-f', 'lavfi', '-i', `mandelbrot=size=${spec.size}:rate=25,format=yuv420p`];
  try {
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...input, '-t', String(spec.seconds ?? 2), '-c:v', spec.encoder, ...(spec.args ?? ['-q:v', '4']), temp], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (error) {
    rmSync(temp, { force: true });
    return { error: String((error as { stderr?: string }).stderr ?? error).trim() };
  }
  renameSync(temp, file);
  return { file };
}

/** makeClip for clips every encoder here can make: throws ffmpeg's error otherwise. */
export function clip(name: string, spec: ClipSpec): string {
  const made = makeClip(name, spec);
  if ('error' in made) throw new Error(`ffmpeg cannot make ${name}: ${made.error}`);
  return made.file;
}
