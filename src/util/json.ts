import { promises as fs } from 'node:fs';
import { MvclassError } from './errors.js';

// JSON has no Infinity: where a kept result may hold one (an unbounded MCNN threshold), it is
// written as the string "Infinity" (which Number() and Python's float() read) and read back here.

/** JSON.stringify's replacer: an infinite number is written "Infinity". */
export function infinityAsText(_key: string, value: unknown): unknown {
  return value === Infinity ? 'Infinity' : value;
}

/** JSON.parse's reviver: "Infinity" is read back as the number. */
export function infinityFromText(_key: string, value: unknown): unknown {
  return value === 'Infinity' ? Infinity : value;
}

/** A JSON file's value, or undefined when it is absent or unreadable (a kept result then made again). */
export async function readJsonIfAny<T>(file: string, reviver?: (key: string, value: unknown) => unknown): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'), reviver) as T;
  } catch {
    return undefined;
  }
}

/**
 * A kept JSON file that must be right when present (settings a folder was made with): undefined
 * when absent; text that is not JSON is an error naming the file and the problem, never a bare
 * SyntaxError.
 */
export async function readJsonFile<T>(file: string, reviver?: (key: string, value: unknown) => unknown): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MvclassError(`${file}: cannot be read: ${(error as Error).message}`, file);
  }
  try {
    return JSON.parse(text, reviver) as T;
  } catch (error) {
    throw new MvclassError(`${file}: damaged, not JSON (${(error as Error).message}); remove it or use another folder`, file);
  }
}
