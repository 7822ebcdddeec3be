import path from 'node:path';
import { Command, Option } from 'commander';
import { encode, PRESETS, VIDEO_CODECS, type Preset, type VideoCodec } from '../codec/encode.js';
import { writeFileAtomically } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';
import { integerInRange, nonNegativeInteger, oneOf, positiveInteger } from '../util/validate.js';
import { fixed, printJson, warn } from './output.js';
import { PAPER_PROFILE } from '../ingest/profile.js';

export function encodeCommand(): Command {
  return new Command('encode')
    .description("re-encode a video: the paper's size, rate and GOP by default (320x240, 25 fps, one IDR then P, search range 16); rate control CRF 23 unless --qp (the paper's) or --crf")
    .argument('<input>')
    .requiredOption('-o, --out <file>', 'output: .mp4/.mkv/.mov, or raw .264 / .hevc')
    .addOption(new Option('--codec <codec>', 'h264 (libx264) or hevc (libx265)').default('h264'))
    .option('--qp <n>', "fixed QP 0..51 on every frame, no I/P offset, no adaptive quantisation (the paper's setting)")
    .option('--crf <n>', 'constant rate factor 0..51 (the default without --qp: 23)')
    .option('--gop <n>', 'frames between IDR frames; 0: one IDR, then only P/B', String(PAPER_PROFILE.gop))
    .option('--bframes <n>', 'B-frames between references', String(PAPER_PROFILE.bframes))
    .option('--merange <n>', 'motion search range in pixels', String(PAPER_PROFILE.meRange))
    .option('--fps <n>', 'output frame rate (input frames are repeated or dropped)', String(PAPER_PROFILE.fps))
    .option('--size <WxH>', 'output size', PAPER_PROFILE.size)
    .option('--keep-size', 'keep the input size and rate instead of --size and --fps')
    .addOption(new Option('--preset <name>', 'encoder preset').default('medium'))
    .option('--refs <n>', 'reference frames', '1')
    .option('--threads <n>', 'encoder threads (0: automatic; 1: identical output everywhere)', '0')
    .option('--stats <file>', 'per-frame statistics as JSON (default: <out>.stats.json)')
    .option('--json', 'print the result as JSON')
    .action(async (input: string, opts: Record<string, string | boolean | undefined>) => {
      if (opts.qp !== undefined && opts.crf !== undefined) throw new UsageError('Give either --qp or --crf, not both');
      const codec = oneOf(opts.codec, 'codec', VIDEO_CODECS) as VideoCodec;
      const out = String(opts.out);
      const result = await encode(input, out, {
        codec,
        ...(opts.qp !== undefined ? { qp: integerInRange(opts.qp, 'qp', 0, 51) } : {}),
        ...(opts.crf !== undefined ? { crf: integerInRange(opts.crf, 'crf', 0, 51) } : {}),
        gop: nonNegativeInteger(opts.gop, 'gop'),
        bframes: integerInRange(opts.bframes, 'bframes', 0, 16),
        meRange: positiveInteger(opts.merange, 'merange'),
        refs: integerInRange(opts.refs, 'refs', 1, 16),
        threads: nonNegativeInteger(opts.threads, 'threads'),
        preset: oneOf(opts.preset, 'preset', PRESETS) as Preset,
        ...(opts.keepSize ? {} : { size: String(opts.size), fps: positiveInteger(opts.fps, 'fps') }),
        onWarning: warn,
      });
      const statsPath = typeof opts.stats === 'string' ? opts.stats : `${out}.stats.json`;
      await writeFileAtomically(statsPath, JSON.stringify(result, null, 1) + '\n');
      if (opts.json) return printJson({ ...result, stats: statsPath });
      const sum = (key: 'texture' | 'motion' | 'other') => result.frameStats.reduce((s, f) => s + f[key], 0);
      const kbps = (bits: number) => fixed(bits / result.duration / 1000, 1);
      const types = result.frameStats.reduce<Record<string, number>>((m, f) => ({ ...m, [f.type]: (m[f.type] ?? 0) + 1 }), {});
      process.stdout.write(
        `${path.resolve(out)}: ${result.codec} ${result.width}x${result.height} @ ${result.fps} fps, ${result.frames} frames ` +
          `(${Object.entries(types).map(([t, n]) => `${t} ${n}`).join(', ')}), ${kbps(result.streamBits)} kbps\n` +
          `bits by the encoder's count: texture ${kbps(sum('texture'))} kbps, motion ${kbps(sum('motion'))} kbps, other ${kbps(sum('other'))} kbps\n` +
          `per-frame statistics: ${statsPath}\n`,
      );
    });
}
