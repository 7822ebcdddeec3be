import { promises as fs } from 'node:fs';

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
