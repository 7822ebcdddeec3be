import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareFixtures } from './fixtures.js';

// Every temporary folder of one run (tempDir's, the CLI children's, libraries' using os.tmpdir)
// goes under one root, removed at teardown: left behind, runs filled the disk (78 GB in /tmp).
// Workers and children inherit TMPDIR from this process's environment.
export default function setup(): () => void {
  prepareFixtures();
  const root = mkdtempSync(path.join(os.tmpdir(), 'mvclass-suite-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
