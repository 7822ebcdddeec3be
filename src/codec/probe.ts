import { withCallerStack } from '../util/errors.js';
import { checkInputFile, checkInputOptions } from './input.js';
import { codecAddon, type NativeProbe } from './native.js';

/** What a video holds. For a local file, frame count and bitrate are counted from its packets;
 * for standard input and network streams they come from the headers (`counted` is false). */
export type VideoInfo = NativeProbe;

export interface ProbeOptions {
  /** Demuxer and protocol options, as `ffmpeg -i` takes them (e.g. { rtsp_transport: 'tcp' }). */
  inputOptions?: Record<string, string>;
}

export async function probe(source: string, options: ProbeOptions = {}): Promise<VideoInfo> {
  await checkInputFile(source);
  const inputOptions = checkInputOptions(options.inputOptions);
  return withCallerStack(source, () => codecAddon().probe(source, inputOptions ? { inputOptions } : {}));
}
