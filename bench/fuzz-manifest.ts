// Fuzzes the cache manifest reader for a while (see manifest-fuzz.ts for how):
//   node dist/bench/fuzz-manifest.js [--seconds 300] [--seed 1] [--out <folder for findings, default build-fuzz/findings/manifest>]
// Prints executions, distinct outcomes and findings; exits 1 if there is any finding.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fuzzManifests } from './manifest-fuzz.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const seconds = Number(option('--seconds', '60'));
const seed = Number(option('--seed', '1'));
const out = option('--out', 'build-fuzz/findings/manifest'); // ignored by git, beside the native targets' findings
if (!(seconds > 0) || !Number.isInteger(seed)) {
  console.error('usage: node dist/bench/fuzz-manifest.js [--seconds N] [--seed N] [--out DIR]');
  process.exit(2);
}
const report = fuzzManifests({ seconds, seed });
console.log(`manifest fuzz: ${report.executions} executions in ${report.seconds.toFixed(0)} s (${Math.round(report.executions / report.seconds)}/s), seed ${seed}`);
console.log(`  ${report.outcomes.length} distinct outcomes, corpus ${report.corpus}, ${report.findings.length} findings`);
if (process.argv.includes('--outcomes')) for (const o of report.outcomes) console.log(`    ${o}`);
if (report.findings.length > 0) {
  mkdirSync(out, { recursive: true });
  for (const [i, f] of report.findings.entries()) {
    const file = path.join(out, `finding-${i}.json`);
    writeFileSync(file, f.input);
    console.log(`finding ${i} (input in ${file}):\n${f.error}\n`);
  }
  process.exit(1);
}
