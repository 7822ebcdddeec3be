// A mutation fuzzer for the cache manifest reader (parseCacheManifest + checkShardRanges).
// jazzer.js, the coverage-guided fuzzer for Node, cannot be installed here (its prebuilt fuzzer
// needs glibc 2.38, Debian 12 has 2.36, and building it downloads LLVM from outside the npm
// registry), so this driver is guided by outcomes instead of coverage: every rejection message,
// with its numbers and quoted values blanked, names the check that fired, and an input that
// reaches a check no earlier input reached joins the corpus. Mutations are structure-aware
// (hostile values put in place of fields, keys removed or added, arrays grown or cut) plus text
// edits (flipped bytes, cuts, raw JSON numbers such as 1e400) on top.
//
// A finding is any exception that is not an MvclassError, an accepted manifest that breaks what
// the readers rely on, or an input that takes longer than a second.

import { CACHE_FORMAT, CACHE_VERSION, type CacheManifest, type CachedVideo } from '../src/cache/format.js';
import { checkShardRanges, parseCacheManifest } from '../src/cache/validate.js';
import { MvclassError } from '../src/util/errors.js';
import { mulberry32, randomInt, type Rng } from '../src/util/random.js';

export const FUZZ_FILE = 'fuzz-cache/manifest.json';

/**
 * A valid manifest of a few small videos and the sizes of the shards it describes; with `clips`,
 * a cache made with decoded-frame clips (prepare --rgb): T frames whose short side is S.
 */
export function sampleManifest(rng: Rng, clips = false): { manifest: CacheManifest; sizes: Map<string, number> } {
  const classes = ['jump', 'run', 'walk', 'wave'].slice(0, 1 + randomInt(rng, 4));
  const rgb = clips ? { frames: 1 + randomInt(rng, 3), shortSide: 2 * (1 + randomInt(rng, 2)) } : null;
  const sizes = new Map<string, number>([
    ['motion-000.bin', 0],
    ['keys-000.bin', 0],
    ...(rgb ? [['frames-000.bin', 0] as [string, number]] : []),
  ]);
  const append = (shard: string, bytes: number) => {
    const offset = sizes.get(shard)!;
    sizes.set(shard, offset + bytes);
    return { shard, offset, bytes };
  };
  const videos: CachedVideo[] = Array.from({ length: 1 + randomInt(rng, 4) }, (_, i) => {
    const label = randomInt(rng, classes.length);
    const frames = 1 + randomInt(rng, 6);
    const rows = 1 + randomInt(rng, 3);
    const cols = 1 + randomInt(rng, 4);
    const side = 1 + randomInt(rng, 4);
    const frameBits = Array.from({ length: frames }, () => randomInt(rng, 5000));
    const long = rgb ? rgb.shortSide + 2 * randomInt(rng, 3) : 0;
    return {
      id: `v${i}_${classes[label]}`,
      path: `/data/${classes[label]}/${i}.mp4`,
      label,
      className: classes[label]!,
      split: (['train', 'test', 'val', 'unused'] as const)[randomInt(rng, 4)]!,
      frames,
      rows,
      cols,
      fps: 25,
      duration: frames / 25,
      frameTypes: 'I' + 'P'.repeat(frames - 1),
      frameBits,
      motion: append('motion-000.bin', frames * 2 * rows * cols * 2),
      keyFrame: rng() < 0.8 ? { ...append('keys-000.bin', side * side * 3), width: side, height: side, index: 0 } : null,
      ...(rgb ? { clip: { ...append('frames-000.bin', rgb.frames * rgb.shortSide * long * 3), frames: rgb.frames, height: rgb.shortSide, width: long } } : {}),
      rates: { rOrig: 100 * rng(), rCropped: rng() < 0.5 ? null : 10 * rng(), rCroppedEncoder: null, rMotion: 5 * rng() },
      cropped: rng() < 0.3 ? null : { frameBits, kinds: 'C' + 'R'.repeat(frames - 1), parameterSetBits: 200, ...(rng() < 0.5 ? { estimated: true } : {}) },
    };
  });
  const manifest: CacheManifest = {
    format: CACHE_FORMAT,
    version: CACHE_VERSION,
    software: { mvclass: '0.1.0', ffmpeg: '5.1' },
    settings: { codec: 'h264', qp: 30, crf: null, asIs: false, size: '320x240', fps: 25, grid: 8, keySize: '4x4', ...(rgb ? { rgb: rgb.frames, shortSide: rgb.shortSide } : {}) },
    dataset: { kind: 'folder', root: '/data', classes },
    shards: [...sizes.keys()].sort(),
    videos,
    failed: rng() < 0.5 ? [] : [{ path: '/data/broken.mp4', reason: 'no frames decoded' }],
  };
  // Drawn last, so the draws above are those of the manifests before regions: with a region file
  // (prepare --roi-file), the settings' digest and most videos' own region.
  if (rng() < 0.3) {
    manifest.settings.roiFile = '0123456789abcdef';
    for (const v of videos) if (rng() < 0.8) v.roi = `${2 * randomInt(rng, 50)},${2 * randomInt(rng, 50)},${16 + 2 * randomInt(rng, 40)},${16 + 2 * randomInt(rng, 40)}`;
  }
  return { manifest, sizes };
}

/** What the readers rely on in an accepted manifest; a plain Error (a finding) if not so. */
function checkInvariants(m: CacheManifest, sizes: ReadonlyMap<string, number>): void {
  const fail = (what: string) => {
    throw new Error(`accepted a manifest that breaks an invariant: ${what}`);
  };
  if (!Array.isArray(m.videos) || !Array.isArray(m.dataset.classes)) fail('videos or classes not arrays');
  for (const v of m.videos) {
    if (!Number.isSafeInteger(v.label) || v.label < 0 || v.label >= m.dataset.classes.length) fail(`label ${v.label}`);
    if (v.motion.bytes !== v.frames * 2 * v.rows * v.cols * 2) fail('motion size');
    if (v.frameBits.length !== v.frames || v.frameTypes.length !== v.frames) fail('per-frame lists');
    const ranges = [v.motion, ...(v.keyFrame ? [v.keyFrame] : []), ...(v.clip ? [v.clip] : [])];
    if (v.keyFrame && v.keyFrame.bytes !== v.keyFrame.width * v.keyFrame.height * 3) fail('key frame size');
    if ((v.clip === undefined) !== (m.settings.rgb === undefined)) fail('a clip without rgb, or rgb without a clip');
    if (v.clip && (v.clip.frames !== m.settings.rgb || v.clip.bytes !== v.clip.frames * v.clip.height * v.clip.width * 3)) fail('clip size');
    if (v.clip && Math.min(v.clip.height, v.clip.width) !== m.settings.shortSide) fail('clip short side');
    if (v.roi !== undefined && (m.settings.roiFile === undefined || !/^\d{1,5},\d{1,5},\d{1,5},\d{1,5}$/.test(v.roi))) fail('a video region without a region file, or not x,y,w,h');
    if (m.settings.roi !== undefined && m.settings.roiFile !== undefined) fail('both roi and roiFile');
    for (const r of ranges) {
      if (!/^[\w-][\w.-]*$/.test(r.shard) || r.shard.includes('/')) fail(`shard name ${r.shard}`);
      if (!(Number.isSafeInteger(r.offset) && r.offset >= 0 && Number.isSafeInteger(r.bytes) && r.bytes >= 0)) fail('range numbers');
      if (r.offset + r.bytes > (sizes.get(r.shard) ?? -1)) fail('range beyond its shard');
    }
  }
}

/**
 * The fuzz target: one manifest text in; "accepted" or the rejection's shape out. Throws (a
 * finding) on any exception other than an MvclassError and on a broken invariant.
 */
export function fuzzOne(text: string, sizes: ReadonlyMap<string, number>): string {
  try {
    const manifest = parseCacheManifest(text, FUZZ_FILE);
    checkShardRanges(manifest, FUZZ_FILE, sizes);
    checkInvariants(manifest, sizes);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof MvclassError)) throw error;
    if (!error.message.startsWith(FUZZ_FILE)) throw new Error(`a rejection that does not name the manifest: ${error.message}`);
    // The check that fired: what it received, numbers, quoted values and JSON.parse's details blanked.
    return error.message
      .slice(FUZZ_FILE.length)
      .replace(/ but received .*$/s, '')
      .replace(/(damaged manifest|not a cache of this version).*/s, '$1')
      .replace(/"(?:[^"\\]|\\.)*"?/g, 'S')
      .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N');
  }
}

// Values put in place of a field. Strings starting with @@ are replaced in the JSON text by
// what JSON.stringify cannot write: deep nesting, numbers that overflow, -0.
const DEEP = '@@DEEP@@';
const RAW: Record<string, string> = {
  '@@HUGE@@': '1e400',
  '@@NEGZERO@@': '-0',
  '@@TINY@@': '1e-400',
  '@@BIGINT@@': '123456789012345678901234567890',
};
const HOSTILE: unknown[] = [
  1e12, -1, 0, 1, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE,
  'NaN', 'Infinity', '-1', '1e12', '', ' ', '30', 'x', 'é', '\u0000', 'a'.repeat(10_000),
  '../../../../etc/passwd', '/etc/passwd', '..', '.', 'motion-000.bin/..', 'a/b', 'a\\b', 'C:\\x', 'motion-000.bin\u0000', '.hidden', 'keys-000.bin',
  'motion-000.bin', 'mvclass-cache', 'train', 'hevc', '0x0', '99999x99999', '320x240', 'IPB?', 'CR',
  null, true, false, [], {}, [1, 2, 3], [null], [-1], ['x'], { shard: 'motion-000.bin', offset: 0, bytes: 8 }, JSON.parse('{"__proto__": {"label": 1}}'),
  DEEP, ...Object.keys(RAW),
];
const KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'length', 'videos', 'shard', 'bytes', 'estimated', ''];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[randomInt(rng, list.length)]!;
}

/** A random container on a random path from the root, and one of its keys. */
function randomSlot(rng: Rng, root: Json): { parent: Json[] | Record<string, Json>; key: string | number } | null {
  let node: Json = root;
  let slot: { parent: Json[] | Record<string, Json>; key: string | number } | null = null;
  for (let depth = 0; depth < 8; depth++) {
    if (node === null || typeof node !== 'object') break;
    const keys: Array<string | number> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    const key = pick(rng, keys);
    slot = { parent: node, key };
    node = (node as Record<string, Json>)[key as string]!;
    if (rng() < 0.25) break;
  }
  return slot;
}

function mutateStructure(rng: Rng, root: Json): void {
  const slot = randomSlot(rng, root);
  if (!slot) return;
  const { parent, key } = slot;
  const at = parent as Record<string | number, Json>;
  const value = at[key]!;
  switch (randomInt(rng, 6)) {
    case 0:
    case 1:
      at[key] = structuredClone(pick(rng, HOSTILE)) as Json;
      break;
    case 2: // a number nudged: off by one, doubled, negated
      at[key] = typeof value === 'number' ? pick(rng, [value + 1, value - 1, value * 2, -value, value * 1e6, value + 0.5]) : value;
      break;
    case 3:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, Json>)[key as string];
      break;
    case 4:
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(value));
      else Object.defineProperty(parent, pick(rng, KEYS), { value: structuredClone(pick(rng, HOSTILE)) as Json, enumerable: true, configurable: true, writable: true });
      break;
    default: {
      // A field copied from elsewhere in the manifest (another video's range, a string where a number was).
      const other = randomSlot(rng, root);
      if (other) at[key] = structuredClone((other.parent as Record<string | number, Json>)[other.key]!);
    }
  }
}

function mutateText(rng: Rng, text: string): string {
  if (text.length === 0) return '{';
  const i = randomInt(rng, text.length);
  switch (randomInt(rng, 5)) {
    case 0:
      return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << randomInt(rng, 7))) + text.slice(i + 1);
    case 1:
      return text.slice(0, i);
    case 2:
      return text.slice(0, i) + pick(rng, ['"', '{', '}', '[', ']', ',', ':', '-', '9', 'e', '\\', '\u0000', '1e400']) + text.slice(i);
    case 3: {
      const j = i + randomInt(rng, Math.min(64, text.length - i) + 1);
      return text.slice(0, j) + text.slice(i, j) + text.slice(j);
    }
    default: // a digit changed: turns sizes and offsets into nearly right ones
      return text.replace(/\d/g, (d, at: number) => (at === i || rng() < 0.002 ? String(randomInt(rng, 10)) : d));
  }
}

function serialise(root: Json, rng: Rng): string {
  let text = JSON.stringify(root);
  if (text.includes(DEEP)) {
    const depth = pick(rng, [64, 64, 5000, 100_000]);
    text = text.replaceAll(JSON.stringify(DEEP), '['.repeat(depth) + ']'.repeat(depth));
  }
  for (const [mark, raw] of Object.entries(RAW)) text = text.replaceAll(JSON.stringify(mark), raw);
  return text;
}

export function mutate(rng: Rng, parent: string): string {
  let root: Json | undefined;
  try {
    root = JSON.parse(parent) as Json;
  } catch {
    root = undefined;
  }
  let text = parent;
  if (root !== undefined && rng() < 0.85) {
    try {
      for (let n = 1 + randomInt(rng, 3); n > 0; n--) mutateStructure(rng, root);
      text = serialise(root, rng);
    } catch {
      // A parent nested too deeply for JSON.stringify or structuredClone: text edits only.
    }
  }
  if (rng() < 0.25) text = mutateText(rng, text);
  return text;
}

export interface Finding {
  input: string;
  error: string;
}

export interface FuzzReport {
  executions: number;
  seconds: number;
  /** Distinct outcomes reached (each rejecting check, and "accepted"). */
  outcomes: string[];
  corpus: number;
  findings: Finding[];
}

/** Fuzzes for `seconds` from `seed` (and any extra seed inputs); stops early at `maxFindings`. */
/** Time of one check of `text` beyond what JSON.parse alone takes on it. */
function ownMs(text: string, sizes: ReadonlyMap<string, number>): number {
  const t0 = performance.now();
  try {
    fuzzOne(text, sizes);
  } catch {
    // a finding is reported by the main loop; here only the time counts
  }
  return performance.now() - t0 - jsonParseMs(text);
}

function jsonParseMs(text: string): number {
  const t0 = performance.now();
  try {
    JSON.parse(text);
  } catch {
    // a damaged manifest: the parser's time until it gave up is still the baseline
  }
  return performance.now() - t0;
}

/**
 * Mutates manifests for `seconds`, or until `executions` inputs have run when that comes first: a
 * test gives a count, so that what it reaches does not depend on how busy the machine is.
 */
export function fuzzManifests(options: { seconds: number; executions?: number; seed?: number; extraSeeds?: string[]; maxFindings?: number; slowMs?: number }): FuzzReport {
  const rng = mulberry32(options.seed ?? 1);
  // Each input is judged against the shard sizes of the sample it descends from, so that a range
  // nudged one byte past its shard's end is caught by checkShardRanges, not hidden by slack.
  // Half the seeds are caches with decoded-frame clips, whose fields are mutated like the others.
  const samples = Array.from({ length: 8 }, (_, i) => sampleManifest(rng, i % 2 === 1));
  const corpus: Array<{ text: string; sizes: Map<string, number> }> = [
    ...samples.map((s) => ({ text: JSON.stringify(s.manifest, null, 1), sizes: s.sizes })),
    ...(options.extraSeeds ?? []).map((text) => ({ text, sizes: samples[0]!.sizes })),
  ];
  const outcomes = new Set<string>();
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const started = performance.now();
  const end = started + options.seconds * 1000;
  let executions = 0;
  const limit = options.executions ?? Infinity;
  while (executions < limit && performance.now() < end && findings.length < (options.maxFindings ?? 20)) {
    // The seeds first as they are, then mutants of the corpus.
    const parent = executions < corpus.length ? corpus[executions]! : pick(rng, corpus);
    const input = executions < corpus.length ? parent.text : mutate(rng, parent.text);
    const t0 = performance.now();
    let outcome: string;
    try {
      outcome = fuzzOne(input, parent.sizes);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const key = message.replace(/\d+/g, 'N').slice(0, 200);
      if (!seen.has(key)) {
        seen.add(key);
        findings.push({ input, error: error instanceof Error ? (error.stack ?? message) : message });
      }
      outcome = `finding ${key}`;
    }
    const ms = performance.now() - t0;
    // Slow only if our checks are: JSON.parse itself takes ~0.5 ms per KB of deeply nested
    // input (and far longer on a busy machine), which is Node's cost, linear in the size.
    // Measured again three times, the least kept: on a loaded machine one slow run is noise.
    if (ms > (options.slowMs ?? 1000)) {
      let own = Infinity;
      for (let k = 0; k < 3 && own > (options.slowMs ?? 1000) / 2; k++) own = Math.min(own, ownMs(input, parent.sizes));
      if (own > (options.slowMs ?? 1000) / 2) findings.push({ input, error: `slow: ${ms.toFixed(0)} ms, at least ${own.toFixed(0)} ms of it after JSON.parse` });
    }
    executions++;
    if (!outcomes.has(outcome)) {
      outcomes.add(outcome);
      if (corpus.length < 5000) corpus.push({ text: input, sizes: parent.sizes });
    }
  }
  return { executions, seconds: (performance.now() - started) / 1000, outcomes: [...outcomes].sort(), corpus: corpus.length, findings };
}
