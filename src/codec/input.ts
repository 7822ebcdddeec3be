// Checks a video path before any native work, so the common mistakes get plain answers.

import { promises as fs } from 'node:fs';
import { MvclassError } from '../util/errors.js';

export async function checkInputFile(file: unknown): Promise<string> {
  if (typeof file !== 'string' || file.length === 0) {
    throw new MvclassError(`Expected a video file path but received ${JSON.stringify(file) ?? String(file)}`);
  }
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MvclassError(`${file}: no such file`, file);
    if (code === 'EACCES') throw new MvclassError(`${file}: permission denied`, file);
    throw new MvclassError(`${file}: cannot read: ${(error as Error).message}`, file);
  }
  if (stat.isDirectory()) throw new MvclassError(`${file}: is a directory, not a video file`, file);
  if (!stat.isFile()) throw new MvclassError(`${file}: is not a regular file`, file);
  if (stat.size === 0) throw new MvclassError(`${file}: is empty (0 bytes)`, file);
  return file;
}
