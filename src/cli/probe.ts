import { Command } from 'commander';
import { probe } from '../codec/probe.js';
import { keyValuePairs } from '../util/validate.js';
import { fixed, printJson } from './output.js';

export function probeCommand(): Command {
  return new Command('probe')
    .description('what a video holds: codec, size, frame rate, frames, duration, bitrate, B-frames')
    .argument('<video>', 'a file, - for standard input, or an http(s):// or rtsp(s):// URL')
    .option('--input-option <key=value...>', 'demuxer/protocol option, as ffmpeg -i takes it (e.g. rtsp_transport=tcp)')
    .option('--json', 'print JSON')
    .action(async (video: string, opts: { json?: boolean; inputOption?: string[] }) => {
      const inputOptions = keyValuePairs(opts.inputOption, 'input-option');
      const info = await probe(video, inputOptions ? { inputOptions } : {});
      if (opts.json) return printJson(info);
      process.stdout.write(
        `${video}: ${info.codec} ${info.width}x${info.height} @ ${fixed(info.fps, 3)} fps, ${info.frameCount} frames, ` +
          `${fixed(info.duration, 3)} s, ${fixed(info.bitrate / 1000, 1)} kbps${info.counted ? '' : ' (from the headers: a stream is not read ahead)'}, B-frames ${info.hasBFrames ? 'yes' : 'no'}, ` +
          `motion vectors ${info.motionVectors ? 'yes' : 'no (mvclass reads none for this codec)'}\n`,
      );
    });
}
