// Test fixtures, made at test time and never committed: clips generated with the ffmpeg tool
// (an oracle here, never used by src/), real footage that ships inside Debian packages, and
// FFmpeg's own doc/examples/extract_mvs.c built from Debian's ffmpeg-doc.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExtractMvs } from '../../bench/oracle.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = path.join(ROOT, '.cache', 'test');
const MANIFEST = path.join(CACHE, 'fixtures.json');

export interface Fixtures {
  oracle: string;
  openh264: string;
  clips: Record<string, string>;
  real: Record<string, string>;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
}

// name -> ffmpeg arguments after the input; all 320x240 unless stated.
const SOURCE = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25,format=yuv420p'];
const MOVING = ['-f', 'lavfi', '-i', 'mandelbrot=size=320x240:rate=25,format=yuv420p'];
const SOURCE_SCROLL = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25,scroll=h=0.003:v=0.002,format=yuv420p'];
const CLIPS: Record<string, { input: string[]; args: string[]; ext: string }> = {
  // H.264, P only, CAVLC, every partition size including the sub-8x8 ones.
  'h264-p-cavlc': { input: MOVING, args: ['-t', '3', '-c:v', 'libx264', '-bf', '0', '-x264-params', 'cabac=0:partitions=all:keyint=40'], ext: 'mp4' },
  // H.264 with B-frames (pyramid) and CABAC: the case FFmpeg's frame threading corrupts.
  'h264-b-cabac': { input: MOVING, args: ['-t', '3', '-c:v', 'libx264', '-bf', '3', '-x264-params', 'cabac=1:b-pyramid=normal:partitions=all'], ext: 'mp4' },
  'h264-annexb': { input: SOURCE, args: ['-t', '2', '-c:v', 'libx264', '-bf', '2', '-f', 'h264'], ext: '264' },
  'mpeg4-b': { input: MOVING, args: ['-t', '3', '-c:v', 'mpeg4', '-bf', '2', '-q:v', '4'], ext: 'avi' },
  'mpeg2': { input: MOVING, args: ['-t', '3', '-c:v', 'mpeg2video', '-bf', '2', '-q:v', '4'], ext: 'mpg' },
  'h263': { input: ['-f', 'lavfi', '-i', 'mandelbrot=size=352x288:rate=25,format=yuv420p'], args: ['-t', '2', '-c:v', 'h263', '-q:v', '4'], ext: '3gp' },
  // Inputs for crop: CABAC with 3 references and weighted prediction, one IDR then P frames.
  'crop-cabac-refs': { input: MOVING, args: ['-t', '3', '-c:v', 'libx264', '-bf', '0', '-refs', '3', '-x264-params', 'qp=30:keyint=infinite:scenecut=0:weightp=2'], ext: 'mp4' },
  // CAVLC, four slices per picture, an IDR every 30 frames, raw Annex-B.
  'crop-cavlc-slices': { input: SOURCE_SCROLL, args: ['-t', '3', '-c:v', 'libx264', '-bf', '0', '-x264-params', 'cabac=0:slices=4:partitions=all:qp=25:keyint=30:min-keyint=30:scenecut=0'], ext: '264' },
  'mpeg1': { input: SOURCE, args: ['-t', '2', '-c:v', 'mpeg1video', '-q:v', '4'], ext: 'mpg' },
  'hevc': { input: SOURCE, args: ['-t', '1', '-c:v', 'libx265', '-x265-params', 'log-level=none'], ext: 'mp4' },
  // HEVC: a still texture panned by exactly (4, 2) pixels per frame, P frames only; and a clip
  // with B-frames (libx265's default GOP), also raw Annex-B.
  'hevc-pan': {
    input: ['-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=25,trim=end_frame=1,loop=loop=49:size=1,setpts=N/25/TB,crop=320:240:4*n:2*n'],
    args: ['-t', '2', '-c:v', 'libx265', '-bf', '0', '-x265-params', 'log-level=none'],
    ext: 'mp4',
  },
  'hevc-b-amp': { input: MOVING, args: ['-t', '2', '-c:v', 'libx265', '-x265-params', 'log-level=none:bframes=3:keyint=30:rect=1:amp=1'], ext: 'mp4' },
  'hevc-annexb': { input: SOURCE_SCROLL, args: ['-t', '2', '-c:v', 'libx265', '-x265-params', 'log-level=none:bframes=2', '-f', 'hevc'], ext: 'hevc' },
  // A codec mvclass reads no vectors from.
  'mjpeg': { input: SOURCE, args: ['-t', '1', '-c:v', 'mjpeg', '-q:v', '4'], ext: 'avi' },
  'audio-only': { input: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'], args: ['-t', '1', '-c:a', 'aac'], ext: 'm4a' },
  // moov atom first, so a file cut in half still opens and yields the frames before the cut.
  'h264-faststart': { input: MOVING, args: ['-t', '4', '-c:v', 'libx264', '-bf', '0', '-movflags', '+faststart'], ext: 'mp4' },
};

function makeClips(): Record<string, string> {
  const dir = path.join(CACHE, 'clips');
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(CLIPS)) {
    const file = path.join(dir, `${name}.${spec.ext}`);
    if (!existsSync(file)) {
      const temp = path.join(dir, `.tmp-${name}.${spec.ext}`);
      run('ffmpeg', ['-v', 'error', '-y', ...spec.input, ...spec.args, temp]);
      renameSync(temp, file);
    }
    out[name] = file;
  }
  return out;
}

// Real footage inside Debian packages (package -> files we use), fetched with apt-get download.
const REAL: Record<string, Record<string, string>> = {
  'python3-imageio': {
    cockatoo: 'usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4', // 1280x720 H.264, B-frames
    realshort: 'usr/lib/python3/dist-packages/imageio/resources/images/realshort.mp4', // 320x240 H.264
  },
  'python3-mecavideo': {
    balle: 'usr/share/pymecavideo/data/video/balle-jbart.mp4', // 720x576 H.264, B-frames
    inertie: 'usr/share/pymecavideo/data/video/Principe_inertie.avi', // 400x300 MPEG-4 Part 2
    vp9: 'usr/share/pymecavideo/data/video/balle1-vp9.avi', // VP9: FFmpeg exports no vectors
  },
};

function fetchReal(): Record<string, string> {
  const dir = path.join(CACHE, 'debian');
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const [pkg, files] of Object.entries(REAL)) {
    const root = path.join(dir, pkg);
    if (!Object.values(files).every((f) => existsSync(path.join(root, f)))) {
      const work = path.join(dir, `.download-${pkg}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work);
      try {
        run('apt-get', ['download', pkg], work);
      } catch (error) {
        throw new Error(`cannot fetch real footage: apt-get download ${pkg} failed (run apt-get update?): ${(error as Error).message}`);
      }
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
      rmSync(root, { recursive: true, force: true });
      run('dpkg', ['-x', path.join(work, deb), root]);
      rmSync(work, { recursive: true, force: true });
    }
    for (const [name, rel] of Object.entries(files)) out[name] = path.join(root, rel);
  }
  return out;
}

/** OpenH264 (Debian's libopenh264-dev), a second H.264 decoder independent of FFmpeg. */
function buildOpenH264Decoder(): string {
  const out = path.join(CACHE, 'openh264_decode');
  if (existsSync(out)) return out;
  const flags = run('pkg-config', ['--cflags', '--libs', 'openh264']).trim().split(/\s+/).filter(Boolean);
  run('cc', ['-O2', '-o', `${out}.tmp`, path.join(ROOT, 'test', 'support', 'openh264_decode.c'), ...flags]);
  renameSync(`${out}.tmp`, out);
  return out;
}

export function prepareFixtures(): Fixtures {
  mkdirSync(CACHE, { recursive: true });
  const fixtures: Fixtures = { oracle: buildExtractMvs(CACHE), openh264: buildOpenH264Decoder(), clips: makeClips(), real: fetchReal() };
  writeFileSync(MANIFEST, JSON.stringify(fixtures, null, 2));
  return fixtures;
}

export function fixtures(): Fixtures {
  return JSON.parse(readFileSync(MANIFEST, 'utf8')) as Fixtures;
}
