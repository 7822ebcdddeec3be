import { withCallerStack } from '../util/errors.js';
import { checkInputFile } from './input.js';
import { codecAddon, type NativeProbe } from './native.js';

/** What a video file holds. Frame count and bitrate are counted from its packets. */
export type VideoInfo = NativeProbe;

export async function probe(file: string): Promise<VideoInfo> {
  await checkInputFile(file);
  return withCallerStack(file, () => codecAddon().probe(file));
}
