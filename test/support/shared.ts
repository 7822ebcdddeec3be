// Fixtures made once per code version and shared by the test files that need them (vitest runs
// each file in a process of its own): a folder under .cache/test named by a prefix and a hash of
// what produced it (every src/**/*.ts, the native addons, the file that makes it, its recipe). The
// first process to take the lock (a folder holding its pid) makes it and writes `ready` last; the
// others wait for it; a later run of the same code reuses it. Folders of other versions go 15
// minutes after their last use (a test file holds one for less), never while being made.
//
// On a clean checkout (CI) every fixture is made once per run, where each test file used to make
// its own copy.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from '../../src/util/process.js';
import { CACHE, ROOT } from '../setup/fixtures.js';

export interface SharedFixture {
  /** The folder's name starts with this (one prefix per kind of fixture). */
  prefix: string;
  /** The file that makes it: its text is part of the hash. */
  maker: string;
  /** The settings it is made with (JSON): part of the hash. */
  recipe: unknown;
  /** Makes the fixture in `dir` (empty, made for it). */
  make: (dir: string) => Promise<void>;
}

/** What every fixture depends on: the sources and the built addons (read once per process). */
let code: string | undefined;
function codeDigest(): string {
  if (code !== undefined) return code;
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (name.endsWith('.ts')) hash.update(`${path.relative(ROOT, file)}\n`).update(readFileSync(file));
    }
  };
  walk(path.join(ROOT, 'src'));
  for (const addon of ['build/Release/mvclass_codec.node', 'build-nn/Release/mvclass_nn.node']) {
    const file = path.join(ROOT, addon);
    if (existsSync(file)) {
      const s = statSync(file);
      hash.update(`${addon} ${s.size} ${s.mtimeMs}\n`);
    }
  }
  return (code = hash.digest('hex'));
}

function hashOf(fixture: SharedFixture): string {
  return createHash('sha256').update(readFileSync(fixture.maker)).update(`${JSON.stringify(fixture.recipe)}\n`).update(codeDigest()).digest('hex').slice(0, 16);
}

function prune(prefix: string, keep: string): void {
  for (const name of readdirSync(CACHE)) {
    if (!name.startsWith(prefix) || name.endsWith('.lock') || name === keep || existsSync(path.join(CACHE, `${name}.lock`))) continue;
    const ready = path.join(CACHE, name, 'ready');
    const used = statSync(existsSync(ready) ? ready : path.join(CACHE, name), { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    if (Date.now() - used > 15 * 60_000) rmSync(path.join(CACHE, name), { recursive: true, force: true });
  }
}

/** The fixture's folder for this code version: made here if no process has made it, else waited for. */
export async function sharedFolder(fixture: SharedFixture): Promise<string> {
  const name = `${fixture.prefix}${hashOf(fixture)}`;
  mkdirSync(CACHE, { recursive: true });
  prune(fixture.prefix, name);
  const dir = path.join(CACHE, name);
  const ready = path.join(dir, 'ready');
  const lock = `${dir}.lock`;
  const inUse = (): string => {
    const now = new Date();
    utimesSync(ready, now, now); // not pruned for 15 minutes
    return dir;
  };
  for (;;) {
    if (existsSync(ready)) return inUse();
    try {
      mkdirSync(lock);
    } catch {
      // Another test process makes it: wait for it, unless it died holding the lock.
      let owner = 0; // 0: not written yet (or the lock just went): wait and look again
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
      } catch {
        owner = 0;
      }
      const stale = owner === 0 && Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 60_000;
      if ((owner > 0 && !processAlive(owner)) || stale) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      if (!existsSync(ready)) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        await fixture.make(dir);
        writeFileSync(ready, '');
      }
      return inUse();
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
