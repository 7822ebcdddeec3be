// Atomic outputs: everything is written to a temporary sibling and renamed into place, so a
// failure or a kill never leaves a half-written file where a good one was (or is expected).

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MvclassError } from './errors.js';

export function temporarySibling(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  const ext = path.extname(base);
  // Keep the extension last: muxers pick the container from it.
  return path.join(dir, `.${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}${ext}`);
}

/** A name temporarySibling gives (a folder being replaced adds .old): `.<name>.tmp-<pid>-<8 hex>[<ext>]`. */
const TEMPORARY = /^\..+\.tmp-\d+-[0-9a-f]{8}(\.[^.]*)?(\.old)?$/;

/**
 * Removes from `dir` what a writer killed in the middle (SIGKILL, a crashed machine) left of its
 * temporary siblings: call it once nothing writes into `dir` any more. A missing `dir` is fine.
 * Returns the names removed.
 */
export async function removeTemporaries(dir: string): Promise<string[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => TEMPORARY.test(n));
  await Promise.all(names.map((n) => fs.rm(path.join(dir, n), { recursive: true, force: true })));
  return names;
}

/** Fails early, naming the path, when the folder an output goes into does not exist. */
export async function assertParentExists(target: string): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat || !stat.isDirectory()) {
    throw new MvclassError(`${target}: cannot write here: folder ${dir} does not exist`, target);
  }
}

/**
 * Runs `write(tempPath)`, then renames the result over `target`. On failure the temporary is
 * removed and `target` is untouched. Works for files and folders alike.
 */
export async function writeAtomically<T>(target: string, write: (tempPath: string) => Promise<T>): Promise<T> {
  await assertParentExists(target);
  const temp = temporarySibling(target);
  try {
    const result = await write(temp);
    await replace(temp, target);
    return result;
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
}

async function replace(source: string, target: string): Promise<void> {
  const existing = await fs.stat(target).catch(() => null);
  if (existing?.isDirectory()) {
    // rename() cannot replace a non-empty folder: move the old one aside first.
    const old = `${temporarySibling(target)}.old`;
    await fs.rename(target, old);
    try {
      await fs.rename(source, target);
    } catch (error) {
      await fs.rename(old, target);
      throw error;
    }
    await fs.rm(old, { recursive: true, force: true });
  } else {
    await fs.rename(source, target);
  }
}

/**
 * Makes `target` a second name of the file `source` (a hard link under a temporary name, renamed
 * into place), so that equal bytes are written once. Where the file system refuses hard links,
 * `write(tempPath)` writes the file instead, as writeAtomically would.
 */
export async function linkAtomically(source: string, target: string, write: (tempPath: string) => Promise<void>): Promise<void> {
  await writeAtomically(target, async (temp) => {
    try {
      await fs.link(source, temp);
    } catch {
      await write(temp);
    }
  });
}

export async function writeFileAtomically(target: string, data: string | Uint8Array): Promise<void> {
  await writeAtomically(target, (temp) => fs.writeFile(temp, data));
}
