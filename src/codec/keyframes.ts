// readKeyFrames: the I frames of a video as RGB24, the spatial stream's input.

import { decodeVideo, type DecodeOptions, type KeyFrame } from './decode.js';

export interface ReadKeyFramesOptions extends Pick<DecodeOptions, 'onWarning' | 'inputOptions'> {
  /** Output width; 0 or absent keeps the source width (or the aspect ratio, with height). */
  width?: number;
  height?: number;
}

export async function* readKeyFrames(file: string, options: ReadKeyFramesOptions = {}): AsyncGenerator<KeyFrame> {
  const decode = decodeVideo(file, {
    vectors: false,
    keyFrames: true,
    keyFrameWidth: options.width ?? 0,
    keyFrameHeight: options.height ?? 0,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    ...(options.inputOptions ? { inputOptions: options.inputOptions } : {}),
  });
  for await (const batch of decode) yield* batch.keyFrames;
}
