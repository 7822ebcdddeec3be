// A mutation fuzzer for the per-video region file parser (config/regions.ts: parseRegionFile), in
// the manner of manifest-fuzz.ts: valid files are mutated (lines duplicated, cut, swapped; fields
// replaced by hostile values; bytes flipped, quotes and separators put in), and each outcome's
// shape (the rejection message with numbers and quoted values blanked) is kept, so a run can say
// which checks it reached.
//
// A finding is any exception that is not an MvclassError, a rejection that does not name the file
// and a line (or the file alone, for an empty one), an accepted file whose regions break what
// prepare relies on, or an input that takes longer than a second.
//
//   scripts/fuzz.sh regions [--seconds N], or after npm run build:ts:
//   node dist/bench/regions-fuzz.js [--seconds 60] [--seed 1] [--out <folder for findings, default build-fuzz/findings/regions>]

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pictureRegion, type PictureRegion } from '../src/codec/region.js';
import { parseRegionFile } from '../src/config/regions.js';
import { MvclassError } from '../src/util/errors.js';
import { mulberry32, randomInt, type Rng } from '../src/util/random.js';

export const FUZZ_REGION_FILE = 'fuzz/crops.csv';

const HOSTILE = [
  '', ' ', '-2', '1e3', '0x10', '16.0', '15', '17', '18446744073709551616', '9007199254740994', 'NaN', 'Infinity', 'a', 'é', '\u0000',
  '/etc/passwd', 'C:\\x.mp4', '..', '../../x.mp4', './a/../b.mp4', 'a\\b.mp4', '"', '""', '"a,b"', ',', '\r', '\n', '\uFEFF', 'x'.repeat(5000),
];

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[randomInt(rng, list.length)]!;
}

/** A valid region file of a few videos, with or without its header. */
export function sampleRegionFile(rng: Rng): string {
  const lines = randomInt(rng, 2) ? ['path,x,y,w,h'] : [];
  for (let i = 0; i < 1 + randomInt(rng, 5); i++) {
    const even = (n: number) => 2 * randomInt(rng, n);
    lines.push(`class${randomInt(rng, 3)}/video ${i}.mp4,${even(100)},${even(100)},${16 + even(80)},${16 + even(80)}`);
  }
  return lines.join(randomInt(rng, 2) ? '\r\n' : '\n') + (randomInt(rng, 2) ? '\n' : '');
}

/** One mutation of `text`. */
function mutate(rng: Rng, text: string): string {
  const lines = text.split('\n');
  const at = randomInt(rng, lines.length);
  switch (randomInt(rng, 8)) {
    case 0: {
      // A field replaced by a hostile value.
      const fields = lines[at]!.split(',');
      fields[randomInt(rng, fields.length)] = pick(rng, HOSTILE);
      lines[at] = fields.join(',');
      return lines.join('\n');
    }
    case 1:
      // A line listed twice (the same path: a duplicate).
      lines.splice(at, 0, lines[at]!);
      return lines.join('\n');
    case 2:
      lines.splice(at, 1);
      return lines.join('\n');
    case 3: {
      // A field added or taken away.
      const fields = lines[at]!.split(',');
      if (randomInt(rng, 2)) fields.push(pick(rng, HOSTILE));
      else fields.pop();
      lines[at] = fields.join(',');
      return lines.join('\n');
    }
    case 4: {
      // A byte flipped.
      const i = randomInt(rng, text.length + 1);
      return text.slice(0, i) + String.fromCharCode(randomInt(rng, 128)) + text.slice(i + 1);
    }
    case 5: {
      // A cut anywhere.
      return text.slice(0, randomInt(rng, text.length + 1));
    }
    case 6: {
      // A quote, separator or line break put in.
      const i = randomInt(rng, text.length + 1);
      return text.slice(0, i) + pick(rng, ['"', ',', '\n', '\r\n', '""', '"\n"']) + text.slice(i);
    }
    default:
      // Many lines: the parser's cost stays linear.
      return text + `\nbig/${randomInt(rng, 1000)}.mp4,0,0,16,16`.repeat(1 + randomInt(rng, 2000));
  }
}

/** The fuzz target: "accepted" or the rejection's shape; throws (a finding) otherwise. */
export function fuzzRegionFileOnce(text: string): string {
  let regions: Map<string, PictureRegion>;
  try {
    regions = parseRegionFile(text, FUZZ_REGION_FILE);
  } catch (error) {
    if (!(error instanceof MvclassError)) throw error;
    if (!error.message.startsWith(`${FUZZ_REGION_FILE}:`)) throw new Error(`a rejection that does not name the file: ${error.message}`);
    return error.message
      .slice(FUZZ_REGION_FILE.length)
      .replace(/ but received .*$/s, '')
      .replace(/"(?:[^"\\]|\\.)*"?/g, 'S')
      .replace(/-?\d+/g, 'N');
  }
  if (regions.size === 0) throw new Error('accepted a file of no regions');
  for (const [key, r] of regions) {
    if (key === '' || path.posix.isAbsolute(key) || key.includes('\\')) throw new Error(`accepted the path ${JSON.stringify(key)}`);
    // Throws (a finding, as a MvclassError here would not be caught above) if the region is not one --roi takes.
    const again = pictureRegion(r);
    if (again.x !== r.x || again.y !== r.y || again.width !== r.width || again.height !== r.height) throw new Error('a region that does not read back');
  }
  return 'accepted';
}

export interface RegionFuzzReport {
  executions: number;
  outcomes: string[];
  findings: Array<{ input: string; error: string }>;
  slowest: number;
}

/** Runs `executions` mutants (1 to 3 mutations each) of valid files from `seed`, or fewer when `seconds` run out first. */
export function fuzzRegionFiles(options: { executions: number; seed: number; seconds?: number }): RegionFuzzReport {
  const rng = mulberry32(options.seed);
  const outcomes = new Set<string>();
  const findings: RegionFuzzReport['findings'] = [];
  let slowest = 0;
  const end = options.seconds === undefined ? Infinity : performance.now() + options.seconds * 1000;
  let n = 0;
  for (; n < options.executions && performance.now() < end; n++) {
    let text = sampleRegionFile(rng);
    for (let k = 0; k < 1 + randomInt(rng, 3); k++) text = mutate(rng, text);
    const t0 = performance.now();
    try {
      outcomes.add(fuzzRegionFileOnce(text));
    } catch (error) {
      findings.push({ input: text.slice(0, 2000), error: error instanceof Error ? error.message : String(error) });
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    if (ms > 1000) findings.push({ input: text.slice(0, 2000), error: `took ${ms.toFixed(0)} ms` });
  }
  return { executions: n, outcomes: [...outcomes].sort(), findings, slowest };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const option = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
  };
  const seconds = Number(option('--seconds', '60'));
  const seed = Number(option('--seed', '1'));
  const out = option('--out', 'build-fuzz/findings/regions'); // ignored by git, beside the other targets' findings
  if (!(seconds > 0) || !Number.isInteger(seed)) {
    console.error('usage: node dist/bench/regions-fuzz.js [--seconds N] [--seed N] [--out DIR]');
    process.exit(2);
  }
  const t0 = performance.now();
  const report = fuzzRegionFiles({ executions: Number.MAX_SAFE_INTEGER, seed, seconds });
  const took = (performance.now() - t0) / 1000;
  console.log(`regions fuzz: ${report.executions} executions in ${took.toFixed(0)} s, seed ${seed}, slowest ${report.slowest.toFixed(0)} ms`);
  console.log(`  ${report.outcomes.length} distinct outcomes, ${report.findings.length} findings`);
  if (process.argv.includes('--outcomes')) for (const o of report.outcomes) console.log(`    ${o}`);
  if (report.findings.length > 0) {
    mkdirSync(out, { recursive: true });
    for (const [i, f] of report.findings.entries()) {
      const file = path.join(out, `finding-${i}.csv`);
      writeFileSync(file, f.input);
      console.log(`finding ${i} (input in ${file}):\n${f.error}\n`);
    }
    process.exit(1);
  }
}
