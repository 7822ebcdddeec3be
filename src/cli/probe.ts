import { Command } from 'commander';
import { probe } from '../codec/probe.js';
import { fixed, printJson } from './output.js';

export function probeCommand(): Command {
  return new Command('probe')
    .description('what a video file holds: codec, size, frame rate, frames, duration, bitrate, B-frames')
    .argument('<video>')
    .option('--json', 'print JSON')
    .action(async (video: string, opts: { json?: boolean }) => {
      const info = await probe(video);
      if (opts.json) return printJson(info);
      process.stdout.write(
        `${video}: ${info.codec} ${info.width}x${info.height} @ ${fixed(info.fps, 3)} fps, ${info.frameCount} frames, ` +
          `${fixed(info.duration, 3)} s, ${fixed(info.bitrate / 1000, 1)} kbps, B-frames ${info.hasBFrames ? 'yes' : 'no'}, ` +
          `motion vectors ${info.motionVectors ? 'yes' : 'no (mvclass reads none for this codec)'}\n`,
      );
    });
}
