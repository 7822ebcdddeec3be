// Checks a video source before any native work, so the common mistakes get plain answers.
// A source is a local file, "-" (standard input), or an http(s):// or rtsp(s):// URL, which
// libavformat reads (each kind with its own protocols only: native/codec/common.cc).

import { promises as fs } from 'node:fs';
import { MvclassError, UsageError } from '../util/errors.js';

const NETWORK = /^(https?|rtsps?):\/\//i;
const OTHER_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True for inputs that are not local files: standard input and network URLs. */
export function isStreamSource(source: string): boolean {
  return source === '-' || NETWORK.test(source);
}

export async function checkInputFile(file: unknown): Promise<string> {
  if (typeof file !== 'string' || file.length === 0) {
    throw new UsageError(`Expected a video file path but received ${JSON.stringify(file) ?? String(file)}`);
  }
  if (isStreamSource(file)) return file;
  if (OTHER_SCHEME.test(file)) {
    throw new MvclassError(`${file}: unsupported URL scheme (mvclass reads local files, "-" for standard input, http(s):// and rtsp(s):// URLs)`, file);
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

/** Demuxer and protocol options as `ffmpeg -i` takes them, e.g. { rtsp_transport: 'tcp' }. */
export function checkInputOptions(options: unknown): Record<string, string> | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new UsageError(`Expected an object of string options for inputOptions but received ${JSON.stringify(options)}`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!/^[a-z0-9_]+$/i.test(key)) throw new UsageError(`Expected an option name of letters, digits and _ in inputOptions but received ${JSON.stringify(key)}`);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new UsageError(`Expected a string or number for inputOptions.${key} but received ${JSON.stringify(value)}`);
    }
    out[key] = String(value);
  }
  return out;
}
