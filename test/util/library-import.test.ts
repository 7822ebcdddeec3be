// What `import 'mvclass'` costs a program that wants motion vectors: the package root (the built
// dist/src/index.js, as package.json's "exports" names it) loads neither libtorch nor the
// plotting and HTTP stacks; those load when a figure is drawn, a network opened or the service
// started. Vega and Vega-Lite, loaded by the root, took its import from 0.26 s to 0.95 s (bare
// Node: 0.23 s) in every process that imported it.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../setup/helpers.js';

const ROOT_MODULE = path.join(ROOT, 'dist', 'src', 'index.js');
const HOOK = path.join(ROOT, 'test', 'support', 'record-imports.mjs');

/** Imports `module` in a fresh Node, calls `then` (a JavaScript body), and returns the packages it imported by name and whether libtorch is mapped. */
function importIn(module: string, then = ''): { packages: string[]; libtorch: boolean } {
  const record = path.join(tempDir('mvclass-imports-'), 'imports.txt');
  const program = `const m = await import(${JSON.stringify(module)}); ${then}; const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8'); console.log(JSON.stringify({ libtorch: maps.includes('libtorch') }));`;
  const out = execFileSync(process.execPath, ['--import', HOOK, '--input-type=module', '-e', program], { env: { ...process.env, MVCLASS_RECORD_IMPORTS: record }, encoding: 'utf8' });
  const packages = [...new Set(readFileSync(record, 'utf8').split('\n').filter(Boolean))].sort();
  return { packages, libtorch: (JSON.parse(out.trim().split('\n').at(-1)!) as { libtorch: boolean }).libtorch };
}

// The recorder needs module.register (Node 20.6 and later); package.json allows Node 20.0 on.
const CAN_RECORD = typeof (nodeModule as { register?: unknown }).register === 'function';

const HEAVY = ['vega', 'vega-lite', 'fastify', '@fastify/swagger', '@fastify/swagger-ui', 'prom-client', 'bullmq', 'ioredis', 'playwright-core'];

describe("the package root's import", () => {
  it.runIf(CAN_RECORD)('loads no libtorch, no plotting and no HTTP stack; drawing a figure loads Vega and Vega-Lite then', () => {
    const plain = importIn(ROOT_MODULE);
    expect(plain.libtorch).toBe(false);
    expect(plain.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
    // The recorder sees what the root does import (the PNG writer and rasteriser are small).
    expect(plain.packages).toContain('pngjs');

    const drawn = importIn(ROOT_MODULE, "await m.renderVegaLite({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } })");
    expect(drawn.packages).toEqual(expect.arrayContaining(['vega', 'vega-lite']));
    expect(drawn.packages).not.toContain('fastify');
  });
});
