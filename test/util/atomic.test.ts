// Atomic outputs: what a writer killed in the middle leaves (its temporary sibling) is found and
// removed by removeTemporaries, and nothing else is.

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { removeTemporaries } from '../../src/util/atomic.js';
import { ROOT, tempDir } from '../setup/helpers.js';

describe('removeTemporaries', () => {
  it('removes the temporary file and folder of writers killed mid-write, keeps every other file', { timeout: 30_000 }, async () => {
    const dir = tempDir('mvclass-atomic-');
    writeFileSync(path.join(dir, 'clip.mp4'), 'done');
    writeFileSync(path.join(dir, '.hidden'), 'mine');
    writeFileSync(path.join(dir, 'clip.tmp-1-0123abcd.mp4'), 'not a temporary: no leading dot');
    // Two writers (a file, a folder) killed while writing: each leaves its temporary sibling.
    const atomic = pathToFileURL(path.join(ROOT, 'dist', 'src', 'util', 'atomic.js')).href;
    const script = `import { writeAtomically } from ${JSON.stringify(atomic)}; import { promises as fs } from 'node:fs';
      await writeAtomically(${JSON.stringify(path.join(dir, 'other.mp4'))}, (t) => fs.writeFile(t, 'half'));
      await writeAtomically(${JSON.stringify(path.join(dir, 'walk.mv'))}, async (t) => { await fs.mkdir(t); await fs.writeFile(t + '/motion.npy', 'half'); });
      await writeAtomically(${JSON.stringify(path.join(dir, 'clip.mp4'))}, async (t) => { await fs.writeFile(t, 'half'); process.stdout.write('writing'); await new Promise(() => setInterval(() => {}, 1000)); });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const left = readdirSync(dir).filter((n) => n.includes(`.tmp-${child.pid}-`));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`^\\.clip\\.mp4\\.tmp-${child.pid}-[0-9a-f]{8}\\.mp4$`));
    // A folder's leftover, as a killed folder writer leaves it.
    mkdirSync(path.join(dir, '.walk.mv.tmp-77-89abcdef.mv'));
    writeFileSync(path.join(dir, '.walk.mv.tmp-77-89abcdef.mv', 'motion.npy'), 'half');
    expect((await removeTemporaries(dir)).sort()).toEqual([left[0], '.walk.mv.tmp-77-89abcdef.mv'].sort());
    expect(readdirSync(dir).sort()).toEqual(['.hidden', 'clip.mp4', 'clip.tmp-1-0123abcd.mp4', 'other.mp4', 'walk.mv'].sort());
    expect(await removeTemporaries(path.join(dir, 'absent'))).toEqual([]);
  });
});
